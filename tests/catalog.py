"""The literature catalog the tests check every bundled spec against (with citations)."""

from analyzer.literature import CATALOG, Published

__all__ = ["CATALOG", "Published"]

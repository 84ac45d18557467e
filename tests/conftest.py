"""Shared fixtures: bundled specs, one analysis per spec per session, hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from analyzer import load_isa
from analyzer.cache import analyze_cached
from analyzer.results import Analysis
from analyzer.smt.solver import DEFAULT_TIMEOUT_MS

ROOT = Path(__file__).resolve().parent.parent

# The suite never reads or fills the user's result cache; it keeps its own, shared by the
# parallel workers (keyed by content and by pgv's own code, so never stale).
os.environ.setdefault("PGV_CACHE_DIR", str(ROOT / ".pytest_cache" / "pgv-analyses"))
SPECS = ROOT / "isa_specs"

# With CI set, hypothesis loads its own derandomized "ci" profile; elsewhere, "dev".
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
if not os.environ.get("CI"):
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

_ANALYSES: dict[str, Analysis] = {}


def bundled_specs() -> list[Path]:
    """Every bundled .isa file, in name order."""
    return sorted(SPECS.glob("*.isa"))


def analysis_of(name: str) -> Analysis:
    """The analysis of ``isa_specs/NAME.isa``, computed once per test session."""
    if name not in _ANALYSES:
        path = SPECS / f"{name}.isa"
        if not path.exists():
            pytest.fail(f"bundled spec {path.name} is missing")
        _ANALYSES[name] = analyze_cached(load_isa(path), timeout_ms=DEFAULT_TIMEOUT_MS)
    return _ANALYSES[name]


@pytest.fixture(autouse=True)
def _run_from_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)

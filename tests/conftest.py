"""Shared fixtures: bundled specs, one analysis per spec per session, hypothesis profiles."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from analyzer import analyze, load_isa
from analyzer.results import Analysis

ROOT = Path(__file__).resolve().parent.parent

# The suite never reads or fills the user's result cache.
os.environ.setdefault("PGV_CACHE_DIR", tempfile.mkdtemp(prefix="pgv-test-cache-"))
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
        _ANALYSES[name] = analyze(load_isa(path))
    return _ANALYSES[name]


@pytest.fixture(autouse=True)
def _run_from_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)

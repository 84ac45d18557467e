"""Static quality gates run with the suite: ruff (lint) and mypy (strict on analyzer/)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed")
def test_ruff_is_clean() -> None:
    result = run("ruff", "check", "analyzer", "tests", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean() -> None:
    result = run(sys.executable, "-m", "mypy", "analyzer")
    assert result.returncode == 0, result.stdout + result.stderr


def test_specs_state_no_classification() -> None:
    """A spec states behaviour, never its class: no classification word outside comments
    and strings."""
    import re

    word = re.compile(r"\b(privileged|sensitive|innocuous|critical)\b", re.IGNORECASE)
    offending = []
    for spec in sorted((ROOT / "isa_specs").rglob("*.isa")):
        for number, line in enumerate(spec.read_text().splitlines(), 1):
            code = re.sub(r'"([^"\\]|\\.)*"', '""', line.split("#", 1)[0])
            if word.search(code):
                offending.append(f"{spec.name}:{number}: {line.strip()}")
    assert not offending, "\n".join(offending)

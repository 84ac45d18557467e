"""Extension check (MODEL.md section 8): what an extension changes, with witnesses."""

from __future__ import annotations

import json
from pathlib import Path

from analyzer import analyze, load_isa
from analyzer.diff import diff_analyses
from analyzer.results import Verdict

from .test_cli import pgv

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = """isa pg74x "RDMODE open to users" extends "{base}"
replace instruction rdmode mnemonic "RDMODE" cite "test" {{
  A := zext(M, 16)
  P := P + 1
}}
instruction rdl mnemonic "RDL" cite "test" {{ A := L  P := P + 1 }}
remove instruction halt
"""


def write_extension(tmp_path: Path) -> Path:
    path = tmp_path / "pg74x.isa"
    path.write_text(EXTENSION.format(base=ROOT / "isa_specs" / "pg74.isa"))
    return path


def test_diff_reports_changed_added_removed(tmp_path: Path) -> None:
    base = analyze(load_isa(ROOT / "isa_specs" / "pg74.isa"))
    ext = analyze(load_isa(write_extension(tmp_path)))
    diff = diff_analyses(base, ext)
    kinds = {c.name: c.change for c in diff.changes}
    assert kinds == {"rdmode": "changed", "rdl": "added", "halt": "removed"}
    rdmode = next(c for c in diff.changes if c.name == "rdmode")
    assert "class: privileged -> critical" in rdmode.what
    assert rdmode.after is not None and rdmode.after.behavior_kind == "mode"
    (t1_before, t1_after), _, (_, t3_after) = diff.theorem_pairs()
    assert (t1_before.verdict, t1_after.verdict) == (Verdict.PROVED, Verdict.REFUTED)
    assert t1_after.offending == ("RDMODE", "RDL")
    assert t3_after.offending == ("RDL",)  # mode sensitivity is not user sensitivity


def test_diff_command_formats(tmp_path: Path) -> None:
    ext = str(write_extension(tmp_path))
    text = pgv("diff", "isa_specs/pg74.isa", ext)
    assert text.returncode == 0, text.stderr
    assert "Theorem 1: PROVED -> REFUTED" in text.stdout
    data = json.loads(pgv("diff", "isa_specs/pg74.isa", ext, "--format", "json").stdout)
    assert data["schema"] == "pgv/diff/1"
    assert data["theorems"]["1"] == {
        "before": "PROVED",
        "after": "REFUTED",
        "offending_before": [],
        "offending_after": ["RDMODE", "RDL"],
    }
    markdown = pgv("diff", "isa_specs/pg74.isa", ext, "--format", "markdown").stdout
    assert "### RDMODE (changed)" in markdown

"""Extension check (MODEL.md section 8): what an extension changes, with witnesses."""

from __future__ import annotations

import json
from pathlib import Path

from analyzer import analyze, load_isa
from analyzer.cache import analyze_cached
from analyzer.diff import diff_analyses
from analyzer.results import Verdict
from analyzer.smt.solver import DEFAULT_TIMEOUT_MS

from .conftest import analysis_of
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


def test_diff_text_says_what_no_longer_and_newly_refutes(tmp_path: Path) -> None:
    text = pgv("diff", "isa_specs/pg74.isa", str(write_extension(tmp_path))).stdout
    lines = text.splitlines()
    start = lines.index("Theorem 1: PROVED -> REFUTED")
    assert lines[start + 1] == "  newly refuted by: RDMODE, RDL"
    assert lines[lines.index("Theorem 3: PROVED -> REFUTED") + 1] == "  newly refuted by: RDL"


UMIP = ROOT / "isa_specs" / "examples" / "x86-umip.isa"
STORE_SYSTEM_REGISTER = {"SGDT", "SIDT", "SLDT", "STR", "SMSW"}


def test_umip_example_makes_exactly_the_store_instructions_privileged() -> None:
    """The worked example of MODEL.md section 8: CR4.UMIP, set by the VMM, makes SGDT, SIDT,
    SLDT, STR and SMSW trap at CPL 3 (derived: the spec states only the #GP condition), and
    nothing else changes class; Theorem 1 stays refuted by the other critical mnemonics."""
    base = analysis_of("x86")
    ext = analyze_cached(load_isa(UMIP), timeout_ms=DEFAULT_TIMEOUT_MS)
    diff = diff_analyses(base, ext)
    changed = {c.name: c for c in diff.changes}
    assert {c.after.mnemonic for c in changed.values() if c.after} == STORE_SYSTEM_REGISTER
    assert all(c.change == "changed" for c in changed.values())
    for change in changed.values():
        assert change.before is not None and change.after is not None
        assert change.before.critical is Verdict.PROVED, change.name
        assert change.after.privileged.verdict is Verdict.PROVED, change.name
    (t1_before, t1_after), _, (t3_before, t3_after) = diff.theorem_pairs()
    assert t1_after.verdict is Verdict.REFUTED and t3_after.verdict is Verdict.REFUTED
    assert set(t1_before.offending) - set(t1_after.offending) == STORE_SYSTEM_REGISTER
    assert set(t3_before.offending) - set(t3_after.offending) == STORE_SYSTEM_REGISTER
    assert {"POPF", "PUSHF", "LAR", "VERR"} <= set(t1_after.offending)

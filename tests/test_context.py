"""VMM context search (MODEL.md section 8)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer import analyze, load_isa_text
from analyzer.context import search_contexts
from analyzer.results import Verdict

from .test_cli import pgv

SPEC = """isa ctx "context test"
state S : bits(1) mode
state IOPL : bits(2) control
state TSD : bits(1) control
state IF : bits(1) control
state T : bits(8) timing
state A : bits(8) visible
predicate supervisor = S == 1
predicate user = S == 0
predicate vm_context = user and IOPL == 0 and TSD == 1
vmm sets IOPL, TSD
instruction cli cite "t" { trap privilege when S == 0 and IOPL != 3 IF := 0 }
instruction rdtsc cite "t" { trap privilege when S == 0 and TSD == 1 A := T }
"""
LEAK = 'instruction pushf cite "t" { A := concat(5\'d0, IF, IOPL) }\n'


def search(text: str):  # type: ignore[no-untyped-def]
    isa = load_isa_text(text, "ctx.isa")
    return search_contexts(isa, analyze(isa), 10_000)


def test_best_settings_and_declared_context() -> None:
    result = search(SPEC)
    assert [s.text for s in (result.settings[i] for i in result.best)] == [
        "IOPL=0, TSD=1",
        "IOPL=1, TSD=1",
        "IOPL=2, TSD=1",
    ]
    assert result.verdict is Verdict.PROVED
    declared = [s for s in result.settings if s.declared]
    assert [s.text for s in declared] == ["IOPL=0, TSD=1"]
    assert "the declared vm_context is one of the best settings" in result.notes
    iopl3 = next(s for s in result.settings if s.text == "IOPL=3, TSD=0")
    assert iopl3.escaping == ("CLI",) and iopl3.theorem1 is Verdict.REFUTED


def test_no_setting_helps_an_unconditional_leak() -> None:
    result = search(SPEC + LEAK)
    assert result.verdict is Verdict.REFUTED
    assert all("PUSHF" in s.escaping for s in result.settings)


def test_context_command(tmp_path: Path) -> None:
    spec = tmp_path / "ctx.isa"
    spec.write_text(SPEC)
    out = pgv("context", str(spec), "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["schema"] == "pgv/context/1"
    assert data["some_setting_proves_theorem1"] == "PROVED"
    text = pgv("context", str(spec)).stdout
    assert "  RDTSC: traps when TSD=1\n" in text
    assert "  CLI: traps when IOPL=0, or IOPL=1, or IOPL=2\n" in text


def test_trapping_condition_is_exact_and_short() -> None:
    """The condition names only the fields that decide the trap, and holds in exactly the
    settings under which the form traps."""
    from analyzer.report.common import condition_text, grid_settings, trapping_condition

    extra = (
        "state K : bits(1) control\n"
        "vmm sets IOPL, TSD, K\n"
        'instruction rdk cite "t" { trap privilege when S == 0 and (TSD == 1 or K == 1) A := T }\n'
    )
    result = search(SPEC.replace("vmm sets IOPL, TSD\n", "") + extra)
    condition = trapping_condition(result, "RDK")
    assert condition is not None and condition_text(condition) == "TSD=1, or K=1"
    for setting in grid_settings(result):
        holds = any(all(v in setting.values for v in term) for term in condition)
        assert holds == ("RDK" in setting.timing_trapping or "RDK" in setting.trapping)
    assert trapping_condition(result, "RDTSC") == ((("TSD", 1),),)


def test_extension_replaces_the_settable_fields(tmp_path: Path) -> None:
    base = tmp_path / "ctx.isa"
    base.write_text(SPEC)
    ext = tmp_path / "ctxx.isa"
    ext.write_text(
        'isa ctxx "ext" extends "ctx.isa"\nreplace state IOPL : bits(2) visible\n'
        "replace vmm sets TSD\n"
    )
    from analyzer import load_isa

    assert [f.label for f in load_isa(ext).settable] == ["TSD"]


@pytest.mark.slow
def test_umip_example_is_set_in_every_best_setting() -> None:
    """On the CR4.UMIP example every best setting sets UMIP (it is one of the VMM-settable
    fields: the search, not the spec, says it helps). About two minutes: slow."""
    from analyzer import load_isa
    from analyzer.cache import analyze_cached
    from analyzer.smt.solver import DEFAULT_TIMEOUT_MS

    isa = load_isa(Path(__file__).resolve().parent.parent / "isa_specs/examples/x86-umip.isa")
    search = search_contexts(isa, analyze_cached(isa, timeout_ms=DEFAULT_TIMEOUT_MS), 10_000)
    assert search.best
    assert all(dict(search.settings[i].values)["UMIP"] == 1 for i in search.best)
    assert {"SGDT m16&32", "SMSW r16"} <= set(search.settings[search.best[0]].trapping)

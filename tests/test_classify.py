"""Classifier behaviour on Popek and Goldberg's machine and on small purpose-built specs."""

from __future__ import annotations

import pytest

from analyzer import analyze, load_isa_text
from analyzer.results import InstrClass, Verdict

from .conftest import analysis_of

MINI = """isa mini "mini"
state S : bits(1) mode
state IF : bits(1) control
state BASE : bits(8) control mapping
state T : bits(8) timing
state A : bits(8) visible
state PC : bits(8) visible
memory M : bits(8)[bits(8)] big translate(a) { fault when a > 15 to a + BASE }
predicate supervisor = S == 1
predicate user = S == 0
"""


def classify(body: str) -> object:
    isa = load_isa_text(MINI + body, "mini.isa")
    return analyze(isa).instructions[0]


def test_pg74_classes() -> None:
    a = analysis_of("pg74")
    classes = {r.mnemonic: r.klass for r in a.instructions}
    assert classes["LOAD"] is InstrClass.INNOCUOUS
    assert classes["SVC"] is InstrClass.ALWAYS_TRAPPING
    assert classes["LPSW"] is InstrClass.PRIVILEGED
    (lra,) = a.find("LRA")
    assert lra.behavior_kind == "location"
    (rtimer,) = a.find("RTIMER")
    assert rtimer.timing_dependent.verdict is Verdict.PROVED
    assert rtimer.klass is InstrClass.INNOCUOUS


def test_silent_ignore_is_control_sensitive_and_critical() -> None:
    # A POPF-like instruction: sets IF in supervisor mode, silently ignores it in user mode.
    r = classify('instruction popf cite "t" { if S == 1 { IF := A[0] } PC := PC + 1 }')
    assert r.control_sensitive.verdict is Verdict.PROVED  # type: ignore[attr-defined]
    assert r.privileged.verdict is Verdict.REFUTED  # type: ignore[attr-defined]
    assert r.klass is InstrClass.CRITICAL  # type: ignore[attr-defined]
    # Not user sensitive: in user mode it changes nothing.
    assert r.user_control_sensitive.verdict is Verdict.REFUTED  # type: ignore[attr-defined]
    assert r.execution_safe.verdict is Verdict.REFUTED  # type: ignore[attr-defined]


def test_reading_the_mode_is_mode_sensitive_not_user_sensitive() -> None:
    r = classify('instruction rdm cite "t" { A := zext(S, 8) PC := PC + 1 }')
    assert r.behavior_kind == "mode"  # type: ignore[attr-defined]
    assert r.user_sensitive is Verdict.REFUTED  # type: ignore[attr-defined]


def test_reading_a_control_flag_is_resource_and_user_sensitive() -> None:
    r = classify('instruction rdif cite "t" { A := zext(IF, 8) PC := PC + 1 }')
    assert r.behavior_kind == "resource"  # type: ignore[attr-defined]
    assert r.user_behavior_sensitive.verdict is Verdict.PROVED  # type: ignore[attr-defined]
    w = r.behavior_sensitive.witness  # type: ignore[attr-defined]
    assert w.differing == ("IF",)
    s1, s2, p1, p2 = w.states
    assert s1.get("IF").value != s2.get("IF").value
    assert p1.get("A").value != p2.get("A").value


def test_relocation_is_invisible_to_ordinary_loads() -> None:
    r = classify('instruction ld(a: bits(8)) cite "t" { A := M[a] PC := PC + 1 }')
    assert r.sensitive is Verdict.REFUTED  # type: ignore[attr-defined]


def test_physical_access_is_location_sensitive() -> None:
    r = classify('instruction ldp(a: bits(8)) cite "t" { A := physical M[a] PC := PC + 1 }')
    assert r.behavior_sensitive.verdict is Verdict.PROVED  # type: ignore[attr-defined]


def test_writing_the_clock_is_control_sensitive_reading_it_timing_dependent() -> None:
    w = classify('instruction sck cite "t" { T := A PC := PC + 1 }')
    assert w.control_sensitive.verdict is Verdict.PROVED  # type: ignore[attr-defined]
    r = classify('instruction stck cite "t" { A := T PC := PC + 1 }')
    assert r.timing_dependent.verdict is Verdict.PROVED  # type: ignore[attr-defined]
    assert r.sensitive is Verdict.REFUTED  # type: ignore[attr-defined]


def test_trap_depending_on_a_vmm_bit_counts_only_if_vm_context_fixes_it() -> None:
    body = 'instruction cli cite "t" { trap privilege when S == 0 and A[0] == 1 IF := 0 }'
    loose = analyze(load_isa_text(MINI + body, "m.isa")).instructions[0]
    assert loose.privileged.verdict is Verdict.REFUTED
    body2 = 'instruction cli cite "t" { trap privilege when S == 0 and T[0] == 0 IF := 0 }'
    fixed = load_isa_text(MINI + "predicate vm_context = user and T[0] == 0\n" + body2, "m.isa")
    assert analyze(fixed).instructions[0].privileged.verdict is Verdict.PROVED


def test_unmodelled_is_unknown_not_innocuous() -> None:
    isa = load_isa_text(MINI + 'instruction x cite "t" { unmodelled "microcode" }', "m.isa")
    a = analyze(isa)
    assert a.instructions[0].klass is InstrClass.UNMODELLED
    assert a.theorem(1).verdict is Verdict.UNKNOWN


def test_timeout_gives_unknown_never_innocuous() -> None:
    body = (
        "opaque def h(x: bits(8)) : bits(8) = x\n"
        'instruction m cite "t" { A := A * A * A * zext(IF, 8) * BASE PC := PC + 1 }'
    )
    a = analyze(load_isa_text(MINI + body, "m.isa"), timeout_ms=1)
    r = a.instructions[0]
    verdicts = {r.privileged.verdict, r.control_sensitive.verdict, r.behavior_sensitive.verdict}
    if Verdict.UNKNOWN in verdicts:
        assert r.klass in (InstrClass.UNKNOWN, InstrClass.CRITICAL)


@pytest.mark.parametrize("spec", ["pg74"])
def test_witnesses_are_consistent(spec: str) -> None:
    for r in analysis_of(spec).instructions:
        w = r.control_sensitive.witness
        if w is not None:
            before, after = w.states
            assert any(
                e.value != (after.get(e.name).value if after.get(e.name) else e.value)
                for e in before.entries
            )


def test_analysis_renders_itself_in_notebooks() -> None:
    html = analysis_of("pg74")._repr_html_()  # type: ignore[attr-defined]
    assert 'data-isa="pg74"' in html and "0 critical" in html


EXECUTING = """
instruction setif(k: bits(1)) cite "t" { trap privilege when S == 0  IF := k }
instruction rdbase(k: bits(8)) cite "t" where k != 7 { A := BASE + k }
instruction add(k: bits(8)) cite "t" { A := A + k }
instruction x_setif(xe: bits(8), k: bits(1)) cite "t" { let w = M[xe]  execute setif(k) }
instruction x_rdbase(xe: bits(8), k: bits(8)) cite "t" { let w = M[xe]  execute rdbase(k) }
instruction x_add(xe: bits(8), k: bits(8)) cite "t" { let w = M[xe]  execute add(k) }
"""


def test_executing_an_instruction_classifies_as_its_subject() -> None:
    isa = load_isa_text(MINI + EXECUTING, "x.isa")
    by_name = {r.name: r for r in analyze(isa).instructions}
    for subject in ("setif", "rdbase", "add"):
        executed, executing = by_name[subject], by_name[f"x_{subject}"]
        assert executing.klass is executed.klass, subject
    assert by_name["x_setif"].klass is InstrClass.PRIVILEGED
    assert by_name["x_rdbase"].klass is InstrClass.CRITICAL
    assert by_name["x_add"].klass is InstrClass.INNOCUOUS
    # The executed instruction's operand constraints bind the executing one's operands.
    (where,) = isa.instruction("x_rdbase").where
    assert "OperandRef(name='k'" in repr(where)

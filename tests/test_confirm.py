"""Executable confirmation of the bundled specs (MODEL.md section 6): random-program campaigns
bare and under each VMM, and red pills from the critical instructions' z3 witnesses."""

from __future__ import annotations

import functools
import json

import pytest

from analyzer import interp, ir, load_isa
from analyzer.confirm import confirm, red_pill, red_pills
from analyzer.programs import assemble
from analyzer.report.text import render_confirmation_text, render_red_pills_text
from analyzer.results import RedPill, Verdict
from analyzer.serialize import confirmation_to_dict, red_pills_to_dict
from analyzer.smt.queries import context_example
from analyzer.vmm import (
    Allocation,
    BareMachine,
    build_vmm,
    control_values,
    differences,
    initial_state,
    run_program,
)

from .catalog import CATALOG
from .conftest import SPECS, analysis_of
from .test_cli import pgv

X86_PUBLISHED = next(p for p in CATALOG if p.spec == "x86").critical_include


@functools.cache
def isa_of(name: str) -> ir.Isa:
    return load_isa(SPECS / f"{name}.isa")


@functools.cache
def context_of(name: str) -> dict[str, interp.Registers | int]:
    isa = isa_of(name)
    return control_values(isa, interp.make_state(isa, context_example(isa)))


def pill(name: str, form: str, random_budget: int = 1) -> RedPill:
    result = next(r for r in analysis_of(name).instructions if r.name == form)
    return red_pill(isa_of(name), result, context_of(name), random_budget)


# ---------------------------------------------------------------- campaigns


def test_system370_is_equivalent_under_trap_and_emulate_and_nested() -> None:
    isa = isa_of("system370")
    kinds = ("trap-emulate", "nested:2")
    result = confirm(isa, analysis_of("system370"), budget=25, max_length=4, kinds=kinds)
    assert [c.vmm for c in result.campaigns] == list(kinds)
    for campaign in result.campaigns:
        assert campaign.equivalent, (campaign.counterexample, campaign.differences)
        assert campaign.programs == 25
        assert campaign.direct > 0 and campaign.emulated > 0  # both paths ran
        assert campaign.resource_violations == ()
    assert [(n, v) for n, v, _, _ in result.agreements] == [
        (1, Verdict.PROVED),
        (2, Verdict.PROVED),
    ]
    assert result.disagreements == ()


S370_KEYED_STORE = """program system370
state { EC = 1; KEY = 1; IA = 0x1000; GR[1] = 0x12345678; SK[2] = 0x10 }
0x1000: st r1=0x1 a=0x1000 xt=0x0
"""


def test_storage_keys_act_on_direct_runs_under_the_system370_vmm() -> None:
    # PSW key 1 against storage key 2 (block 2 holds 0x1000): the store is a protection
    # exception on the bare machine. The VMM loads the guest's own key for the direct run, so
    # the store traps there too; a VMM that ran the guest with its own key 0 would store.
    isa = isa_of("system370")
    program = assemble(S370_KEYED_STORE, "keyed.prog", isa)
    start = initial_state(isa, program)
    bare = run_program(BareMachine(isa), program, start)
    assert bare.final["M[0x1000]"] == 0 and bare.final["IA"] != 0x1004  # the store trapped
    shadowing = build_vmm("trap-emulate", isa, context_example(isa))
    assert differences(isa, bare.final, run_program(shadowing, program, start).final) == []
    own_key = build_vmm("trap-emulate", isa, Allocation.whole(isa, context_example(isa)))
    diverging = differences(isa, bare.final, run_program(own_key, program, start).final)
    assert "M[0x1000]: 0x0 vs 0x12" in diverging


def test_pdp10_hybrid_is_equivalent_and_trap_and_emulate_is_not() -> None:
    isa = isa_of("pdp10")
    kinds = ("trap-emulate", "hybrid")
    result = confirm(isa, analysis_of("pdp10"), budget=60, max_length=4, kinds=kinds)
    trap_emulate, hybrid = result.campaigns
    assert not trap_emulate.equivalent
    assert len(trap_emulate.counterexample) == 1  # shrunk to a single instruction
    assert trap_emulate.differences
    values = {e.name: e.value for e in trap_emulate.initial}
    inits = "; ".join(f"{name} = {value:#x}" for name, value in values.items())
    text = f"program pdp10\nstate {{ {inits} }}\n" if inits else "program pdp10\n"
    text += f"{values.get('PC', 0):#x}: {trap_emulate.counterexample[0]}\n"
    replay = assemble(text, "counterexample.prog", isa)
    start = initial_state(isa, replay)
    bare = run_program(BareMachine(isa), replay, start, budget=1)
    virtual = run_program(build_vmm("trap-emulate", isa, context_example(isa)), replay, start, 1)
    assert differences(isa, bare.final, virtual.final) == list(trap_emulate.differences)
    assert hybrid.equivalent and hybrid.programs == 60
    assert hybrid.emulated > 0 and hybrid.direct > 0
    assert result.disagreements == ()


def test_confirm_json_is_the_same_from_run_to_run_but_for_seconds() -> None:
    isa, analysis = isa_of("mc68000"), analysis_of("mc68000")
    runs = [
        confirmation_to_dict(
            confirm(isa, analysis, budget=15, max_length=2, kinds=("trap-emulate",))
        )
        for _ in range(2)
    ]
    seconds = [run.pop("seconds") for run in runs]
    assert runs[0] == runs[1]
    assert runs[0]["campaigns"][0]["counterexample"]  # MOVE from SR tells
    assert set(seconds[0]) == {"total", "campaigns"}
    assert "seconds" not in json.dumps(runs[0])


# ---------------------------------------------------------------- red pills


def test_x86_red_pill_diverges_for_each_published_mnemonic() -> None:
    critical = [r for r in analysis_of("x86").instructions if r.critical is Verdict.PROVED]
    first = {}
    for result in critical:
        first.setdefault(result.mnemonic, result.name)
    assert set(first) >= X86_PUBLISHED
    silent = [m for m in sorted(X86_PUBLISHED) if not pill("x86", first[m]).diverges]
    assert not silent


def test_x86_sgdt_pill_needs_the_vmm_own_table_register() -> None:
    sgdt = pill("x86", "sgdt", random_budget=50)
    assert sgdt.diverges and sgdt.mnemonic == "SGDT"
    assert "GDTR_BASE" in {e.name for e in sgdt.vmm_context}
    assert "holds its own GDTR_BASE" in sgdt.note
    assert sgdt.program.startswith("program x86\n")
    assert sgdt.random_tries is None or 1 <= sgdt.random_tries <= 50


def test_x86_popf_pill_tells_the_campaigns_vmm_apart() -> None:
    popf = pill("x86", "popf")
    assert popf.diverges
    assert "IF" in {d.split(":")[0] for d in popf.differences}
    assert popf.note.startswith("diverges under the VMM of the confirm campaigns")


@pytest.mark.parametrize("name", ["mc68000", "pdp10"])
def test_every_red_pill_diverges(name: str) -> None:
    pills = red_pills(isa_of(name), analysis_of(name), random_budget=20)
    assert pills and all(p.diverges for p in pills), [(p.form, p.note) for p in pills]
    assert {p.mnemonic for p in pills} == set(analysis_of(name).theorem(1).offending)


def test_red_pill_json_and_text_keep_seconds_apart() -> None:
    pills = (pill("mc68000", next(iter(_critical("mc68000"))), random_budget=30),)
    data = red_pills_to_dict(analysis_of("mc68000").isa, pills)
    assert set(data["seconds"]) == {"random_search_total", "random_search"}
    del data["seconds"]
    assert all("seconds" not in p and "random_seconds" not in p for p in data["red_pills"])
    assert data["mnemonics"] == [{"mnemonic": "MOVE from SR", "forms": 1, "diverging": 1}]
    plain = render_red_pills_text("MC68000", pills)
    timed = render_red_pills_text("MC68000", pills, timing=True)
    assert " s)" not in plain and " s)" in timed
    assert plain == render_red_pills_text("MC68000", pills)


def test_confirm_text_shows_seconds_only_when_asked() -> None:
    result = confirm(
        isa_of("pdp10"), analysis_of("pdp10"), budget=5, max_length=2, kinds=("hybrid",)
    )
    assert "seconds" not in render_confirmation_text(result)
    assert "seconds" in render_confirmation_text(result, timing=True)


def test_redpill_command_exits_0_when_every_pill_diverges() -> None:
    out = pgv("redpill", str(SPECS / "mc68000.isa"), "--random-budget", "5", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert all(p["diverges"] for p in data["red_pills"])


@pytest.mark.slow
def test_every_x86_critical_form_has_a_diverging_pill_or_says_why() -> None:
    pills = red_pills(isa_of("x86"), analysis_of("x86"), random_budget=1)
    silent = {p.name: p for p in pills if not p.diverges}
    # REP INS/OUTS are critical (they run untrapped with ECX = 0), yet z3 proves that every
    # untrapped run under vm_context does what the bare machine does.
    assert set(silent) == {"rep_insd", "rep_outsd"}
    for p in silent.values():
        assert p.solver == "unsat" and p.program == ""
        assert p.note.startswith("no red pill: under vm_context every run of it traps")


def _critical(name: str) -> list[str]:
    return [r.name for r in analysis_of(name).instructions if r.critical is Verdict.PROVED]

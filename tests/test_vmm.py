"""The executable model: programs, generic VMMs, equivalence campaigns and red pills."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer import SpecError, analyze, interp, load_isa
from analyzer.confirm import confirm, red_pills
from analyzer.programs import assemble
from analyzer.results import Verdict
from analyzer.smt.queries import context_example
from analyzer.vmm import (
    Allocation,
    BareMachine,
    TrapAndEmulateVMM,
    build_vmm,
    context_fields,
    differences,
    initial_state,
    run_program,
)

from .test_cli import pgv

ROOT = Path(__file__).resolve().parent.parent
PG74 = ROOT / "isa_specs" / "pg74.isa"
PROGRAM = """program pg74
state { M = 0; A = 5; B = 0x100; L = 0x40
  E[0x50] = 3; E[4] = 1; E[5] = 0x20; E[6] = 0x40; E[7] = 0x100 }
0x10:
  load a=0x10
  add a=0x10
  rdmode
  store a=0x11
  svc
0x20: rdtimer
  halt
"""
LEAK = """isa pg74leak "RDMODE and RDL open to users" extends "{base}"
replace instruction rdmode mnemonic "RDMODE" cite "test" {{
  A := zext(M, 16)
  P := P + 1
}}
instruction rdl mnemonic "RDL" cite "test" {{ A := L  P := P + 1 }}
"""


@pytest.fixture(scope="module")
def pg74():  # type: ignore[no-untyped-def]
    return load_isa(PG74)


@pytest.fixture(scope="module")
def leaky(tmp_path_factory):  # type: ignore[no-untyped-def]
    path = tmp_path_factory.mktemp("leak") / "pg74leak.isa"
    path.write_text(LEAK.format(base=PG74))
    isa = load_isa(path)
    return isa, analyze(isa)


def test_program_runs_through_a_trap_handler(pg74) -> None:  # type: ignore[no-untyped-def]
    program = assemble(PROGRAM, "p.prog", pg74)
    assert [line.address for line in program.lines] == [0x10, 0x11, 0x12, 0x13, 0x14, 0x20, 0x21]
    run = run_program(BareMachine(pg74), program, initial_state(pg74, program), keep_trace=True)
    assert run.halted == "halt"
    assert run.trace[4] == "0x14: svc -> trap always"
    assert run.trace[5] == "0x20: rdtimer"
    final = run.final
    assert final.scalars["M"] == 1 and final.scalars["L"] == 0x40  # loaded from E[4..7]
    assert final["E[0x51]"] == 0  # RDMODE in supervisor mode read M = 0 before the store


@pytest.mark.parametrize("kind", ["trap-emulate", "hybrid", "nested"])
def test_vmms_are_equivalent_on_pg74(pg74, kind: str) -> None:  # type: ignore[no-untyped-def]
    program = assemble(PROGRAM, "p.prog", pg74)
    start = initial_state(pg74, program)
    bare = run_program(BareMachine(pg74), program, start)
    machine = build_vmm(kind, pg74, context_example(pg74), depth=3)
    virtual = run_program(machine, program, start)
    assert differences(pg74, bare.final, virtual.final) == []
    counters = machine.counters  # type: ignore[attr-defined]
    assert counters.violations == []
    if kind != "hybrid":
        # LOAD, ADD, STORE and RDTIMER run directly; RDMODE and SVC trap to the VMM.
        assert (counters.direct, counters.emulated) == (4, 2)


def test_program_errors(pg74) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError, match=r"p\.prog:2:1: unknown instruction 'lod'"):
        assemble("program pg74\nlod a=1\n", "p.prog", pg74)
    with pytest.raises(SpecError, match=r"'load' needs operand\(s\) a"):
        assemble("load\n", "p.prog", pg74)
    with pytest.raises(SpecError, match=r"70000 does not fit in bits\(16\)"):
        assemble("load a=70000\n", "p.prog", pg74)
    with pytest.raises(SpecError, match="unknown label 'nowhere'"):
        assemble("jmp a=@nowhere\n", "p.prog", pg74)
    with pytest.raises(SpecError, match="this program is for 'x86', not 'pg74'"):
        assemble("program x86\nhalt\n", "p.prog", pg74)
    with pytest.raises(SpecError, match="unknown state component 'Q'"):
        assemble("state { Q = 1 }\nhalt\n", "p.prog", pg74)


def test_campaigns_confirm_theorem_1_on_pg74(pg74) -> None:  # type: ignore[no-untyped-def]
    result = confirm(pg74, analyze(pg74), budget=40, max_length=4)
    assert all(c.equivalent for c in result.campaigns)
    assert not result.disagreements
    assert all(c.resource_violations == () for c in result.campaigns)


def test_campaign_finds_and_shrinks_a_divergence(leaky) -> None:  # type: ignore[no-untyped-def]
    isa, analysis = leaky
    result = confirm(isa, analysis, budget=60, max_length=4, kinds=("trap-emulate",))
    (campaign,) = result.campaigns
    assert not campaign.equivalent
    assert campaign.counterexample == ("rdmode",)  # shrunk to one instruction
    assert campaign.differences == ("A: 0x0 vs 0x1",)


def test_red_pills_diverge_for_every_critical_instruction(leaky) -> None:  # type: ignore[no-untyped-def]
    isa, analysis = leaky
    pills = {p.mnemonic: p for p in red_pills(isa, analysis, random_budget=50)}
    assert set(pills) == {"RDMODE", "RDL"}
    assert pills["RDMODE"].differences == ("A: 0x0 vs 0x1",)
    assert pills["RDL"].differences and pills["RDL"].differences[0].startswith("A:")


def test_run_confirm_redpill_commands(tmp_path: Path, leaky) -> None:  # type: ignore[no-untyped-def]
    program = tmp_path / "p.prog"
    program.write_text(PROGRAM)
    out = pgv("run", str(PG74), str(program), "--vmm", "nested:2", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["halted"] == "halt" and data["direct"] == 4
    bad = pgv("run", str(PG74), str(program), "--vmm", "sideways")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    confirmed = pgv("confirm", str(PG74), "--budget", "20")
    assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
    assert "agree with the static verdicts" in confirmed.stdout
    spec = tmp_path / "leak.isa"
    spec.write_text(LEAK.format(base=PG74))
    pills = json.loads(
        pgv("redpill", str(spec), "--random-budget", "20", "--format", "json").stdout
    )
    assert {p["mnemonic"] for p in pills["red_pills"]} == {"RDMODE", "RDL"}
    assert leaky[1].theorem(1).verdict is Verdict.REFUTED


def test_context_fields_are_the_bits_vm_context_reads() -> None:
    s370 = load_isa(ROOT / "isa_specs" / "system370.isa")
    assert context_fields(s370) == {
        "P": 1,
        "EC": 1,
        "CR0": 0b11 << 26,
        "CR3": 0xFFFF << 16,
        "CR5": 1 << 31,
        "CR14": 1 << 19,
    }
    vtx = load_isa(ROOT / "isa_specs" / "x86-vtx.isa")
    fields = context_fields(vtx)
    # vm_context reads VMCS registers at an index built from VMCS_PTR: the file is pinned whole.
    assert fields["VMCS"] is None and fields["NR"] == 1 and fields["VMCS_PTR"] == 0xFFFFFFFF


def test_the_allocator_sets_only_what_vm_context_reads() -> None:
    isa = load_isa(ROOT / "isa_specs" / "system370.isa")
    vmm = TrapAndEmulateVMM(BareMachine(isa), Allocation.context(isa, context_example(isa)))
    guest = interp.make_state(isa, {"KEY": 3, "CR0": (1 << 28) | (1 << 27), "SK[5]": 0x18})
    real = vmm.realize(guest)
    assert (real["P"], real["EC"]) == (1, 1)  # problem state, EC mode: vm_context
    assert real["CR0"] == 1 << 28  # extraction authority cleared, low-address protection kept
    assert (real["KEY"], real["SK[5]"]) == (3, 0x18)  # the guest's keys act on direct runs
    assert interp.predicate(isa, "vm_context", real)


def test_context_example_reads_huge_register_files_sparsely() -> None:
    vtx = load_isa(ROOT / "isa_specs" / "x86-vtx.isa")
    values = context_example(vtx)
    vmcs = values["VMCS"]  # 2**48 registers: only the non-zero ones
    assert isinstance(vmcs, dict) and 0 < len(vmcs) <= 32
    state = interp.make_state(vtx, values)
    assert interp.predicate(vtx, "vm_context", state) and interp.invariants_hold(vtx, state)

"""Confirming the theorems by execution (MODEL.md section 6): random programs run bare and
under each VMM, and red pills built from the critical instructions' z3 witnesses."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from analyzer import interp, ir
from analyzer.errors import NO_SPAN
from analyzer.interp import State
from analyzer.programs import Program, ProgramLine
from analyzer.results import (
    Analysis,
    Campaign,
    Confirmation,
    Entry,
    RedPill,
    Verdict,
)
from analyzer.smt.encode import Encoder
from analyzer.smt.queries import InstructionProver, context_example
from analyzer.smt.solver import Session, fresh_context
from analyzer.strategies import instructions, programs, states
from analyzer.vmm import (
    BareMachine,
    Machine,
    TrapAndEmulateVMM,
    build_vmm,
    control_values,
    differences,
    run_program,
)

VMM_KINDS = ("trap-emulate", "nested:2", "hybrid")
Control = Mapping[str, int | tuple[int, ...]]


def _settings(budget: int) -> settings:
    return settings(
        max_examples=budget,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
    )


def _make(kind: str, isa: ir.Isa, control: Control) -> Machine:
    if kind.startswith("nested"):
        depth = int(kind.partition(":")[2] or 2)
        return build_vmm("nested", isa, control, depth)
    return build_vmm(kind, isa, control)


def _stack(machine: Machine) -> list[TrapAndEmulateVMM]:
    """The VMMs from the guest's down to the one on the real machine."""
    out = []
    while isinstance(machine, TrapAndEmulateVMM):
        out.append(machine)
        machine = machine.host
    return out


def _bottom(machine: Machine) -> BareMachine:
    stack = _stack(machine)
    bottom = stack[-1].host if stack else machine
    assert isinstance(bottom, BareMachine)
    return bottom


def _counters(machine: Machine) -> tuple[int, int]:
    """(direct, emulated) at the VMM the guest talks to."""
    stack = _stack(machine)
    return (stack[0].counters.direct, stack[0].counters.emulated) if stack else (0, 0)


def _violations(machine: Machine) -> list[str]:
    return [v for vmm in _stack(machine) for v in vmm.counters.violations]


@dataclass
class _Tally:
    programs: int = 0
    guest: int = 0
    direct: int = 0
    emulated: int = 0
    real: int = 0
    violations: list[str] = field(default_factory=list)
    done: bool = False


def state_entries(isa: ir.Isa, state: State) -> tuple[Entry, ...]:
    """The non-zero components, registers and memory cells of ``state``, in spec order."""
    out = []
    for c in isa.state:
        if c.count is None:
            if state.scalars[c.name]:
                out.append(Entry(c.name, state.scalars[c.name], c.width))
        else:
            out += [
                Entry(f"{c.name}[{i}]", v, c.width) for i, v in enumerate(state.files[c.name]) if v
            ]
    for m in isa.memories:
        out += [
            Entry(f"{m.name}[{a:#x}]", v, m.cell_width) for a, v in state.memories[m.name].items()
        ]
    return tuple(out)


def run_campaign(
    isa: ir.Isa, kind: str, control: Control, budget: int, max_length: int
) -> Campaign:
    """Up to ``budget`` random programs, bare and under VMM ``kind``; the first divergence
    found is shrunk to a minimal program."""
    tally = _Tally()

    def diverges(example: tuple[State, Program]) -> bool:
        state, program = example
        bare = run_program(BareMachine(isa), program, state, budget=len(program.lines))
        machine = _make(kind, isa, control)
        virtual = run_program(machine, program, state, budget=len(program.lines))
        found = bool(differences(isa, bare.final, virtual.final))
        if not tally.done:
            direct, emulated = _counters(machine)
            tally.programs += 1
            tally.guest += virtual.steps
            tally.direct += direct
            tally.emulated += emulated
            tally.real += _bottom(machine).counters.steps
            tally.violations += _violations(machine)
            tally.done = found
        return found

    strategy = st.tuples(states(isa), programs(isa, max_length=max_length))
    try:
        state, program = find(strategy, diverges, settings=_settings(budget))
    except (NoSuchExample, Unsatisfiable):
        return Campaign(
            kind,
            tally.programs,
            True,
            (),
            (),
            (),
            tally.guest,
            tally.direct,
            tally.emulated,
            tally.real,
            tuple(dict.fromkeys(tally.violations)),
        )
    bare = run_program(BareMachine(isa), program, state, budget=len(program.lines))
    virtual = run_program(_make(kind, isa, control), program, state, budget=len(program.lines))
    return Campaign(
        kind,
        tally.programs,
        False,
        tuple(line.text for line in program.lines),
        state_entries(isa, state),
        tuple(differences(isa, bare.final, virtual.final)),
        tally.guest,
        tally.direct,
        tally.emulated,
        tally.real,
        tuple(dict.fromkeys(tally.violations)),
    )


def confirm(
    isa: ir.Isa,
    analysis: Analysis,
    *,
    budget: int = 200,
    max_length: int = 6,
    kinds: tuple[str, ...] = VMM_KINDS,
) -> Confirmation:
    """Run the campaigns and hold their results against the static theorem verdicts."""
    control = context_example(isa)
    campaigns = tuple(run_campaign(isa, kind, control, budget, max_length) for kind in kinds)
    by_kind = {c.vmm: c for c in campaigns}
    agreements = []
    disagreements = []
    for number, kind in ((1, "trap-emulate"), (2, "nested:2"), (3, "hybrid")):
        campaign = by_kind.get(kind)
        if campaign is None:
            continue
        verdict = analysis.theorem(number).verdict
        if campaign.equivalent:
            said = f"no divergence in {campaign.programs} programs"
            if verdict is Verdict.REFUTED:
                said += " (random testing is no proof; see the red pills)"
        else:
            said = "diverges: " + "; ".join(campaign.counterexample)
            if verdict is Verdict.PROVED:
                disagreements.append(
                    f"Theorem {number} is PROVED, yet under the {kind} VMM the program "
                    f"{' / '.join(campaign.counterexample)} diverges: "
                    + "; ".join(campaign.differences)
                )
        agreements.append((number, verdict, kind, said))
    return Confirmation(analysis.isa, campaigns, tuple(agreements), tuple(disagreements))


# ---------------------------------------------------------------- red pills


def _program_text(isa: ir.Isa, values: Mapping[str, int], line: ProgramLine) -> str:
    inits = "; ".join(f"{k} = {v:#x}" for k, v in values.items() if v)
    state = f"state {{ {inits} }}\n" if inits else ""
    return f"program {isa.name}\n{state}{line.text}\n"


def _virtual_after_direct(isa: ir.Isa, guest: State, real_after: State) -> State:
    """What a trap-and-emulate VMM makes of a direct run: the real visible result, with the
    guest's virtual control state, relocation and mapping included, unchanged."""
    virtual = TrapAndEmulateVMM(BareMachine(isa), {}).absorb(guest, real_after)
    mapping = {c.name: guest.scalars[c.name] for c in isa.state if c.mapping and c.count is None}
    return interp.update(isa, virtual, mapping) if mapping else virtual


def red_pills(isa: ir.Isa, analysis: Analysis, *, random_budget: int = 2000) -> tuple[RedPill, ...]:
    """For each critical form: the z3 witness of unsafe direct execution as a program, its
    result bare and under trap-and-emulate, and how long random testing takes to find one."""
    control = context_example(isa)
    pills = []
    for result in analysis.instructions:
        if result.critical is not Verdict.PROVED:
            continue
        instruction = isa.instruction(result.name)
        fresh_context()
        prover = InstructionProver(isa, instruction, Encoder(isa), Session(10_000))
        states_found = prover.red_pill()
        tries, seconds = _random_search(isa, instruction.name, control, random_budget)
        if states_found is None:
            pills.append(
                RedPill(
                    result.form,
                    result.mnemonic,
                    "",
                    (),
                    (),
                    (),
                    (),
                    tries,
                    seconds,
                    "direct execution under vm_context is exact: the "
                    "instruction differs only outside vm_context",
                )
            )
            continue
        bare_state = interp.make_state(isa, states_found.bare)
        real_state = interp.make_state(isa, states_found.real)
        operands = states_found.operands
        bare_after, _ = interp.execute(isa, bare_state, instruction.name, operands)
        real_step = interp.step(isa, real_state, instruction.name, operands)
        virtual_after = _virtual_after_direct(isa, bare_state, real_step.state())
        line = ProgramLine(0, instruction.name, tuple(operands.items()), NO_SPAN)
        diffs = _observed(isa, bare_after, virtual_after, bare_state, real_state)
        owned = control_values(isa, real_state)
        pills.append(
            RedPill(
                result.form,
                result.mnemonic,
                _program_text(isa, states_found.bare, line),
                tuple(
                    Entry(k, v, isa.component(k).width)
                    for k, v in owned.items()
                    if isinstance(v, int)
                ),
                _only(state_entries(isa, bare_after), diffs),
                _only(state_entries(isa, virtual_after), diffs),
                tuple(diffs),
                tries,
                seconds,
            )
        )
    return tuple(pills)


def _only(entries: tuple[Entry, ...], diffs: list[str]) -> tuple[Entry, ...]:
    """The entries named in ``diffs`` (lines such as ``A: 0x1 vs 0x2``)."""
    names = {d.split(":", 1)[0] for d in diffs}
    return tuple(e for e in entries if e.name in names)


def _observed(
    isa: ir.Isa, bare: State, virtual: State, bare_before: State, real_before: State
) -> list[str]:
    mapping_equal = all(
        bare_before.scalars.get(c.name) == real_before.scalars.get(c.name)
        for c in isa.state
        if c.mapping and c.count is None
    )
    diffs = differences(isa, bare, virtual)
    if not mapping_equal:
        # The VMM relocated the guest: physical cells differ by design; compare registers.
        names = {m.name for m in isa.memories}
        diffs = [d for d in diffs if d.split("[", 1)[0] not in names]
    return diffs


def _random_search(
    isa: ir.Isa, name: str, control: Control, budget: int
) -> tuple[int | None, float]:
    """How many random (state, operands) tries until the first divergence of one form under
    trap-and-emulate, and how long that took; None tries when none within ``budget``."""
    count = 0

    def diverges(example: tuple[State, tuple[str, dict[str, int]]]) -> bool:
        nonlocal count
        count += 1
        state, (instruction, operands) = example
        program = Program(
            isa.name,
            (),
            (ProgramLine(0, instruction, tuple(operands.items()), NO_SPAN),),
            (),
            False,
        )
        bare = run_program(BareMachine(isa), program, state, budget=1)
        virtual = run_program(build_vmm("trap-emulate", isa, control), program, state, budget=1)
        return bool(differences(isa, bare.final, virtual.final))

    started = time.perf_counter()
    settings_ = settings(
        max_examples=budget,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    try:
        find(st.tuples(states(isa), instructions(isa, [name])), diverges, settings=settings_)
    except (NoSuchExample, Unsatisfiable):
        return None, round(time.perf_counter() - started, 3)
    return count, round(time.perf_counter() - started, 3)

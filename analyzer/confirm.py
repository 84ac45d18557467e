"""Confirming the theorems by execution (MODEL.md section 6): random programs run bare and
under each VMM, and red pills built from the critical instructions' z3 witnesses.

Every result is deterministic: hypothesis runs derandomized, so the programs tried, their
number and the shrunk counterexamples are the same on every run. Only the wall-clock times
(``seconds`` fields) vary.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import find as hypothesis_find
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from analyzer import interp, ir
from analyzer.errors import NO_SPAN
from analyzer.graphs import expression_reads, instruction_access
from analyzer.interp import Registers, State
from analyzer.programs import Program, ProgramLine, assemble
from analyzer.results import (
    Analysis,
    Campaign,
    Confirmation,
    Entry,
    Execution,
    InstructionResult,
    RedPill,
    Verdict,
)
from analyzer.smt.encode import Encoder
from analyzer.smt.queries import InstructionProver, RedPillStates, context_example
from analyzer.smt.solver import Answer, Session, fresh_context
from analyzer.strategies import instructions, programs, states, with_definitions
from analyzer.vmm import (
    VMM_KINDS,
    Allocation,
    BareMachine,
    ComponentValue,
    Machine,
    TrapAndEmulateVMM,
    build_vmm,
    context_fields,
    control_values,
    differences,
    initial_state,
    registers_differ,
    run_program,
)

THEOREM_OF_VMM = {"trap-emulate": 1, "nested:2": 2, "hybrid": 3}
RED_PILL_TIMEOUT_MS = 10_000


def find(strategy: st.SearchStrategy[Any], condition: Callable[[Any], bool], **kw: Any) -> Any:
    """``hypothesis.find``, drawing the same examples whichever modules are loaded: see
    :func:`_without_source_constants`."""
    with _without_source_constants():
        return hypothesis_find(strategy, condition, **kw)


@contextlib.contextmanager
def _without_source_constants() -> Iterator[None]:
    """Hypothesis mixes into what it draws the literals of the loaded modules it counts as
    local (not installed): pgv from a checkout, from an installed copy and under pytest
    load different ones, so even derandomized campaigns drew different programs and the
    reports were not reproducible. Campaigns draw without them. The hook is internal to
    hypothesis; without it (another version), campaigns still run."""
    try:
        from hypothesis.internal.conjecture import providers

        original = providers._get_local_constants
        cache = providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):
        yield
        return
    empty = type(providers.GLOBAL_CONSTANTS)()
    cache.clear()
    providers._get_local_constants = lambda: empty
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()


def _settings(budget: int, phases: tuple[Phase, ...]) -> settings:
    return settings(
        max_examples=budget,
        derandomize=True,
        database=None,
        deadline=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
    )


def _make(kind: str, isa: ir.Isa, allocation: Allocation) -> Machine:
    if kind.startswith("nested"):
        depth = int(kind.partition(":")[2] or 2)
        return build_vmm("nested", isa, allocation, depth)
    return build_vmm(kind, isa, allocation)


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

    def count(self, machine: Machine, guest_steps: int, diverged: bool) -> None:
        """Add one program's run under ``machine`` (until the first divergence)."""
        if self.done:
            return
        direct, emulated = _counters(machine)
        self.programs += 1
        self.guest += guest_steps
        self.direct += direct
        self.emulated += emulated
        self.real += _bottom(machine).counters.steps
        self.violations += _violations(machine)
        self.done = diverged


def _nonzero(registers: Registers) -> list[tuple[int, int]]:
    """(index, value) of the non-zero registers, in index order."""
    if isinstance(registers, interp.MemoryImage):
        return sorted(registers.items())
    return [(i, v) for i, v in enumerate(registers) if v]


def state_entries(isa: ir.Isa, state: State) -> tuple[Entry, ...]:
    """The non-zero components, registers and memory cells of ``state``, in spec order."""
    out = []
    for c in isa.state:
        if c.count is None:
            if state.scalars[c.name]:
                out.append(Entry(c.name, state.scalars[c.name], c.width))
        else:
            out += [Entry(f"{c.name}[{i}]", v, c.width) for i, v in _nonzero(state.files[c.name])]
    for m in isa.memories:
        out += [
            Entry(f"{m.name}[{a:#x}]", v, m.cell_width)
            for a, v in sorted(state.memories[m.name].items())
        ]
    return tuple(out)


def focus_forms(isa: ir.Isa, analysis: Analysis) -> tuple[str, ...]:
    """The forms a campaign draws about half of its lines from: those the analysis finds (or
    cannot rule out) sensitive, and those whose direct execution it cannot prove exact.
    These are where a VMM can go wrong; the rest run directly and agree by proof."""
    modelled = {i.name for i in isa.instructions if i.unmodelled is None}
    return tuple(
        r.name
        for r in analysis.instructions
        if r.name in modelled
        and (r.sensitive is not Verdict.REFUTED or r.execution_safe.verdict is not Verdict.PROVED)
    )


def run_campaign(
    isa: ir.Isa,
    kind: str,
    allocation: Allocation,
    budget: int,
    max_length: int,
    focus: tuple[str, ...] = (),
) -> Campaign:
    """Up to ``budget`` random programs, bare and under VMM ``kind``; the first divergence
    found is shrunk to a minimal program. With ``focus``, about half of the lines are
    drawn from those forms."""
    tally = _Tally()
    started = time.perf_counter()

    def diverges(example: tuple[State, Program]) -> bool:
        state, program = example
        bare = run_program(BareMachine(isa), program, state, budget=len(program.lines))
        machine = _make(kind, isa, allocation)
        virtual = run_program(machine, program, state, budget=len(program.lines))
        found = bool(differences(isa, bare.final, virtual.final))
        tally.count(machine, virtual.steps, found)
        return found

    strategy = st.tuples(states(isa), programs(isa, max_length=max_length, focus=focus or None))
    try:
        state, program = find(
            strategy, diverges, settings=_settings(budget, (Phase.generate, Phase.shrink))
        )
    except (NoSuchExample, Unsatisfiable):
        counterexample: tuple[str, ...] = ()
        initial: tuple[Entry, ...] = ()
        found: tuple[str, ...] = ()
    else:
        state, program = _minimize(isa, kind, allocation, state, program)
        counterexample = tuple(line.text for line in program.lines)
        initial = state_entries(isa, state)
        found = tuple(_differences(isa, kind, allocation, state, program))
    return Campaign(
        kind,
        tally.programs,
        not counterexample,
        counterexample,
        initial,
        found,
        tally.guest,
        tally.direct,
        tally.emulated,
        tally.real,
        tuple(dict.fromkeys(tally.violations)),
        round(time.perf_counter() - started, 3),
    )


def _differences(
    isa: ir.Isa, kind: str, allocation: Allocation, state: State, program: Program
) -> list[str]:
    """Where ``program`` from ``state`` ends differently bare and under VMM ``kind``."""
    bare = run_program(BareMachine(isa), program, state, budget=len(program.lines))
    virtual = run_program(_make(kind, isa, allocation), program, state, len(program.lines))
    return differences(isa, bare.final, virtual.final)


def _minimize(
    isa: ir.Isa, kind: str, allocation: Allocation, state: State, program: Program
) -> tuple[State, Program]:
    """A diverging example made 1-minimal: no line can be removed and no non-zero entry of
    the initial state zeroed (invariants kept) without losing the divergence. Hypothesis's
    shrinker can stop short of that when an earlier line must go first."""
    lines = list(program.lines)
    index = 0
    while index < len(lines) and len(lines) > 1:
        trial = replace(program, lines=tuple(lines[:index] + lines[index + 1 :]))
        if _differences(isa, kind, allocation, state, trial):
            lines = list(trial.lines)
        else:
            index += 1
    program = replace(program, lines=tuple(lines))
    for entry in state_entries(isa, state):
        trial_state = with_definitions(isa, interp.update(isa, state, {entry.name: 0}))
        if interp.invariants_hold(isa, trial_state) and _differences(
            isa, kind, allocation, trial_state, program
        ):
            state = trial_state
    return state, program


def confirm(
    isa: ir.Isa,
    analysis: Analysis,
    *,
    budget: int = 200,
    max_length: int = 6,
    kinds: tuple[str, ...] = VMM_KINDS,
) -> Confirmation:
    """Run the campaigns and hold their results against the static theorem verdicts."""
    allocation = Allocation.context(isa, context_example(isa))
    focus = focus_forms(isa, analysis)
    campaigns = tuple(
        run_campaign(isa, kind, allocation, budget, max_length, focus) for kind in kinds
    )
    agreements, disagreements = _agreements(analysis, campaigns)
    return Confirmation(
        analysis.isa, campaigns, agreements, disagreements, budget, max_length, focus
    )


def _agreements(
    analysis: Analysis, campaigns: tuple[Campaign, ...]
) -> tuple[tuple[tuple[int, Verdict, str, str], ...], tuple[str, ...]]:
    """What each campaign says about its theorem, and where it contradicts a proof."""
    agreements = []
    disagreements = []
    for campaign in campaigns:
        number = THEOREM_OF_VMM.get(campaign.vmm)
        if number is None:
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
                    f"Theorem {number} is PROVED, yet under the {campaign.vmm} VMM the program "
                    f"{' / '.join(campaign.counterexample)} diverges: "
                    + "; ".join(campaign.differences)
                )
        agreements.append((number, verdict, campaign.vmm, said))
    return tuple(agreements), tuple(disagreements)


# ---------------------------------------------------------------- red pills


def execute(isa: ir.Isa, analysis: Analysis, *, budget: int, random_budget: int) -> Execution:
    """The campaigns under every VMM and the red pills of the critical forms."""
    return Execution(
        confirm(isa, analysis, budget=budget),
        red_pills(isa, analysis, random_budget=random_budget),
    )


def red_pills(
    isa: ir.Isa,
    analysis: Analysis,
    *,
    random_budget: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[RedPill, ...]:
    """For each critical form: a program from the z3 witness of unsafe direct execution, run
    bare and under trap-and-emulate, and how many random tries find a divergence; or, when
    there is no such program, why."""
    context = control_values(isa, interp.make_state(isa, context_example(isa)))
    critical = [r for r in analysis.instructions if r.critical is Verdict.PROVED]
    pills = []
    for done, result in enumerate(critical):
        pills.append(red_pill(isa, result, context, random_budget))
        if progress is not None:
            progress(done + 1, len(critical))
    return tuple(pills)


def red_pill(
    isa: ir.Isa,
    result: InstructionResult,
    context: Mapping[str, ComponentValue],
    random_budget: int,
) -> RedPill:
    """The red pill of one critical form (see :func:`red_pills`)."""
    instruction = isa.instruction(result.name)
    fresh_context()
    prover = InstructionProver(isa, instruction, Encoder(isa), Session(RED_PILL_TIMEOUT_MS))
    # Prefer a program that tells apart the VMM of the confirm campaigns, which sets only
    # what vm_context reads; else one for a VMM that holds more control state of its own.
    search = prover.red_pill(free=context_fields(isa))
    if search.states is None:
        search = prover.red_pill()
    if search.states is None:
        answer, why = _why_none(prover, search.answer, search.reason)
        tries, seconds = _random_search(
            isa, instruction.name, Allocation.context(isa, context), random_budget
        )
        return RedPill(
            result.name,
            result.form,
            result.mnemonic,
            "",
            (),
            (),
            (),
            (),
            (),
            tries,
            seconds,
            why,
            random_budget,
            answer.value,
        )
    witness = _WitnessRun.build(isa, instruction.name, search.states)
    allocation = witness.shrink(witness.allocation(context))
    simplest = witness.simplest(allocation)
    allocation = simplest.shrink(allocation)
    pill = simplest.assembled()
    tries, seconds = _random_search(isa, instruction.name, allocation, random_budget)
    bare, virtual = pill.run(allocation)
    diffs = tuple(differences(isa, bare, virtual))
    note = _needs(isa, allocation, pill.start) if diffs else _NO_DIVERGENCE
    shown, guest = _allocation_entries(isa, allocation, pill.start)
    return RedPill(
        result.name,
        result.form,
        result.mnemonic,
        pill.text,
        shown,
        guest,
        _only(state_entries(isa, bare), diffs),
        _only(state_entries(isa, virtual), diffs),
        diffs,
        tries,
        seconds,
        note,
        random_budget,
    )


@dataclass(frozen=True)
class _WitnessRun:
    """A z3 red-pill witness as a one-line program, run bare and under trap-and-emulate
    VMMs whose allocation sets the witness's real control values."""

    isa: ir.Isa
    line: ProgramLine
    start: State
    real: dict[str, ComponentValue]

    @classmethod
    def build(cls, isa: ir.Isa, name: str, found: RedPillStates) -> _WitnessRun:
        """The witness's bare state, operands and real control values."""
        line = ProgramLine(0, name, tuple(found.operands.items()), NO_SPAN)
        real_state = interp.make_state(isa, found.real)
        real = {c.name: _value(real_state, c.name) for c in isa.state if c.is_control}
        return cls(isa, line, interp.make_state(isa, found.bare), real)

    @property
    def text(self) -> str:
        """The program file: the initial state's non-zero values, and the line at the PC."""
        isa = self.isa
        inits = "; ".join(f"{e.name} = {e.value:#x}" for e in state_entries(isa, self.start))
        state = f"state {{ {inits} }}\n" if inits else ""
        address = f"{self.start.scalars[isa.pc]:#x}: " if isa.pc is not None else ""
        return f"program {isa.name}\n{state}{address}{self.line.text}\n"

    def assembled(self) -> _WitnessRun:
        """The run of :attr:`text` assembled as a user's file would be."""
        program = assemble(self.text, f"{self.line.instruction}.redpill", self.isa)
        return replace(self, line=program.lines[0], start=initial_state(self.isa, program))

    def run(self, allocation: Allocation) -> tuple[State, State]:
        """The final states bare and under trap-and-emulate with ``allocation``."""
        pc = self.isa.pc
        line = replace(self.line, address=0 if pc is None else self.start.scalars[pc])
        program = Program(self.isa.name, (), (line,), (), pc is not None)
        bare = run_program(BareMachine(self.isa), program, self.start, budget=1)
        machine = build_vmm("trap-emulate", self.isa, allocation)
        virtual = run_program(machine, program, self.start, budget=1)
        return bare.final, virtual.final

    def diverges(self, allocation: Allocation) -> bool:
        """The program's results differ bare and under ``allocation``."""
        bare, virtual = self.run(allocation)
        return bool(differences(self.isa, bare, virtual))

    def allocation(self, context: Mapping[str, ComponentValue]) -> Allocation:
        """The VMM's allocation in the witness: what vm_context reads, and every control
        component whose real value differs from the guest's. What vm_context reads takes
        the confirm campaigns' ``context`` values where the program diverges with them too
        (the solver chose its own)."""
        pinned = context_fields(self.isa)
        fields: dict[str, int | None] = dict(pinned)
        for name, value in self.real.items():
            if not _same_value(value, _value(self.start, name)):
                fields[name] = None
        usual = Allocation({**self.real, **{k: context[k] for k in pinned}}, fields)
        return usual if self.diverges(usual) else Allocation(self.real, fields)

    def shrink(self, allocation: Allocation) -> Allocation:
        """``allocation`` kept only where the divergence needs it: each component, then
        each register of a file, is handed back to the guest (its value in the initial
        state) in spec order while the program still diverges. What vm_context reads stays
        the VMM's."""
        if not self.diverges(allocation):
            return allocation
        context = context_fields(self.isa)
        for name in list(allocation.fields):
            fields = {k: v for k, v in allocation.fields.items() if k != name}
            if name in context:
                fields[name] = context[name]
            trial = Allocation(allocation.values, fields)
            if fields != allocation.fields and self.diverges(trial):
                allocation = trial
        for name, mask in allocation.fields.items():
            registers = allocation.values[name]
            if mask is not None or isinstance(registers, int):
                continue
            guest = _value(self.start, name)
            assert not isinstance(guest, int)
            for index, _, own in registers_differ(registers, guest):
                values = dict(allocation.values)
                values[name] = _with_register(values[name], index, own)
                trial = Allocation(values, allocation.fields)
                if self.diverges(trial):
                    allocation = trial
        return allocation

    def simplest(self, allocation: Allocation) -> _WitnessRun:
        """The same program from an initial state with every non-zero entry zeroed that
        the divergence does not need (invariants kept), in spec order."""
        if not self.diverges(allocation):
            return self
        run = self
        for entry in state_entries(self.isa, self.start):
            start = with_definitions(self.isa, interp.update(self.isa, run.start, {entry.name: 0}))
            trial = replace(run, start=start)
            if interp.invariants_hold(self.isa, start) and trial.diverges(allocation):
                run = trial
        return run


def _with_register(registers: ComponentValue, index: int, value: int) -> ComponentValue:
    """``registers`` with register ``index`` set to ``value``."""
    if isinstance(registers, interp.MemoryImage):
        return registers.updated([(index, value)])
    assert isinstance(registers, tuple)
    return (*registers[:index], value, *registers[index + 1 :])


def _value(state: State, name: str) -> ComponentValue:
    return state.scalars[name] if name in state.scalars else state.files[name]


def _same_value(a: ComponentValue, b: ComponentValue) -> bool:
    return a is b or a == b


def _allocation_entries(
    isa: ir.Isa, allocation: Allocation, guest: State
) -> tuple[tuple[Entry, ...], tuple[Entry, ...]]:
    """The real values the VMM sets that differ from the guest's, and the guest's values."""
    real = allocation.apply(guest)
    shown: list[Entry] = []
    own: list[Entry] = []
    for c in isa.state:
        if c.name not in allocation.fields:
            continue
        a, b = _value(real, c.name), _value(guest, c.name)
        if isinstance(a, int) and isinstance(b, int):
            if a != b:
                shown.append(Entry(c.name, a, c.width))
                own.append(Entry(c.name, b, c.width))
            continue
        assert not isinstance(a, int) and not isinstance(b, int)
        cells_a, cells_b = dict(_nonzero(a)), dict(_nonzero(b))
        for i in sorted(set(cells_a) | set(cells_b)):
            if cells_a.get(i, 0) != cells_b.get(i, 0):
                shown.append(Entry(f"{c.name}[{i}]", cells_a.get(i, 0), c.width))
                own.append(Entry(f"{c.name}[{i}]", cells_b.get(i, 0), c.width))
    return tuple(shown), tuple(own)


def _needs(isa: ir.Isa, allocation: Allocation, guest: State) -> str:
    """Which of the VMM's own values the divergence needs, in words."""
    context = context_fields(isa)
    extra = [
        name
        for name, mask in allocation.fields.items()
        if (name not in context or context[name] != mask)
        and not _same_value(allocation.values[name], _value(guest, name))
    ]
    if not extra:
        return (
            "diverges under the VMM of the confirm campaigns: the VMM sets only what "
            "vm_context reads; the guest's other control state is its own"
        )
    return (
        f"diverges when the VMM holds its own {', '.join(extra)} (a VMM that loaded the "
        "guest's own values there, as the confirm campaigns' VMM does, would not be told "
        "apart by this program)"
    )


_NO_DIVERGENCE = (
    "the z3 witness does not diverge when run: the interpreter and the solver disagree on it "
    "(a bug: please report it)"
)


def _why_none(prover: InstructionProver, answer: Answer, reason: str) -> tuple[Answer, str]:
    """Why a critical form has no red pill, from the solver, and its final answer."""
    if answer is Answer.UNKNOWN:
        return answer, f"no red pill: the solver gave up ({reason})"
    wider = prover.red_pill(same_memory=False)
    if wider.answer is Answer.SAT:
        return Answer.UNSAT, (
            "no red pill under the generic VMM: direct execution differs from the bare "
            "machine only when the VMM moves the guest's memory (the generic VMM keeps it "
            "where the guest put it)"
        )
    if wider.answer is Answer.UNKNOWN:
        return wider.answer, f"no red pill: the solver gave up ({wider.reason})"
    return Answer.UNSAT, (
        "no red pill: under vm_context every run of it traps or does exactly what the bare "
        "machine does from the same visible state (proof: unsatisfiable). It is critical "
        "because it is sensitive in some state and does not trap in some vm_context state, "
        "but its runs that do not trap under vm_context are not sensitive ones"
    )


def _only(entries: tuple[Entry, ...], diffs: tuple[str, ...]) -> tuple[Entry, ...]:
    """The entries named in ``diffs`` (lines such as ``A: 0x1 vs 0x2``)."""
    names = {d.split(":", 1)[0] for d in diffs}
    return tuple(e for e in entries if e.name in names)


def _relevant(isa: ir.Isa, name: str) -> set[str]:
    """What decides whether a one-instruction program diverges: the state the instruction
    and the mode and context predicates read. (The trap handlers' reads do not: a trap
    taken both ways runs the same handler on the same state.)"""
    reads = instruction_access(isa, isa.instruction(name)).reads
    for predicate in ("vm_context", "user", "supervisor"):
        reads |= expression_reads(isa, isa.predicate(predicate))
    return reads


def _random_search(
    isa: ir.Isa, name: str, allocation: Allocation, budget: int
) -> tuple[int | None, float]:
    """How many random (state, operands) tries until the first divergence of one form under
    trap-and-emulate with ``allocation``, and how long that took; None tries when none
    within ``budget``, or when the budget is 0 (not measured). States are drawn over what
    can decide the divergence (the rest is zero)."""
    if budget == 0:
        return None, 0.0
    count = 0
    first: int | None = None

    def diverges(example: tuple[State, tuple[str, dict[str, int]]]) -> bool:
        nonlocal count, first
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
        virtual = run_program(build_vmm("trap-emulate", isa, allocation), program, state, 1)
        found = bool(differences(isa, bare.final, virtual.final))
        if found and first is None:
            first = count  # hypothesis runs the example it found once more
        return found

    started = time.perf_counter()
    strategy = st.tuples(states(isa, only=_relevant(isa, name)), instructions(isa, [name]))
    try:
        find(strategy, diverges, settings=_settings(budget, (Phase.generate,)))
    except (NoSuchExample, Unsatisfiable):
        return None, round(time.perf_counter() - started, 3)
    return first, round(time.perf_counter() - started, 3)

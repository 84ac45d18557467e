"""Generic virtual machine monitors over any spec (MODEL.md section 6), and program runs.

Anything with the machine interface (:class:`Machine`: ``step`` one instruction without
entering a handler, ``take_trap`` to enter one) can run programs. The bare machine is the
spec's interpreter. A VMM offers the same interface to its guest and runs on a host machine,
so a VMM on a VMM is just composition (nested virtualization).

The VMMs follow the construction in Popek and Goldberg's proof of Theorem 1:

- the *allocator* owns the real control state: a guest runs with the guest's visible state,
  the guest's relocation and mapping (the VMM's own allocation is the identity: the model has
  no memory of the VMM's to protect), and every other mode and control component set to the
  VMM's choice, a state satisfying ``vm_context``;
- the *dispatcher* is entered on every trap of direct execution;
- the *interpreter routines* run the trapped instruction's spec semantics on the guest's
  virtual state, reflecting a trap into the guest when the bare machine would have trapped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from analyzer import interp, ir
from analyzer.interp import State, StepResult, TrapTaken
from analyzer.programs import Program, ProgramLine


class Machine(Protocol):
    """What a program, or a VMM, needs of the machine it runs on."""

    isa: ir.Isa

    def step(self, state: State, instruction: str, operands: Mapping[str, int]) -> StepResult:
        """Run one instruction from ``state``: the post-state, or the trap it takes."""
        ...

    def take_trap(self, state: State, trap: TrapTaken) -> State:
        """Enter the handler of ``trap`` from ``state``."""
        ...


@dataclass
class Counters:
    """What a machine did: instructions run, and for a VMM how they were run."""

    steps: int = 0
    direct: int = 0
    emulated: int = 0
    reflected: int = 0
    violations: list[str] = field(default_factory=list)


class BareMachine:
    """The real machine: the spec's interpreter."""

    def __init__(self, isa: ir.Isa) -> None:
        self.isa = isa
        self.counters = Counters()

    def step(self, state: State, instruction: str, operands: Mapping[str, int]) -> StepResult:
        self.counters.steps += 1
        return interp.step(self.isa, state, instruction, operands)

    def take_trap(self, state: State, trap: TrapTaken) -> State:
        return interp.take_trap(self.isa, state, trap.kind, trap.vector)

    @property
    def name(self) -> str:
        return "bare"


def _owned(isa: ir.Isa) -> tuple[ir.StateComponent, ...]:
    """The components the allocator sets for direct execution: mode and control state,
    except relocation and mapping, which it composes with an identity allocation."""
    return tuple(c for c in isa.of_kind(ir.Kind.MODE, ir.Kind.CONTROL) if not c.mapping)


class TrapAndEmulateVMM:
    """Runs the guest directly in ``vm_context``; emulates whatever traps (Theorem 1)."""

    kind = "trap-and-emulate"

    def __init__(self, host: Machine, real_control: Mapping[str, int | tuple[int, ...]]) -> None:
        self.isa = host.isa
        self.host = host
        self.real_control = dict(real_control)
        self.owned = _owned(self.isa)
        self.counters = Counters()

    @property
    def name(self) -> str:
        return f"{self.kind} on {getattr(self.host, 'name', 'a host')}"

    # -- allocator
    def realize(self, virtual: State) -> State:
        """The real state in which the guest runs directly."""
        return _with_components(virtual, self.real_control, self.owned)

    def absorb(self, virtual: State, real: State) -> State:
        """The guest's new virtual state after a direct run: the real visible state, timing
        and mapping, with the guest's own virtual control state kept."""
        kept = {c.name: _component_value(virtual, c) for c in self.owned}
        return _with_components(real, kept, self.owned)

    # -- dispatcher
    def step(self, state: State, instruction: str, operands: Mapping[str, int]) -> StepResult:
        self.counters.steps += 1
        if self.interprets(state):
            return self.emulate(state, instruction, operands)
        real = self.realize(state)
        if not interp.predicate(self.isa, "vm_context", real):
            # The guest's visible state cannot be run under the VMM's context: interpret.
            return self.emulate(state, instruction, operands)
        result = self.host.step(real, instruction, operands)
        if result.trapped:
            return self.emulate(state, instruction, operands)
        post = result.state()
        self.counters.direct += 1
        changed = [
            c.name for c in self.owned if _component_value(post, c) != _component_value(real, c)
        ]
        if changed:
            self.counters.violations.append(
                f"{instruction} changed the real {', '.join(changed)} without trapping"
            )
        return StepResult(self.absorb(state, post), None)

    def interprets(self, state: State) -> bool:
        """Whether every instruction is interpreted in this virtual state (never, here)."""
        return False

    # -- interpreter routines
    def emulate(self, state: State, instruction: str, operands: Mapping[str, int]) -> StepResult:
        """Run the instruction's spec semantics on the guest's virtual state."""
        self.counters.emulated += 1
        return interp.step(self.isa, state, instruction, operands)

    def take_trap(self, state: State, trap: TrapTaken) -> State:
        """Reflect a trap into the guest: its handler, on the virtual state."""
        self.counters.reflected += 1
        return interp.take_trap(self.isa, state, trap.kind, trap.vector)


class HybridVMM(TrapAndEmulateVMM):
    """Interprets every instruction outside virtual user mode; runs virtual user mode
    directly (Theorem 3)."""

    kind = "hybrid"

    def interprets(self, state: State) -> bool:
        # P&G's hybrid VMM interprets "virtual supervisor mode": on a two-mode machine that is
        # everything but user mode. Where a machine has states that are neither (the PDP-10's
        # user mode with User In-Out set holds a privilege), those are interpreted too.
        return not interp.predicate(self.isa, "user", state)


def _component_value(state: State, component: ir.StateComponent) -> int | tuple[int, ...]:
    if component.count is None:
        return state.scalars[component.name]
    return tuple(state.files[component.name])


def _with_components(
    state: State,
    values: Mapping[str, int | tuple[int, ...]],
    components: tuple[ir.StateComponent, ...],
) -> State:
    scalars = dict(state.scalars)
    files = dict(state.files)
    for c in components:
        if c.name not in values:
            continue
        value = values[c.name]
        if c.count is None:
            assert isinstance(value, int)
            scalars[c.name] = value
        else:
            assert isinstance(value, tuple)
            files[c.name] = value
    return State(scalars, files, state.memories)


def control_values(isa: ir.Isa, state: State) -> dict[str, int | tuple[int, ...]]:
    """The values of the components a VMM's allocator owns, read from ``state``."""
    return {c.name: _component_value(state, c) for c in _owned(isa)}


def build_vmm(
    kind: str, isa: ir.Isa, real_control: Mapping[str, int | tuple[int, ...]], depth: int = 1
) -> Machine:
    """``trap-emulate``, ``hybrid`` or ``nested`` (trap-and-emulate ``depth`` deep) on a bare
    machine of ``isa``; ``none`` is the bare machine."""
    machine: Machine = BareMachine(isa)
    if kind == "none":
        return machine
    if kind == "hybrid":
        return HybridVMM(machine, real_control)
    levels = depth if kind == "nested" else 1
    for _ in range(levels):
        machine = TrapAndEmulateVMM(machine, real_control)
    return machine


# ---------------------------------------------------------------- running programs


@dataclass(frozen=True)
class Run:
    """How a program ended on one machine."""

    final: State
    steps: int
    halted: str
    trace: tuple[str, ...]


def initial_state(isa: ir.Isa, program: Program) -> State:
    """The program's initial values over an all-zero state, with the PC at its entry."""
    values: dict[str, int] = dict(program.init)
    if isa.pc is not None and isa.pc not in values:
        values[isa.pc] = program.entry
    return interp.make_state(isa, values)


def run_program(
    machine: Machine, program: Program, state: State, budget: int = 10_000, keep_trace: bool = False
) -> Run:
    """Fetch and run instructions until ``halt``, the PC leaves the program, or ``budget``
    steps; traps enter the guest's handlers (on a VMM: reflected into the guest)."""
    isa = machine.isa
    steps = 0
    trace: list[str] = []
    index = 0
    while steps < budget:
        line = _fetch(isa, program, state, index)
        if line is None:
            return Run(state, steps, "the PC left the program", tuple(trace))
        if line.instruction is None:
            return Run(state, steps, "halt", tuple(trace))
        result = machine.step(state, line.instruction, dict(line.operands))
        steps += 1
        index += 1
        if keep_trace:
            taken = f" -> trap {result.trap.kind.value}" if result.trap else ""
            trace.append(f"{line.address:#x}: {line.text}{taken}")
        trap = result.trap
        state = machine.take_trap(state, trap) if trap is not None else result.state()
    return Run(state, steps, f"step budget of {budget} reached", tuple(trace))


def _fetch(isa: ir.Isa, program: Program, state: State, index: int) -> ProgramLine | None:
    if program.by_address and isa.pc is not None:
        return program.at(state.scalars[isa.pc])
    return program.lines[index] if index < len(program.lines) else None


# ---------------------------------------------------------------- equivalence


def differences(isa: ir.Isa, bare: State, virtual: State) -> list[str]:
    """Where two states differ, timing components excepted (P&G's equivalence)."""
    out = []
    for c in isa.state:
        if c.kind is ir.Kind.TIMING:
            continue
        a, b = _component_value(bare, c), _component_value(virtual, c)
        if a == b:
            continue
        if c.count is None:
            assert isinstance(a, int) and isinstance(b, int)
            out.append(f"{c.name}: {a:#x} vs {b:#x}")
        else:
            assert isinstance(a, tuple) and isinstance(b, tuple)
            out += [
                f"{c.name}[{i}]: {x:#x} vs {y:#x}"
                for i, (x, y) in enumerate(zip(a, b, strict=True))
                if x != y
            ]
    for memory in isa.memories:
        cells_a = dict(bare.memories[memory.name].items())
        cells_b = dict(virtual.memories[memory.name].items())
        for address in sorted(set(cells_a) | set(cells_b)):
            x, y = cells_a.get(address, 0), cells_b.get(address, 0)
            if x != y:
                out.append(f"{memory.name}[{address:#x}]: {x:#x} vs {y:#x}")
    return out

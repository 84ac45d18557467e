"""Generic virtual machine monitors over any spec (MODEL.md section 6), and program runs.

Anything with the machine interface (:class:`Machine`: ``step`` one instruction without
entering a handler, ``take_trap`` to enter one) can run programs. The bare machine is the
spec's interpreter. A VMM offers the same interface to its guest and runs on a host machine,
so a VMM on a VMM is just composition (nested virtualization).

The VMMs follow the construction in Popek and Goldberg's proof of Theorem 1:

- the *allocator* owns the real control state: a guest runs with the guest's visible state,
  the guest's relocation and mapping (the VMM's own allocation is the identity: the model has
  no memory of the VMM's to protect) and the guest's virtual control state, except the parts
  the VMM sets itself (its :class:`Allocation`). By default those are the parts ``vm_context``
  reads (the mode, the authority bits), so the real state satisfies ``vm_context`` and the
  rest of the guest's control state (storage keys, protection bits) keeps acting on its
  accesses, as P&G's allocator composes the guest's relocation-bounds register with its own.
  A VMM that holds more of the control state itself (its own descriptor tables, say) is an
  allocation with more fields;
- the *dispatcher* is entered on every trap of direct execution;
- the *interpreter routines* run the trapped instruction's spec semantics on the guest's
  virtual state, reflecting a trap into the guest when the bare machine would have trapped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias

from analyzer import interp, ir
from analyzer.interp import Registers, State, StepResult, TrapTaken
from analyzer.programs import Program, ProgramLine

ComponentValue: TypeAlias = int | Registers
"""A scalar's value, or a register file's registers."""
Control: TypeAlias = Mapping[str, interp.Value]
"""Values of mode and control components by name, as :func:`interp.make_state` takes them
(a register file as its registers, or as its non-zero registers by index)."""


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
    """The components the allocator owns: mode and control state, except relocation and
    mapping, which it composes with an identity allocation."""
    return tuple(c for c in isa.of_kind(ir.Kind.MODE, ir.Kind.CONTROL) if not c.mapping)


def context_fields(isa: ir.Isa) -> dict[str, int | None]:
    """What ``vm_context`` reads of the owned components: for a scalar the mask of the bits
    it reads, for a register file None (the file is read whole, whatever the index).
    Functions it calls count as read entirely."""
    owned = {c.name for c in _owned(isa)}
    masks: dict[str, int | None] = {}
    body = isa.predicate("vm_context")
    for name, bits in _reads(isa, body, _ones(body.width), frozenset()):
        if name not in owned:
            continue
        if bits is None or masks.get(name, 0) is None:
            masks[name] = None
        else:
            masks[name] = (masks.get(name) or 0) | bits
    return masks


def _ones(width: int) -> int:
    return (1 << width) - 1


def _reads(
    isa: ir.Isa, expr: ir.Expr, bits: int, calling: frozenset[str]
) -> Iterator[tuple[str, int | None]]:
    """(component, bits read) for every state read in ``expr``, of whose value ``bits`` are
    used (a register file read gives None)."""
    match expr:
        case ir.StateRead(name=name, width=width):
            yield name, bits & _ones(width)
        case ir.Extract(operand=operand, lo=lo):
            yield from _reads(isa, operand, (bits << lo) & _ones(operand.width), calling)
        case ir.Extend(operand=operand):
            yield from _reads(isa, operand, bits & _ones(operand.width), calling)
        case ir.FileRead(name=name, index=index):
            yield name, None
            yield from _reads(isa, index, _ones(index.width), calling)
        case ir.Call(function=function, args=args):
            for arg in args:
                yield from _reads(isa, arg, _ones(arg.width), calling)
            if function not in calling:
                body = isa.function(function).body
                yield from _reads(isa, body, _ones(body.width), calling | {function})
        case _:
            for child in _children(expr):
                yield from _reads(isa, child, _ones(child.width), calling)


def _children(expr: ir.Expr) -> tuple[ir.Expr, ...]:
    match expr:
        case ir.MemRead(address=e) | ir.Unary(operand=e):
            return (e,)
        case ir.Binary(left=a, right=b) | ir.Compare(left=a, right=b):
            return (a, b)
        case ir.Ite(cond=c, then=a, other=b):
            return (c, a, b)
        case ir.Concat(parts=parts):
            return parts
    return ()


@dataclass(frozen=True)
class Allocation:
    """The real control values a VMM sets for direct execution: ``values`` of mode and
    control components, of which the VMM sets the ``fields`` (a scalar's mask of bits, or
    None for the whole component); every other bit is the guest's own virtual value. The
    generic VMM sets owned components only; an allocation that sets a relocation or mapping
    component too describes a VMM that keeps its own (its own descriptor tables, say) over
    the same memory."""

    values: Mapping[str, ComponentValue]
    fields: Mapping[str, int | None]

    @classmethod
    def context(cls, isa: ir.Isa, values: Control) -> Allocation:
        """The VMM sets what ``vm_context`` reads, from ``values``; the guest keeps the rest."""
        fields = context_fields(isa)
        owned = control_values(isa, interp.make_state(isa, values))
        return cls({name: owned[name] for name in fields}, fields)

    @classmethod
    def whole(cls, isa: ir.Isa, values: Control) -> Allocation:
        """The VMM sets every owned component to its value in ``values`` (zero if absent)."""
        owned = control_values(isa, interp.make_state(isa, values))
        return cls(owned, dict.fromkeys(owned))

    def apply(self, state: State) -> State:
        """``state`` with the allocated fields set."""
        scalars = dict(state.scalars)
        files = dict(state.files)
        for name, mask in self.fields.items():
            value = self.values[name]
            if isinstance(value, int):
                scalars[name] = value if mask is None else (scalars[name] & ~mask) | (value & mask)
            else:
                files[name] = value
        return State(scalars, files, state.memories)


class TrapAndEmulateVMM:
    """Runs the guest directly in ``vm_context``; emulates whatever traps (Theorem 1)."""

    kind = "trap-and-emulate"

    def __init__(self, host: Machine, allocation: Allocation) -> None:
        self.isa = host.isa
        self.host = host
        self.allocation = allocation
        # What the guest keeps virtual: the owned components, and any relocation or mapping
        # component the allocation sets too.
        owned = {c.name for c in _owned(self.isa)}
        self.owned = tuple(
            c for c in self.isa.state if c.name in owned or c.name in allocation.fields
        )
        self.counters = Counters()

    @property
    def name(self) -> str:
        return f"{self.kind} on {getattr(self.host, 'name', 'a host')}"

    # -- allocator
    def realize(self, virtual: State) -> State:
        """The real state in which the guest runs directly."""
        return self.allocation.apply(virtual)

    def absorb(self, virtual: State, real: State) -> State:
        """The guest's new virtual state after a direct run: the real visible state, timing
        and mapping, with the guest's own virtual control state kept (and its own value of
        whatever else the allocation sets)."""
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
            c.name
            for c in self.owned
            if not _same(_component_value(post, c), _component_value(real, c))
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


def _component_value(state: State, component: ir.StateComponent) -> ComponentValue:
    if component.count is None:
        return state.scalars[component.name]
    return state.files[component.name]


def _same(a: ComponentValue, b: ComponentValue) -> bool:
    # Files of tens of thousands of registers are shared between states until written.
    return a is b or a == b


def _with_components(
    state: State,
    values: Mapping[str, ComponentValue],
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
            assert not isinstance(value, int)
            files[c.name] = value
    return State(scalars, files, state.memories)


def control_values(isa: ir.Isa, state: State) -> dict[str, ComponentValue]:
    """The values of the components a VMM's allocator owns, read from ``state``."""
    return {c.name: _component_value(state, c) for c in _owned(isa)}


VMM_KINDS = ("trap-emulate", "nested:2", "hybrid")
"""The VMMs a campaign runs, one per theorem: 1, 2 (two levels deep) and 3."""


def build_vmm(
    kind: str, isa: ir.Isa, real_control: Control | Allocation, depth: int = 1
) -> Machine:
    """``trap-emulate``, ``hybrid`` or ``nested`` (trap-and-emulate ``depth`` deep) on a bare
    machine of ``isa``; ``none`` is the bare machine. Control values (not an
    :class:`Allocation`) give the default allocation: the VMM sets what ``vm_context``
    reads."""
    machine: Machine = BareMachine(isa)
    if kind == "none":
        return machine
    allocation = (
        real_control
        if isinstance(real_control, Allocation)
        else Allocation.context(isa, real_control)
    )
    if kind == "hybrid":
        return HybridVMM(machine, allocation)
    levels = depth if kind == "nested" else 1
    for _ in range(levels):
        machine = TrapAndEmulateVMM(machine, allocation)
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
        if _same(a, b):
            continue
        if isinstance(a, int) and isinstance(b, int):
            out.append(f"{c.name}: {a:#x} vs {b:#x}")
        else:
            assert not isinstance(a, int) and not isinstance(b, int)
            out += [f"{c.name}[{i}]: {x:#x} vs {y:#x}" for i, x, y in registers_differ(a, b)]
    for memory in isa.memories:
        if bare.memories[memory.name] is virtual.memories[memory.name]:
            continue
        cells_a = dict(bare.memories[memory.name].items())
        cells_b = dict(virtual.memories[memory.name].items())
        for address in sorted(set(cells_a) | set(cells_b)):
            x, y = cells_a.get(address, 0), cells_b.get(address, 0)
            if x != y:
                out.append(f"{memory.name}[{address:#x}]: {x:#x} vs {y:#x}")
    return out


def registers_differ(a: Registers, b: Registers) -> list[tuple[int, int, int]]:
    """(index, a's value, b's value) for each register that differs, in index order."""
    if isinstance(a, tuple) and isinstance(b, tuple):
        return [(i, x, y) for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    cells_a = dict(a.items()) if isinstance(a, interp.MemoryImage) else dict(enumerate(a))
    cells_b = dict(b.items()) if isinstance(b, interp.MemoryImage) else dict(enumerate(b))
    return [
        (i, cells_a.get(i, 0), cells_b.get(i, 0))
        for i in sorted(set(cells_a) | set(cells_b))
        if cells_a.get(i, 0) != cells_b.get(i, 0)
    ]

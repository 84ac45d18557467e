"""IR to z3 terms: symbolic states, one instruction's traps and post-state, and state views.

Every IR node has a case here; an unhandled one raises, never skips. Expressions are evaluated
in the pre-state (assignments are parallel); each also yields the condition under which one of
its memory reads faults, so memory traps come out of the same walk as values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import z3

from analyzer import ir

Term = Any  # a z3 BitVecRef or BoolRef; z3 has no usable static types


@dataclass
class SymState:
    """A machine state as z3 terms: scalars, register files and memories (as arrays)."""

    isa: ir.Isa
    tag: str
    values: dict[str, Term]

    def __getitem__(self, name: str) -> Term:
        return self.values[name]


def fresh_state(isa: ir.Isa, tag: str) -> SymState:
    """A state whose every component is a fresh z3 constant named ``tag.component``."""
    values: dict[str, Term] = {}
    for component in isa.state:
        name = f"{tag}.{component.name}"
        if component.count is None:
            values[component.name] = z3.BitVec(name, component.width)
        else:
            values[component.name] = z3.Array(
                name, z3.BitVecSort(component.index_width), z3.BitVecSort(component.width)
            )
    for memory in isa.memories:
        values[memory.name] = z3.Array(
            f"{tag}.{memory.name}",
            z3.BitVecSort(memory.address_width),
            z3.BitVecSort(memory.cell_width),
        )
    return SymState(isa, tag, values)


def fresh_operands(instruction: ir.Instruction, tag: str) -> dict[str, Term]:
    """One fresh bit-vector per operand field of ``instruction``."""
    return {p.name: z3.BitVec(f"{tag}.{p.name}", p.width) for p in instruction.operands}


@dataclass(frozen=True)
class TrapTerm:
    """A trap the instruction may take, in text order; ``when`` includes its path."""

    kind: ir.TrapKind
    when: Term
    vector: Term | None


@dataclass(frozen=True)
class Access:
    """A register or memory cell an execution touches, for showing witnesses."""

    array: str
    index: Term
    physical: bool = False


@dataclass
class Execution:
    """One instruction run symbolically from ``pre`` with ``operands``."""

    instruction: ir.Instruction
    pre: SymState
    operands: dict[str, Term]
    traps: list[TrapTerm]
    post: SymState
    accesses: list[Access]

    def trapped(self) -> Term:
        """The instruction traps (any kind)."""
        return z3.Or([t.when for t in self.traps]) if self.traps else z3.BoolVal(False)

    def trapped_with(self, kind: ir.TrapKind) -> Term:
        """The trap taken, the first whose condition holds, is of ``kind``."""
        taken = []
        earlier: list[Term] = []
        for trap in self.traps:
            if trap.kind is kind:
                taken.append(z3.And(trap.when, *[z3.Not(e) for e in earlier]))
            earlier.append(trap.when)
        return z3.Or(taken) if taken else z3.BoolVal(False)


@dataclass
class _Frame:
    """What executing a body accumulates: traps in order, writes, accesses."""

    traps: list[TrapTerm] = field(default_factory=list)
    scalars: dict[str, list[tuple[Term, Term]]] = field(default_factory=dict)
    arrays: dict[str, list[tuple[Term, Term, Term]]] = field(default_factory=dict)
    accesses: list[Access] = field(default_factory=list)


class Encoder:
    """Turns an ISA's IR into z3 terms. ``abstract`` leaves opaque functions uninterpreted."""

    def __init__(self, isa: ir.Isa, *, abstract: bool = True) -> None:
        self.isa = isa
        self.abstract = abstract
        self._uninterpreted: dict[str, z3.FuncDeclRef] = {}
        self._handlers = {h.kind: h for h in isa.handlers}

    # -- predicates and state relations
    def predicate(self, name: str, state: SymState) -> Term:
        """The named predicate (supervisor, user, vm_context, ...) of ``state``."""
        return self.condition(self.isa.predicate(name), state)

    def invariants(self, state: SymState) -> Term:
        """All the spec's invariants hold in ``state``."""
        return z3.And([self.condition(e, state) for e in self.isa.invariants])

    def condition(
        self, expr: ir.Expr, state: SymState, env: Mapping[str, Term] | None = None
    ) -> Term:
        """A boolean IR expression over ``state`` (memory faults ignored)."""
        term, _ = self._expr(expr, _Env(state, {}, dict(env or {}), None))
        return term

    def view(self, state: SymState, memory: ir.Memory) -> Term:
        """Memory as the program addresses it. Through a translation, each cell of the view is
        a valid bit above the cell's value (zero where the address faults), so two equal views
        also agree on which addresses exist."""
        array = state[memory.name]
        if memory.translation is None:
            return array
        address = z3.BitVec(f"{state.tag}.{memory.name}.va", memory.address_width)
        fault, physical = self.translate(state, memory, address)
        return z3.Lambda(
            [address],
            z3.If(
                fault,
                z3.BitVecVal(0, memory.cell_width + 1),
                z3.Concat(z3.BitVecVal(1, 1), z3.Select(array, physical)),
            ),
        )

    def memories_equal(self, a: SymState, b: SymState) -> Term:
        """``a`` and ``b`` have the same physical memory, hidden parts included."""
        return z3.And([a[m.name] == b[m.name] for m in self.isa.memories])

    def translate(
        self, state: SymState, memory: ir.Memory, address: Term
    ) -> tuple[Term, Term | None]:
        """(faults, physical address) of program address ``address`` in ``state``."""
        translation = memory.translation
        if translation is None:
            return z3.BoolVal(False), address
        env = _Env(state, {}, {translation.param: address}, None)
        faults = [self._expr(f, env)[0] for f in translation.faults]
        physical, _ = self._expr(translation.to, env)
        return (z3.Or(faults) if faults else z3.BoolVal(False)), physical

    def equal(self, a: SymState, b: SymState, components: Iterable[ir.StateComponent]) -> Term:
        """``a`` and ``b`` agree on ``components`` (register files as whole arrays)."""
        return z3.And([a[c.name] == b[c.name] for c in components])

    def visible_equal(self, a: SymState, b: SymState) -> Term:
        """``a`` and ``b`` have the same visible state: visible registers and memory views."""
        parts = [self.equal(a, b, self.isa.of_kind(ir.Kind.VISIBLE))]
        parts += [self.view(a, m) == self.view(b, m) for m in self.isa.memories]
        return z3.And(parts)

    def visible_differ(self, a: SymState, b: SymState, tag: str) -> tuple[Term, list[Access]]:
        """``a`` and ``b`` differ in some visible register or memory cell; arrays are compared
        at a fresh index each, returned as accesses so a witness can show the cell."""
        parts: list[Term] = []
        probes: list[Access] = []
        for component in self.isa.of_kind(ir.Kind.VISIBLE):
            if component.count is None:
                parts.append(a[component.name] != b[component.name])
            else:
                index = z3.BitVec(f"{tag}.{component.name}.k", component.index_width)
                parts.append(
                    z3.Select(a[component.name], index) != z3.Select(b[component.name], index)
                )
                probes.append(Access(component.name, index))
        for memory in self.isa.memories:
            index = z3.BitVec(f"{tag}.{memory.name}.k", memory.address_width)
            parts.append(
                z3.Select(self.view(a, memory), index) != z3.Select(self.view(b, memory), index)
            )
            probes.append(Access(memory.name, index))
        return z3.Or(parts), probes

    # -- execution
    def execute(
        self, instruction: ir.Instruction, pre: SymState, operands: Mapping[str, Term], tag: str
    ) -> Execution:
        """Run ``instruction`` symbolically: its traps in order and its post-state."""
        frame = _Frame()
        env = _Env(pre, dict(operands), {}, frame)
        self._body(instruction.body, z3.BoolVal(True), env)
        post = self._apply(pre, frame, tag)
        return Execution(instruction, pre, dict(operands), frame.traps, post, frame.accesses)

    def where(
        self, instruction: ir.Instruction, operands: Mapping[str, Term], state: SymState
    ) -> Term:
        """The operand constraints of ``instruction`` (its encodings that exist)."""
        env = _Env(state, dict(operands), {}, None)
        return z3.And([self._expr(w, env)[0] for w in instruction.where])

    def _apply(self, pre: SymState, frame: _Frame, tag: str) -> SymState:
        values = dict(pre.values)
        for name, writes in frame.scalars.items():
            value = pre[name]
            for path, new in reversed(writes):
                value = z3.If(path, new, value)
            values[name] = value
        for name, stores in frame.arrays.items():
            array = pre[name]
            for path, index, new in stores:
                # A store under a condition keeps the old cell otherwise: one Store term, not
                # an if-then-else of arrays, which z3 decides far more slowly.
                value = new if z3.is_true(path) else z3.If(path, new, z3.Select(array, index))
                array = z3.Store(array, index, value)
            values[name] = array
        return SymState(pre.isa, tag, values)

    def _body(self, body: tuple[ir.Stmt, ...], path: Term, env: _Env) -> None:
        for stmt in body:
            self._stmt(stmt, path, env)

    def _stmt(self, stmt: ir.Stmt, path: Term, env: _Env) -> None:
        frame = env.frame
        assert frame is not None
        match stmt:
            case ir.Trap(kind=kind, vector=vector, when=when):
                cond, fault = (z3.BoolVal(True), None) if when is None else self._expr(when, env)
                self._fault(path, fault, env)
                vec = None if vector is None else self._expr(vector, env)[0]
                frame.traps.append(TrapTerm(kind, z3.And(path, cond), vec))
            case ir.Let(name=name, value=value):
                term, fault = self._expr(value, env)
                self._fault(path, fault, env)
                env.locals[name] = term
            case ir.If(cond=cond, then=then, other=other):
                term, fault = self._expr(cond, env)
                self._fault(path, fault, env)
                self._body(then, z3.And(path, term), env.child())
                self._body(other, z3.And(path, z3.Not(term)), env.child())
            case ir.Assign(target=target, value=value):
                self._assign(target, value, path, env)
            case ir.Unmodelled():
                # Unmodelled is not untrapped: the analysis refuses such instructions
                # before encoding them, so reaching here is a programming error.
                raise ValueError("cannot encode an unmodelled instruction")
            case _:
                raise AssertionError(f"unhandled statement {stmt!r}")

    def _fault(self, path: Term, fault: Term | None, env: _Env) -> None:
        if fault is None:
            return
        assert env.frame is not None
        env.frame.traps.append(TrapTerm(ir.TrapKind.MEMORY, z3.And(path, fault), None))

    def _assign(self, target: ir.Target, value: ir.Expr, path: Term, env: _Env) -> None:
        frame = env.frame
        assert frame is not None
        term, fault = self._expr(value, env)
        match target:
            case ir.StateTarget(name=name):
                self._fault(path, fault, env)
                frame.scalars.setdefault(name, []).append((path, term))
            case ir.FileTarget(name=name, index=index):
                idx, idx_fault = self._expr(index, env)
                self._fault(path, _any_fault([fault, idx_fault]), env)
                frame.arrays.setdefault(name, []).append((path, idx, term))
                frame.accesses.append(Access(name, idx))
            case ir.MemTarget(memory=name, address=address, cells=cells, physical=physical):
                addr, addr_fault = self._expr(address, env)
                memory = self.isa.memory(name)
                faults: list[Term | None] = [fault, addr_fault]
                stores = []
                for offset, cell in enumerate(_cells_of(term, memory, cells)):
                    cell_address = addr + offset if offset else addr
                    if physical:
                        phys = cell_address
                    else:
                        cell_fault, phys = self.translate(env.state, memory, cell_address)
                        if memory.translation is not None:
                            faults.append(cell_fault)
                    stores.append((path, phys, cell))
                    frame.accesses.append(Access(name, cell_address, physical))
                self._fault(path, _any_fault(faults), env)
                frame.arrays.setdefault(name, []).extend(stores)
            case _:
                raise AssertionError(f"unhandled target {target!r}")

    # -- expressions
    def _expr(self, expr: ir.Expr, env: _Env) -> tuple[Term, Term | None]:
        """(value, memory-fault condition) of ``expr`` in the pre-state."""
        handler = _EXPR_CASES.get(type(expr))
        if handler is None:
            raise AssertionError(f"unhandled expression {expr!r}")
        return handler(self, expr, env)

    def _const(self, expr: ir.Const, env: _Env) -> tuple[Term, Term | None]:
        return z3.BitVecVal(expr.value, expr.width), None

    def _boolconst(self, expr: ir.BoolConst, env: _Env) -> tuple[Term, Term | None]:
        return z3.BoolVal(expr.value), None

    def _state_read(self, expr: ir.StateRead, env: _Env) -> tuple[Term, Term | None]:
        return env.state[expr.name], None

    def _file_read(self, expr: ir.FileRead, env: _Env) -> tuple[Term, Term | None]:
        index, fault = self._expr(expr.index, env)
        if env.frame is not None:
            env.frame.accesses.append(Access(expr.name, index))
        return z3.Select(env.state[expr.name], index), fault

    def _mem_read(self, expr: ir.MemRead, env: _Env) -> tuple[Term, Term | None]:
        address, fault = self._expr(expr.address, env)
        memory = self.isa.memory(expr.memory)
        faults: list[Term | None] = [fault]
        cells = []
        for offset in range(expr.cells):
            cell_address = address + offset if offset else address
            if expr.physical:
                phys = cell_address
            else:
                cell_fault, phys = self.translate(env.state, memory, cell_address)
                if memory.translation is not None:
                    faults.append(cell_fault)
            cells.append(z3.Select(env.state[memory.name], phys))
            if env.frame is not None:
                env.frame.accesses.append(Access(memory.name, cell_address, expr.physical))
        if memory.endian == "little":
            cells.reverse()
        value = cells[0] if len(cells) == 1 else z3.Concat(*cells)
        return value, _any_fault(faults)

    def _operand(self, expr: ir.OperandRef, env: _Env) -> tuple[Term, Term | None]:
        return env.operands[expr.name], None

    def _local(self, expr: ir.LocalRef, env: _Env) -> tuple[Term, Term | None]:
        return env.locals[expr.name], None

    def _unary(self, expr: ir.Unary, env: _Env) -> tuple[Term, Term | None]:
        value, fault = self._expr(expr.operand, env)
        if expr.op == "not":
            return z3.Not(value), fault
        if expr.op == "-":
            return -value, fault
        if expr.op == "~":
            return ~value, fault
        raise AssertionError(f"unhandled unary operator {expr.op}")

    def _binary(self, expr: ir.Binary, env: _Env) -> tuple[Term, Term | None]:
        left, lf = self._expr(expr.left, env)
        right, rf = self._expr(expr.right, env)
        return _BINARY[expr.op](left, right), _any_fault([lf, rf])

    def _compare(self, expr: ir.Compare, env: _Env) -> tuple[Term, Term | None]:
        left, lf = self._expr(expr.left, env)
        right, rf = self._expr(expr.right, env)
        return _COMPARE[expr.op](left, right), _any_fault([lf, rf])

    def _ite(self, expr: ir.Ite, env: _Env) -> tuple[Term, Term | None]:
        cond, cf = self._expr(expr.cond, env)
        then, tf = self._expr(expr.then, env)
        other, of = self._expr(expr.other, env)
        branches = None
        if tf is not None or of is not None:
            no = z3.BoolVal(False)
            branches = z3.If(cond, no if tf is None else tf, no if of is None else of)
        return z3.If(cond, then, other), _any_fault([cf, branches])

    def _extract(self, expr: ir.Extract, env: _Env) -> tuple[Term, Term | None]:
        value, fault = self._expr(expr.operand, env)
        return z3.Extract(expr.hi, expr.lo, value), fault

    def _concat(self, expr: ir.Concat, env: _Env) -> tuple[Term, Term | None]:
        parts = [self._expr(p, env) for p in expr.parts]
        return z3.Concat(*[v for v, _ in parts]), _any_fault([f for _, f in parts])

    def _extend(self, expr: ir.Extend, env: _Env) -> tuple[Term, Term | None]:
        value, fault = self._expr(expr.operand, env)
        extra = expr.width - expr.operand.width
        return (z3.SignExt(extra, value) if expr.signed else z3.ZeroExt(extra, value)), fault

    def _call(self, expr: ir.Call, env: _Env) -> tuple[Term, Term | None]:
        function = self.isa.function(expr.function)
        args = [self._expr(a, env) for a in expr.args]
        fault = _any_fault([f for _, f in args])
        values = [v for v, _ in args]
        if function.opaque and self.abstract:
            return self._uninterpreted_call(function, values), fault
        inner = _Env(
            env.state,
            {},
            {p.name: v for p, v in zip(function.params, values, strict=True)},
            env.frame,
        )
        value, body_fault = self._expr(function.body, inner)
        return value, _any_fault([fault, body_fault])

    def _uninterpreted_call(self, function: ir.Function, values: list[Term]) -> Term:
        decl = self._uninterpreted.get(function.name)
        if decl is None:
            sorts = [z3.BitVecSort(p.width) for p in function.params]
            result = z3.BoolSort() if function.width == ir.BOOL else z3.BitVecSort(function.width)
            decl = z3.Function(f"fn.{function.name}", *sorts, result)
            self._uninterpreted[function.name] = decl
        return decl(*values) if values else decl()


@dataclass
class _Env:
    state: SymState
    operands: dict[str, Term]
    locals: dict[str, Term]
    frame: _Frame | None

    def child(self) -> _Env:
        return _Env(self.state, self.operands, dict(self.locals), self.frame)


def _any_fault(faults: list[Term | None]) -> Term | None:
    """Any of ``faults``; None stands for "cannot fault", to spare the solver the term."""
    real = [f for f in faults if f is not None]
    if not real:
        return None
    return real[0] if len(real) == 1 else z3.Or(real)


def _cells_of(value: Term, memory: ir.Memory, cells: int) -> list[Term]:
    """Split ``value`` into memory cells in address order, by the memory's byte order."""
    width = memory.cell_width
    parts = [z3.Extract((i + 1) * width - 1, i * width, value) for i in range(cells)]
    if cells == 1:
        return [value]
    return parts if memory.endian == "little" else list(reversed(parts))


_BINARY: dict[str, Callable[[Term, Term], Term]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b,
    ">>": z3.LShR,
    ">>>": lambda a, b: a >> b,
    "udiv": z3.UDiv,
    "urem": z3.URem,
    "sdiv": lambda a, b: a / b,
    "srem": z3.SRem,
    "rotl": z3.RotateLeft,
    "rotr": z3.RotateRight,
    "and": z3.And,
    "or": z3.Or,
}

_COMPARE: dict[str, Callable[[Term, Term], Term]] = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": z3.ULT,
    "<=": z3.ULE,
    ">": z3.UGT,
    ">=": z3.UGE,
    "slt": lambda a, b: a < b,
    "sle": lambda a, b: a <= b,
    "sgt": lambda a, b: a > b,
    "sge": lambda a, b: a >= b,
}

_EXPR_CASES: dict[type, Callable[[Encoder, Any, _Env], tuple[Term, Term]]] = {
    ir.Const: Encoder._const,
    ir.BoolConst: Encoder._boolconst,
    ir.StateRead: Encoder._state_read,
    ir.FileRead: Encoder._file_read,
    ir.MemRead: Encoder._mem_read,
    ir.OperandRef: Encoder._operand,
    ir.LocalRef: Encoder._local,
    ir.Unary: Encoder._unary,
    ir.Binary: Encoder._binary,
    ir.Compare: Encoder._compare,
    ir.Ite: Encoder._ite,
    ir.Extract: Encoder._extract,
    ir.Concat: Encoder._concat,
    ir.Extend: Encoder._extend,
    ir.Call: Encoder._call,
}

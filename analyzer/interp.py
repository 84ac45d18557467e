"""The concrete interpreter: the IR as a step function on concrete machine states.

One description, two backends (MODEL.md section 6): this module gives every IR node the meaning
:mod:`analyzer.smt.encode` gives it, on Python integers instead of z3 terms:

- every value is an unsigned integer below ``2**width`` (a condition is a ``bool``); arithmetic
  wraps; comparisons are unsigned unless signed (``slt`` ...); shifts by the width or more give
  0 (or the sign for ``>>>``); division by zero follows SMT-LIB (``udiv x 0`` is all ones,
  ``urem x 0`` is ``x``, ``sdiv``/``srem`` as SMT-LIB defines them); rotations go by the
  amount modulo the width;
- expressions read the pre-state only, so assignments are parallel; a scalar takes the first
  assignment on the executed path, register files and memories apply their writes in text
  order (later writes win);
- a translated access of n cells translates and checks every cell; a fault is a ``memory`` trap
  at the position of the statement whose expressions read or write the faulting cell (trap
  vectors excepted, as in the encoder), and the first trap in text order wins, leaving the
  state as it was;
- an ``opaque def`` runs its body.

Each instruction, function, predicate, translation and handler is compiled once into Python
closures (nothing derived from spec text is ever evaluated as code) and cached per ISA.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from analyzer import ir
from analyzer.errors import PgvError, suggest

__all__ = [
    "DENSE_FILE_LIMIT",
    "InterpError",
    "Interpreter",
    "MemoryImage",
    "Registers",
    "State",
    "StepResult",
    "TrapTaken",
    "UnmodelledError",
    "Value",
    "evaluate",
    "execute",
    "interpreter",
    "invariants_hold",
    "make_state",
    "operands_valid",
    "predicate",
    "step",
    "take_trap",
    "translate",
    "update",
    "view",
]


class InterpError(PgvError):
    """A request the interpreter cannot honour: an unknown name, a value out of range, operands
    that are not a valid encoding, a trap without a handler."""


class UnmodelledError(InterpError):
    """The instruction is an ``unmodelled`` placeholder: it has no concrete meaning."""


# ---------------------------------------------------------------- concrete states

_PAGE_BITS = 8

DENSE_FILE_LIMIT = 1 << 16
"""A register file of at most this many registers is a tuple; a larger one (x86's descriptor
tables, its I/O permission bitmap) is a sparse :class:`MemoryImage`."""


class MemoryImage:
    """Sparse, immutable cells: a memory, or a register file too large for a tuple (an absent
    cell holds 0). Cells are kept in pages of 256, so a write copies only the page table and
    the pages it touches. Read a cell with ``image[address]``; iterate :meth:`items`."""

    __slots__ = ("_pages",)

    _pages: dict[int, dict[int, int]]

    def __init__(self, cells: Mapping[int, int] | Iterable[tuple[int, int]] = ()) -> None:
        pages: dict[int, dict[int, int]] = {}
        items = cells.items() if isinstance(cells, Mapping) else cells
        for address, value in items:
            if value:
                pages.setdefault(address >> _PAGE_BITS, {})[address] = value
            else:
                page = pages.get(address >> _PAGE_BITS)
                if page is not None:
                    page.pop(address, None)
        self._pages = {k: p for k, p in pages.items() if p}

    @classmethod
    def _of_pages(cls, pages: dict[int, dict[int, int]]) -> MemoryImage:
        image = cls.__new__(cls)
        image._pages = pages
        return image

    def __getitem__(self, address: int) -> int:
        """The cell at physical ``address`` (0 if never written)."""
        page = self._pages.get(address >> _PAGE_BITS)
        return 0 if page is None else page.get(address, 0)

    def updated(self, writes: Iterable[tuple[int, int]]) -> MemoryImage:
        """A new image with ``(address, value)`` writes applied in order (later ones win)."""
        pages = dict(self._pages)
        copied: set[int] = set()
        for address, value in writes:
            key = address >> _PAGE_BITS
            if key in copied:
                page = pages[key]
            else:
                old = pages.get(key)
                page = {} if old is None else dict(old)
                pages[key] = page
                copied.add(key)
            if value:
                page[address] = value
            else:
                page.pop(address, None)
        for key in copied:
            if not pages[key]:
                del pages[key]
        return MemoryImage._of_pages(pages)

    def __iter__(self) -> Iterator[int]:
        """Refused: a memory may have 2**64 cells. Iterate :meth:`items` instead."""
        raise TypeError("a MemoryImage is sparse: iterate its non-zero cells with .items()")

    def items(self) -> Iterator[tuple[int, int]]:
        """The non-zero cells as ``(address, value)``, in address order."""
        for key in sorted(self._pages):
            yield from sorted(self._pages[key].items())

    def __len__(self) -> int:
        """How many cells are non-zero."""
        return sum(len(p) for p in self._pages.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MemoryImage):
            return NotImplemented
        return self._pages == other._pages

    def __hash__(self) -> int:
        return hash(tuple(self.items()))

    def __repr__(self) -> str:
        shown = ", ".join(f"{a:#x}: {v:#x}" for a, v in self.items())
        return f"MemoryImage({{{shown}}})"


Registers: TypeAlias = tuple[int, ...] | MemoryImage
"""The registers of one file: a tuple, or sparse cells for a very large file."""


def _with_registers(registers: Registers, writes: Iterable[tuple[int, int]]) -> Registers:
    """``registers`` with ``(index, value)`` writes applied in order (later ones win)."""
    if isinstance(registers, MemoryImage):
        return registers.updated(writes)
    values = list(registers)
    for index, value in writes:
        values[index] = value
    return tuple(values)


_KEY = re.compile(r"^\s*([A-Za-z_.][\w.]*)\s*(?:\[\s*([^\]\s]+)\s*\])?\s*$")


def _parse_key(key: str) -> tuple[str, int | None]:
    match = _KEY.match(key)
    if match is None:
        raise InterpError(
            f"cannot read '{key}' as a component name: write 'A', 'D[3]' or 'E[0x10]'"
        )
    index = match.group(2)
    if index is None:
        return match.group(1), None
    try:
        return match.group(1), int(index, 0)
    except ValueError:
        raise InterpError(f"'{key}': the index '{index}' is not an integer") from None


@dataclass(frozen=True, slots=True)
class State:
    """A concrete machine state. ``scalars`` maps each scalar component to its value,
    ``files`` each register file to its registers (a tuple, or a sparse :class:`MemoryImage`
    beyond :data:`DENSE_FILE_LIMIT` registers), ``memories`` each memory to its physical
    cells. A value: never mutate it; :func:`update` and :func:`step` return new states."""

    scalars: Mapping[str, int]
    files: Mapping[str, Registers]
    memories: Mapping[str, MemoryImage]

    def __getitem__(self, key: str) -> int:
        """A scalar (``"A"``), a register (``"D[3]"``) or a physical memory cell
        (``"E[0x10]"``)."""
        name, index = _parse_key(key)
        if index is None:
            if name in self.scalars:
                return self.scalars[name]
            raise KeyError(key)
        if name in self.files:
            return self.files[name][index]
        if name in self.memories:
            return self.memories[name][index]
        raise KeyError(key)

    def register(self, name: str, index: int) -> int:
        """Register ``index`` of register file ``name``."""
        return self.files[name][index]

    def cell(self, memory: str, address: int) -> int:
        """The cell of ``memory`` at physical ``address``."""
        return self.memories[memory][address]


Value: TypeAlias = int | Sequence[int] | Mapping[int, int] | MemoryImage
"""What :func:`make_state` and :func:`update` accept for one key: an integer for a scalar,
register or cell; registers as a sequence, an index-to-value mapping (only the registers
given change) or, for a large file, a whole :class:`MemoryImage`; memory cells as an
address-to-value mapping (physical addresses; only those cells change) or a whole
:class:`MemoryImage`."""


@dataclass(frozen=True, slots=True)
class TrapTaken:
    """The trap an instruction took: its kind and its vector (None when the trap statement has
    no vector, and for memory faults)."""

    kind: ir.TrapKind
    vector: int | None


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one instruction did: the post-state, or the trap it took (then ``post`` is None
    and the state is unchanged; apply :func:`take_trap` to enter the handler)."""

    post: State | None
    trap: TrapTaken | None

    @property
    def trapped(self) -> bool:
        """The instruction trapped."""
        return self.trap is not None

    def state(self) -> State:
        """The post-state; raises :class:`InterpError` if the instruction trapped."""
        if self.post is None:
            raise InterpError(f"the instruction trapped ({self.trap}); it has no post-state")
        return self.post


# ---------------------------------------------------------------- compiled closures

_MEMORY_TRAP = TrapTaken(ir.TrapKind.MEMORY, None)


class _Ctx:
    """What a compiled closure reads and accumulates while running one body."""

    __slots__ = (
        "args",
        "fault",
        "file_writes",
        "files",
        "locals",
        "memories",
        "memory_writes",
        "operands",
        "scalar_writes",
        "scalars",
    )

    def __init__(
        self, state: State, operands: Mapping[str, int], local_values: dict[str, int]
    ) -> None:
        self.scalars = state.scalars
        self.files = state.files
        self.memories = state.memories
        self.operands = operands
        self.locals = local_values
        self.args: tuple[int, ...] = ()
        self.fault = False
        self.scalar_writes: dict[str, int] = {}
        self.file_writes: list[tuple[str, int, int]] = []
        self.memory_writes: list[tuple[str, int, int]] = []


Eval: TypeAlias = Callable[[_Ctx], int]
"""A compiled expression: its value in the context's pre-state; a faulting translated memory
access sets ``ctx.fault``."""
Exec: TypeAlias = Callable[[_Ctx], "TrapTaken | None"]
"""A compiled statement or body: records writes in the context, returns the trap it takes."""
Translate: TypeAlias = Callable[[_Ctx, int], int]
"""A compiled translation: the physical address of a program address; sets ``ctx.fault`` when
the address faults."""
FunctionBody: TypeAlias = Callable[[_Ctx, tuple[int, ...]], int]


def _signed(value: int, width: int) -> int:
    return value - (1 << width) if value >> (width - 1) else value


def _binary(op: str, left: Eval, right: Eval, width: int) -> Eval:
    """The closure for a bit-vector or boolean binary operator, as z3 defines it."""
    mask = (1 << width) - 1
    half = 1 << (width - 1) if width else 0
    full = 1 << width

    def add(ctx: _Ctx) -> int:
        return (left(ctx) + right(ctx)) & mask

    def sub(ctx: _Ctx) -> int:
        return (left(ctx) - right(ctx)) & mask

    def mul(ctx: _Ctx) -> int:
        return (left(ctx) * right(ctx)) & mask

    def band(ctx: _Ctx) -> int:
        return left(ctx) & right(ctx)

    def bor(ctx: _Ctx) -> int:
        return left(ctx) | right(ctx)

    def bxor(ctx: _Ctx) -> int:
        return left(ctx) ^ right(ctx)

    def shl(ctx: _Ctx) -> int:
        value, amount = left(ctx), right(ctx)
        return (value << amount) & mask if amount < width else 0

    def lshr(ctx: _Ctx) -> int:
        value, amount = left(ctx), right(ctx)
        return value >> amount if amount < width else 0

    def ashr(ctx: _Ctx) -> int:
        value, amount = left(ctx), right(ctx)
        return (_signed(value, width) >> min(amount, width - 1)) & mask

    def udiv(ctx: _Ctx) -> int:
        value, divisor = left(ctx), right(ctx)
        return value // divisor if divisor else mask

    def urem(ctx: _Ctx) -> int:
        value, divisor = left(ctx), right(ctx)
        return value % divisor if divisor else value

    def sdiv(ctx: _Ctx) -> int:
        value, divisor = left(ctx), right(ctx)
        if not divisor:
            return mask if value < half else 1
        a = value - full if value >= half else value
        b = divisor - full if divisor >= half else divisor
        quotient = abs(a) // abs(b)
        return (-quotient if (a < 0) != (b < 0) else quotient) & mask

    def srem(ctx: _Ctx) -> int:
        value, divisor = left(ctx), right(ctx)
        if not divisor:
            return value
        a = value - full if value >= half else value
        b = divisor - full if divisor >= half else divisor
        remainder = abs(a) % abs(b)
        return (-remainder if a < 0 else remainder) & mask

    def rotl(ctx: _Ctx) -> int:
        value, amount = left(ctx), right(ctx) % width
        return ((value << amount) | (value >> (width - amount))) & mask

    def rotr(ctx: _Ctx) -> int:
        value, amount = left(ctx), right(ctx) % width
        return ((value >> amount) | (value << (width - amount))) & mask

    def conj(ctx: _Ctx) -> int:
        # Both sides are evaluated: the encoder charges the memory faults of both.
        a, b = left(ctx), right(ctx)
        return bool(a and b)

    def disj(ctx: _Ctx) -> int:
        a, b = left(ctx), right(ctx)
        return bool(a or b)

    table: dict[str, Eval] = {
        "+": add,
        "-": sub,
        "*": mul,
        "&": band,
        "|": bor,
        "^": bxor,
        "<<": shl,
        ">>": lshr,
        ">>>": ashr,
        "udiv": udiv,
        "urem": urem,
        "sdiv": sdiv,
        "srem": srem,
        "rotl": rotl,
        "rotr": rotr,
        "and": conj,
        "or": disj,
    }
    if op not in table:
        raise AssertionError(f"unhandled binary operator {op}")
    return table[op]


def _compare(op: str, left: Eval, right: Eval, width: int) -> Eval:
    """The closure for a comparison: unsigned, or signed for ``slt sle sgt sge``."""
    if op == "==":
        return lambda ctx: left(ctx) == right(ctx)
    if op == "!=":
        return lambda ctx: left(ctx) != right(ctx)
    if op == "<":
        return lambda ctx: left(ctx) < right(ctx)
    if op == "<=":
        return lambda ctx: left(ctx) <= right(ctx)
    if op == ">":
        return lambda ctx: left(ctx) > right(ctx)
    if op == ">=":
        return lambda ctx: left(ctx) >= right(ctx)
    signed_ops: dict[str, Callable[[int, int], bool]] = {
        "slt": lambda a, b: a < b,
        "sle": lambda a, b: a <= b,
        "sgt": lambda a, b: a > b,
        "sge": lambda a, b: a >= b,
    }
    if op not in signed_ops:
        raise AssertionError(f"unhandled comparison {op}")
    test = signed_ops[op]
    return lambda ctx: test(_signed(left(ctx), width), _signed(right(ctx), width))


def _concat(parts: Sequence[tuple[Eval, int]]) -> Eval:
    """The closure for ``concat``: ``parts`` as (closure, width), most significant first."""
    if len(parts) == 2:
        (high, _), (low, low_width) = parts

        def concat2(ctx: _Ctx) -> int:
            return (high(ctx) << low_width) | low(ctx)

        return concat2
    shifts: list[tuple[Eval, int]] = []
    shift = 0
    for part, width in reversed(parts):
        shifts.append((part, shift))
        shift += width
    ordered = tuple(reversed(shifts))

    def concat(ctx: _Ctx) -> int:
        value = 0
        for part, at in ordered:
            value |= part(ctx) << at
        return value

    return concat


class _Compiler:
    """Turns one ISA's IR into closures; functions and translations are compiled once."""

    def __init__(self, isa: ir.Isa) -> None:
        self.isa = isa
        self.memories = {m.name: m for m in isa.memories}
        self.function_defs = {f.name: f for f in isa.functions}
        self.functions: dict[str, FunctionBody] = {}
        self.translations: dict[str, Translate | None] = {}
        self._params: dict[str, int] | None = None
        """While compiling a function body: its parameters' positions in ``ctx.args``."""

    # -- expressions
    def expr(self, expr: ir.Expr) -> Eval:
        """The closure computing ``expr``; every IR expression node has a case."""
        match expr:
            case ir.Const(value=value, width=width):
                constant = value & ((1 << width) - 1)
                return lambda ctx: constant
            case ir.BoolConst(value=value):
                truth = bool(value)
                return lambda ctx: truth
            case ir.StateRead(name=name):
                return lambda ctx: ctx.scalars[name]
            case ir.FileRead(name=name, index=index):
                return self._file_read(name, self.expr(index))
            case ir.MemRead():
                return self._mem_read(expr)
            case ir.OperandRef(name=name):
                return lambda ctx: ctx.operands[name]
            case ir.LocalRef(name=name):
                if self._params is not None:
                    position = self._params[name]
                    return lambda ctx: ctx.args[position]
                return lambda ctx: ctx.locals[name]
            case ir.Unary(op=op, operand=operand, width=width):
                return self._unary(op, self.expr(operand), width)
            case ir.Binary(op=op, left=left, right=right, width=width):
                return _binary(op, self.expr(left), self.expr(right), width)
            case ir.Compare(op=op, left=left, right=right):
                return _compare(op, self.expr(left), self.expr(right), left.width)
            case ir.Ite(cond=cond, then=then, other=other):
                return self._ite(self.expr(cond), self.expr(then), self.expr(other))
            case ir.Extract(operand=operand, lo=lo, width=width):
                return self._extract(self.expr(operand), lo, width)
            case ir.Concat(parts=parts):
                return _concat([(self.expr(p), p.width) for p in parts])
            case ir.Extend(signed=signed, operand=operand, width=width):
                return self._extend(signed, self.expr(operand), operand.width, width)
            case ir.Call(function=name, args=args):
                return self._call(name, tuple(self.expr(a) for a in args))
        raise AssertionError(f"unhandled expression {expr!r}")

    @staticmethod
    def _file_read(name: str, index: Eval) -> Eval:
        def read(ctx: _Ctx) -> int:
            return ctx.files[name][index(ctx)]

        return read

    @staticmethod
    def _unary(op: str, operand: Eval, width: int) -> Eval:
        mask = (1 << width) - 1
        if op == "not":
            return lambda ctx: not operand(ctx)
        if op == "-":
            return lambda ctx: -operand(ctx) & mask
        if op == "~":
            return lambda ctx: operand(ctx) ^ mask
        raise AssertionError(f"unhandled unary operator {op}")

    @staticmethod
    def _ite(cond: Eval, then: Eval, other: Eval) -> Eval:
        # Only the chosen branch runs: the encoder charges only its memory faults.
        def choose(ctx: _Ctx) -> int:
            return then(ctx) if cond(ctx) else other(ctx)

        return choose

    @staticmethod
    def _extract(operand: Eval, lo: int, width: int) -> Eval:
        mask = (1 << width) - 1
        if lo == 0:
            return lambda ctx: operand(ctx) & mask
        return lambda ctx: (operand(ctx) >> lo) & mask

    @staticmethod
    def _extend(signed: bool, operand: Eval, from_width: int, width: int) -> Eval:
        if not signed:
            return operand
        sign_bit = from_width - 1
        fill = ((1 << width) - 1) ^ ((1 << from_width) - 1)

        def sext(ctx: _Ctx) -> int:
            value = operand(ctx)
            return value | fill if value >> sign_bit else value

        return sext

    def _call(self, name: str, args: tuple[Eval, ...]) -> Eval:
        body = self.function(name)
        if not args:
            return lambda ctx: body(ctx, ())
        if len(args) == 1:
            (first,) = args
            return lambda ctx: body(ctx, (first(ctx),))
        if len(args) == 2:
            first, second = args
            return lambda ctx: body(ctx, (first(ctx), second(ctx)))
        if len(args) == 3:
            first, second, third = args
            return lambda ctx: body(ctx, (first(ctx), second(ctx), third(ctx)))
        return lambda ctx: body(ctx, tuple([a(ctx) for a in args]))

    def function(self, name: str) -> FunctionBody:
        """A function's body as a closure over its argument values (opaque ones included:
        their body is their concrete meaning). Parameters are read from ``ctx.args``."""
        compiled = self.functions.get(name)
        if compiled is not None:
            return compiled
        definition = self.function_defs[name]
        outer_params = self._params
        self._params = {p.name: i for i, p in enumerate(definition.params)}
        try:
            body = self.expr(definition.body)
        finally:
            self._params = outer_params

        def call(ctx: _Ctx, values: tuple[int, ...]) -> int:
            outer = ctx.args
            ctx.args = values
            result = body(ctx)
            ctx.args = outer
            return result

        self.functions[name] = call
        return call

    def translation(self, memory: ir.Memory) -> Translate | None:
        """The memory's translation as a closure, or None when addresses are physical."""
        if memory.name in self.translations:
            return self.translations[memory.name]
        spec = memory.translation
        if spec is None:
            self.translations[memory.name] = None
            return None
        if spec.to.width != memory.address_width:
            raise InterpError(
                f"{memory.span}: the translation of '{memory.name}' gives "
                f"bits({spec.to.width}) addresses, not "
                f"bits({memory.address_width})"
            )
        param = spec.param
        outer_params, self._params = self._params, None  # its address is a local
        try:
            faults = tuple(self.expr(f) for f in spec.faults)
            to = self.expr(spec.to)
        finally:
            self._params = outer_params

        def translate(ctx: _Ctx, address: int) -> int:
            # The translation's own expressions never fault (the encoder ignores their
            # faults); only its fault conditions do.
            outer_locals, outer_fault = ctx.locals, ctx.fault
            ctx.locals = {param: address}
            faulted = any(f(ctx) for f in faults)
            physical = to(ctx)
            ctx.locals = outer_locals
            ctx.fault = outer_fault or faulted
            return physical

        self.translations[memory.name] = translate
        return translate

    def _mem_read(self, expr: ir.MemRead) -> Eval:
        memory = self.memories[expr.memory]
        name = memory.name
        address = self.expr(expr.address)
        translate = None if expr.physical else self.translation(memory)
        cells = expr.cells
        cell_width = memory.cell_width
        address_mask = (1 << memory.address_width) - 1
        little = memory.endian == "little"
        if cells == 1:
            if translate is None:
                return lambda ctx: ctx.memories[name][address(ctx)]
            translated = translate
            return lambda ctx: ctx.memories[name][translated(ctx, address(ctx))]

        def read(ctx: _Ctx) -> int:
            image = ctx.memories[name]
            base = address(ctx)
            value = 0
            for offset in range(cells):
                cell_address = (base + offset) & address_mask
                physical = cell_address if translate is None else translate(ctx, cell_address)
                if little:
                    value |= image[physical] << (offset * cell_width)
                else:
                    value = (value << cell_width) | image[physical]
            return value

        return read

    # -- statements
    def body(self, stmts: tuple[ir.Stmt, ...]) -> Exec:
        """A block: its statements in text order, stopping at the first trap."""
        compiled = tuple(self.stmt(s) for s in stmts)
        if len(compiled) == 1:
            return compiled[0]

        def run(ctx: _Ctx) -> TrapTaken | None:
            for statement in compiled:
                trap = statement(ctx)
                if trap is not None:
                    return trap
            return None

        return run

    def stmt(self, stmt: ir.Stmt) -> Exec:
        """The closure for one statement; every IR statement node has a case."""
        match stmt:
            case ir.Trap(kind=kind, vector=vector, when=when):
                return self._trap(
                    kind,
                    None if vector is None else self.expr(vector),
                    None if when is None else self.expr(when),
                )
            case ir.Let(name=name, value=value):
                return self._let(name, self.expr(value))
            case ir.If(cond=cond, then=then, other=other):
                return self._if(self.expr(cond), self.body(then), self.body(other))
            case ir.Assign(target=target, value=value):
                return self._assign(target, self.expr(value))
            case ir.Unmodelled(reason=reason, span=span):
                message = f"{span}: not modelled: {reason}"

                def unmodelled(ctx: _Ctx) -> TrapTaken | None:
                    raise UnmodelledError(message)

                return unmodelled
        raise AssertionError(f"unhandled statement {stmt!r}")

    @staticmethod
    def _trap(kind: ir.TrapKind, vector: Eval | None, when: Eval | None) -> Exec:
        def trap(ctx: _Ctx) -> TrapTaken | None:
            if when is not None:
                ctx.fault = False
                holds = when(ctx)
                if ctx.fault:
                    return _MEMORY_TRAP
                if not holds:
                    return None
            # The vector's own memory faults are not charged, as in the encoder.
            return TrapTaken(kind, None if vector is None else vector(ctx))

        return trap

    @staticmethod
    def _let(name: str, value: Eval) -> Exec:
        def let(ctx: _Ctx) -> TrapTaken | None:
            ctx.fault = False
            result = value(ctx)
            if ctx.fault:
                return _MEMORY_TRAP
            ctx.locals[name] = result
            return None

        return let

    @staticmethod
    def _if(cond: Eval, then: Exec, other: Exec) -> Exec:
        def branch(ctx: _Ctx) -> TrapTaken | None:
            ctx.fault = False
            holds = cond(ctx)
            if ctx.fault:
                return _MEMORY_TRAP
            return then(ctx) if holds else other(ctx)

        return branch

    def _assign(self, target: ir.Target, value: Eval) -> Exec:
        match target:
            case ir.StateTarget(name=name):

                def assign_scalar(ctx: _Ctx) -> TrapTaken | None:
                    ctx.fault = False
                    result = value(ctx)
                    if ctx.fault:
                        return _MEMORY_TRAP
                    # The first assignment on the executed path wins, as in the encoder.
                    ctx.scalar_writes.setdefault(name, result)
                    return None

                return assign_scalar
            case ir.FileTarget(name=name, index=index_expr):
                index = self.expr(index_expr)

                def assign_register(ctx: _Ctx) -> TrapTaken | None:
                    ctx.fault = False
                    result = value(ctx)
                    at = index(ctx)
                    if ctx.fault:
                        return _MEMORY_TRAP
                    ctx.file_writes.append((name, at, result))
                    return None

                return assign_register
            case ir.MemTarget():
                return self._mem_write(target, value)
        raise AssertionError(f"unhandled target {target!r}")

    def _mem_write(self, target: ir.MemTarget, value: Eval) -> Exec:
        memory = self.memories[target.memory]
        name = memory.name
        address = self.expr(target.address)
        translate = None if target.physical else self.translation(memory)
        cells = target.cells
        cell_width = memory.cell_width
        cell_mask = (1 << cell_width) - 1
        address_mask = (1 << memory.address_width) - 1
        # Bit position of each cell in address order: little-endian puts the first cell
        # lowest, big-endian highest.
        positions = tuple(i * cell_width for i in range(cells))
        if memory.endian != "little":
            positions = positions[::-1]

        def write(ctx: _Ctx) -> TrapTaken | None:
            ctx.fault = False
            result = value(ctx)
            base = address(ctx)
            stores = []
            for offset, position in enumerate(positions):
                cell_address = (base + offset) & address_mask
                physical = cell_address if translate is None else translate(ctx, cell_address)
                stores.append((name, physical, (result >> position) & cell_mask))
            if ctx.fault:
                return _MEMORY_TRAP
            ctx.memory_writes.extend(stores)
            return None

        return write


def _apply(state: State, ctx: _Ctx) -> State:
    """The state after the writes ``ctx`` recorded."""
    scalars = state.scalars
    if ctx.scalar_writes:
        scalars = {**scalars, **ctx.scalar_writes}
    files = state.files
    if ctx.file_writes:
        by_file: dict[str, list[tuple[int, int]]] = {}
        for name, index, value in ctx.file_writes:
            by_file.setdefault(name, []).append((index, value))
        files = {**files, **{n: _with_registers(files[n], w) for n, w in by_file.items()}}
    memories = state.memories
    if ctx.memory_writes:
        by_memory: dict[str, list[tuple[int, int]]] = {}
        for name, address, value in ctx.memory_writes:
            by_memory.setdefault(name, []).append((address, value))
        memories = {**memories, **{n: memories[n].updated(w) for n, w in by_memory.items()}}
    return State(scalars, files, memories)


# ---------------------------------------------------------------- the interpreter


@dataclass(frozen=True, slots=True)
class _CompiledInstruction:
    instruction: ir.Instruction
    widths: tuple[tuple[str, int], ...]
    where: tuple[Eval, ...]
    body: Exec


@dataclass(frozen=True, slots=True)
class _CompiledHandler:
    handler: ir.Handler
    body: Exec


class Interpreter:
    """One ISA, compiled: each instruction, predicate, handler and function becomes Python
    closures the first time it is used. Get the shared one with :func:`interpreter`."""

    def __init__(self, isa: ir.Isa) -> None:
        self.isa = isa
        self._compiler = _Compiler(isa)
        self._scalars = {c.name: c for c in isa.state if c.count is None}
        self._files = {c.name: c for c in isa.state if c.count is not None}
        self._memories = {m.name: m for m in isa.memories}
        self._instructions = {i.name: i for i in isa.instructions}
        self._compiled: dict[str, _CompiledInstruction] = {}
        self._predicates: dict[str, Eval] = {}
        self._exprs: dict[int, Eval] = {}
        self._kept: list[ir.Expr] = []  # what ``_exprs`` is keyed by (id), kept alive
        self._invariants: tuple[Eval, ...] | None = None
        self._handler_defs = {h.kind: h for h in isa.handlers}
        self._handlers: dict[ir.TrapKind | None, _CompiledHandler] = {}
        self._zero = State(
            {c: 0 for c in self._scalars},
            {
                n: (0,) * c.count if c.count <= DENSE_FILE_LIMIT else MemoryImage()
                for n, c in self._files.items()
                if c.count is not None
            },
            {m: MemoryImage() for m in self._memories},
        )

    # -- states
    def make_state(self, values: Mapping[str, Value] | None = None) -> State:
        """A state with the given values and 0 everywhere else (see :data:`Value`)."""
        return self._zero if not values else self.update(self._zero, values)

    def update(self, state: State, values: Mapping[str, Value]) -> State:
        """``state`` with the given components, registers or cells replaced. Keys are
        component names (``"A"``, ``"D"``, ``"E"``) or one register or physical cell
        (``"D[3]"``, ``"E[0x10]"``); values out of range raise :class:`InterpError`."""
        scalars: dict[str, int] = {}
        files: dict[str, list[tuple[int, int]]] = {}
        whole_files: dict[str, MemoryImage] = {}
        cells: dict[str, list[tuple[int, int]]] = {}
        images: dict[str, MemoryImage] = {}
        for key, value in values.items():
            name, index = _parse_key(key)
            if name in self._scalars and index is None:
                scalars[name] = self._checked(key, value, self._scalars[name].width)
            elif name in self._files:
                component = self._files[name]
                count = component.count or 1
                if index is None and isinstance(value, MemoryImage) and count > DENSE_FILE_LIMIT:
                    whole_files[name] = value
                    files.pop(name, None)
                    continue
                entries = self._register_entries(key, index, value, count)
                files.setdefault(name, []).extend(
                    (at, self._checked(key, register, component.width)) for at, register in entries
                )
            elif name in self._memories:
                memory = self._memories[name]
                if index is None and isinstance(value, MemoryImage):
                    images[name] = value
                    cells.pop(name, None)
                    continue
                for at, cell in self._cell_entries(key, index, value):
                    self._checked(f"{key} address", at, memory.address_width)
                    cells.setdefault(name, []).append(
                        (at, self._checked(key, cell, memory.cell_width))
                    )
            elif name in self._scalars:
                raise InterpError(f"'{key}': '{name}' is a scalar component, not a register file")
            else:
                known = [*self._scalars, *self._files, *self._memories]
                raise InterpError(
                    self._unknown(
                        f"'{key}' is not a component, register or memory of {self.isa.name}",
                        name,
                        known,
                    )
                )
        memories = dict(state.memories)
        memories.update(images)
        for name, writes in cells.items():
            memories[name] = memories[name].updated(writes)
        registers = {**state.files, **whole_files}
        for name, writes in files.items():
            registers[name] = _with_registers(registers[name], writes)
        return State({**state.scalars, **scalars}, registers, memories)

    @staticmethod
    def _checked(key: str, value: object, width: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise InterpError(f"'{key}': expected an integer, not {value!r}")
        if not 0 <= value < 1 << width:
            raise InterpError(f"'{key}': {value:#x} does not fit in bits({width})")
        return value

    @staticmethod
    def _register_entries(
        key: str, index: int | None, value: Value, count: int
    ) -> list[tuple[int, object]]:
        if index is not None:
            entries: list[tuple[int, object]] = [(index, value)]
        elif isinstance(value, Mapping):
            entries = list(value.items())
        elif isinstance(value, Sequence):
            if len(value) != count:
                raise InterpError(f"'{key}' has {count} registers, not {len(value)}")
            entries = list(enumerate(value))
        else:
            raise InterpError(
                f"'{key}' is a register file: give a sequence of {count} "
                "values, an index-to-value mapping, or write one register as "
                f"'{key}[i]'"
            )
        for at, _ in entries:
            if not isinstance(at, int) or not 0 <= at < count:
                raise InterpError(f"'{key}': register index {at!r} is outside 0..{count - 1}")
        return entries

    @staticmethod
    def _cell_entries(key: str, index: int | None, value: Value) -> list[tuple[int, object]]:
        if index is not None:
            return [(index, value)]
        if isinstance(value, Mapping):
            return list(value.items())
        raise InterpError(
            f"'{key}' is a memory: give an address-to-value mapping, a "
            f"MemoryImage, or write one cell as '{key}[address]'"
        )

    @staticmethod
    def _unknown(message: str, name: str, known: Iterable[str]) -> str:
        hint = suggest(name, known)
        return f"{message} ({hint})" if hint else message

    # -- predicates and memory views
    def predicate(self, name: str, state: State) -> bool:
        """The named predicate (``supervisor``, ``user``, ``vm_context``, ...) in ``state``.
        Memory faults are ignored, as in the encoder's conditions."""
        compiled = self._predicates.get(name)
        if compiled is None:
            body = next((p.body for p in self.isa.predicates if p.name == name), None)
            if body is None:
                raise InterpError(
                    self._unknown(
                        f"{self.isa.name} has no predicate '{name}'",
                        name,
                        [p.name for p in self.isa.predicates],
                    )
                )
            compiled = self._predicates[name] = self._compiler.expr(body)
        return bool(compiled(_Ctx(state, {}, {})))

    def invariants_hold(self, state: State) -> bool:
        """Every ``invariant`` of the spec holds in ``state``."""
        if self._invariants is None:
            self._invariants = tuple(self._compiler.expr(e) for e in self.isa.invariants)
        ctx = _Ctx(state, {}, {})
        return all(invariant(ctx) for invariant in self._invariants)

    def evaluate(self, expr: ir.Expr, state: State) -> int:
        """The value of ``expr``, an expression over the state (no operands, no locals), in
        ``state`` (a condition is 0 or 1). Memory faults are ignored, as in predicates."""
        compiled = self._exprs.get(id(expr))
        if compiled is None:
            compiled = self._compiler.expr(expr)
            self._exprs[id(expr)] = compiled
            self._kept.append(expr)
        return int(compiled(_Ctx(state, {}, {})))

    def translate(self, state: State, memory: str, address: int) -> tuple[bool, int]:
        """(faults, physical address) of program ``address`` of ``memory`` in ``state``."""
        spec = self._memory(memory)
        self._checked(f"{memory} address", address, spec.address_width)
        translation = self._compiler.translation(spec)
        if translation is None:
            return False, address
        ctx = _Ctx(state, {}, {})
        physical = translation(ctx, address)
        return ctx.fault, physical

    def view(self, state: State, memory: str, address: int) -> int | None:
        """The cell a program sees at ``address`` through the translation (None: it
        faults)."""
        faults, physical = self.translate(state, memory, address)
        return None if faults else state.memories[memory][physical]

    def _memory(self, name: str) -> ir.Memory:
        spec = self._memories.get(name)
        if spec is None:
            raise InterpError(
                self._unknown(f"{self.isa.name} has no memory '{name}'", name, self._memories)
            )
        return spec

    # -- instructions
    def _instruction(self, instruction: ir.Instruction | str) -> _CompiledInstruction:
        name = instruction if isinstance(instruction, str) else instruction.name
        compiled = self._compiled.get(name)
        if compiled is None:
            definition = self._instructions.get(name)
            if definition is None:
                raise InterpError(
                    self._unknown(
                        f"{self.isa.name} has no instruction '{name}'", name, self._instructions
                    )
                )
            if definition.unmodelled is not None:
                raise UnmodelledError(
                    f"{definition.span}: instruction '{name}' is not "
                    f"modelled: {definition.unmodelled}"
                )
            compiled = _CompiledInstruction(
                definition,
                tuple((p.name, p.width) for p in definition.operands),
                tuple(self._compiler.expr(w) for w in definition.where),
                self._compiler.body(definition.body),
            )
            self._compiled[name] = compiled
        if (
            not isinstance(instruction, str)
            and instruction is not compiled.instruction
            and instruction != compiled.instruction
        ):
            raise InterpError(f"instruction '{name}' is not the one {self.isa.name} defines")
        return compiled

    def _check_operands(self, compiled: _CompiledInstruction, operands: Mapping[str, int]) -> None:
        if len(operands) != len(compiled.widths):
            expected = ", ".join(n for n, _ in compiled.widths) or "none"
            raise InterpError(
                f"'{compiled.instruction.name}' takes operands ({expected}), "
                f"given {sorted(operands)}"
            )
        for name, width in compiled.widths:
            value = operands.get(name)
            if value is None:
                raise InterpError(f"'{compiled.instruction.name}': operand '{name}' is missing")
            if value.__class__ is not int or value >> width:
                self._checked(f"{compiled.instruction.name} operand {name}", value, width)

    def operands_valid(
        self, instruction: ir.Instruction | str, operands: Mapping[str, int]
    ) -> bool:
        """The operands satisfy the instruction's ``where`` clauses (a valid encoding)."""
        compiled = self._instruction(instruction)
        self._check_operands(compiled, operands)
        ctx = _Ctx(self._zero, operands, {})
        return all(w(ctx) for w in compiled.where)

    def step(
        self,
        state: State,
        instruction: ir.Instruction | str,
        operands: Mapping[str, int] | None = None,
    ) -> StepResult:
        """Run one instruction: the post-state, or the first trap in text order (then the
        state is unchanged). Raises :class:`UnmodelledError` for an ``unmodelled``
        instruction and :class:`InterpError` for operands that are missing, out of range or
        not a valid encoding (``where``)."""
        compiled = self._instruction(instruction)
        operands = operands or {}
        self._check_operands(compiled, operands)
        ctx = _Ctx(state, operands, {})
        for where in compiled.where:
            if not where(ctx):
                raise InterpError(
                    f"{compiled.instruction.span}: operands {dict(operands)} of "
                    f"'{compiled.instruction.name}' violate its 'where' clauses"
                )
        trap = compiled.body(ctx)
        if trap is not None:
            return StepResult(None, trap)
        return StepResult(_apply(state, ctx), None)

    def take_trap(self, state: State, kind: ir.TrapKind, vector: int | None) -> State:
        """The state after the spec's ``on trap`` handler for ``kind`` (or its default
        handler) runs in ``state`` with ``vector`` (None, a trap without a vector, is 0)."""
        compiled = self._handlers.get(kind)
        if compiled is None:
            handler = self._handler_defs.get(kind) or self._handler_defs.get(None)
            if handler is None:
                raise InterpError(
                    f"{self.isa.source or self.isa.name}: no 'on trap' handler "
                    f"for {kind.value} traps and no default 'on trap' handler"
                )
            compiled = _CompiledHandler(handler, self._compiler.body(handler.body))
            self._handlers[kind] = compiled
        handler = compiled.handler
        value = self._checked(
            f"trap vector ({handler.vector.name})",
            0 if vector is None else vector,
            handler.vector.width,
        )
        ctx = _Ctx(state, {}, {handler.vector.name: value})
        if compiled.body(ctx) is not None:
            raise InterpError(
                f"{handler.span}: a translated memory access in the 'on trap' "
                "handler faults (a handler cannot trap; use 'physical')"
            )
        return _apply(state, ctx)

    def execute(
        self,
        state: State,
        instruction: ir.Instruction | str,
        operands: Mapping[str, int] | None = None,
    ) -> tuple[State, TrapTaken | None]:
        """One instruction as the machine runs it: its post-state, or the state after its
        trap's handler, with the trap taken."""
        result = self.step(state, instruction, operands)
        if result.trap is None:
            return result.state(), None
        return self.take_trap(state, result.trap.kind, result.trap.vector), result.trap


_INTERPRETERS: dict[int, tuple[ir.Isa, Interpreter]] = {}


def interpreter(isa: ir.Isa) -> Interpreter:
    """The compiled interpreter of ``isa``, built on first use and cached (by identity: the
    ISA object is kept alive by the cache)."""
    cached = _INTERPRETERS.get(id(isa))
    if cached is None:
        cached = _INTERPRETERS[id(isa)] = (isa, Interpreter(isa))
    return cached[1]


def make_state(isa: ir.Isa, values: Mapping[str, Value] | None = None) -> State:
    """A state of ``isa`` with the given values and 0 everywhere else."""
    return interpreter(isa).make_state(values)


def update(isa: ir.Isa, state: State, values: Mapping[str, Value]) -> State:
    """``state`` with the given components, registers or physical cells replaced."""
    return interpreter(isa).update(state, values)


def step(
    isa: ir.Isa,
    state: State,
    instruction: ir.Instruction | str,
    operands: Mapping[str, int] | None = None,
) -> StepResult:
    """Run one instruction of ``isa``: the post-state or the trap taken."""
    return interpreter(isa).step(state, instruction, operands)


def take_trap(isa: ir.Isa, state: State, kind: ir.TrapKind, vector: int | None) -> State:
    """Apply the spec's ``on trap`` handler for ``kind`` (or the default one) to ``state``."""
    return interpreter(isa).take_trap(state, kind, vector)


def execute(
    isa: ir.Isa,
    state: State,
    instruction: ir.Instruction | str,
    operands: Mapping[str, int] | None = None,
) -> tuple[State, TrapTaken | None]:
    """Run one instruction, entering the trap handler if it traps."""
    return interpreter(isa).execute(state, instruction, operands)


def predicate(isa: ir.Isa, name: str, state: State) -> bool:
    """The named predicate of ``isa`` evaluated in ``state``."""
    return interpreter(isa).predicate(name, state)


def invariants_hold(isa: ir.Isa, state: State) -> bool:
    """Every invariant of ``isa`` holds in ``state``."""
    return interpreter(isa).invariants_hold(state)


def evaluate(isa: ir.Isa, expr: ir.Expr, state: State) -> int:
    """The value of a state expression of ``isa`` in ``state``."""
    return interpreter(isa).evaluate(expr, state)


def operands_valid(
    isa: ir.Isa, instruction: ir.Instruction | str, operands: Mapping[str, int]
) -> bool:
    """The operands are a valid encoding of the instruction (its ``where`` clauses hold)."""
    return interpreter(isa).operands_valid(instruction, operands)


def translate(isa: ir.Isa, state: State, memory: str, address: int) -> tuple[bool, int]:
    """(faults, physical address) of a program address in ``state``."""
    return interpreter(isa).translate(state, memory, address)


def view(isa: ir.Isa, state: State, memory: str, address: int) -> int | None:
    """The cell a program sees at ``address`` (None where the address faults)."""
    return interpreter(isa).view(state, memory, address)

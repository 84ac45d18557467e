"""The typed intermediate representation every backend reads.

Built by :mod:`analyzer.validate` from the syntax tree; frozen and slotted. Every expression
knows its width (``BOOL`` for conditions). Spans never take part in equality, so a spec printed
by :mod:`analyzer.pretty` and read back compares equal to the original.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from analyzer.errors import NO_SPAN, Span

BOOL = 0
"""The width of a boolean expression."""


class Kind(Enum):
    """What a state component is to a VMM (MODEL.md section 1)."""

    MODE = "mode"
    CONTROL = "control"
    TIMING = "timing"
    VISIBLE = "visible"


class TrapKind(Enum):
    PRIVILEGE = "privilege"
    MEMORY = "memory"
    ALWAYS = "always"
    OTHER = "other"


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Const:
    value: int
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class BoolConst:
    value: bool
    span: Span = field(default=NO_SPAN, compare=False, repr=False)
    width: int = BOOL


@dataclass(frozen=True, slots=True)
class StateRead:
    """The pre-state value of a scalar state component."""

    name: str
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class FileRead:
    """One register of a register file, ``D[n]``."""

    name: str
    index: Expr
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class MemRead:
    """``cells`` consecutive cells of a memory, through its translation unless ``physical``."""

    memory: str
    address: Expr
    cells: int
    physical: bool
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class OperandRef:
    name: str
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class LocalRef:
    """A ``let`` name, a function parameter, a translation's address or a trap vector."""

    name: str
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Unary:
    """``-`` (negate), ``~`` (bitwise not) or ``not`` (boolean)."""

    op: str
    operand: Expr
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Binary:
    """Bit-vector arithmetic, bitwise and shift operators, or boolean ``and``/``or``.

    Shifts take an amount of the same width as the value.
    """

    op: str
    left: Expr
    right: Expr
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Compare:
    """``== != < <= > >=`` (unsigned) or ``slt sle sgt sge`` (signed); boolean."""

    op: str
    left: Expr
    right: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)
    width: int = BOOL


@dataclass(frozen=True, slots=True)
class Ite:
    cond: Expr
    then: Expr
    other: Expr
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Extract:
    operand: Expr
    hi: int
    lo: int
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Concat:
    """Most significant part first."""

    parts: tuple[Expr, ...]
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Extend:
    signed: bool
    operand: Expr
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    args: tuple[Expr, ...]
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


Expr = (
    Const
    | BoolConst
    | StateRead
    | FileRead
    | MemRead
    | OperandRef
    | LocalRef
    | Unary
    | Binary
    | Compare
    | Ite
    | Extract
    | Concat
    | Extend
    | Call
)

BINARY_BITS_OPS = (
    "+",
    "-",
    "*",
    "&",
    "|",
    "^",
    "<<",
    ">>",
    ">>>",
    "udiv",
    "urem",
    "sdiv",
    "srem",
    "rotl",
    "rotr",
)
BOOL_OPS = ("and", "or")
COMPARE_OPS = ("==", "!=", "<", "<=", ">", ">=", "slt", "sle", "sgt", "sge")

# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class StateTarget:
    name: str


@dataclass(frozen=True, slots=True)
class FileTarget:
    name: str
    index: Expr


@dataclass(frozen=True, slots=True)
class MemTarget:
    memory: str
    address: Expr
    cells: int
    physical: bool


Target = StateTarget | FileTarget | MemTarget


@dataclass(frozen=True, slots=True)
class Assign:
    """Part of a parallel assignment: the value is computed in the pre-state."""

    target: Target
    value: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class If:
    cond: Expr
    then: tuple[Stmt, ...]
    other: tuple[Stmt, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Trap:
    """A trap taken when ``when`` holds in the pre-state; the first in text order wins."""

    kind: TrapKind
    vector: Expr | None
    when: Expr | None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Let:
    name: str
    value: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Unmodelled:
    """An explicit placeholder: the analysis reports the instruction as not analysed."""

    reason: str
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


Stmt = Assign | If | Trap | Let | Unmodelled

# ---------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class StateComponent:
    """A register or register file. ``count`` is None for a scalar."""

    name: str
    width: int
    count: int | None
    kind: Kind
    mapping: bool = False
    readonly: bool = False
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def index_width(self) -> int:
        """Width of an index into this register file (0 for a scalar)."""
        return 0 if self.count is None else max(1, (self.count - 1).bit_length())

    @property
    def is_control(self) -> bool:
        """Mode and control components together are the control state."""
        return self.kind in (Kind.MODE, Kind.CONTROL)


@dataclass(frozen=True, slots=True)
class Translation:
    """How a program address becomes a physical one, and when that faults."""

    param: str
    faults: tuple[Expr, ...]
    to: Expr


@dataclass(frozen=True, slots=True)
class Memory:
    name: str
    cell_width: int
    address_width: int
    endian: str
    translation: Translation | None
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Predicate:
    name: str
    body: Expr
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    width: int
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Function:
    """A pure function. An opaque one is uninterpreted for the solver; its body is the
    concrete meaning the interpreter gives it."""

    name: str
    params: tuple[Param, ...]
    width: int
    body: Expr
    opaque: bool
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Handler:
    """What a trap of ``kind`` (None: any kind without its own handler) does to the state."""

    kind: TrapKind | None
    vector: Param
    body: tuple[Stmt, ...]
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Instruction:
    """One form of a mnemonic, quantified over its operand fields (constrained by ``where``)."""

    name: str
    mnemonic: str
    form: str
    cite: str
    operands: tuple[Param, ...]
    where: tuple[Expr, ...]
    body: tuple[Stmt, ...]
    family: str | None = field(default=None, compare=False)
    span: Span = field(default=NO_SPAN, compare=False, repr=False)

    @property
    def unmodelled(self) -> str | None:
        """The placeholder's reason, when the spec does not describe this instruction."""
        return _find_unmodelled(self.body)


def _find_unmodelled(body: tuple[Stmt, ...]) -> str | None:
    for stmt in body:
        if isinstance(stmt, Unmodelled):
            return stmt.reason
        if isinstance(stmt, If):
            found = _find_unmodelled(stmt.then) or _find_unmodelled(stmt.other)
            if found:
                return found
    return None


@dataclass(frozen=True, slots=True)
class Field:
    """Bits ``hi`` to ``lo`` of a scalar control component: what ``vmm sets`` names."""

    name: str
    hi: int
    lo: int
    whole: bool = True

    @property
    def width(self) -> int:
        return self.hi - self.lo + 1

    @property
    def label(self) -> str:
        """``IOPL``, ``CR0[4]`` or ``CR3[31:16]``."""
        if self.whole:
            return self.name
        return (
            f"{self.name}[{self.hi}]" if self.hi == self.lo else f"{self.name}[{self.hi}:{self.lo}]"
        )


@dataclass(frozen=True, slots=True)
class Isa:
    """A whole, validated ISA description (an extension is merged with its base)."""

    name: str
    title: str
    manuals: tuple[str, ...]
    state: tuple[StateComponent, ...]
    memories: tuple[Memory, ...]
    predicates: tuple[Predicate, ...]
    invariants: tuple[Expr, ...]
    functions: tuple[Function, ...]
    handlers: tuple[Handler, ...]
    instructions: tuple[Instruction, ...]
    settable: tuple[Field, ...] = ()
    pc: str | None = None
    """The component that addresses the next instruction (for running programs)."""
    base: str | None = None
    source: str = field(default="", compare=False)
    digest: str = field(default="", compare=False)
    """A hash of the source texts (the spec and its bases), for caches and reports."""

    def component(self, name: str) -> StateComponent:
        """The state component called ``name``."""
        return next(c for c in self.state if c.name == name)

    def memory(self, name: str) -> Memory:
        """The memory called ``name``."""
        return next(m for m in self.memories if m.name == name)

    def function(self, name: str) -> Function:
        """The function called ``name``."""
        return next(f for f in self.functions if f.name == name)

    def predicate(self, name: str) -> Expr:
        """The body of predicate ``name``."""
        return next(p.body for p in self.predicates if p.name == name)

    def instruction(self, name: str) -> Instruction:
        """The instruction called ``name``."""
        return next(i for i in self.instructions if i.name == name)

    def of_kind(self, *kinds: Kind) -> tuple[StateComponent, ...]:
        """State components of the given kinds, in declaration order."""
        return tuple(c for c in self.state if c.kind in kinds)


def walk_expr(expr: Expr) -> Iterator[Expr]:
    """Every sub-expression of ``expr``, pre-order."""
    yield expr
    match expr:
        case (
            FileRead(index=e)
            | MemRead(address=e)
            | Unary(operand=e)
            | Extract(operand=e)
            | Extend(operand=e)
        ):
            yield from walk_expr(e)
        case Binary(left=a, right=b) | Compare(left=a, right=b):
            yield from walk_expr(a)
            yield from walk_expr(b)
        case Ite(cond=c, then=a, other=b):
            yield from walk_expr(c)
            yield from walk_expr(a)
            yield from walk_expr(b)
        case Concat(parts=parts) | Call(args=parts):
            for part in parts:
                yield from walk_expr(part)


def walk_stmts(body: tuple[Stmt, ...]) -> Iterator[Stmt]:
    """Every statement of ``body``, nested ones included, in text order."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, If):
            yield from walk_stmts(stmt.then)
            yield from walk_stmts(stmt.other)


def stmt_exprs(stmt: Stmt) -> Iterator[Expr]:
    """The expressions a statement evaluates directly (not those of nested statements)."""
    match stmt:
        case Assign(target=target, value=value):
            if isinstance(target, FileTarget):
                yield target.index
            elif isinstance(target, MemTarget):
                yield target.address
            yield value
        case If(cond=cond):
            yield cond
        case Trap(vector=vector, when=when):
            if vector is not None:
                yield vector
            if when is not None:
                yield when
        case Let(value=value):
            yield value


def substitute(expr: Expr, operands: Mapping[str, Expr]) -> Expr:
    """``expr`` with each operand reference named in ``operands`` replaced by its value."""
    match expr:
        case OperandRef(name=name) if name in operands:
            return operands[name]
        case FileRead(index=e):
            return replace(expr, index=substitute(e, operands))
        case MemRead(address=e):
            return replace(expr, address=substitute(e, operands))
        case Unary(operand=e) | Extract(operand=e) | Extend(operand=e):
            return replace(expr, operand=substitute(e, operands))
        case Binary(left=a, right=b) | Compare(left=a, right=b):
            return replace(expr, left=substitute(a, operands), right=substitute(b, operands))
        case Ite(cond=c, then=a, other=b):
            return replace(
                expr,
                cond=substitute(c, operands),
                then=substitute(a, operands),
                other=substitute(b, operands),
            )
        case Concat(parts=parts):
            return replace(expr, parts=tuple(substitute(p, operands) for p in parts))
        case Call(args=args):
            return replace(expr, args=tuple(substitute(a, operands) for a in args))
    return expr


def substitute_stmts(body: tuple[Stmt, ...], operands: Mapping[str, Expr]) -> tuple[Stmt, ...]:
    """``body`` with its operand references replaced (see ``substitute``)."""
    return tuple(_substitute_stmt(stmt, operands) for stmt in body)


def _substitute_stmt(stmt: Stmt, operands: Mapping[str, Expr]) -> Stmt:
    match stmt:
        case Assign(target=target, value=value):
            if isinstance(target, FileTarget):
                target = replace(target, index=substitute(target.index, operands))
            elif isinstance(target, MemTarget):
                target = replace(target, address=substitute(target.address, operands))
            return replace(stmt, target=target, value=substitute(value, operands))
        case If(cond=cond, then=then, other=other):
            return replace(
                stmt,
                cond=substitute(cond, operands),
                then=substitute_stmts(then, operands),
                other=substitute_stmts(other, operands),
            )
        case Trap(vector=vector, when=when):
            return replace(
                stmt,
                vector=None if vector is None else substitute(vector, operands),
                when=None if when is None else substitute(when, operands),
            )
        case Let(value=value):
            return replace(stmt, value=substitute(value, operands))
    return stmt

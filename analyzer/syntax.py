"""The syntax tree of an ISA description, as written: untyped, names unresolved.

The parser builds it; :mod:`analyzer.validate` checks it and turns it into the typed IR
(:mod:`analyzer.ir`). Nothing else reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.errors import Span

# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class SNumber:
    """An integer literal; ``width`` is set for sized literals such as ``8'h1f``."""

    value: int
    width: int | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SBool:
    value: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SName:
    name: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SCall:
    name: str
    args: tuple[SExpr, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SIndex:
    """``base[index]`` or ``base[index, cells]``: a register, a memory read or one bit."""

    base: SExpr
    index: SExpr
    cells: SExpr | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SSlice:
    base: SExpr
    hi: SExpr
    lo: SExpr
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SPhysical:
    """``physical M[addr, cells]``: a memory access that bypasses the translation."""

    memory: str
    address: SExpr
    cells: SExpr | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SUnary:
    op: str
    operand: SExpr
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SBinary:
    op: str
    left: SExpr
    right: SExpr
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SIte:
    cond: SExpr
    then: SExpr
    other: SExpr
    span: Span = field(compare=False)


SExpr = SNumber | SBool | SName | SCall | SIndex | SSlice | SPhysical | SUnary | SBinary | SIte

# ---------------------------------------------------------------- statements


@dataclass(frozen=True, slots=True)
class SAssign:
    target: SExpr
    value: SExpr
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SIf:
    branches: tuple[tuple[SExpr, tuple[SStmt, ...]], ...]
    otherwise: tuple[SStmt, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class STrap:
    kind: str
    vector: SExpr | None
    when: SExpr | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SLet:
    name: str
    value: SExpr
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SUnmodelled:
    reason: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SExecute:
    """``execute NAME(args)``: another instruction's traps and effects, its operands bound."""

    instruction: str
    args: tuple[SExpr, ...]
    span: Span = field(compare=False)


SStmt = SAssign | SIf | STrap | SLet | SUnmodelled | SExecute

# ---------------------------------------------------------------- declarations


@dataclass(frozen=True, slots=True)
class SType:
    """``bits(width)`` (``width`` an expression) or ``bool`` (``width`` None)."""

    width: SExpr | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SParam:
    name: str
    type: SType
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SConst:
    name: str
    value: SExpr
    replace: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SState:
    name: str
    width: SExpr
    count: SExpr | None
    kind: str
    mapping: bool
    readonly: bool
    replace: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class STranslate:
    param: str
    faults: tuple[SExpr, ...]
    to: SExpr
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SMemory:
    name: str
    cell_width: SExpr
    address_width: SExpr
    endian: str
    translate: STranslate | None
    replace: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SPredicate:
    name: str
    body: SExpr
    replace: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SInvariant:
    body: SExpr
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SDef:
    name: str
    params: tuple[SParam, ...]
    result: SType
    body: SExpr
    opaque: bool
    replace: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SHandler:
    kind: str | None
    vector: SParam
    body: tuple[SStmt, ...]
    replace: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SClauses:
    """The header clauses shared by instructions, families and members."""

    mnemonic: str | None = None
    form: str | None = None
    cite: str | None = None
    where: tuple[SExpr, ...] = ()


@dataclass(frozen=True, slots=True)
class SInstruction:
    name: str
    operands: tuple[SParam, ...]
    clauses: SClauses
    body: tuple[SStmt, ...]
    replace: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SFamily:
    name: str
    params: tuple[str, ...]
    operands: tuple[SParam, ...]
    clauses: SClauses
    body: tuple[SStmt, ...]
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SMember:
    name: str
    family: str
    args: tuple[SExpr, ...]
    clauses: SClauses
    replace: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SFieldRef:
    """``NAME``, ``NAME[bit]`` or ``NAME[hi:lo]`` in ``vmm sets``."""

    name: str
    hi: int | None
    lo: int | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SSettable:
    fields: tuple[SFieldRef, ...]
    replace: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SPc:
    """``pc NAME``: the component that addresses the next instruction."""

    name: str
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SRemove:
    name: str
    span: Span = field(compare=False)


SDecl = (
    SConst
    | SState
    | SMemory
    | SPredicate
    | SInvariant
    | SDef
    | SHandler
    | SInstruction
    | SFamily
    | SMember
    | SSettable
    | SPc
    | SRemove
)


@dataclass(frozen=True, slots=True)
class SSpec:
    """One parsed ``.isa`` file."""

    name: str
    title: str | None
    extends: str | None
    manuals: tuple[str, ...]
    decls: tuple[SDecl, ...]
    span: Span = field(compare=False)


# ---------------------------------------------------------------- guest programs


@dataclass(frozen=True, slots=True)
class SValue:
    """A number, or ``@label`` (the label's address)."""

    number: int | None
    label: str | None
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SInit:
    """``NAME = v`` or ``NAME[i] = v`` in a program's state section."""

    name: str
    index: SValue | None
    value: SValue
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SLine:
    """One program line: an optional address and label, then an instruction, ``halt`` or
    nothing. ``instruction`` is None for a bare address or label line."""

    address: SValue | None
    label: str | None
    instruction: str | None
    operands: tuple[tuple[str, SValue], ...]
    halt: bool
    span: Span = field(compare=False)


@dataclass(frozen=True, slots=True)
class SProgram:
    isa: str | None
    inits: tuple[SInit, ...]
    lines: tuple[SLine, ...]
    span: Span = field(compare=False)

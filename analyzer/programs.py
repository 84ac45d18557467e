"""Guest programs: assembled against an ISA, with the same error standard as specs.

A program is a set of instructions at addresses. The machine fetches the instruction at the
address its PC component holds; a line without an address follows the previous one at the
previous instruction's fall-through length, which the assembler reads from the spec (the
smallest ``PC + k`` the instruction assigns to its PC). On an ISA without a PC component the
lines run in order.
"""

from __future__ import annotations

import functools
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from analyzer import ir
from analyzer import syntax as s
from analyzer.errors import Diagnostic, Span, SpecError, suggest
from analyzer.parse import parse_program


@dataclass(frozen=True, slots=True)
class ProgramLine:
    """One instruction (or ``halt`` when ``instruction`` is None) at an address."""

    address: int
    instruction: str | None
    operands: tuple[tuple[str, int], ...]
    span: Span = field(compare=False)

    @property
    def text(self) -> str:
        """The line as it would be written."""
        if self.instruction is None:
            return "halt"
        ops = " ".join(f"{name}={value:#x}" for name, value in self.operands)
        return f"{self.instruction} {ops}".strip()


@dataclass(frozen=True, slots=True)
class Program:
    """An assembled program: initial values and lines by address (or in order)."""

    isa: str
    init: tuple[tuple[str, int], ...]
    lines: tuple[ProgramLine, ...]
    labels: tuple[tuple[str, int], ...]
    by_address: bool

    def at(self, address: int) -> ProgramLine | None:
        """The line at ``address``, if any."""
        return next((line for line in self.lines if line.address == address), None)

    @property
    def entry(self) -> int:
        """The address (or index) of the first line."""
        return self.lines[0].address if self.lines else 0


def load_program(path: str | os.PathLike[str], isa: ir.Isa) -> Program:
    """Read and assemble the program file at ``path`` for ``isa``."""
    name = os.path.normpath(str(path))
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError((Diagnostic(Span(name, 0, 0), "no such program file"),)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError((Diagnostic(Span(name, 0, 0), f"cannot read: {exc}"),)) from None
    return assemble(text, name, isa)


def assemble(text: str, filename: str, isa: ir.Isa) -> Program:
    """Parse and check ``text`` against ``isa``: names, operand widths, addresses."""
    syntax = parse_program(text, filename)
    return _Assembler(isa, {filename: text}).run(syntax)


class _Fail(Exception):
    pass


class _Assembler:
    def __init__(self, isa: ir.Isa, sources: dict[str, str]) -> None:
        self.isa = isa
        self.sources = sources
        self.diags: list[Diagnostic] = []
        self.labels: dict[str, int] = {}

    def fail(self, span: Span, message: str, hint: str | None = None) -> _Fail:
        self.diags.append(Diagnostic(span, message, hint))
        return _Fail()

    def run(self, syntax: s.SProgram) -> Program:
        if syntax.isa is not None and syntax.isa != self.isa.name:
            self.fail(syntax.span, f"this program is for '{syntax.isa}', not '{self.isa.name}'")
        placed = self._place(syntax.lines)
        lines = []
        for line, address in placed:
            try:
                lines.append(self._line(line, address))
            except _Fail:
                continue
        init = []
        for item in syntax.inits:
            try:
                init.append(self._init(item))
            except _Fail:
                continue
        self._check_unique(lines)
        if self.diags:
            raise SpecError(tuple(self.diags), self.sources)
        return Program(
            self.isa.name,
            tuple(init),
            tuple(lines),
            tuple(sorted(self.labels.items())),
            self.isa.pc is not None,
        )

    # -- addresses
    def _place(self, lines: tuple[s.SLine, ...]) -> list[tuple[s.SLine, int]]:
        """Give every instruction line an address, and every label its address."""
        placed: list[tuple[s.SLine, int]] = []
        address = 0
        previous: s.SLine | None = None
        for index, line in enumerate(lines):
            if self.isa.pc is None:
                address = index
            elif line.address is not None:
                address = self._number(line.address)
            elif previous is not None:
                address += self._length(previous)
            if line.label is not None:
                if line.label in self.labels:
                    self.fail(line.span, f"label '{line.label}' is defined twice")
                self.labels[line.label] = address
            if line.instruction is not None or line.halt:
                placed.append((line, address))
                previous = line
        return placed

    def _length(self, line: s.SLine) -> int:
        if line.halt or line.instruction is None:
            return 0
        instruction = self._instruction(line.instruction, line.span, quiet=True)
        if instruction is None:
            return 0
        length = fallthrough_length(self.isa, instruction)
        if length is None:
            self.fail(
                line.span,
                f"cannot tell how long '{line.instruction}' is",
                "give the next line an address, e.g. 0x104: ...",
            )
            return 0
        return length

    # -- lines
    def _line(self, line: s.SLine, address: int) -> ProgramLine:
        if line.halt:
            return ProgramLine(address, None, (), line.span)
        assert line.instruction is not None
        instruction = self._instruction(line.instruction, line.span)
        assert instruction is not None
        widths = {p.name: p.width for p in instruction.operands}
        given: dict[str, int] = {}
        for name, value in line.operands:
            if name not in widths:
                raise self.fail(
                    value.span,
                    f"'{instruction.name}' has no operand '{name}'",
                    suggest(name, widths) or _operand_list(instruction),
                )
            if name in given:
                raise self.fail(value.span, f"operand '{name}' is given twice")
            given[name] = self._fit(self._number(value), widths[name], value.span)
        missing = [p.name for p in instruction.operands if p.name not in given]
        if missing:
            raise self.fail(
                line.span,
                f"'{instruction.name}' needs operand(s) {', '.join(missing)}",
                _operand_list(instruction),
            )
        operands = tuple((p.name, given[p.name]) for p in instruction.operands)
        return ProgramLine(address, instruction.name, operands, line.span)

    def _instruction(self, name: str, span: Span, quiet: bool = False) -> ir.Instruction | None:
        for instruction in self.isa.instructions:
            if instruction.name == name:
                return instruction
        by_mnemonic = [i for i in self.isa.instructions if i.mnemonic.lower() == name.lower()]
        if len(by_mnemonic) == 1:
            return by_mnemonic[0]
        if quiet:
            return None
        raise self.fail(
            span,
            f"unknown instruction '{name}'",
            suggest(name, [i.name for i in self.isa.instructions]),
        )

    def _init(self, item: s.SInit) -> tuple[str, int]:
        name = item.name
        components = {c.name: c for c in self.isa.state}
        memories = {m.name: m for m in self.isa.memories}
        if name in components:
            component = components[name]
            if (component.count is None) != (item.index is None):
                raise self.fail(
                    item.span,
                    f"'{name}' is a register file: write {name}[i] = v"
                    if component.count is not None
                    else f"'{name}' has no index",
                )
            key = name
            if item.index is not None:
                index = self._fit(self._number(item.index), component.index_width, item.index.span)
                key = f"{name}[{index}]"
            return key, self._fit(self._number(item.value), component.width, item.value.span)
        if name in memories:
            memory = memories[name]
            if item.index is None:
                raise self.fail(item.span, f"'{name}' is a memory: write {name}[address] = v")
            address = self._fit(self._number(item.index), memory.address_width, item.index.span)
            return (
                f"{name}[{address}]",
                self._fit(self._number(item.value), memory.cell_width, item.value.span),
            )
        raise self.fail(
            item.span, f"unknown state component '{name}'", suggest(name, [*components, *memories])
        )

    def _number(self, value: s.SValue) -> int:
        if value.number is not None:
            return value.number
        assert value.label is not None
        if value.label not in self.labels:
            raise self.fail(
                value.span, f"unknown label '{value.label}'", suggest(value.label, self.labels)
            )
        return self.labels[value.label]

    def _fit(self, value: int, width: int, span: Span) -> int:
        if not -(1 << (width - 1)) <= value < (1 << width):
            raise self.fail(span, f"{value} does not fit in bits({width})")
        return value % (1 << width)

    def _check_unique(self, lines: list[ProgramLine]) -> None:
        seen: dict[int, ProgramLine] = {}
        for line in lines:
            if line.address in seen and self.isa.pc is not None:
                self.fail(
                    line.span,
                    f"two lines at address {line.address:#x} (the other at "
                    f"{seen[line.address].span})",
                )
            seen[line.address] = line


def _operand_list(instruction: ir.Instruction) -> str:
    fields = ", ".join(f"{p.name}: bits({p.width})" for p in instruction.operands)
    return f"'{instruction.name}' takes: {fields or 'no operands'}"


@functools.cache
def _usual_length(isa: ir.Isa) -> int | None:
    """The most common fall-through length of the ISA's instructions (smallest on a tie),
    for instructions that never fall through, such as a system call."""
    counts = Counter(
        length for i in isa.instructions if (length := fallthrough_length(isa, i)) is not None
    )
    if not counts:
        return None
    return min(counts, key=lambda k: (-counts[k], k))


def fallthrough_length(isa: ir.Isa, instruction: ir.Instruction) -> int | None:
    """The smallest positive k for which the instruction computes ``PC + k`` (its length, as
    every spec writes the fall-through update)."""
    pc = isa.pc
    if pc is None:
        return None
    lengths = set()
    for stmt in ir.walk_stmts(instruction.body):
        for top in ir.stmt_exprs(stmt):
            for e in ir.walk_expr(top):
                if (
                    isinstance(e, ir.Binary)
                    and e.op == "+"
                    and isinstance(e.left, ir.StateRead)
                    and e.left.name == pc
                    and isinstance(e.right, ir.Const)
                    and e.right.value > 0
                ):
                    lengths.add(e.right.value)
    return min(lengths) if lengths else None

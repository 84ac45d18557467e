"""Hypothesis strategies for any ISA description: states, instructions, programs.

For people writing property suites for emulators and VMMs::

    from hypothesis import given
    from analyzer import load_isa
    from analyzer.strategies import states, instructions

    isa = load_isa("isa_specs/mc68000.isa")

    @given(states(isa), instructions(isa))
    def test_my_emulator_matches_the_spec(state, call):
        name, operands = call
        expected = analyzer.interp.step(isa, state, name, operands)
        assert my_emulator(state, name, operands) == expected

Values shrink towards zero, programs towards fewer instructions.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from hypothesis import strategies as st

from analyzer import interp, ir
from analyzer.errors import NO_SPAN
from analyzer.interp import State
from analyzer.programs import Program, ProgramLine

InstructionCall = tuple[str, dict[str, int]]
MAX_DRAWN_REGISTERS = 64
"""Register files up to this size are drawn whole; larger ones as a few non-zero registers."""


def _bits(width: int) -> st.SearchStrategy[int]:
    # Small values and boundary values find most bugs; the rest of the range stays reachable.
    top = (1 << width) - 1
    return st.one_of(
        st.integers(0, min(top, 15)),
        st.sampled_from(sorted({0, 1, top, top >> 1, (top >> 1) + 1})),
        st.integers(0, top),
    )


def states(
    isa: ir.Isa,
    *,
    memory_cells: int = 6,
    address_limit: int | None = None,
    only: Collection[str] | None = None,
) -> st.SearchStrategy[State]:
    """Concrete states of ``isa`` satisfying its invariants: every scalar and register drawn,
    and up to ``memory_cells`` non-zero cells per memory (at addresses below
    ``address_limit``, default: the whole address space). With ``only``, just those
    components and memories are drawn and the rest are zero. A scalar that an invariant
    defines (``C == e``) takes its value from the others."""
    parts: dict[str, st.SearchStrategy[object]] = {}
    for c in isa.state:
        if only is not None and c.name not in only:
            continue
        if c.count is None:
            parts[c.name] = _bits(c.width)
        elif c.count <= MAX_DRAWN_REGISTERS:
            parts[c.name] = st.lists(_bits(c.width), min_size=c.count, max_size=c.count)
        else:
            # Large files (descriptor tables, storage keys, I/O maps) are drawn sparse.
            parts[c.name] = st.dictionaries(
                st.integers(0, c.count - 1), _bits(c.width), max_size=memory_cells
            )
    for m in isa.memories:
        if only is not None and m.name not in only:
            continue
        limit = (1 << m.address_width) if address_limit is None else address_limit
        parts[m.name] = st.dictionaries(
            st.integers(0, limit - 1), _bits(m.cell_width), max_size=memory_cells
        )

    def build(values: dict[str, object]) -> State:
        return with_definitions(isa, interp.make_state(isa, values))  # type: ignore[arg-type]

    return st.fixed_dictionaries(parts).map(build).filter(lambda s: interp.invariants_hold(isa, s))


def with_definitions(isa: ir.Isa, state: State) -> State:
    """``state`` with each scalar that an invariant defines (``C == e``, e not reading C)
    recomputed from the others, in the order the invariants give."""
    for name, expr in _definitions(isa):
        state = interp.update(isa, state, {name: interp.evaluate(isa, expr, state)})
    return state


def _definitions(isa: ir.Isa) -> list[tuple[str, ir.Expr]]:
    """The invariants that define a scalar (``C == e``, e not reading C), as (C, e): drawn
    states take C's value from e instead of being drawn and mostly thrown away."""
    out = []
    for conjunct in (c for invariant in isa.invariants for c in _conjuncts(invariant)):
        if not (
            isinstance(conjunct, ir.Compare)
            and conjunct.op == "=="
            and isinstance(conjunct.left, ir.StateRead)
        ):
            continue
        name = conjunct.left.name
        reads = {e.name for e in ir.walk_expr(conjunct.right) if isinstance(e, ir.StateRead)}
        if name not in reads and isa.component(name).count is None:
            out.append((name, conjunct.right))
    return out


def _conjuncts(expr: ir.Expr) -> list[ir.Expr]:
    if isinstance(expr, ir.Binary) and expr.op == "and":
        return [*_conjuncts(expr.left), *_conjuncts(expr.right)]
    return [expr]


def instructions(
    isa: ir.Isa, names: Sequence[str] | None = None
) -> st.SearchStrategy[InstructionCall]:
    """An instruction of ``isa`` (optionally among ``names``) with valid operand values
    (its ``where`` clauses hold). Unmodelled instructions are never drawn."""
    chosen = [
        i for i in isa.instructions if i.unmodelled is None and (names is None or i.name in names)
    ]
    if not chosen:
        raise ValueError(f"{isa.name}: no instruction to draw from")

    def with_operands(instruction: ir.Instruction) -> st.SearchStrategy[InstructionCall]:
        fixed = _fixed_operands(instruction)
        operands = st.fixed_dictionaries(
            {
                p.name: st.just(fixed[p.name]) if p.name in fixed else _bits(p.width)
                for p in instruction.operands
            }
        )
        return operands.filter(lambda ops: interp.operands_valid(isa, instruction, ops)).map(
            lambda ops: (instruction.name, ops)
        )

    return st.sampled_from(chosen).flatmap(with_operands)


def _fixed_operands(instruction: ir.Instruction) -> dict[str, int]:
    """The operands a ``where`` clause fixes (``op == constant``): drawn as that constant
    rather than drawn at random and mostly rejected."""
    fixed = {}
    for conjunct in (c for where in instruction.where for c in _conjuncts(where)):
        if not (isinstance(conjunct, ir.Compare) and conjunct.op == "=="):
            continue
        sides = (conjunct.left, conjunct.right)
        for operand, value in (sides, sides[::-1]):
            if isinstance(operand, ir.OperandRef) and isinstance(value, ir.Const):
                fixed[operand.name] = value.value
    return fixed


def programs(
    isa: ir.Isa,
    *,
    max_length: int = 8,
    names: Sequence[str] | None = None,
    focus: Sequence[str] | None = None,
) -> st.SearchStrategy[Program]:
    """Straight-line programs of up to ``max_length`` instructions, run in order whatever
    the PC does (each line is one step; branches change the PC, not the sequence). With
    ``focus``, about half of the lines are drawn from those instructions (lines shrink
    towards the others)."""

    def build(calls: list[InstructionCall]) -> Program:
        lines = tuple(
            ProgramLine(
                index,
                name,
                tuple(sorted(ops.items(), key=lambda kv: _order(isa, name, kv[0]))),
                NO_SPAN,
            )
            for index, (name, ops) in enumerate(calls)
        )
        return Program(isa.name, (), lines, (), False)

    line = instructions(isa, names)
    if focus:
        line = st.one_of(line, instructions(isa, focus))
    return st.lists(line, min_size=1, max_size=max_length).map(build)


def _order(isa: ir.Isa, instruction: str, operand: str) -> int:
    params = [p.name for p in isa.instruction(instruction).operands]
    return params.index(operand)

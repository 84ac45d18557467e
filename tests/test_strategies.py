"""The public hypothesis strategies, used as the README shows."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer import interp, load_isa
from analyzer.strategies import instructions, programs, states

ISA = load_isa("isa_specs/mc68000.isa")
PG74 = load_isa("isa_specs/pg74.isa")


def my_emulator_step(state, name, operands):  # type: ignore[no-untyped-def]
    """A stand-in emulator: the reference itself."""
    return interp.step(ISA, state, name, operands)


@settings(max_examples=30)
@given(states(ISA), instructions(ISA))
def test_emulator_agrees_with_the_spec(state, call) -> None:  # type: ignore[no-untyped-def]
    name, operands = call
    expected = interp.step(ISA, state, name, operands)
    actual = my_emulator_step(state, name, operands)
    assert actual == expected


@settings(max_examples=30)
@given(states(PG74))
def test_states_respect_widths_and_invariants(state) -> None:  # type: ignore[no-untyped-def]
    assert interp.invariants_hold(PG74, state)
    for component in PG74.state:
        assert 0 <= state.scalars[component.name] < 1 << component.width


@settings(max_examples=30)
@given(programs(PG74, max_length=5))
def test_programs_are_short_and_valid(program) -> None:  # type: ignore[no-untyped-def]
    assert 1 <= len(program.lines) <= 5
    for line in program.lines:
        assert line.instruction is not None
        assert interp.operands_valid(PG74, line.instruction, dict(line.operands))


def test_programs_shrink_to_one_instruction() -> None:
    from hypothesis import find

    smallest = find(
        programs(PG74, max_length=5),
        lambda p: len(p.lines) >= 1,
        settings=settings(database=None, derandomize=True),
    )
    assert len(smallest.lines) == 1
    assert dict(smallest.lines[0].operands) in ({}, {"a": 0})


def test_instructions_respect_where_clauses() -> None:
    spec = PG74
    drawn = st.lists(instructions(spec), min_size=5, max_size=5)

    @settings(max_examples=10)
    @given(drawn)
    def check(calls) -> None:  # type: ignore[no-untyped-def]
        for name, operands in calls:
            assert interp.operands_valid(spec, name, operands)

    check()

"""Printing the IR and parsing it back gives the same IR."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer import ir, load_isa, load_isa_text
from analyzer.pretty import pretty

from .conftest import bundled_specs


@pytest.mark.parametrize("path", bundled_specs(), ids=lambda p: p.name)
def test_bundled_spec_round_trips(path: Path) -> None:
    isa = load_isa(path)
    again = load_isa_text(pretty(isa), "printed.isa")
    assert again == dataclasses.replace(isa, base=None)
    assert pretty(again) == pretty(isa)


BASE = """isa r "round trip"
state S : bits(1) mode
state A : bits(8) visible
state B : bits(16) control
state F : bits(8)[4] visible
memory M : bits(8)[bits(16)] little translate(a) { fault when a > B to a + B }
predicate supervisor = S == 1
predicate user = S == 0
"""
LEAVES = {8: ["A", "F[0]", "8'h7f", "M[B]"], 16: ["B", "16'h1234", "M[B, 2]"], 1: ["S"]}


def exprs(width: int, depth: int) -> st.SearchStrategy[str]:
    leaf = st.sampled_from(LEAVES.get(width, [f"{width}'h1"]))
    if depth == 0:
        return leaf
    sub = exprs(width, depth - 1)
    cond = conditions(depth - 1)
    options = [
        leaf,
        st.tuples(sub, st.sampled_from(["+", "-", "*", "&", "|", "^", "<<", ">>", ">>>"]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(["udiv", "urem", "sdiv", "srem", "rotl"]), sub, sub).map(
            lambda t: f"{t[0]}({t[1]}, {t[2]})"
        ),
        sub.map(lambda e: f"(~{e})"),
        st.tuples(cond, sub, sub).map(lambda t: f"(if {t[0]} then {t[1]} else {t[2]})"),
    ]
    if width == 16:
        options.append(exprs(8, depth - 1).map(lambda e: f"zext({e}, 16)"))
        options.append(
            st.tuples(exprs(8, depth - 1), exprs(8, depth - 1)).map(
                lambda t: f"concat({t[0]}, {t[1]})"
            )
        )
    if width == 8:
        options.append(exprs(16, depth - 1).map(lambda e: f"({e})[11:4]"))
    return st.one_of(options)


def conditions(depth: int) -> st.SearchStrategy[str]:
    compare = st.tuples(
        exprs(8, depth), st.sampled_from(["==", "!=", "<", ">=", "slt", "sge"]), exprs(8, depth)
    ).map(
        lambda t: f"{t[1]}({t[0]}, {t[2]})" if t[1] in ("slt", "sge") else f"({t[0]} {t[1]} {t[2]})"
    )
    if depth == 0:
        return compare
    sub = conditions(depth - 1)
    return st.one_of(
        compare,
        st.tuples(sub, sub).map(lambda t: f"({t[0]} and {t[1]})"),
        sub.map(lambda c: f"not {c}"),
        st.just("S"),
    )


@settings(max_examples=60)
@given(exprs(8, 3), exprs(16, 2), conditions(2))
def test_random_expressions_round_trip(a: str, b: str, c: str) -> None:
    text = BASE + (
        f'instruction i(n: bits(2)) cite "test" {{\n  trap privilege when {c}\n'
        f"  A := {a}\n"
        f"  if {c} {{ B := {b} }} else {{ F[n][3:0] := 4'h3 M[B] := A }}\n}}\n"
    )
    isa = load_isa_text(text, "gen.isa")
    again = load_isa_text(pretty(isa), "printed.isa")
    assert again == isa
    assert isinstance(isa.instructions[0].body[0], ir.Trap)

"""The concrete interpreter: unit tests on P&G's machine, a differential test against the z3
encoder (every instruction of every bundled spec, and of an inline spec that uses every IR
operator), and the classifier's control-sensitivity witnesses replayed concretely."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import z3
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from analyzer import ir
from analyzer.errors import SpecError
from analyzer.interp import (
    InterpError,
    MemoryImage,
    Registers,
    State,
    StepResult,
    TrapTaken,
    UnmodelledError,
    execute,
    interpreter,
    make_state,
    predicate,
    step,
    take_trap,
    update,
    view,
)
from analyzer.results import Entry, StateView, Verdict, Witness
from analyzer.smt.encode import Encoder, fresh_operands, fresh_state
from analyzer.validate import load_isa, load_isa_text

from .conftest import analysis_of

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "isa_specs"

# An ISA that exercises every IR node and operator, odd and wide widths, both byte orders,
# translated and physical multi-cell accesses, traps in branches, faults in conditions,
# functions that read memory, and opaque functions.
OPS_SPEC = """\
isa ops "Every IR operator, for the interpreter's differential test"
manual "none"

state S : bits(1) mode
state IE : bits(1) control
state BASE : bits(8) control mapping
state LIM : bits(8) control mapping
state CLK : bits(8) timing
state X : bits(8) visible
state Y : bits(8) visible
state W : bits(13) visible
state Q : bits(70) visible
state O : bits(1) visible
state R : bits(8)[4] visible
state FL : bits(1)[16] visible

memory M : bits(8)[bits(8)] little translate(a) {
  fault when a >= LIM
  fault when a == 8'h7f
  to BASE + a
}
memory N : bits(4)[bits(6)] big

predicate supervisor = S == 1
predicate user = S == 0
predicate vm_context = user and IE == 1
invariant LIM != 1

on trap (v: bits(8)) {
  physical M[0] := v
  physical M[1, 2] := concat(X, Y)
  S := 1
  IE := 0
}
on trap memory (v: bits(8)) {
  physical M[3] := 8'hee
  S := 1
}

opaque def mul8(a: bits(8), b: bits(8)) : bits(8) = a * b + 1
def addx(a: bits(8)) : bits(8) = a + X
def rd(a: bits(8)) : bits(8) = M[a]
def big(a: bits(8)) : bool = a > 8'h80

instruction arith(a: bits(8), b: bits(8)) cite "t" {
  X := a + b
  Y := a - b
  R[0] := a * b
  R[1] := -a
  R[2] := ~b
  R[3] := a & b | a ^ b
  W := zext(a, 13) * sext(b, 13) - 13'd1
  O := a == b
}

instruction shifts(a: bits(8), b: bits(8)) cite "t" {
  X := a << b
  Y := a >> b
  R[0] := a >>> b
  R[1] := rotl(a, b)
  R[2] := rotr(a, b)
  R[3] := a << b[2:0]
  W := rotl(W, zext(b, 13))
  O := rotr(O, b[0])
  Q := Q >>> zext(b, 70)
}

instruction divs(a: bits(8), b: bits(8)) cite "t" {
  X := udiv(a, b)
  Y := urem(a, b)
  R[0] := sdiv(a, b)
  R[1] := srem(a, b)
  W := sdiv(W, sext(b, 13))
  Q := srem(Q, zext(a, 70))
}

instruction compares(a: bits(8), b: bits(8)) cite "t" {
  FL[0] := a < b
  FL[1] := a <= b
  FL[2] := a > b
  FL[3] := a >= b
  FL[4] := slt(a, b)
  FL[5] := sle(a, b)
  FL[6] := sgt(a, b)
  FL[7] := sge(a, b)
  FL[8] := a == b
  FL[9] := a != b
  FL[10] := not (a < b) or a == 0 and b != 0
  FL[11] := big(a)
  FL[12] := true
  FL[13] := false
  FL[a[3:0]] := O
}

instruction bits_(a: bits(8), b: bits(8)) mnemonic "BITS" cite "t" {
  W := sext(a, 13)
  R[0] := zext(b[3:0], 8)
  X := concat(a[3:0], b[7:4])
  Y := concat(a[0], b[6:0])
  Q := concat(Q[69:62], a, Q[53:0])
  R[b[1:0]][3:3] := 1
  O := a[7]
}

instruction partial(a: bits(8), b: bits(8)) cite "t" {
  W[12:5] := b
  Q[0] := a[0]
  R[a[1:0]][7:4] := b[3:0]
}

instruction q(a: bits(8)) cite "t" {
  Q := Q * zext(a, 70) + concat(a, a, a, a, a, a, a, a, 6'b101010) - (Q << 70'd3)
}

instruction mem(a: bits(8), b: bits(8)) cite "t" {
  X := M[a]
  Y := physical M[b]
  W := M[a, 2][12:0]
  M[b, 2] := concat(X, Y)
  physical M[a] := b
  N[a[5:0], 3] := W[11:0]
  R[0] := zext(N[b[5:0], 2], 8)
}

instruction writes(a: bits(8), b: bits(8)) cite "t" {
  R[0] := 1
  R[a[1:0]] := 2
  R[b[1:0]] := R[a[1:0]] + 3
  M[a] := 1
  M[a] := 2
  M[b, 3] := 24'habcdef
  physical M[BASE + a] := 9
}

instruction traps(a: bits(8), b: bits(8)) cite "t" {
  trap other vector a when X == b
  let t = M[a]
  trap privilege vector 8'd2 when t == 0 and S == 0
  if M[b] > 8'd3 {
    trap always vector 8'd7 when Y[0]
    X := rd(b)
  } elif b[1] {
    X := M[a, 3][7:0]
    let u = X + 1
    Y := u
  } else {
    X := t
  }
  CLK := CLK + 1
}

instruction lazy(a: bits(8), b: bits(8)) cite "t" {
  X := if a < 8'd8 then M[a] else M[b]
  if a == 0 and M[b] == 0 {
    Y := 1
  }
  trap other vector M[a] when b == 8'd5
  IE := IE ^ 1
}

instruction calls(a: bits(8), b: bits(8)) cite "t" {
  X := mul8(a, b)
  Y := addx(a)
  R[0] := rd(a) + rd(b)
}

instruction wh(a: bits(8), b: bits(8)) cite "t" where a != 0 where b < 8'd16 {
  X := udiv(b, a)
  trap privilege when S == 0 and IE == 0
  S := IE
}

instruction never cite "t" {
  trap always
}

instruction todo cite "t" {
  unmodelled "later"
}
"""


# ---------------------------------------------------------------- the specs under test


def _load_specs() -> dict[str, ir.Isa | SpecError]:
    """Every bundled spec (a spec that does not load is kept as its error) and the ops spec."""
    specs: dict[str, ir.Isa | SpecError] = {}
    for path in sorted(SPECS.glob("*.isa")):
        try:
            specs[path.stem] = load_isa(path)
        except SpecError as exc:
            specs[path.stem] = exc
    specs["<ops>"] = load_isa_text(OPS_SPEC, "ops.isa")
    return specs


SPEC_TABLE = _load_specs()


def isa_of(spec: str) -> ir.Isa:
    """The loaded spec, failing the test if it does not load."""
    loaded = SPEC_TABLE[spec]
    if isinstance(loaded, SpecError):
        pytest.fail(f"{spec} does not load:\n{loaded}")
    return loaded


def _cases(*, include_ops: bool = True) -> list[Any]:
    """(spec, instruction) for every modelled instruction, or (spec, None) for a broken spec."""
    out = []
    for spec, loaded in SPEC_TABLE.items():
        if spec == "<ops>" and not include_ops:
            continue
        if isinstance(loaded, SpecError):
            out.append(pytest.param(spec, None, id=f"{spec}:<does not load>"))
            continue
        for instruction in loaded.instructions:
            if instruction.unmodelled is None:
                out.append(pytest.param(spec, instruction.name, id=f"{spec}:{instruction.name}"))
    return out


OPS = isa_of("<ops>")
PG74_PATH = SPECS / "pg74.isa"


@pytest.fixture(scope="module")
def pg74() -> ir.Isa:
    return load_isa(PG74_PATH)


# ---------------------------------------------------------------- unit tests: pg74


def pg_state(isa: ir.Isa, **values: Any) -> State:
    return make_state(isa, values)


def test_load_reads_through_relocation(pg74: ir.Isa) -> None:
    state = pg_state(pg74, M=1, L=0x100, B=0x20, P=7, E={0x105: 0xBEEF, 0x5: 0x1111})
    post = step(pg74, state, "load", {"a": 5}).state()
    assert post == update(pg74, state, {"A": 0xBEEF, "P": 8})


def test_store_writes_the_relocated_cell_only(pg74: ir.Isa) -> None:
    state = pg_state(pg74, M=1, L=0x100, B=0x20, A=0x4242)
    post = step(pg74, state, "store", {"a": 0x1F}).state()
    assert post.cell("E", 0x11F) == 0x4242
    assert post == update(pg74, state, {"E[0x11f]": 0x4242, "P": 1})
    assert state.cell("E", 0x11F) == 0  # the pre-state is a value: untouched


def test_relocation_wraps_around_the_address_space(pg74: ir.Isa) -> None:
    state = pg_state(pg74, L=0xFFFF, B=0xFFFF, E={0x0002: 77})
    assert step(pg74, state, "load", {"a": 3}).state()["A"] == 77


@pytest.mark.parametrize("instruction", ["load", "store", "add"])
def test_bounds_fault_is_a_memory_trap(pg74: ir.Isa, instruction: str) -> None:
    state = pg_state(pg74, M=1, L=0x100, B=0x20, A=1)
    assert step(pg74, state, instruction, {"a": 0x20}) == StepResult(
        None, TrapTaken(ir.TrapKind.MEMORY, None)
    )
    assert not step(pg74, state, instruction, {"a": 0x1F}).trapped


def test_add_wraps(pg74: ir.Isa) -> None:
    state = pg_state(pg74, A=0xFFFF, B=0x10, E={3: 2})
    assert step(pg74, state, "add", {"a": 3}).state()["A"] == 1


def test_jump_sets_p(pg74: ir.Isa) -> None:
    state = pg_state(pg74, P=5)
    assert step(pg74, state, "jump", {"a": 0xABCD}).state()["P"] == 0xABCD


@pytest.mark.parametrize("mode", [0, 1])
def test_svc_always_traps(pg74: ir.Isa, mode: int) -> None:
    state = pg_state(pg74, M=mode, B=0xFFFF)
    assert step(pg74, state, "svc").trap == TrapTaken(ir.TrapKind.ALWAYS, 1)


def test_trap_handler_saves_and_loads_psw(pg74: ir.Isa) -> None:
    state = pg_state(
        pg74,
        M=1,
        P=0x1234,
        L=0x300,
        B=0x40,
        A=9,
        T=3,
        E={4: 0xFFFE, 5: 0x0200, 6: 0x0010, 7: 0x0800, 0x310: 5},
    )
    after = take_trap(pg74, state, ir.TrapKind.ALWAYS, 1)
    # E[0] holds the cause above the mode; E[1..3] the old P, L, B; M, P, L, B come from
    # E[4..7] (M from bit 0 of E[4]).
    assert after == update(
        pg74,
        state,
        {
            "E[0]": 0x1001,
            "E[1]": 0x1234,
            "E[2]": 0x300,
            "E[3]": 0x40,
            "M": 0,
            "P": 0x0200,
            "L": 0x0010,
            "B": 0x0800,
        },
    )


def test_execute_enters_the_handler(pg74: ir.Isa) -> None:
    state = pg_state(pg74, M=1, P=0x10, B=0xFFFF, E={5: 0x99})
    after, trap = execute(pg74, state, "lpsw", {"a": 0})
    assert trap == TrapTaken(ir.TrapKind.PRIVILEGE, 2)
    assert after.cell("E", 0) == 0x2001 and after["P"] == 0x99 and after["M"] == 0


def test_lpsw_traps_in_user_mode(pg74: ir.Isa) -> None:
    state = pg_state(pg74, M=1, B=0xFFFF)
    assert step(pg74, state, "lpsw", {"a": 0}).trap == TrapTaken(ir.TrapKind.PRIVILEGE, 2)


def test_privilege_trap_comes_before_the_memory_fault(pg74: ir.Isa) -> None:
    # In text order the privilege check precedes the reads, so it wins even out of bounds.
    state = pg_state(pg74, M=1, B=0)
    assert step(pg74, state, "lpsw", {"a": 0}).trap == TrapTaken(ir.TrapKind.PRIVILEGE, 2)


def test_lpsw_loads_the_psw_in_supervisor_mode(pg74: ir.Isa) -> None:
    state = pg_state(
        pg74, M=0, L=0x100, B=0x20, E={0x110: 0xFFF3, 0x111: 0x42, 0x112: 0x500, 0x113: 0x30}
    )
    post = step(pg74, state, "lpsw", {"a": 0x10}).state()
    assert (post["M"], post["P"], post["L"], post["B"]) == (1, 0x42, 0x500, 0x30)


def test_every_cell_of_a_multicell_access_is_checked(pg74: ir.Isa) -> None:
    # E[a + 3] is the first cell out of bounds: the whole instruction faults.
    state = pg_state(pg74, M=0, B=0x13)
    assert step(pg74, state, "lpsw", {"a": 0x10}).trap == TrapTaken(ir.TrapKind.MEMORY, None)
    assert not step(pg74, update(pg74, state, {"B": 0x14}), "lpsw", {"a": 0x10}).trapped


def test_mode_and_location_reads(pg74: ir.Isa) -> None:
    supervisor = pg_state(pg74, M=0, L=0x700)
    assert step(pg74, supervisor, "rdmode").state()["A"] == 0
    assert step(pg74, supervisor, "lra", {"a": 0x10}).state()["A"] == 0x710
    user = update(pg74, supervisor, {"M": 1, "T": 0x55})
    assert step(pg74, user, "rdmode").trap == TrapTaken(ir.TrapKind.PRIVILEGE, 2)
    assert step(pg74, user, "rdtimer").state()["A"] == 0x55
    assert step(pg74, user, "settimer").trapped
    assert step(pg74, user, "halt").trapped


def test_predicates(pg74: ir.Isa) -> None:
    user = pg_state(pg74, M=1)
    supervisor = pg_state(pg74, M=0)
    assert predicate(pg74, "user", user) and predicate(pg74, "vm_context", user)
    assert predicate(pg74, "supervisor", supervisor)
    assert not predicate(pg74, "user", supervisor)
    with pytest.raises(InterpError, match=r"no predicate 'usr' \(did you mean 'user'\?\)"):
        predicate(pg74, "usr", user)


def test_views_through_the_translation(pg74: ir.Isa) -> None:
    state = pg_state(pg74, L=0x10, B=2, E={0x11: 6})
    assert view(pg74, state, "E", 1) == 6
    assert view(pg74, state, "E", 2) is None


def test_state_building_errors(pg74: ir.Isa) -> None:
    with pytest.raises(InterpError, match=r"'Acc' is not a component.*did you mean 'A'"):
        make_state(pg74, {"Acc": 1})
    with pytest.raises(InterpError, match=r"'M': 0x2 does not fit in bits\(1\)"):
        make_state(pg74, {"M": 2})
    with pytest.raises(InterpError, match=r"address"):
        make_state(pg74, {"E": {0x10000: 1}})
    trapped = step(pg74, pg_state(pg74, M=1), "svc")
    with pytest.raises(InterpError, match="trapped"):
        trapped.state()


def test_operand_errors(pg74: ir.Isa) -> None:
    state = pg_state(pg74)
    with pytest.raises(InterpError, match=r"operand 'a' is missing|takes operands"):
        step(pg74, state, "load", {})
    with pytest.raises(InterpError, match="does not fit"):
        step(pg74, state, "load", {"a": 1 << 16})
    with pytest.raises(InterpError, match=r"no instruction 'lod'.*'load'"):
        step(pg74, state, "lod", {"a": 0})


def test_compiled_once_per_isa(pg74: ir.Isa) -> None:
    assert interpreter(pg74) is interpreter(pg74)


# ---------------------------------------------------------------- unit tests: the ops spec


def test_unmodelled_instruction_raises() -> None:
    with pytest.raises(
        UnmodelledError,
        match=r"ops.isa:\d+:\d+: instruction 'todo' is not "
        r"modelled: later",
    ):
        step(OPS, make_state(OPS), "todo")


def test_where_clauses_are_enforced() -> None:
    machine = interpreter(OPS)
    assert not machine.operands_valid("wh", {"a": 0, "b": 1})
    assert machine.operands_valid("wh", {"a": 1, "b": 15})
    with pytest.raises(InterpError, match="violate its 'where' clauses"):
        step(OPS, make_state(OPS), "wh", {"a": 0, "b": 1})


def test_kind_handler_and_default_handler() -> None:
    state = make_state(OPS, {"X": 0xAB, "Y": 0xCD})
    memory = take_trap(OPS, state, ir.TrapKind.MEMORY, None)
    assert memory == update(OPS, state, {"M[3]": 0xEE, "S": 1})
    other = take_trap(OPS, state, ir.TrapKind.OTHER, 0x21)
    # little-endian: M[1] is the low byte of concat(X, Y)
    assert other == update(OPS, state, {"M[0]": 0x21, "M[1]": 0xCD, "M[2]": 0xAB, "S": 1})


def test_no_handler_is_an_error() -> None:
    isa = load_isa_text(
        'isa h "h"\nstate S : bits(1) mode\npredicate supervisor = S == 1\n'
        'predicate user = S == 0\ninstruction svc cite "t" { trap always }\n',
        "h.isa",
    )
    trap = step(isa, make_state(isa), "svc").trap
    assert trap == TrapTaken(ir.TrapKind.ALWAYS, None)
    with pytest.raises(InterpError, match="no 'on trap' handler for always traps"):
        take_trap(isa, make_state(isa), trap.kind, trap.vector)


def test_little_endian_multicell_and_later_writes_win() -> None:
    state = make_state(OPS, {"LIM": 0xFF, "BASE": 0x10})
    post = step(OPS, state, "writes", {"a": 1, "b": 0x40}).state()
    assert [post.cell("M", 0x50 + i) for i in range(3)] == [0xEF, 0xCD, 0xAB]
    assert post.cell("M", 0x11) == 9  # the physical write to BASE + a comes last
    # R[0] := 1, then R[1] := 2, then R[0] := R[1] + 3 with R[1] read in the pre-state (0)
    assert post.files["R"] == (3, 2, 0, 0)


def test_big_endian_cells() -> None:
    state = make_state(OPS, {"LIM": 0xFF, "W": 0xABC, "N": {5: 0x1, 6: 0x2}})
    post = step(OPS, state, "mem", {"a": 0x05, "b": 0x05}).state()
    # big-endian: the first cell is the most significant
    assert [post.cell("N", 5 + i) for i in range(3)] == [0xA, 0xB, 0xC]
    assert post.files["R"][0] == 0x12  # read in the pre-state: assignments are parallel


def test_division_by_zero_and_signed_division() -> None:
    post = step(OPS, make_state(OPS, {"W": 0x1000}), "divs", {"a": 0x85, "b": 0}).state()
    assert (post["X"], post["Y"]) == (0xFF, 0x85)  # udiv x 0 = ones, urem x 0 = x
    assert post["R[0]"] == 1  # sdiv of a negative by 0 is 1
    assert post["R[1]"] == 0x85
    assert post["W"] == 1
    post = step(OPS, make_state(OPS), "divs", {"a": 0xF9, "b": 0x02}).state()  # -7 / 2
    assert (post["R[0]"], post["R[1]"]) == (0xFD, 0xFF)  # -3 rem -1


def test_shifts_by_the_width_or_more() -> None:
    post = step(OPS, make_state(OPS, {"Q": 1 << 69}), "shifts", {"a": 0x81, "b": 9}).state()
    assert (post["X"], post["Y"], post["R[0]"]) == (0, 0, 0xFF)
    assert post["R[1]"] == 0x03 and post["R[2]"] == 0xC0  # rotations go by b mod 8
    assert post["Q"] == ((1 << 70) - 1) ^ ((1 << 60) - 1)


def test_large_register_files_are_sparse() -> None:
    isa = load_isa_text(
        'isa big "big"\nstate S : bits(1) mode\nstate T : bits(64)[1 << 40] control\n'
        "predicate supervisor = S == 1\npredicate user = S == 0\n"
        'instruction put(i: bits(40), v: bits(8)) cite "t" { T[i] := zext(v, 64) + T[i + 1] }\n',
        "big.isa",
    )
    state = make_state(isa, {"T": {5: 10}, "T[7]": 1})
    assert isinstance(state.files["T"], MemoryImage)
    post = step(isa, state, "put", {"i": 4, "v": 3}).state()
    assert list(post.files["T"].items()) == [(4, 13), (5, 10), (7, 1)]  # type: ignore[union-attr]
    assert post.register("T", (1 << 40) - 1) == 0
    with pytest.raises(TypeError, match="sparse"):
        tuple(post.files["T"])


def test_memory_image_is_persistent() -> None:
    image = MemoryImage({1: 2, 0x1000: 3})
    changed = image.updated([(1, 0), (2, 5), (2, 6)])
    assert image[1] == 2 and changed[1] == 0 and changed[2] == 6
    assert list(changed.items()) == [(2, 6), (0x1000, 3)]
    assert changed == MemoryImage({2: 6, 0x1000: 3, 7: 0})
    assert len(changed) == 2


# ---------------------------------------------------------------- the z3 side


def _z3_value(term: Any) -> int:
    if z3.is_true(term):
        return 1
    if z3.is_false(term):
        return 0
    if z3.is_bv_value(term):
        return int(term.as_long())
    raise AssertionError(f"z3 did not reduce the term to a value: {term}")


class Z3Side:
    """One instruction encoded once by the z3 backend (opaque functions interpreted), then
    evaluated on concrete states by substitution and simplification."""

    def __init__(self, isa: ir.Isa, instruction: ir.Instruction) -> None:
        self.isa = isa
        self.enc = Encoder(isa, abstract=False)
        self.pre = fresh_state(isa, "pre")
        self.ops = fresh_operands(instruction, "op")
        self.run = self.enc.execute(instruction, self.pre, self.ops, "post")
        self.where = self.enc.where(instruction, self.ops, self.pre)
        self.invariants = self.enc.invariants(self.pre)
        self.predicates = {p.name: self.enc.predicate(p.name, self.pre) for p in isa.predicates}
        self.memories = {m.name: m for m in isa.memories}
        self.files = [c for c in isa.state if c.count is not None]
        self.scalars = [c for c in isa.state if c.count is None]
        # The registers and physical cells the execution touches, as terms over the pre-state.
        self.cells: list[tuple[str, Any]] = []
        for access in self.run.accesses:
            memory = self.memories.get(access.array)
            address = access.index
            if memory is not None and not access.physical:
                _, address = self.enc.translate(self.pre, memory, address)
            self.cells.append((access.array, address))

    def substitution(self, state: State, operands: Mapping[str, int]) -> list[tuple[Any, Any]]:
        """Concrete values for the pre-state's and the operands' z3 constants."""
        pairs = [
            (self.pre[c.name], z3.BitVecVal(state.scalars[c.name], c.width)) for c in self.scalars
        ]
        pairs += [
            (term, z3.BitVecVal(operands[name], term.size())) for name, term in self.ops.items()
        ]
        return pairs + self.array_substitution(state)

    def array_substitution(self, state: State) -> list[tuple[Any, Any]]:
        """Register files and memories of ``state`` as z3 arrays (K and Store chains)."""
        pairs: list[tuple[Any, Any]] = []
        for c in self.files:
            array = z3.K(z3.BitVecSort(c.index_width), z3.BitVecVal(0, c.width))
            for index, value in nonzero(state.files[c.name]):
                array = z3.Store(
                    array, z3.BitVecVal(index, c.index_width), z3.BitVecVal(value, c.width)
                )
            pairs.append((self.pre[c.name], array))
        for m in self.memories.values():
            array = z3.K(z3.BitVecSort(m.address_width), z3.BitVecVal(0, m.cell_width))
            for address, value in state.memories[m.name].items():
                array = z3.Store(
                    array, z3.BitVecVal(address, m.address_width), z3.BitVecVal(value, m.cell_width)
                )
            pairs.append((self.pre[m.name], array))
        return pairs

    @staticmethod
    def value(term: Any, pairs: list[tuple[Any, Any]]) -> int:
        return _z3_value(z3.simplify(z3.substitute(term, *pairs)))

    @classmethod
    def values(cls, terms: list[Any], pairs: list[tuple[Any, Any]]) -> list[int]:
        """Several terms at once: one substitution of their concatenation (booleans as one
        bit), split again; term by term if z3 does not fold the whole to a value."""
        parts = [
            z3.If(t, z3.BitVecVal(1, 1), z3.BitVecVal(0, 1)) if z3.is_bool(t) else t for t in terms
        ]
        out: list[int] = []
        chunk: list[Any] = []
        for part in [*parts, None]:
            # z3 hands numerals to Python as decimal text: keep each chunk under 4096 bits.
            if part is None or (chunk and sum(c.size() for c in chunk) + part.size() > 4096):
                if chunk:
                    out += cls._chunk_values(chunk, pairs)
                chunk = []
            if part is not None:
                chunk.append(part)
        return out

    @classmethod
    def _chunk_values(cls, parts: list[Any], pairs: list[tuple[Any, Any]]) -> list[int]:
        whole = parts[0] if len(parts) == 1 else z3.Concat(*parts)
        folded = z3.simplify(z3.substitute(whole, *pairs))
        if not z3.is_bv_value(folded):
            return [cls.value(t, pairs) for t in parts]
        number = folded.as_long()
        out = []
        for part in reversed(parts):
            out.append(number & ((1 << part.size()) - 1))
            number >>= part.size()
        return out[::-1]

    def touched(self, pairs: list[tuple[Any, Any]]) -> set[tuple[str, int]]:
        """The registers and physical memory cells the execution reads or writes in this
        concrete state, as (file or memory, index or address)."""
        addresses = self.values([a for _, a in self.cells], pairs)
        return {(name, a) for (name, _), a in zip(self.cells, addresses, strict=True)}

    def first_trap(self, pairs: list[tuple[Any, Any]]) -> TrapTaken | None:
        whens = self.values([t.when for t in self.run.traps], pairs)
        for trap, holds in zip(self.run.traps, whens, strict=True):
            if holds:
                vector = None if trap.vector is None else self.value(trap.vector, pairs)
                return TrapTaken(trap.kind, vector)
        return None

    def post(
        self, pairs: list[tuple[Any, Any]], cells: list[tuple[str, int]]
    ) -> tuple[dict[str, int], dict[tuple[str, int], int]]:
        """The post-state's scalars, and its registers and physical memory cells at the given
        (file or memory, index or address)."""
        terms = [self.run.post[c.name] for c in self.scalars]
        widths = {c.name: c.index_width for c in self.files}
        widths.update({m.name: m.address_width for m in self.memories.values()})
        terms += [z3.Select(self.run.post[a], z3.BitVecVal(i, widths[a])) for a, i in cells]
        found = iter(self.values(terms, pairs))
        scalars = {c.name: next(found) for c in self.scalars}
        return scalars, {cell: next(found) for cell in cells}

    def valid_operands(self, drawn: Mapping[str, int]) -> dict[str, int] | None:
        """Operands satisfying the where clauses, as many of them as possible as drawn (None:
        no operands are valid)."""
        opt = z3.Optimize()
        opt.add(self.where)
        for name, term in self.ops.items():
            opt.add_soft(term == z3.BitVecVal(drawn[name], term.size()))
        if opt.check() != z3.sat:
            return None
        model = opt.model()
        return {n: model.eval(t, model_completion=True).as_long() for n, t in self.ops.items()}

    def valid_scalars(self, state: State) -> dict[str, int] | None:
        """Scalar values under which the invariants hold, as many as possible as in ``state``
        (registers and memory kept as they are; None: impossible)."""
        opt = z3.Optimize()
        opt.add(z3.substitute(self.invariants, *self.array_substitution(state)))
        for c in self.scalars:
            opt.add_soft(self.pre[c.name] == z3.BitVecVal(state.scalars[c.name], c.width))
        if opt.check() != z3.sat:
            return None
        model = opt.model()
        return {
            c.name: model.eval(self.pre[c.name], model_completion=True).as_long()
            for c in self.scalars
        }


def nonzero(cells: Registers | MemoryImage) -> Iterator[tuple[int, int]]:
    """The non-zero registers or cells, as (index, value)."""
    if isinstance(cells, MemoryImage):
        yield from cells.items()
    else:
        yield from ((i, v) for i, v in enumerate(cells) if v)


@functools.cache
def z3_side(spec: str, name: str) -> Z3Side:
    isa = isa_of(spec)
    return Z3Side(isa, isa.instruction(name))


# ---------------------------------------------------------------- random concrete inputs


def bits(width: int) -> st.SearchStrategy[int]:
    """Values of a width, biased toward the edges and small numbers (where clauses, bounds)."""
    top = (1 << width) - 1
    edges = sorted(
        {0, 1, 2, top, top - 1, 1 << (width - 1), (1 << (width - 1)) - 1} & set(range(top + 1))
        if width < 16
        else {0, 1, 2, top, top - 1, 1 << (width - 1), (1 << (width - 1)) - 1}
    )
    return st.one_of(st.sampled_from(edges), st.integers(0, min(top, 16)), st.integers(0, top))


SMALL_FILE = 64
"""A register file this small is drawn and compared whole; a larger one (x86's descriptor
tables) sparsely, at a few random indices and at those the instruction touches."""


@st.composite
def states(draw: st.DrawFn, isa: ir.Isa) -> State:
    """A random state: every register of a small file drawn, a few registers of a large one,
    and a few random memory cells."""
    values: dict[str, Any] = {}
    for c in isa.state:
        if c.count is None:
            values[c.name] = draw(bits(c.width))
        elif c.count <= SMALL_FILE:
            values[c.name] = draw(st.lists(bits(c.width), min_size=c.count, max_size=c.count))
        else:
            values[c.name] = draw(
                st.dictionaries(st.integers(0, c.count - 1), bits(c.width), max_size=4)
            )
    for m in isa.memories:
        values[m.name] = draw(
            st.dictionaries(bits(m.address_width), bits(m.cell_width), max_size=4)
        )
    return make_state(isa, values)


def operand_values(instruction: ir.Instruction) -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({p.name: bits(p.width) for p in instruction.operands})


def fill_touched(
    data: st.DataObject, side: Z3Side, isa: ir.Isa, state: State, operands: Mapping[str, int]
) -> State:
    """Give random contents to the memory cells and large-file registers the instruction
    touches (twice, so addresses read from memory are filled too), so that they do not read
    as zeros."""
    widths = {c.name: c.width for c in side.files if (c.count or 1) > SMALL_FILE}
    widths.update({m.name: m.cell_width for m in side.memories.values()})
    filled: set[tuple[str, int]] = set()
    for _ in range(2):
        touched = {
            (n, a) for n, a in side.touched(side.substitution(state, operands)) if n in widths
        }
        touched -= filled
        if not touched:
            break
        cells = {
            f"{name}[{address}]": data.draw(bits(widths[name])) for name, address in sorted(touched)
        }
        state = update(isa, state, cells)
        filled |= touched
    return state


def compare_with_z3(data: st.DataObject, spec: str, name: str | None) -> None:
    """Draw a valid (state, operands) and check the interpreter and z3 agree on it."""
    if name is None:
        isa_of(spec)  # fails with the spec's errors
        return
    isa = isa_of(spec)
    instruction = isa.instruction(name)
    machine = interpreter(isa)
    side = z3_side(spec, name)
    state = data.draw(states(isa), label="state")
    operands = data.draw(operand_values(instruction), label="operands")
    if not machine.operands_valid(instruction, operands):
        # A narrow where clause (mftb's TBR is 268 or 269): let z3 repair the draw.
        repaired = side.valid_operands(operands)
        assume(repaired is not None)
        assert repaired is not None
        operands = repaired
    if not machine.invariants_hold(state):
        scalars = side.valid_scalars(state)
        assume(scalars is not None)
        assert scalars is not None
        state = update(isa, state, scalars)
    state = fill_touched(data, side, isa, state, operands)
    assume(machine.invariants_hold(state))
    sizes = {m.name: 1 << m.address_width for m in side.memories.values()}
    sizes.update({c.name: c.count or 1 for c in side.files if (c.count or 1) > SMALL_FILE})
    probes = data.draw(
        st.lists(st.tuples(st.sampled_from(sorted(sizes)), st.integers(0, 2**64 - 1)), max_size=3)
        if sizes
        else st.just([]),
        label="probes",
    )
    pairs = side.substitution(state, operands)

    # Conditions: where, invariants and predicates agree.
    names = [p.name for p in isa.predicates]
    conditions = side.values(
        [side.where, side.invariants, *[side.predicates[n] for n in names]], pairs
    )
    assert conditions[:2] == [1, 1], "z3 rejects the where clauses or invariants"
    for predicate_name, holds in zip(names, conditions[2:], strict=True):
        assert machine.predicate(predicate_name, state) == holds, f"predicate {predicate_name}"

    result = machine.step(state, instruction, operands)
    problem = disagreement(side, state, operands, result, probes)
    assert problem is None, problem


def disagreement(
    side: Z3Side,
    state: State,
    operands: Mapping[str, int],
    result: StepResult,
    probes: Iterable[tuple[str, int]] = (),
) -> str | None:
    """Where the interpreter's ``result`` and the z3 encoding differ on this state: the first
    trap, or the post-state (every scalar; every register of a small file; elsewhere the cells
    either side holds non-zero, those the execution touches and the ``probes``)."""
    pairs = side.substitution(state, operands)
    expected_trap = side.first_trap(pairs)
    if result.trap != expected_trap:
        return f"first trap: interpreter {result.trap}, z3 {expected_trap}"
    if expected_trap is not None:
        return None
    post = result.state()
    sizes = {m.name: 1 << m.address_width for m in side.memories.values()}
    sizes.update({c.name: c.count or 1 for c in side.files if (c.count or 1) > SMALL_FILE})
    cells = {
        (c.name, i) for c in side.files if (c.count or 1) <= SMALL_FILE for i in range(c.count or 1)
    }
    for n in sizes:
        either = (
            (state.memories[n], post.memories[n])
            if n in side.memories
            else (state.files[n], post.files[n])
        )
        cells |= {(n, a) for cells_ in either for a, _ in nonzero(cells_)}
    cells |= side.touched(pairs)
    cells |= {(n, a % sizes[n]) for n, a in probes}
    scalars, arrays = side.post(pairs, sorted(cells))
    for c in side.scalars:
        if post.scalars[c.name] != scalars[c.name]:
            return (
                f"component {c.name}: interpreter {post.scalars[c.name]:#x}, "
                f"z3 {scalars[c.name]:#x}"
            )
    for (name_, index), value in sorted(arrays.items()):
        got = post.cell(name_, index) if name_ in side.memories else post.register(name_, index)
        if got != value:
            return f"{name_}[{index:#x}]: interpreter {got:#x}, z3 {value:#x}"
    return None


DIFF_CASES = _cases()
LARGE_SPEC_FORMS = 250
SAMPLE_STRIDE = 6
SWEEP_EXAMPLES = int(os.environ.get("PGV_SWEEP_EXAMPLES", "50"))
"""Examples per instruction in the slow sweep (about 1,600 instructions in all)."""


def _sampled(cases: list[Any]) -> list[Any]:
    """Every case of the smaller specs and every SAMPLE_STRIDE-th form of the larger ones
    (the slow sweep runs them all): keeps the default suite within its time budget."""
    counts: dict[str, int] = {}
    for case in cases:
        counts[case.values[0]] = counts.get(case.values[0], 0) + 1
    seen: dict[str, int] = {}
    out = []
    for case in cases:
        spec = case.values[0]
        seen[spec] = seen.get(spec, 0) + 1
        if counts[spec] <= LARGE_SPEC_FORMS or seen[spec] % SAMPLE_STRIDE == 1:
            out.append(case)
    return out


def _differential_test(cases: list[Any], max_examples: int) -> Any:
    """A hypothesis test comparing the interpreter with z3 on each of ``cases``.

    There is one such test function per spec, never one for all: hypothesis's pytest plugin
    wraps a parametrized test's settings in one more layer per case it runs, and with the
    derandomized "ci" profile (no database) reading the settings recurses through every layer,
    so a single function with about a thousand cases overflows the stack."""

    @pytest.mark.parametrize(("spec", "name"), cases)
    @settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(data=st.data())
    def test(data: st.DataObject, spec: str, name: str | None) -> None:
        compare_with_z3(data, spec, name)

    return test


def _slug(spec: str) -> str:
    return re.sub(r"\W+", "_", spec).strip("_")


def _register_differential_tests() -> None:
    """test_every_operator_agrees_with_z3 (the inline spec), then for each bundled spec
    test_interpreter_agrees_with_z3_<spec> (sampled) and a slow full sweep."""
    by_spec: dict[str, list[Any]] = {}
    for case in DIFF_CASES:
        by_spec.setdefault(case.values[0], []).append(case)
    module = globals()
    for spec, cases in by_spec.items():
        if spec == "<ops>":
            module["test_every_operator_agrees_with_z3"] = _differential_test(cases, 40)
            continue
        slug = _slug(spec)
        module[f"test_interpreter_agrees_with_z3_{slug}"] = _differential_test(_sampled(cases), 3)
        module[f"test_interpreter_agrees_with_z3_sweep_{slug}"] = pytest.mark.slow(
            _differential_test(cases, SWEEP_EXAMPLES)
        )


_register_differential_tests()


# ---------------------------------------------------------------- witnesses replayed
#
# The witnesses replayed are the analysis's own (those the reports show). A witness shows
# only some entries of its states (MODEL.md: the ones that matter) and gives its pre-states
# in full as inputs (non-zero entries). Replaying one means running the interpreter on its
# first input, zero everywhere else.
# When the replay does not do what the witness claims, z3 is run on the same state: if it
# disagrees with the interpreter, that is a backend mismatch and the test fails; if it agrees
# and the instruction calls an opaque function (which z3 leaves uninterpreted in the witness's
# model and the interpreter computes), the witness is xfail with that reason; otherwise the
# witness's inputs were incomplete and the test fails.

_ENTRY = re.compile(r"^(?P<name>[^\[]+)\[(?P<index>[^\] ]+)(?P<phys> phys)?\]$")


def _proved_witness(spec: str, name: str, prop: str) -> Witness | str:
    """The witness of ``prop`` that the analysis of the spec gives an instruction (the one
    the reports show), or why there is none."""
    result = next(r for r in analysis_of(spec).instructions if r.name == name)
    finding = result.finding(prop)
    if finding.verdict is not Verdict.PROVED:
        return f"{prop} is {finding.verdict.value}: {finding.reason}"
    assert finding.witness is not None, "a PROVED 'exists' carries a witness"
    return finding.witness


@functools.cache
def control_witness(spec: str, name: str) -> Witness | str:
    """The control-sensitivity witness of an instruction, or why there is none."""
    return _proved_witness(spec, name, "control_sensitive")


def _entries(view_: StateView) -> Iterator[tuple[Entry, str, int | None, bool]]:
    for entry in view_.entries:
        match = _ENTRY.match(entry.name)
        if match is None:
            yield entry, entry.name, None, False
        else:
            yield entry, match["name"], int(match["index"], 0), bool(match["phys"])


def state_from_view(isa: ir.Isa, view_: StateView) -> tuple[State, list[str]]:
    """The view's entries, 0 everywhere else, and the view cells this completion contradicts.
    A memory entry without 'phys' is a cell of the program's view (0 where the address faults):
    its value goes to the physical cell the completion's translation names."""
    memories = {m.name: m for m in isa.memories}
    direct: dict[str, int] = {}
    through: list[tuple[Entry, str, int]] = []
    for entry, name, index, physical in _entries(view_):
        if index is not None and name in memories and not physical:
            through.append((entry, name, index))
        else:
            direct[f"{name}[{index}]" if index is not None else name] = entry.value
    state = make_state(isa, direct)
    machine = interpreter(isa)
    contradicted = []
    for entry, name, index in through:
        faults, address = machine.translate(state, name, index)
        if not faults:
            state = update(isa, state, {f"{name}[{address}]": entry.value})
        elif entry.value:
            contradicted.append(f"{entry.name} holds {entry.value:#x} in the witness but faults")
    return state, contradicted


def read_entry(isa: ir.Isa, state: State, entry: Entry) -> int:
    """An entry's value in ``state``, read the way the witness shows it."""
    match = _ENTRY.match(entry.name)
    if match is None:
        return state.scalars[entry.name]
    name, index = match["name"], int(match["index"], 0)
    memories = {m.name: m for m in isa.memories}
    if name not in memories:
        return state.register(name, index)
    if match["phys"]:
        return state.cell(name, index)
    cell = view(isa, state, name, index)
    return 0 if cell is None else cell


@dataclass(frozen=True)
class Replay:
    """A witness replayed from its first state completed with zeros."""

    spec: str
    name: str
    witness: Witness
    pre: State
    result: StepResult
    contradicted: tuple[str, ...]
    """View cells of the witness that the completion contradicts."""
    backend_mismatch: str | None
    """Where z3 and the interpreter disagree on the completed state, if anywhere."""


def opaque_called(isa: ir.Isa, name: str) -> list[str]:
    """The opaque functions an instruction calls, directly or through other functions: z3
    leaves them uninterpreted, so a model may choose values the interpreter does not."""
    functions = {f.name: f for f in isa.functions}
    pending = [e for st in ir.walk_stmts(isa.instruction(name).body) for e in ir.stmt_exprs(st)]
    seen: set[str] = set()
    while pending:
        for e in ir.walk_expr(pending.pop()):
            if isinstance(e, ir.Call) and e.function in functions and e.function not in seen:
                seen.add(e.function)
                pending.append(functions[e.function].body)
    return sorted(f for f in seen if functions[f].opaque)


@functools.cache
def replay(spec: str, name: str) -> Replay:
    witness = control_witness(spec, name)
    if isinstance(witness, str):
        pytest.skip(witness)
    isa = isa_of(spec)
    pre, contradicted = state_from_view(isa, witness.inputs[0])
    operands = {e.name: e.value for e in witness.operands}
    result = step(isa, pre, name, operands)
    mismatch = disagreement(z3_side(spec, name), pre, operands, result)
    return Replay(spec, name, witness, pre, result, tuple(contradicted), mismatch)


def _explain(run: Replay, problem: str) -> None:
    """Fail on a backend mismatch; otherwise the witness does not determine the outcome."""
    if run.backend_mismatch is not None:
        pytest.fail(
            f"{problem}, and z3 and the interpreter disagree on the completed state: "
            f"{run.backend_mismatch}"
        )
    isa = isa_of(run.spec)
    opaque = opaque_called(isa, run.name)
    notes = list(run.contradicted)
    if not opaque:
        # A witness's inputs are complete: only an opaque function, which z3 leaves
        # uninterpreted and the interpreter computes, may make a replay differ.
        pytest.fail(f"{problem}, though the witness's inputs are complete {notes}")
    notes.append(f"its model leaves opaque {', '.join(opaque)} uninterpreted")
    pytest.xfail(
        f"{problem}: z3 agrees with the interpreter on the witness's inputs, so the model's "
        f"choice for an opaque function decides the outcome ({'; '.join(notes)})"
    )


REPLAY_CASES = _sampled(_cases(include_ops=False))


@pytest.mark.parametrize(("spec", "name"), REPLAY_CASES)
def test_control_witness_runs_and_changes_control(spec: str, name: str | None) -> None:
    """A control-sensitivity witness, replayed from its first state, runs without trapping
    and changes a mode, control or timing component."""
    if name is None:
        isa_of(spec)
        return
    isa = isa_of(spec)
    run = replay(spec, name)
    if run.result.trap is not None:
        _explain(run, f"the witness traps on replay ({run.result.trap})")
    post = run.result.state()
    watched = isa.of_kind(ir.Kind.MODE, ir.Kind.CONTROL, ir.Kind.TIMING)
    changed = [
        c.name
        for c in watched
        if (
            post.scalars[c.name] != run.pre.scalars[c.name]
            if c.count is None
            else post.files[c.name] != run.pre.files[c.name]
        )
    ]
    if not changed:
        _explain(run, "the replay changes no control or timing component")


@pytest.mark.parametrize(("spec", "name"), REPLAY_CASES)
def test_control_witness_post_state_replays(spec: str, name: str | None) -> None:
    """Every entry the witness shows after the instruction is what the interpreter computes
    from the witness's first state."""
    if name is None:
        isa_of(spec)
        return
    isa = isa_of(spec)
    run = replay(spec, name)
    if run.result.trap is not None:
        _explain(run, f"the witness traps on replay ({run.result.trap})")
    post = run.result.state()
    wrong = [
        f"{e.name}: witness {e.value:#x}, replay {read_entry(isa, post, e):#x}"
        for e in run.witness.states[1].entries
        if read_entry(isa, post, e) != e.value
    ]
    if wrong or run.contradicted:
        _explain(
            run,
            "the replay differs from the witness's post-state: "
            + "; ".join(wrong or list(run.contradicted)),
        )


@functools.cache
def behavior_witness(spec: str, name: str) -> Witness | str:
    """The behavior-sensitivity witness of an instruction, or why there is none."""
    return _proved_witness(spec, name, "behavior_sensitive")


def _replay_problems(isa: ir.Isa, name: str, witness: Witness) -> list[str]:
    """Run the instruction on both inputs of a two-state witness: the problems found (a
    trap, a post-state entry other than the witness shows)."""
    operands = {e.name: e.value for e in witness.operands}
    problems: list[str] = []
    posts = []
    for k, label in enumerate(("s1", "s2")):
        pre, contradicted = state_from_view(isa, witness.inputs[k])
        problems += contradicted
        result = step(isa, pre, name, operands)
        if result.trap is not None:
            problems.append(f"{label} traps on replay ({result.trap})")
            posts.append(None)
            continue
        posts.append(result.state())
    shown = {v.label: v for v in witness.states}
    for k, label in enumerate(("i(s1)", "i(s2)")):
        post = posts[k]
        if post is None:
            continue
        problems += [
            f"{label} {e.name}: witness {e.value:#x}, replay {read_entry(isa, post, e):#x}"
            for e in shown[label].entries
            if read_entry(isa, post, e) != e.value
        ]
    return problems


@pytest.mark.parametrize(("spec", "name"), REPLAY_CASES)
def test_behavior_witness_replays(spec: str, name: str | None) -> None:
    """A behavior-sensitivity witness, replayed from its two inputs, runs without trapping,
    gives the post-states the witness shows, and they differ in a visible component."""
    if name is None:
        isa_of(spec)
        return
    isa = isa_of(spec)
    witness = behavior_witness(spec, name)
    if isinstance(witness, str):
        pytest.skip(witness)
    problems = _replay_problems(isa, name, witness)
    shown = {v.label: {e.name: e.value for e in v.entries} for v in witness.states}
    visible = {c.name for c in isa.of_kind(ir.Kind.VISIBLE)} | {m.name for m in isa.memories}
    differs = [
        key
        for key, value in shown["i(s1)"].items()
        if shown["i(s2)"].get(key) != value and key.split("[", 1)[0] in visible
    ]
    if not differs:
        problems.append("the witness shows no visible difference after the instruction")
    if problems:
        opaque = opaque_called(isa, name)
        if opaque:
            pytest.xfail(
                f"{'; '.join(problems)}: the model's choice for opaque "
                f"{', '.join(opaque)} decides the outcome"
            )
        pytest.fail("; ".join(problems))

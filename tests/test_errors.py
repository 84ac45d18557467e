"""Bad input gets a clear error: file:line:col, the line, a caret, a hint; exit 2; no traceback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analyzer import SpecError, load_isa, load_isa_text

HEADER = """isa t "Test machine"
state S : bits(1) mode
state IE : bits(1) control
state PC : bits(16) visible
state R : bits(16)[4] visible
state ID : bits(8) visible readonly
memory M : bits(8)[bits(16)] big
predicate supervisor = S == 1
predicate user = S == 0
"""


def first_error(text: str, filename: str = "t.isa") -> str:
    with pytest.raises(SpecError) as info:
        load_isa_text(text, filename)
    return str(info.value)


EXECUTED = """instruction add(k: bits(16)) cite "x" where k != 3 { let t = PC + k  PC := t }
instruction cyc(k: bits(16)) cite "x" { execute cyc2(k) }
instruction cyc2(k: bits(16)) cite "x" { execute cyc(k) }
"""

# (spec text, regex the first line of the message must match)
CASES: list[tuple[str, str]] = [
    (
        HEADER + EXECUTED + 'instruction x(k: bits(16)) cite "x" { execute ad(k) }',
        r"^t\.isa:11:\d+: instructions execute each other in a cycle: cyc -> cyc2 -> cyc",
    ),
    (
        HEADER + 'instruction add(k: bits(16)) cite "x" { PC := k }\n'
        'instruction x(k: bits(16)) cite "x" { execute ad(k) }',
        r"^t\.isa:11:\d+: unknown instruction 'ad'",
    ),
    (
        HEADER + 'instruction add(k: bits(16)) cite "x" { PC := k }\n'
        'instruction x(k: bits(16)) cite "x" { execute add(k, k) }',
        r"^t\.isa:11:\d+: instruction 'add' takes 1 operand\(s\), not 2",
    ),
    (
        HEADER + 'instruction add(k: bits(16)) cite "x" where k != 3 { PC := k }\n'
        'instruction x(k: bits(16)) cite "x" { execute add(PC) }',
        r"^t\.isa:11:\d+: 'add' constrains its operands with 'where'",
    ),
    (
        HEADER + 'instruction add(k: bits(16)) cite "x" { PC := k }\n'
        'instruction x(k: bits(16)) cite "x" { let j = k  execute add(j) }',
        r"^t\.isa:11:\d+: an operand of an executed instruction cannot use a 'let' name",
    ),
    (
        HEADER + 'instruction add(k: bits(16)) cite "x" { let t = k  PC := t }\n'
        'instruction x(k: bits(16)) cite "x" { let t = k  execute add(k) }',
        r"^t\.isa:11:\d+: 'add' binds 'let t', which hides another name",
    ),
    ("", r"^t\.isa:1:1: spec is empty"),
    ("   \n\n", r"^t\.isa:1:1: spec is empty"),
    ("isa t\x00", r"^t\.isa:1:1: spec contains a NUL byte"),
    ("state S : bits(1) mode", r"^t\.isa:1:1: unexpected 'state'"),
    (HEADER + "stat X : bits(1) visible", r"^t\.isa:10:1: unexpected name 'stat'"),
    (HEADER + 'instruction i cite "x" { PC = PC + 1 }', r"^t\.isa:10:29: unexpected '='"),
    (HEADER + 'instruction i cite "x" { PC := PC + }', r"^t\.isa:10:37: unexpected '}'"),
    (HEADER + 'instruction i cite "x" { PC := PC + 1', r"^t\.isa:10:\d+: unexpected end of file"),
    (
        HEADER + 'instruction i cite "x" { PC := PC @ 1 }',
        r"^t\.isa:10:\d+: unexpected character '@'",
    ),
    (HEADER + 'instruction i cite "x" { PC := PQ + 1 }', r"^t\.isa:10:\d+: unknown name 'PQ'"),
    (
        HEADER + 'instruction i cite "x" { PX := PC + 1 }',
        r"^t\.isa:10:\d+: assignment to undeclared state 'PX'",
    ),
    (HEADER + 'instruction i cite "x" { ID := 1 }', r"^t\.isa:10:\d+: 'ID' is read-only"),
    (
        HEADER + 'instruction i cite "x" { PC := S }',
        r"^t\.isa:10:\d+: width mismatch: the assigned value is bits\(1\), expected bits\(16\)",
    ),
    (
        HEADER + 'instruction i cite "x" { PC := PC + S }',
        r"^t\.isa:10:\d+: width mismatch: bits\(16\) and bits\(1\)",
    ),
    (
        HEADER + 'instruction i cite "x" { PC := 1 PC := 2 }',
        r"^t\.isa:10:\d+: 'PC' is assigned twice on the same path",
    ),
    (
        HEADER + "instruction i { PC := 1 }",
        r"^t\.isa:10:13: instruction 'i' does not cite its manual section",
    ),
    (
        HEADER + 'instruction i cite "x" { PC := 1 }\ninstruction i cite "y" { PC := 2 }',
        r"^t\.isa:11:13: instruction 'i' is defined twice \(first at t\.isa:10:13\)",
    ),
    (
        HEADER + "state PC : bits(8) visible",
        r"^t\.isa:10:1: state component 'PC' is defined twice \(first at t\.isa:4:1\)",
    ),
    (
        "isa t\nstate S : bits(1) mode\npredicate user = S == 0\n",
        r"^t\.isa:1:1: the spec does not define predicate 'supervisor'",
    ),
    (
        "isa t\nstate S : bits(1) control\npredicate supervisor = S == 1\n"
        "predicate user = S == 0\n",
        r"^t\.isa:1:1: the spec declares no state component of "
        "kind 'mode'",
    ),
    (
        HEADER + "state F : bits(8)[6] visible",
        r"^t\.isa:10:\d+: register file size must be a power of two, not 6",
    ),
    (
        HEADER + 'instruction i cite "x" { PC := R }',
        r"^t\.isa:10:\d+: 'R' is a register file: read one register",
    ),
    (
        HEADER + 'instruction i cite "x" { PC := zext(S, 8) }',
        r"^t\.isa:10:\d+: width mismatch: the assigned value is bits\(8\), expected bits\(16\)",
    ),
    (
        HEADER + 'instruction i cite "x" { PC := PC[20:3] }',
        r"^t\.isa:10:\d+: bit range \[20:3\] is outside bits\(16\)",
    ),
    (
        HEADER + 'instruction i cite "x" { PC := M[PC, 3] }',
        r"^t\.isa:10:\d+: width mismatch: the assigned value is bits\(24\), expected bits\(16\)",
    ),
    (
        HEADER + 'instruction i cite "x" { PC := foo(PC) }',
        r"^t\.isa:10:\d+: unknown function 'foo'",
    ),
    (
        HEADER + 'def f(a: bits(16)) : bits(16) = a\ninstruction i cite "x" { PC := f(PC, PC) }',
        r"^t\.isa:11:\d+: 'f' takes 1 argument\(s\), not 2",
    ),
    (
        HEADER + 'instruction i cite "x" { trap privilege when PC }',
        r"^t\.isa:10:\d+: a condition is expected here, not bits\(16\)",
    ),
    (
        HEADER + 'instruction i cite "x" { trap sometimes }',
        r"^t\.isa:10:\d+: unexpected name 'sometimes'",
    ),
    (
        HEADER + 'instruction i cite "x" { trap other vector 3 }',
        r"^t\.isa:10:\d+: this trap has a vector but no 'on trap' handler",
    ),
    (
        HEADER + 'instruction i(n: bits(2)) cite "x" where PC == 0 { PC := 1 }',
        r"^t\.isa:10:\d+: a 'where' clause cannot read state \('PC'\)",
    ),
    (
        HEADER + 'predicate p = q\npredicate q = p\ninstruction i cite "x" when { }',
        r"^t\.isa:12:\d+: unexpected 'when'",
    ),
    (
        HEADER + "predicate p = q\npredicate q = p",
        r"^t\.isa:10:\d+: predicate 'q' refers to itself: q -> p -> q",
    ),
    (HEADER + 'instruction i = fam(1) cite "x"', r"^t\.isa:10:13: unknown family 'fam'"),
    (
        HEADER + 'family fam(w) cite "f" { PC := w }\ninstruction i = fam(1, 2)',
        r"^t\.isa:11:13: family 'fam' takes 1 argument\(s\), not 2",
    ),
    (
        HEADER + "replace state PC : bits(16) visible",
        r"^t\.isa:10:1: 'replace' and 'remove' are only allowed in a spec that extends another",
    ),
    (
        HEADER + 'instruction i cite "x" { PC := 70000 }',
        r"^t\.isa:10:\d+: literal 70000 does not fit in bits\(16\)",
    ),
    (
        HEADER + 'instruction i cite "x" { PC := 17\'h1ffff }',
        r"^t\.isa:10:\d+: width mismatch: the assigned value is bits\(17\)",
    ),
    (
        HEADER + 'instruction i cite "x" { PC := 4\'h1f }',
        r"^t\.isa:10:\d+: literal 31 does not fit in 4 bits",
    ),
    (HEADER + "state W : bits(0) visible", r"^t\.isa:10:\d+: width 0 is out of range"),
    (
        HEADER + 'instruction i cite "x" { PC := R[PC] }',
        r"^t\.isa:10:\d+: width mismatch: the index into R is bits\(16\), expected bits\(2\)",
    ),
    (
        HEADER + "def f() : bits(16) = concat(8'd1, 8'd2, 3'd0)",
        r"^t\.isa:10:22: width mismatch: the body of 'f' is bits\(19\), expected bits\(16\)",
    ),
    (
        HEADER + 'instruction i cite "x" { let PC = 1 }',
        r"^t\.isa:10:\d+: 'let PC' hides another name",
    ),
]


@pytest.mark.parametrize(("text", "pattern"), CASES)
def test_pinned_messages(text: str, pattern: str) -> None:
    message = first_error(text)
    assert re.search(pattern, message), message


def test_pinned_message_count() -> None:
    assert len(CASES) >= 25


def test_message_has_line_and_caret() -> None:
    message = first_error(HEADER + 'instruction i cite "x" { PC := PQ + 1 }')
    lines = message.splitlines()
    assert lines[1] == '    instruction i cite "x" { PC := PQ + 1 }'
    assert lines[2] == "    " + " " * 31 + "^^"
    assert lines[3] == "  hint: did you mean 'PC'?"


def test_misspelt_executed_instruction_gets_suggestion() -> None:
    text = (
        HEADER + 'instruction add(k: bits(16)) cite "x" { PC := k }\n'
        'instruction x(k: bits(16)) cite "x" { execute ad(k) }'
    )
    assert "did you mean 'add'?" in first_error(text)


def test_misspelt_keyword_gets_suggestion() -> None:
    assert "did you mean 'state'?" in first_error(HEADER + "stat X : bits(1) visible")


def test_all_problems_reported_together() -> None:
    message = first_error(
        HEADER + 'instruction i cite "x" { PC := PQ }\ninstruction j cite "x" { PX := 1 }'
    )
    assert "unknown name 'PQ'" in message and "undeclared state 'PX'" in message


def test_extension_errors(tmp_path: Path) -> None:
    (tmp_path / "base.isa").write_text(HEADER + 'instruction i cite "x" { PC := 1 }\n')
    (tmp_path / "dup.isa").write_text(
        'isa d extends "base.isa"\ninstruction i cite "y" { PC := 2 }\n'
    )
    (tmp_path / "missing.isa").write_text('isa m extends "nowhere.isa"\n')
    (tmp_path / "ghost.isa").write_text(
        'isa g extends "base.isa"\nreplace instruction k cite "y" { PC := 2 }\n'
    )
    (tmp_path / "cycle.isa").write_text('isa c extends "cycle.isa"\n')
    with pytest.raises(
        SpecError,
        match=r"dup\.isa:2:13: 'i' is already defined in the base "
        r"at .*base\.isa:10:13",
    ):
        load_isa(tmp_path / "dup.isa")
    with pytest.raises(SpecError, match=r"missing\.isa:1:1: no such spec file"):
        load_isa(tmp_path / "missing.isa")
    with pytest.raises(
        SpecError,
        match=r"ghost\.isa:2:21: 'replace' of 'k', which the base "
        "does not define",
    ):
        load_isa(tmp_path / "ghost.isa")
    with pytest.raises(SpecError, match="'extends' forms a cycle"):
        load_isa(tmp_path / "cycle.isa")


def test_binary_and_missing_files(tmp_path: Path) -> None:
    binary = tmp_path / "blob.isa"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(SpecError, match="not UTF-8 text"):
        load_isa(binary)
    with pytest.raises(SpecError, match="no such spec file"):
        load_isa(tmp_path / "absent.isa")
    with pytest.raises(SpecError, match="is a directory"):
        load_isa(tmp_path)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    parens = "(" * 5000 + "PC" + ")" * 5000
    assert load_isa_text(HEADER + f'instruction i cite "x" {{ PC := {parens} }}')
    deep = "~(" * 20000 + "PC" + ")" * 20000
    message = first_error(HEADER + f'instruction i cite "x" {{ PC := {deep} }}')
    assert "nested too deeply" in message


def test_huge_input_is_refused() -> None:
    message = first_error("isa t\n" + "# " + "x" * (9 * 1024 * 1024))
    assert "larger than" in message


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analyzer.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_bad_spec_exits_2_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.isa"
    bad.write_text(HEADER + 'instruction i cite "x" { PC := PQ }\n')
    result = run_cli("analyze", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert re.search(r"bad\.isa:10:\d+: unknown name 'PQ'", result.stderr)
    assert result.stdout == ""


def test_cli_missing_file_and_bad_usage() -> None:
    missing = run_cli("analyze", "no/such/file.isa")
    assert missing.returncode == 2 and "no such spec file" in missing.stderr
    usage = run_cli("check", "isa_specs/pg74.isa", "--theorem", "7")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


@given(st.text(max_size=300))
def test_any_text_gives_an_isa_or_a_spec_error(text: str) -> None:
    try:
        load_isa_text(text, "fuzz.isa")
    except SpecError as error:
        assert str(error).startswith("fuzz.isa")


@given(
    st.lists(
        st.sampled_from(
            [
                *HEADER.split(),
                "{",
                "}",
                ":=",
                "trap",
                "when",
                "if",
                "instruction",
                "cite",
                '"c"',
                "(",
                ")",
                "[",
                "]",
                "1",
                "+",
                "R",
                "M",
                ",",
                "zext",
            ]
        ),
        max_size=60,
    )
)
def test_token_soup_never_crashes(tokens: list[str]) -> None:
    try:
        load_isa_text(HEADER + " ".join(tokens), "soup.isa")
    except SpecError as error:
        assert str(error).startswith("soup.isa")

"""The pgv command: formats, exit codes, the JSON contract, determinism."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import partial
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

PG74 = "isa_specs/pg74.isa"


def pgv(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analyzer.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )


def schema() -> dict[str, object]:
    text = resources.files("analyzer").joinpath("schema", "analysis.schema.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def test_analyze_text_shows_table_and_theorems() -> None:
    result = pgv("analyze", PG74)
    assert result.returncode == 0, result.stderr
    assert "LPSW" in result.stdout and "privileged" in result.stdout
    assert "Theorem 1: PROVED" in result.stdout
    assert "Theorem 3: PROVED" in result.stdout
    assert "\x1b[" not in result.stdout  # no colour when piped
    assert "+---" in result.stdout  # ASCII borders when piped


def test_json_contract_and_schema() -> None:
    result = pgv("analyze", PG74, "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    jsonschema.validate(data, schema())
    assert data["schema"] == "pgv/analysis/1"
    first = data["instructions"][0]
    for key in (
        "name",
        "mnemonic",
        "form",
        "privileged",
        "always_traps",
        "control_sensitive",
        "behavior_sensitive",
        "behavior_kind",
        "user_sensitive",
        "timing_dependent",
        "class",
        "witnesses",
        "source",
    ):
        assert key in first
    assert data["theorems"]["1"]["verdict"] == "PROVED"
    assert [i["mnemonic"] for i in data["instructions"]][:4] == ["LOAD", "STORE", "ADD", "JMP"]
    lra = next(i for i in data["instructions"] if i["mnemonic"] == "LRA")
    assert lra["behavior_kind"] == "location"
    assert lra["witnesses"]["behavior_sensitive"]["differing"] == ["L"]


def test_output_is_byte_identical_across_runs(tmp_path: Path) -> None:
    """Fresh analyses (no cache) in one process and on two worker processes print the same
    bytes, in every format."""
    for fmt in ("json", "markdown", "text"):
        outputs = []
        for jobs in ("1", "2"):
            out = tmp_path / f"{jobs}.{fmt}"
            run = pgv("analyze", PG74, "--format", fmt, "-o", str(out), "-j", jobs, "--no-cache")
            assert run.returncode == 0, run.stderr
            outputs.append(out.read_bytes())
        assert outputs[0] == outputs[1], fmt


def test_several_specs_make_a_set(tmp_path: Path) -> None:
    result = pgv("analyze", PG74, PG74, "--format", "json")
    data = json.loads(result.stdout)
    jsonschema.validate(data, schema())
    assert data["schema"] == "pgv/analysis-set/1" and len(data["analyses"]) == 2


@pytest.mark.parametrize(("theorem", "status"), [("1", 0), ("2", 0), ("3", 0)])
def test_check_exit_status(theorem: str, status: int) -> None:
    result = pgv("check", PG74, "--theorem", theorem)
    assert result.returncode == status, result.stdout + result.stderr
    assert f"pg74: Theorem {theorem} PROVED" in result.stdout


def test_check_refuted_exits_1(tmp_path: Path) -> None:
    spec = tmp_path / "leaky.isa"
    spec.write_text(
        Path(PG74)
        .read_text()
        .replace(
            'instruction rdmode mnemonic "RDMODE" cite "P&G 1974, section 3 (reads the mode)" {\n'
            "  trap privilege vector 2 when M == 1\n",
            'instruction rdmode mnemonic "RDMODE" cite "P&G 1974, section 3 (reads the mode)" {\n',
        )
    )
    assert "trap privilege vector 2 when M == 1\n  A := zext" not in spec.read_text()
    result = pgv("check", str(spec), "--theorem", "1")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "refuted by RDMODE" in result.stdout


def test_check_unknown_exits_3() -> None:
    result = pgv("check", PG74, "--theorem", "1", "--timeout-ms", "1")
    # With a 1 ms budget some query may still finish; if every one did, the verdict stands.
    assert result.returncode in (0, 3)
    if result.returncode == 3:
        assert "UNKNOWN" in result.stdout


def test_explain_shows_witness_states_side_by_side() -> None:
    result = pgv("explain", PG74, "LRA")
    assert result.returncode == 0, result.stderr
    assert "behavior sensitive: PROVED (location)" in result.stdout
    assert "| s1" in result.stdout and "i(s2)" in result.stdout


def test_explain_unknown_instruction_suggests() -> None:
    result = pgv("explain", PG74, "LPSX")
    assert result.returncode == 2
    assert "did you mean 'LPSW'" in result.stderr or "did you mean 'lpsw'" in result.stderr


def test_markdown_output_file(tmp_path: Path) -> None:
    out = tmp_path / "r.md"
    assert pgv("analyze", PG74, "--format", "markdown", "-o", str(out)).returncode == 0
    text = out.read_text()
    assert text.startswith("# Popek and Goldberg's model machine")
    assert "| 1 | **PROVED** |" in text


def test_no_color_env_and_force(tmp_path: Path) -> None:
    import os

    env = dict(os.environ, FORCE_COLOR="1")
    forced = pgv("analyze", PG74, env=env)
    assert "\x1b[" in forced.stdout
    env["NO_COLOR"] = "1"
    assert "\x1b[" not in pgv("analyze", PG74, env=env).stdout


def test_cache_serves_identical_output(tmp_path: Path) -> None:
    import os

    env = dict(os.environ, PGV_CACHE_DIR=str(tmp_path / "cache"))
    fresh = pgv("analyze", PG74, "--format", "json", env=env)
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1
    # The spec's bytes point at the analysis: a second run needs no parsing.
    assert len(list((tmp_path / "cache" / "by-source").iterdir())) == 1
    cached = pgv("analyze", PG74, "--format", "json", env=env)
    uncached = pgv("analyze", PG74, "--format", "json", "--no-cache", env=env)
    assert fresh.stdout == cached.stdout == uncached.stdout


def test_changed_spec_is_not_served_from_cache(tmp_path: Path) -> None:
    import os

    env = dict(os.environ, PGV_CACHE_DIR=str(tmp_path / "cache"))
    spec = tmp_path / "p.isa"
    spec.write_text(Path(PG74).read_text())
    first = json.loads(pgv("analyze", str(spec), "--format", "json", env=env).stdout)
    spec.write_text(
        Path(PG74)
        .read_text()
        .replace("trap privilege vector 2 when M == 1\n  A := zext", "A := zext")
    )
    second = json.loads(pgv("analyze", str(spec), "--format", "json", env=env).stdout)
    assert first["theorems"]["1"]["verdict"] == "PROVED"
    assert second["theorems"]["1"]["verdict"] == "REFUTED"


def test_changed_base_spec_is_not_served_from_cache(tmp_path: Path) -> None:
    import os

    env = dict(os.environ, PGV_CACHE_DIR=str(tmp_path / "cache"))
    base, extension = tmp_path / "base.isa", tmp_path / "ext.isa"
    base.write_text(Path(PG74).read_text())
    extension.write_text('isa ext "an extension that changes nothing" extends "base.isa"\n')
    run = partial(pgv, "analyze", str(extension), "--format", "json", env=env)
    first = json.loads(run().stdout)
    base.write_text(
        Path(PG74)
        .read_text()
        .replace("trap privilege vector 2 when M == 1\n  A := zext", "A := zext")
    )
    second = json.loads(run().stdout)
    assert first["theorems"]["1"]["verdict"] == "PROVED"
    assert second["theorems"]["1"]["verdict"] == "REFUTED"


def test_summary_counts_classes_instead_of_listing_every_form() -> None:
    result = pgv("analyze", "isa_specs/mc68000.isa", "--summary")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    counts = lines[1]
    assert counts.startswith("234 forms: 2 critical, ") and counts.endswith(" innocuous")
    assert not any(line.startswith(("+", "|")) for line in lines)
    assert "Theorem 1: REFUTED" in result.stdout and "  refuted by: MOVE from SR" in lines
    # Each critical form is one item: its first line indented by two, the rest by four.
    items = [line for line in lines if line.startswith("  MOVE SR,")]
    assert len(items) == 2
    assert all(len(line) <= 140 for line in lines)
    start = lines.index(items[0])
    assert lines[start + 1].startswith("    ") and "runs untrapped under vm_context" in "".join(
        lines[start : lines.index(items[1])]
    )

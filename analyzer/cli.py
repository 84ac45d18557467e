"""The ``pgv`` command line.

Exit status as linters use it: 0 success, 1 a requested check failed, 2 bad input or usage,
3 the solver could not decide.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from analyzer import ir
from analyzer.analysis import analyze, submit_analysis
from analyzer.cache import cached, cached_by_source, remember, remember_source, solver_gave_up
from analyzer.context import search_contexts
from analyzer.diff import diff_analyses
from analyzer.errors import PgvError, UsageError
from analyzer.programs import load_program
from analyzer.report.jsonout import render_diff_json, render_json
from analyzer.report.markdown import render_diff_markdown, render_markdown
from analyzer.report.text import (
    render_confirmation_text,
    render_context_text,
    render_diff_text,
    render_explain,
    render_red_pills_text,
    render_text,
)
from analyzer.results import Analysis, RedPill, Verdict
from analyzer.serialize import confirmation_to_dict, context_to_dict, red_pills_to_dict
from analyzer.smt.queries import context_example
from analyzer.smt.solver import DEFAULT_TIMEOUT_MS
from analyzer.validate import load_isa
from analyzer.vmm import VMM_KINDS, build_vmm, initial_state, run_program

# The executable model's campaigns (analyzer.confirm, which loads hypothesis) and the report
# site (analyzer.report.site, which loads networkx) are imported by the commands that use
# them: every other command starts without them.

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_UNDECIDED = 0, 1, 2, 3
REPORT_BUDGET = 60
"""Random programs per VMM in ``pgv report``: few enough to keep the reports quick to
regenerate (the campaigns focus on the sensitive forms; see analyzer.confirm)."""
REPORT_RANDOM_BUDGET = 0
"""Random tries per red pill in ``pgv report``: 0, not measured (``pgv redpill`` does; on
the x86 the search costs ten times the pills)."""
T = TypeVar("T")


def _fail(error: PgvError) -> NoReturn:
    click.echo(str(error), err=True)
    sys.exit(EXIT_BAD_INPUT)


def _guarded(action: Callable[[], T]) -> T:
    try:
        return action()
    except PgvError as error:
        _fail(error)


def _use_color(choice: str, stream: Any) -> bool:
    if choice == "always":
        return True
    if choice == "never" or os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def _write(text: str, output: str) -> None:
    if output == "-":
        # Colour was decided when rendering; click must not strip it again.
        click.echo(text, nl=False, color=True)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as error:
        _fail(UsageError(f"{output}: cannot write: {error.strerror}"))


class _ProgressBar:
    """A progress bar on stderr that appears only once an analysis has run for a second."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.monotonic()
        self.bar: Progress | None = None
        self.task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.monotonic() - self.started < 1.0 or done >= total:
                return
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        assert self.task is not None
        self.bar.update(self.task, completed=done)
        if done >= total:
            self.bar.stop()


def _executor(jobs: int) -> Executor | None:
    """A pool of ``jobs`` processes (0: one per CPU), or None to work in this process."""
    workers = jobs or os.cpu_count() or 1
    return ProcessPoolExecutor(max_workers=workers) if workers > 1 else None


def _analyze_all(
    specs: Sequence[str], timeout_ms: int, jobs: int, use_cache: bool = True
) -> list[Analysis]:
    quick = [cached_by_source(spec, timeout_ms) if use_cache else None for spec in specs]
    if all(hit is not None for hit in quick):
        # Every spec's files are byte for byte those of an earlier analysis: no parsing.
        return [hit for hit in quick if hit is not None]
    isas: list[ir.Isa] = [_guarded(partial(load_isa, spec)) for spec in specs]
    interactive = sys.stderr.isatty()
    hits = [cached(isa, timeout_ms) if use_cache else None for isa in isas]
    executor = _executor(jobs) if any(hit is None for hit in hits) else None
    try:
        # Every ISA's jobs are queued before any is collected, so no worker idles between.
        pending = [
            submit_analysis(isa, executor, timeout_ms) if executor and hit is None else None
            for isa, hit in zip(isas, hits, strict=True)
        ]
        results = []
        for isa, hit, queued in zip(isas, hits, pending, strict=True):
            progress = _ProgressBar(f"analysing {isa.name}") if interactive else None
            if hit is not None:
                results.append(hit)
                continue
            if queued is not None:
                analysis = queued.result(progress)
            else:
                analysis = analyze(isa, timeout_ms=timeout_ms, progress=progress)
            if use_cache:
                remember(isa, analysis)
            results.append(analysis)
        if use_cache:
            for spec, isa, analysis in zip(specs, isas, results, strict=True):
                if not solver_gave_up(analysis):
                    remember_source(spec, isa, timeout_ms)
        return results
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)


_timeout_option = click.option(
    "--timeout-ms",
    default=DEFAULT_TIMEOUT_MS,
    show_default=True,
    type=click.IntRange(1, 3_600_000),
    help="Solver budget per query; a timeout gives UNKNOWN.",
)
_jobs_option = click.option(
    "--jobs",
    "-j",
    default=0,
    type=click.IntRange(0, 256),
    help="Worker processes, one job per instruction (default 0: one per CPU; 1: none).",
)
_cache_option = click.option(
    "--cache/--no-cache",
    default=True,
    show_default=True,
    help="Reuse results of an identical earlier analysis (keyed by content).",
)
_color_option = click.option(
    "--color",
    type=click.Choice(["auto", "always", "never"]),
    default="auto",
    show_default=True,
    help="Colour in terminal output.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pgv")
def main() -> None:
    """pgv: Popek-Goldberg virtualizability analysis of ISA descriptions."""


@main.command("analyze")
@click.argument("specs", nargs=-1, required=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option("--output", "-o", default="-", show_default=True, help="File to write ('-': stdout).")
@click.option(
    "--summary",
    is_flag=True,
    help="Text format: per ISA the count of forms per class, not the table of every form.",
)
@_timeout_option
@_jobs_option
@_cache_option
@_color_option
def analyze_command(
    specs: tuple[str, ...],
    fmt: str,
    output: str,
    summary: bool,
    timeout_ms: int,
    jobs: int,
    cache: bool,
    color: str,
) -> None:
    """Classify every instruction of each SPEC and decide Theorems 1, 2 and 3."""
    analyses = _analyze_all(specs, timeout_ms, jobs, cache)
    if fmt == "json":
        text = render_json(analyses)
    elif fmt == "markdown":
        text = render_markdown(analyses)
    else:
        to_terminal = output == "-" and sys.stdout.isatty()
        text = render_text(
            analyses,
            color=_use_color(color, sys.stdout) and output == "-",
            ascii_only=not to_terminal,
            width=None if not to_terminal else _terminal_width(),
            summary=summary,
        )
    _write(text, output)


def _terminal_width() -> int:
    return max(80, min(200, os.get_terminal_size(sys.stdout.fileno()).columns))


@main.command("explain")
@click.argument("spec")
@click.argument("instruction")
@_timeout_option
@_color_option
def explain_command(spec: str, instruction: str, timeout_ms: int, color: str) -> None:
    """Every verdict on INSTRUCTION (a name, mnemonic or form) with its witness."""
    isa = _guarded(lambda: load_isa(spec))
    wanted = [
        i
        for i in isa.instructions
        if instruction.lower() in (i.name.lower(), i.mnemonic.lower(), i.form.lower())
    ]
    if not wanted:
        from analyzer.errors import suggest

        hint = suggest(
            instruction,
            [*(i.name for i in isa.instructions), *(i.mnemonic for i in isa.instructions)],
        )
        _fail(UsageError(f"{spec}: no instruction '{instruction}'" + (f"; {hint}" if hint else "")))
    subset = ir.Isa(
        isa.name,
        isa.title,
        isa.manuals,
        isa.state,
        isa.memories,
        isa.predicates,
        isa.invariants,
        isa.functions,
        isa.handlers,
        tuple(wanted),
        isa.settable,
        isa.base,
        isa.source,
    )
    analysis = analyze(subset, timeout_ms=timeout_ms)
    click.echo(
        render_explain(analysis, analysis.instructions, color=_use_color(color, sys.stdout)),
        nl=False,
        color=True,
    )


@main.command("check")
@click.argument("spec")
@click.option(
    "--theorem", "-t", type=click.IntRange(1, 3), required=True, help="Which theorem: 1, 2 or 3."
)
@_timeout_option
@_jobs_option
@_cache_option
def check_command(spec: str, theorem: int, timeout_ms: int, jobs: int, cache: bool) -> None:
    """Exit 0 if Theorem N is PROVED for SPEC, 1 if REFUTED, 3 if UNKNOWN."""
    (analysis,) = _analyze_all([spec], timeout_ms, jobs, cache)
    result = analysis.theorem(theorem)
    line = f"{analysis.isa.name}: Theorem {theorem} {result.verdict.value}"
    if result.offending:
        line += f" (refuted by {', '.join(result.offending)})"
    click.echo(line)
    sys.exit(
        {Verdict.PROVED: EXIT_OK, Verdict.REFUTED: EXIT_FAILED, Verdict.UNKNOWN: EXIT_UNDECIDED}[
            result.verdict
        ]
    )


@main.command("diff")
@click.argument("base")
@click.argument("extension")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
)
@click.option("--output", "-o", default="-", show_default=True, help="File to write ('-': stdout).")
@_timeout_option
@_jobs_option
@_cache_option
@_color_option
def diff_command(
    base: str,
    extension: str,
    fmt: str,
    output: str,
    timeout_ms: int,
    jobs: int,
    cache: bool,
    color: str,
) -> None:
    """What EXTENSION changes against BASE: classes and theorem verdicts, with witnesses."""
    before, after = _analyze_all([base, extension], timeout_ms, jobs, cache)
    diff = diff_analyses(before, after)
    if fmt == "json":
        text = render_diff_json(diff)
    elif fmt == "markdown":
        text = render_diff_markdown(diff)
    else:
        text = render_diff_text(diff, color=_use_color(color, sys.stdout) and output == "-")
    _write(text, output)


@main.command("context")
@click.argument("spec")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--output", "-o", default="-", show_default=True, help="File to write ('-': stdout).")
@_timeout_option
@_jobs_option
@_cache_option
@_color_option
def context_command(
    spec: str, fmt: str, output: str, timeout_ms: int, jobs: int, cache: bool, color: str
) -> None:
    """Search the settings of the fields a VMM may set (``vmm sets``) for those under which
    the most sensitive instructions trap, and say whether any makes Theorem 1 hold."""
    isa = _guarded(partial(load_isa, spec))
    (analysis,) = _analyze_all([spec], timeout_ms, jobs, cache)
    search = _guarded(partial(search_contexts, isa, analysis, timeout_ms))
    if fmt == "json":
        text = json.dumps(context_to_dict(search), indent=2) + "\n"
    else:
        text = render_context_text(search, color=_use_color(color, sys.stdout) and output == "-")
    _write(text, output)


@main.command("report")
@click.argument("specs", nargs=-1, required=True)
@click.option("--out", "out_dir", required=True, help="Folder to write the reports into.")
@click.option(
    "--run/--no-run",
    default=True,
    show_default=True,
    help="Also run programs: equivalence campaigns under each VMM and red pills.",
)
@click.option(
    "--budget",
    default=REPORT_BUDGET,
    show_default=True,
    type=click.IntRange(1),
    help="Random programs per VMM, with --run.",
)
@click.option(
    "--random-budget",
    default=REPORT_RANDOM_BUDGET,
    show_default=True,
    type=click.IntRange(0),
    help="Random tries per red pill, for comparison, with --run (0: not measured).",
)
@_timeout_option
@_jobs_option
@_cache_option
def report_command(
    specs: tuple[str, ...],
    out_dir: str,
    run: bool,
    budget: int,
    random_budget: int,
    timeout_ms: int,
    jobs: int,
    cache: bool,
) -> None:
    """Write per ISA NAME.md, NAME.html, NAME.json and NAME.sarif (with --run, the
    executable model's results too, and NAME.execution.json), and index.md/index.html with
    the machines side by side, into OUT."""
    from analyzer.confirm import execute
    from analyzer.report.site import write_reports

    isas = [_guarded(partial(load_isa, spec)) for spec in specs]
    analyses = _analyze_all(specs, timeout_ms, jobs, cache)
    executions = (
        {
            isa.name: execute(isa, analysis, budget=budget, random_budget=random_budget)
            for isa, analysis in zip(isas, analyses, strict=True)
        }
        if run
        else None
    )
    try:
        written = write_reports(analyses, out_dir, isas=isas, executions=executions)
    except (OSError, ValueError) as error:
        _fail(UsageError(f"{out_dir}: {error}"))
    for path in written:
        click.echo(str(path))


def _vmm_kind(value: str) -> tuple[str, int]:
    if value in ("none", "trap-emulate", "hybrid"):
        return value, 1
    if value.startswith("nested:") and value[7:].isdigit() and int(value[7:]) >= 1:
        return "nested", int(value[7:])
    _fail(UsageError(f"--vmm {value}: expected none, trap-emulate, hybrid or nested:N"))


@main.command("run")
@click.argument("spec")
@click.argument("program")
@click.option(
    "--vmm",
    default="none",
    show_default=True,
    help="none, trap-emulate, hybrid or nested:N (N VMMs deep).",
)
@click.option(
    "--budget",
    default=10_000,
    show_default=True,
    type=click.IntRange(1),
    help="Most instructions to run.",
)
@click.option("--trace", is_flag=True, help="Print each instruction as it runs.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
def run_command(spec: str, program: str, vmm: str, budget: int, trace: bool, fmt: str) -> None:
    """Run PROGRAM (a guest program for SPEC) bare or under a VMM; print the final state."""
    from analyzer.confirm import state_entries

    kind, depth = _vmm_kind(vmm)
    isa = _guarded(partial(load_isa, spec))
    assembled = _guarded(partial(load_program, program, isa))
    control = context_example(isa) if kind != "none" else {}
    machine = build_vmm(kind, isa, control, depth)
    start = _guarded(partial(initial_state, isa, assembled))
    result = _guarded(partial(run_program, machine, assembled, start, budget, trace))
    final = state_entries(isa, result.final)
    counters = getattr(machine, "counters", None)
    if fmt == "json":
        data = {
            "schema": "pgv/run/1",
            "isa": isa.name,
            "vmm": vmm,
            "steps": result.steps,
            "halted": result.halted,
            "final": {e.name: e.value for e in final},
            "direct": getattr(counters, "direct", None),
            "emulated": getattr(counters, "emulated", None),
            "trace": list(result.trace),
        }
        click.echo(json.dumps(data, indent=2))
        return
    for line in result.trace:
        click.echo(line)
    click.echo(f"{isa.name} under {vmm}: {result.steps} steps; {result.halted}")
    if counters is not None and hasattr(counters, "direct"):
        click.echo(
            f"run directly: {counters.direct}; emulated: {counters.emulated}; "
            f"reflected traps: {counters.reflected}"
        )
    click.echo("final state (non-zero):")
    for entry in final:
        click.echo(f"  {entry.name} = {entry.text}")


@main.command("confirm")
@click.argument("spec")
@click.option(
    "--budget",
    default=200,
    show_default=True,
    type=click.IntRange(1),
    help="Random programs per VMM.",
)
@click.option(
    "--max-length",
    default=6,
    show_default=True,
    type=click.IntRange(1),
    help="Most instructions per program.",
)
@click.option(
    "--vmm",
    "kinds",
    multiple=True,
    type=click.Choice(list(VMM_KINDS)),
    help="A VMM to run (repeatable; default: all three).",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_timeout_option
@_cache_option
def confirm_command(
    spec: str,
    budget: int,
    max_length: int,
    kinds: tuple[str, ...],
    fmt: str,
    timeout_ms: int,
    cache: bool,
) -> None:
    """Confirm the theorems by running random programs bare and under each VMM
    (trap-and-emulate, nested two deep, hybrid). Exit 1 on a disagreement. Seconds are shown
    on a terminal only; in JSON they are under "seconds", the one key that varies between
    runs."""
    from analyzer.confirm import confirm

    isa = _guarded(partial(load_isa, spec))
    (analysis,) = _analyze_all([spec], timeout_ms, 1, cache)
    result = confirm(isa, analysis, budget=budget, max_length=max_length, kinds=kinds or VMM_KINDS)
    if fmt == "json":
        click.echo(json.dumps(confirmation_to_dict(result), indent=2))
    else:
        click.echo(render_confirmation_text(result, timing=sys.stdout.isatty()), nl=False)
    sys.exit(EXIT_FAILED if result.disagreements else EXIT_OK)


@main.command("redpill")
@click.argument("spec")
@click.option(
    "--random-budget",
    default=200,
    show_default=True,
    type=click.IntRange(1),
    help="Random tries per instruction, for comparison.",
)
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@_timeout_option
@_cache_option
def redpill_command(spec: str, random_budget: int, fmt: str, timeout_ms: int, cache: bool) -> None:
    """For each critical instruction, a program built from its z3 witness whose result
    differs bare and under the trap-and-emulate VMM, run both ways; a form without one says
    why. Exit 1 if a witness program does not diverge when run, 3 if the solver gave up.
    Seconds are shown on a terminal only; in JSON they are under "seconds", the one key that
    varies between runs."""
    from analyzer.confirm import red_pills

    isa = _guarded(partial(load_isa, spec))
    (analysis,) = _analyze_all([spec], timeout_ms, 1, cache)
    progress = _ProgressBar(f"red pills of {isa.name}") if sys.stderr.isatty() else None
    pills = red_pills(isa, analysis, random_budget=random_budget, progress=progress)
    if fmt == "json":
        click.echo(json.dumps(red_pills_to_dict(analysis.isa, pills), indent=2))
    else:
        title = f"{isa.title} ({isa.name})"
        click.echo(render_red_pills_text(title, pills, timing=sys.stdout.isatty()), nl=False)
    sys.exit(_redpill_status(pills))


def _redpill_status(pills: Sequence[RedPill]) -> int:
    """1 if a witness program does not diverge when run (solver and interpreter disagree),
    3 if the solver gave up on some form, else 0: a proof that a form has no red pill under
    the generic VMM is a result, not a failure."""
    if any(p.program and not p.diverges for p in pills):
        return EXIT_FAILED
    if any(p.solver == "unknown" for p in pills):
        return EXIT_UNDECIDED
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    main()

"""The terminal report: a table per ISA, the theorem verdicts, the critical instructions."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from analyzer.report.common import (
    condition_text,
    critical_reason,
    critical_results,
    finding,
    grid_settings,
    operands_text,
    sampled_fields,
    trapping_conditions,
    user_critical_results,
    user_reason,
    witness_rows,
)
from analyzer.report.grid import ASCII, LINES, Box, Cell, render_grid
from analyzer.results import (
    PROPERTIES,
    Analysis,
    Confirmation,
    ContextSearch,
    ExtensionDiff,
    InstrClass,
    InstructionResult,
    RedPill,
    Verdict,
    pill_summary,
)

_VERDICT_STYLE = {Verdict.PROVED: "green", Verdict.REFUTED: "red", Verdict.UNKNOWN: "yellow"}
_CLASS_STYLE = {
    InstrClass.CRITICAL: "bold red",
    InstrClass.PRIVILEGED: "cyan",
    InstrClass.ALWAYS_TRAPPING: "magenta",
    InstrClass.INNOCUOUS: "",
    InstrClass.UNKNOWN: "yellow",
    InstrClass.UNMODELLED: "yellow",
}
_MARK = {Verdict.PROVED: "yes", Verdict.REFUTED: "-", Verdict.UNKNOWN: "?"}


def make_console(color: bool, width: int | None = None) -> tuple[Console, io.StringIO]:
    """A console writing into a buffer; without colour it is plain text of a fixed width."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=width or 140,
        highlight=False,
        markup=False,
        emoji=False,
        legacy_windows=False,
    )
    return console, buffer


def render_text(
    analyses: Sequence[Analysis],
    *,
    color: bool = False,
    ascii_only: bool = True,
    width: int | None = None,
    summary: bool = False,
) -> str:
    """The terminal report for each analysis, one after another; with ``summary``, the
    count of forms per class stands in for the table of every form."""
    console, buffer = make_console(color, width)
    for number, analysis in enumerate(analyses):
        if number:
            console.print()
        console.print(
            Text(f"{analysis.isa.title} ({analysis.isa.name})", style="bold"),
            Text(f"  {analysis.isa.source}", style="dim"),
        )
        if summary:
            console.print(class_counts(analysis), markup=False)
        else:
            _render_table(console, analysis, ascii_only)
        _render_theorems(console, analysis)
    return buffer.getvalue()


def class_counts(a: Analysis) -> str:
    """How many forms fall in each class, e.g. '415 forms: 18 critical, 61 privileged, ...'."""
    counts = [
        f"{n} {klass.value}"
        for klass in InstrClass
        if (n := sum(1 for r in a.instructions if r.klass is klass))
    ]
    return f"{len(a.instructions)} forms: {', '.join(counts)}"


def _render_table(console: Console, a: Analysis, ascii_only: bool) -> None:
    rows = [
        (
            r.form,
            Cell(r.klass.value, _CLASS_STYLE[r.klass]),
            r.sensitivity_words or ("?" if r.sensitive is Verdict.UNKNOWN else "-"),
            _mark(r.privileged.verdict),
            _mark(r.user_sensitive),
            _mark(r.timing_dependent.verdict),
            r.cite,
        )
        for r in a.instructions
    ]
    header = ("form", "class", "sensitivity", "privileged", "user sensitive", "timing", "cite")
    _print_grid(console, header, rows, ASCII if ascii_only else LINES)


def _mark(verdict: Verdict) -> Cell:
    return Cell(_MARK[verdict], _VERDICT_STYLE[verdict] if verdict is not Verdict.REFUTED else "")


def _print_grid(
    console: Console,
    header: Sequence[str],
    rows: Sequence[Sequence[str | Cell]],
    box: Box = ASCII,
) -> None:
    console.print(render_grid(header, rows, console.width, box), soft_wrap=True, end="")


def _render_theorems(console: Console, a: Analysis) -> None:
    for t in a.theorems:
        line = Text(f"Theorem {t.number}: ")
        line.append(t.verdict.value, style=f"bold {_VERDICT_STYLE[t.verdict]}")
        line.append(f"  {t.statement}")
        console.print(line)
        if t.offending:
            _print_item(console, f"refuted by: {', '.join(t.offending)}")
        if t.undecided:
            _print_item(console, f"undecided: {', '.join(t.undecided)}")
        for note in t.notes:
            _print_item(console, f"note: {note}", style="dim")
    critical = critical_results(a)
    if critical:
        console.print(Text("Critical instructions (sensitive, not privileged):", style="bold"))
        for r in critical:
            _print_item(console, f"{r.form} [{r.source}; {r.cite}]: {critical_reason(r)}")
    user = [r for r in user_critical_results(a) if r not in critical]
    if user:
        console.print(Text("User sensitive, not privileged (Theorem 3):", style="bold"))
        for r in user:
            _print_item(console, f"{r.form} [{r.source}]: {user_reason(r)}")


def _print_item(console: Console, text: str, style: str = "") -> None:
    """One item of a list, indented, its continuation lines indented further."""
    lines = textwrap.wrap(
        text,
        max(20, console.width),
        initial_indent="  ",
        subsequent_indent="    ",
        break_long_words=False,
        break_on_hyphens=False,
    )
    console.print(Text("\n".join(lines), style=style), soft_wrap=True)


def render_explain(
    a: Analysis,
    results: Sequence[InstructionResult],
    *,
    color: bool = False,
    width: int | None = None,
) -> str:
    """Every finding of each result, with its witness as states side by side."""
    console, buffer = make_console(color, width)
    for number, r in enumerate(results):
        if number:
            console.print()
        console.print(Text(f"{r.form}  ({r.mnemonic}, {r.name})", style="bold"))
        console.print(f"  {r.source}; cites {r.cite}", markup=False)
        console.print(f"  class: {r.klass.value}", markup=False)
        if r.unmodelled:
            console.print(f"  not modelled: {r.unmodelled}", markup=False)
        for prop, words in PROPERTIES:
            f = finding(r, prop)
            line = Text(f"  {words}: ")
            line.append(f.verdict.value, style=_VERDICT_STYLE[f.verdict])
            extra = (
                f" ({r.behavior_kind})" if prop == "behavior_sensitive" and r.behavior_kind else ""
            )
            line.append(f"{extra}: {f.reason}")
            console.print(line)
            if f.witness is None:
                continue
            console.print(
                f"    witness: {f.witness.summary}; operands {operands_text(f.witness)}",
                markup=False,
            )
            if f.witness.differing:
                console.print(
                    f"    control components that differ: {', '.join(f.witness.differing)}",
                    markup=False,
                )
            header, rows = witness_rows(f.witness)
            _print_grid(console, header, rows)
    return buffer.getvalue()


def render_diff_text(diff: ExtensionDiff, *, color: bool = False, width: int | None = None) -> str:
    """What an extension changes, theorem by theorem and instruction by instruction."""
    console, buffer = make_console(color, width)
    base, ext = diff.base.isa, diff.extension.isa
    console.print(
        Text(f"{ext.title} ({ext.name}) against {base.title} ({base.name})", style="bold")
    )
    for old, new in diff.theorem_pairs():
        line = Text(f"Theorem {old.number}: ")
        line.append(old.verdict.value, style=_VERDICT_STYLE[old.verdict])
        line.append(" -> ")
        line.append(new.verdict.value, style=f"bold {_VERDICT_STYLE[new.verdict]}")
        console.print(line)
        for label, names in _offending_changes(old.offending, new.offending):
            _print_item(console, f"{label}: {', '.join(names)}")
    if not diff.changes:
        console.print("No instruction changed class.")
    for change in diff.changes:
        console.print(Text(f"{change.change}: {change.form} ({change.name})", style="bold"))
        for item in change.what:
            console.print(f"  {item}", markup=False)
        for label, result in (("before", change.before), ("after", change.after)):
            if result is None:
                continue
            if result.critical is Verdict.PROVED:
                console.print(f"  {label}: critical: {critical_reason(result)}", markup=False)
            elif result.privileged.verdict is Verdict.PROVED:
                console.print(f"  {label}: {result.privileged.reason}", markup=False)
            else:
                console.print(f"  {label}: {result.klass.value}", markup=False)
            console.print(f"    [{result.source}; {result.cite}]", markup=False)
    return buffer.getvalue()


def _offending_changes(old: Sequence[str], new: Sequence[str]) -> list[tuple[str, list[str]]]:
    """The mnemonics refuting a theorem before and after, as what changed and what stayed
    (empty when nothing changed)."""
    if list(old) == list(new):
        return []
    parts = [
        ("no longer refuted by", [m for m in old if m not in new]),
        ("newly refuted by", [m for m in new if m not in old]),
        ("still refuted by", [m for m in new if m in old]),
    ]
    return [(label, names) for label, names in parts if names]


def render_context_text(
    search: ContextSearch, *, color: bool = False, width: int | None = None
) -> str:
    """The settings of the VMM-settable fields, ranked, and what each leaves untrapped."""
    console, buffer = make_console(color, width)
    fields = (
        ", ".join(f"{name} ({bits} bit{'s' if bits > 1 else ''})" for name, bits in search.fields)
        or "none"
    )
    console.print(Text(f"VMM context search: {search.isa.title} ({search.isa.name})", style="bold"))
    console.print(
        f"settable fields: {fields}; sensitive forms: {len(search.sensitive)}", markup=False
    )
    header = (
        "setting",
        "sensitive forms that trap",
        "timing-dependent that trap",
        "Theorem 1",
        "",
    )
    rows = []
    for index, setting in enumerate(search.settings):
        marks = []
        if index in search.best:
            marks.append("best")
        if setting.declared:
            marks.append("declared vm_context")
        if not setting.possible:
            marks.append("impossible")
        rows.append(
            (
                setting.text,
                f"{len(setting.trapping)}/{len(search.sensitive)}",
                f"{len(setting.timing_trapping)}/{len(search.timing_dependent)}",
                Cell(setting.theorem1.value, _VERDICT_STYLE[setting.theorem1]),
                ", ".join(marks),
            )
        )
    _print_grid(console, header, rows)
    line = Text("Some setting makes Theorem 1 hold: ")
    line.append(search.verdict.value, style=f"bold {_VERDICT_STYLE[search.verdict]}")
    console.print(line)
    if search.best:
        best = search.settings[search.best[0]]
        console.print(
            f"Untrapped under the best setting ({best.text}): {', '.join(best.escaping) or 'none'}",
            markup=False,
        )
    varying = _varying(search)
    if varying:
        sampled = sampled_fields(search)
        heading = "Instructions whose trapping depends on the setting"
        if sampled:
            heading += f" (with {', '.join(sampled)} all-zeros or all-ones)"
        console.print(Text(heading + ":", style="bold"))
        for form, where in varying:
            _print_item(console, f"{form}: traps {where}")
    for note in search.notes:
        console.print(f"note: {note}", style="dim", markup=False)
    return buffer.getvalue()


def _varying(search: ContextSearch) -> list[tuple[str, str]]:
    """Each form that traps under some grid settings (:func:`grid_settings`) but not all,
    with when it traps: as field values when a few terms of them decide it, else the settings
    one by one."""
    grid = grid_settings(search)
    where = {
        form: [s for s in grid if form in s.trapping or form in s.timing_trapping]
        for form in (*search.sensitive, *search.timing_dependent)
    }
    varying = [form for form, settings in where.items() if 0 < len(settings) < len(grid)]
    conditions = trapping_conditions(search, varying)
    rows = []
    for form in varying:
        condition = conditions[form]
        if condition is not None:
            rows.append((form, "when " + condition_text(condition)))
        else:
            rows.append((form, "under " + "; ".join(s.text for s in where[form])))
    return rows


def render_confirmation_text(c: Confirmation, *, color: bool = False, timing: bool = False) -> str:
    """Each VMM's campaign and how it bears on the theorems; with ``timing``, how long each
    took (wall-clock times differ from run to run: leave them out of files)."""
    console, buffer = make_console(color, None)
    console.print(Text(f"Executable confirmation: {c.isa.title} ({c.isa.name})", style="bold"))
    focus = (
        f"; about half of the lines among the {len(c.focus)} forms that are sensitive or not "
        "proved safe to run directly"
        if c.focus
        else ""
    )
    console.print(
        f"Up to {c.budget} random programs of up to {c.max_length} instructions per VMM{focus}."
    )
    columns = [
        "VMM",
        "programs",
        "equivalent",
        "direct share",
        "real steps per guest",
        "resource violations",
    ]
    rows = []
    for k in c.campaigns:
        row = [
            k.vmm,
            str(k.programs),
            "yes" if k.equivalent else "NO",
            f"{k.direct_share:.2f}",
            f"{k.real_per_guest:.2f}",
            str(len(k.resource_violations)),
        ]
        rows.append([*row, *([f"{k.seconds:.1f}"] if timing else [])])
    _print_grid(console, [*columns, *(["seconds"] if timing else [])], rows)
    for number, verdict, vmm, said in c.agreements:
        console.print(f"Theorem {number} ({verdict.value}) / {vmm}: {said}")
    for k in c.campaigns:
        if not k.equivalent:
            console.print(Text(f"Minimal diverging program under {k.vmm}:", style="bold"))
            initial = ", ".join(f"{e.name}={e.text}" for e in k.initial) or "all zero"
            console.print(f"  initial state: {initial}")
            for line in k.counterexample:
                console.print(f"  {line}")
            console.print(f"  bare vs virtualized: {'; '.join(k.differences)}")
    if c.disagreements:
        console.print(Text("Disagreements with the static verdicts:", style="bold red"))
        for d in c.disagreements:
            console.print(f"  {d}")
    else:
        console.print("The executable results agree with the static verdicts.")
    return buffer.getvalue()


def render_red_pills_text(
    isa_title: str, pills: tuple[RedPill, ...], *, color: bool = False, timing: bool = False
) -> str:
    """A summary by mnemonic, then each red pill: the program, the VMM's values, and its
    result bare and under trap-and-emulate; with ``timing``, how long each random search
    took (wall-clock times differ from run to run: leave them out of files)."""
    console, buffer = make_console(color, None)
    console.print(Text(f"Red pills: {isa_title}", style="bold"))
    if not pills:
        console.print("No critical instruction: nothing tells a guest it is virtualized.")
        return buffer.getvalue()
    summary = [
        (mnemonic, str(forms), "yes" if diverging == forms else f"{diverging}")
        for mnemonic, forms, diverging in pill_summary(pills)
    ]
    _print_grid(console, ("mnemonic", "critical forms", "red pill diverges"), summary)
    for p in pills:
        _render_pill(console, p, timing)
    return buffer.getvalue()


def _render_pill(console: Console, p: RedPill, timing: bool) -> None:
    verdict = "diverges" if p.diverges else "NO divergence"
    console.print(Text(f"{p.form} ({p.mnemonic}): {verdict}", style="bold"))
    if p.note:
        console.print(f"  {p.note}")
    if p.program:
        for line in p.program.splitlines():
            console.print(f"  | {line}")
        guest = {e.name: e.text for e in p.guest_context}
        context = ", ".join(f"{e.name}={e.text} (guest: {guest[e.name]})" for e in p.vmm_context)
        context = context or "the guest's own values"
        console.print(f"  the VMM runs the guest with: {context}")
    if p.differences:
        bare = {e.name: e.text for e in p.bare}
        virtual = {e.name: e.text for e in p.virtualized}
        names = [difference.split(":", 1)[0] for difference in p.differences]
        rows = [(name, bare.get(name, "0"), virtual.get(name, "0")) for name in names]
        _print_grid(console, ("", "bare", "under trap-and-emulate"), rows)
    tries = (
        f"after {p.random_tries} of up to {p.random_budget} random tries"
        if p.random_tries is not None
        else f"not within {p.random_budget} random tries"
    )
    seconds = f" ({p.random_seconds:.2f} s)" if timing else ""
    console.print(f"  random testing found a divergence {tries}{seconds}")

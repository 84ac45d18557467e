"""The Markdown report: theorem verdicts, critical instructions with witnesses, all forms."""

from __future__ import annotations

from collections.abc import Sequence

from analyzer.report.common import (
    critical_reason,
    critical_results,
    operands_text,
    user_critical_results,
    user_reason,
    witness_rows,
)
from analyzer.results import Analysis, ExtensionDiff, InstructionResult, Verdict, Witness

_MARK = {Verdict.PROVED: "yes", Verdict.REFUTED: "no", Verdict.UNKNOWN: "?"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(_cell(h) for h in header) + " |",
        "|" + "|".join(" --- " for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def witness_markdown(witness: Witness) -> list[str]:
    """A witness as a before/after table with its operands."""
    header, rows = witness_rows(witness)
    lines = [f"Operands: {operands_text(witness)}.", ""]
    return lines + _table(header, rows)


def _critical_section(
    title: str, results: Sequence[InstructionResult], reason: str, props: Sequence[str]
) -> list[str]:
    lines = [f"## {title}", ""]
    if not results:
        return [*lines, "None.", ""]
    for r in results:
        lines += [
            f"### {r.form}",
            "",
            f"- mnemonic: {r.mnemonic}; manual: {r.cite}; spec: `{r.source}`",
            f"- why: {critical_reason(r) if reason == 'critical' else user_reason(r)}",
            "",
        ]
        for prop in props:
            finding = getattr(r, prop)
            if finding.verdict is Verdict.PROVED and finding.witness is not None:
                lines += [f"Witness ({prop.replace('_', ' ')}: {finding.reason}):", ""]
                lines += [*witness_markdown(finding.witness), ""]
    return lines


def analysis_markdown(a: Analysis) -> str:
    """One ISA's report."""
    lines = [
        f"# {a.isa.title} (`{a.isa.name}`)",
        "",
        f"Spec: `{a.isa.source}`"
        + (f", extends `{a.isa.base}`" if a.isa.base else "")
        + f"; digest `{a.isa.digest}`; solver budget {a.timeout_ms} ms per query.",
        "",
    ]
    lines += [f"- {m}" for m in a.isa.manuals]
    lines += ["", "## Theorems", ""]
    lines += _table(
        ["theorem", "verdict", "statement", "refuted by"],
        [
            [str(t.number), f"**{t.verdict.value}**", t.statement, ", ".join(t.offending) or "-"]
            for t in a.theorems
        ],
    )
    notes = [f"- Theorem {t.number}: {n}" for t in a.theorems for n in t.notes]
    if notes:
        lines += ["", *notes]
    lines.append("")
    lines += _critical_section(
        "Critical instructions (sensitive, not privileged)",
        critical_results(a),
        "critical",
        ("control_sensitive", "behavior_sensitive"),
    )
    user_only = [r for r in user_critical_results(a) if r.critical is not Verdict.PROVED]
    if user_only:
        lines += _critical_section(
            "User sensitive, not privileged",
            user_only,
            "user",
            ("user_control_sensitive", "user_behavior_sensitive"),
        )
    lines += ["## All instructions", ""]
    lines += _table(
        [
            "form",
            "mnemonic",
            "class",
            "sensitivity",
            "privileged",
            "user sensitive",
            "timing",
            "cite",
        ],
        [
            [
                r.form,
                r.mnemonic,
                r.klass.value,
                r.sensitivity_words or "-",
                _MARK[r.privileged.verdict],
                _MARK[r.user_sensitive],
                _MARK[r.timing_dependent.verdict],
                r.cite,
            ]
            for r in a.instructions
        ],
    )
    return "\n".join(lines) + "\n"


def render_markdown(analyses: Sequence[Analysis]) -> str:
    """Each analysis's report, separated by a rule."""
    return "\n---\n\n".join(analysis_markdown(a) for a in analyses)


def render_diff_markdown(diff: ExtensionDiff) -> str:
    """What an extension changes, as Markdown: theorems, then each changed instruction."""
    base, ext = diff.base.isa, diff.extension.isa
    lines = [
        f"# {ext.title} (`{ext.name}`) against {base.title} (`{base.name}`)",
        "",
        "## Theorems",
        "",
    ]
    lines += _table(
        ["theorem", "before", "after", "refuted by, before", "refuted by, after"],
        [
            [
                str(old.number),
                old.verdict.value,
                f"**{new.verdict.value}**",
                ", ".join(old.offending) or "-",
                ", ".join(new.offending) or "-",
            ]
            for old, new in diff.theorem_pairs()
        ],
    )
    lines += ["", "## Instructions", ""]
    if not diff.changes:
        lines.append("No instruction changed class.")
    for change in diff.changes:
        lines += [f"### {change.form} ({change.change})", ""]
        lines += [f"- {item}" for item in change.what]
        for label, result in (("before", change.before), ("after", change.after)):
            if result is None:
                continue
            lines.append(f"- {label}: {result.klass.value}; {result.cite}; `{result.source}`")
            if result.critical is Verdict.PROVED:
                lines.append(f"  - why critical: {critical_reason(result)}")
            elif result.privileged.verdict is Verdict.PROVED:
                lines.append(f"  - {result.privileged.reason}")
        lines.append("")
        shown = (
            change.before if change.before and change.before.critical is Verdict.PROVED else None
        )
        if shown is not None:
            witness = shown.behavior_sensitive.witness or shown.control_sensitive.witness
            if witness is not None:
                lines += ["Witness before:", "", *witness_markdown(witness), ""]
    return "\n".join(lines) + "\n"

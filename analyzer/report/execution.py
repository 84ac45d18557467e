"""Results of the executable model in reports: the equivalence campaigns run under each VMM
(programs run, divergences, efficiency) and the red pills of the critical instructions, each
program with its result bare and under trap-and-emulate.

Only what is the same on every run is rendered: wall-clock times are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from analyzer.report.html import md_cell, table
from analyzer.results import Campaign, Entry, Execution, RedPill, pill_summary
from analyzer.serialize import confirmation_to_dict, red_pills_to_dict


def execution_dict(execution: Execution) -> dict[str, Any]:
    """The campaigns and red pills as plain data (``pgv/execution/1``), without timings."""
    confirmation = confirmation_to_dict(execution.confirmation)
    pills = red_pills_to_dict(execution.confirmation.isa, execution.red_pills)
    for part in (confirmation, pills):
        del part["seconds"], part["schema"]
    return {
        "schema": "pgv/execution/1",
        "isa": confirmation.pop("isa"),
        "confirmation": confirmation,
        "red_pills": pills["red_pills"],
        "red_pill_mnemonics": pills["mnemonics"],
    }


def _entries(entries: Sequence[Entry]) -> str:
    return ", ".join(f"{e.name}={e.value:#x}" for e in entries) or "-"


def _start(entries: Sequence[Entry]) -> str:
    """A program's initial state: its non-zero entries."""
    return _entries(entries) if entries else "the all-zero state"


def _campaign_row(c: Campaign) -> list[str]:
    outcome = "equivalent" if c.equivalent else "diverges"
    return [
        c.vmm,
        str(c.programs),
        outcome,
        str(c.guest_steps),
        f"{c.direct_share:.0%}",
        f"{c.real_per_guest:.2f}",
        str(len(c.resource_violations)),
    ]


_CAMPAIGN_HEADER = (
    "VMM",
    "programs",
    "result",
    "guest steps",
    "run directly",
    "real steps per guest step",
    "resource violations",
)
_CAMPAIGNS = ' data-table="campaigns"'
_PILLS = ' data-table="redpills"'
_PILL_HEADER = ("form", "program", "VMM runs it with", "bare", "under the VMM", "random tries")


def _pill_row(p: RedPill) -> list[str]:
    if p.random_budget == 0:
        tries = "not measured"
    elif p.random_tries is None:
        tries = f"none in {p.random_budget}"
    else:
        tries = f"{p.random_tries} of {p.random_budget}"
    program = " / ".join(line.strip() for line in p.program.splitlines()[1:] if line.strip())
    if not p.diverges:
        return [p.form, program or "-", "-", "-", p.note or "no divergence", tries]
    return [
        p.form,
        program,
        _entries(p.vmm_context),
        _differing(p.bare, p.differences),
        _differing(p.virtualized, p.differences),
        tries,
    ]


def _differing(entries: Sequence[Entry], differences: Sequence[str]) -> str:
    """The entries a red pill's runs differ in (named first in each ``differences`` line),
    with their value on this side; entries not listed are zero."""
    values = {e.name: e.value for e in entries}
    names = dict.fromkeys(d.split(":", 1)[0] for d in differences)
    return ", ".join(f"{n}={values.get(n, 0):#x}" for n in names) or "-"


def _measured(execution: Execution) -> bool:
    """Whether the red pills were set against a random search."""
    return any(p.random_budget for p in execution.red_pills)


def _pill_header(execution: Execution) -> tuple[str, ...]:
    return _PILL_HEADER if _measured(execution) else _PILL_HEADER[:-1]


def _pill_rows(execution: Execution) -> list[list[str]]:
    width = len(_pill_header(execution))
    return [_pill_row(p)[:width] for p in execution.red_pills]


def _lead(execution: Execution) -> list[str]:
    c = execution.confirmation
    random = (
        "*random tries* is how many random single-instruction programs it took to find a "
        "divergence of the same form."
        if _measured(execution)
        else "`pgv redpill` also counts the random single-instruction programs it takes to "
        "find a divergence of the same form."
    )
    return [
        f"Random programs (at most {c.budget} per VMM, up to {c.max_length} instructions, "
        "derandomized) run bare and under each VMM; a divergence is shrunk to a minimal "
        "program. Red pills are programs built from z3's witness that direct execution is "
        f"unsafe, run bare and under trap-and-emulate; {random}",
    ]


def execution_markdown(execution: Execution) -> str:
    """A Markdown section: theorem agreement, campaigns, counterexamples, red pills."""
    c = execution.confirmation
    out = ["## Executable model", "", *_lead(execution), ""]
    out += ["| theorem | static verdict | VMM | runs |", "| --- | --- | --- | --- |"]
    out += [f"| {n} | {v.value} | {vmm} | {md_cell(said)} |" for n, v, vmm, said in c.agreements]
    out.append("")
    if c.disagreements:
        out += ["**Disagreements:**", ""] + [f"- {md_cell(d)}" for d in c.disagreements] + [""]
    out += ["| " + " | ".join(_CAMPAIGN_HEADER) + " |", "|" + " --- |" * len(_CAMPAIGN_HEADER)]
    out += ["| " + " | ".join(_campaign_row(k)) + " |" for k in c.campaigns]
    out.append("")
    for k in c.campaigns:
        if not k.equivalent:
            out += [
                f"Divergence under {k.vmm}, from {_start(k.initial)}: "
                f"`{' / '.join(k.counterexample)}`; {md_cell('; '.join(k.differences))}.",
                "",
            ]
    if execution.red_pills:
        summary = ", ".join(
            f"{m} {diverging}/{forms}" for m, forms, diverging in pill_summary(execution.red_pills)
        )
        out += ["### Red pills", "", f"Forms whose pill diverges, by mnemonic: {summary}.", ""]
        header = _pill_header(execution)
        out += ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
        out += ["| " + " | ".join(md_cell(x) for x in row) + " |" for row in _pill_rows(execution)]
        out.append("")
    return "\n".join(out)


def execution_html(execution: Execution) -> list[str]:
    """The same section for the HTML page (escaped, no script needed)."""
    c = execution.confirmation
    out = [
        '<section id="execution" data-section="execution">',
        "<h2>Executable model</h2>",
        *(f"<p>{escape(p)}</p>" for p in _lead(execution)),
    ]
    out += table(
        ("theorem", "static verdict", "VMM", "runs"),
        [[str(n), v.value, vmm, said] for n, v, vmm, said in c.agreements],
    )
    if c.disagreements:
        out += ["<p><strong>Disagreements:</strong></p>", "<ul>"]
        out += [f"<li>{escape(d)}</li>" for d in c.disagreements] + ["</ul>"]
    out += table(_CAMPAIGN_HEADER, [_campaign_row(k) for k in c.campaigns], _CAMPAIGNS)
    for k in c.campaigns:
        if not k.equivalent:
            out.append(
                f"<p>Divergence under {escape(k.vmm)}, from {escape(_start(k.initial))}: "
                f"<code>{escape(' / '.join(k.counterexample))}</code>; "
                f"{escape('; '.join(k.differences))}.</p>"
            )
    if execution.red_pills:
        out.append("<h3>Red pills</h3>")
        out += table(_pill_header(execution), _pill_rows(execution), _PILLS)
    out.append("</section>")
    return out


def _index_cells(name: str, execution: Execution) -> list[str]:
    by_vmm = {k.vmm: k for k in execution.confirmation.campaigns}
    cells = [name]
    for vmm in _INDEX_VMMS:
        k = by_vmm.get(vmm)
        cells.append("-" if k is None else ("equivalent" if k.equivalent else "diverges"))
    pills = execution.red_pills
    cells.append(f"{sum(p.diverges for p in pills)}/{len(pills)}" if pills else "-")
    return cells


_INDEX_VMMS = ("trap-emulate", "nested:2", "hybrid")
_INDEX_HEADER = ("ISA", *_INDEX_VMMS, "red pills diverging")
_INDEX_LEAD = (
    "Random programs run bare and under each VMM (trap-and-emulate, trap-and-emulate nested "
    "two deep, hybrid), and the critical forms' red pills: see each machine's report."
)


def execution_index_markdown(executions: Sequence[tuple[str, Execution]]) -> str:
    """The executable model's results for the index, one row per ISA."""
    if not executions:
        return ""
    lines = ["", "## Executable model", "", _INDEX_LEAD, ""]
    lines += ["| " + " | ".join(_INDEX_HEADER) + " |", "|" + " --- |" * len(_INDEX_HEADER)]
    lines += ["| " + " | ".join(_index_cells(n, e)) + " |" for n, e in executions]
    return "\n".join(lines) + "\n"


def execution_index_html(executions: Sequence[tuple[str, Execution]]) -> list[str]:
    """The same for ``index.html``."""
    if not executions:
        return []
    return [
        '<section id="execution" data-section="execution">',
        "<h2>Executable model</h2>",
        f"<p>{escape(_INDEX_LEAD)}</p>",
        *table(_INDEX_HEADER, [_index_cells(n, e) for n, e in executions], _EXECUTION_INDEX),
        "</section>",
    ]


_EXECUTION_INDEX = ' data-table="execution"'

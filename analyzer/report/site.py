"""The report directory: per ISA ``NAME.md``, ``NAME.html``, ``NAME.json``, ``NAME.sarif``
(and ``NAME.execution.json`` when programs were run), and ``index.md``/``index.html`` side
by side.

Deterministic: no timestamps, and spec paths are made relative (to ``root``, by default the
current directory) before anything is rendered, so two runs give byte-identical files.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from analyzer import ir
from analyzer.diff import diff_analyses
from analyzer.graphs import (
    mode_transition_graph,
    mode_transition_mermaid,
    state_flow_graph,
    state_flow_mermaid,
)
from analyzer.literature import comparison, published
from analyzer.report.execution import (
    execution_dict,
    execution_html,
    execution_index_html,
    execution_index_markdown,
    execution_markdown,
)
from analyzer.report.html import render_html, render_index_html, render_index_markdown
from analyzer.report.jsonout import analysis_dict, render_diff_json
from analyzer.report.markdown import analysis_markdown, render_diff_markdown
from analyzer.report.sarif import render_sarif, source_uri
from analyzer.results import Analysis, Execution


def relative_analysis(analysis: Analysis, root: Path | None = None) -> Analysis:
    """``analysis`` with every spec path relative (see :func:`source_uri`)."""
    isa = dataclasses.replace(analysis.isa, source=source_uri(analysis.isa.source, root))
    instructions = tuple(
        dataclasses.replace(
            r, source=dataclasses.replace(r.source, file=source_uri(r.source.file, root))
        )
        for r in analysis.instructions
    )
    return dataclasses.replace(analysis, isa=isa, instructions=instructions)


def graphs_markdown(analysis: Analysis, isa: ir.Isa) -> str:
    """The mode-transition and state-flow graphs as Markdown sections with Mermaid blocks."""
    modes = mode_transition_graph(isa, analysis)
    flow = state_flow_graph(isa)
    return "\n".join(
        [
            "## Mode transitions",
            "",
            "How an instruction can move between supervisor and user mode without trapping: "
            "*shown* when a control-sensitivity witness starts in one mode and ends in the "
            "other, *may* when the instruction writes a mode component and nothing proves it "
            "cannot, but no witness shows it; a trap enters the handler.",
            "",
            "```mermaid",
            mode_transition_mermaid(modes).rstrip("\n"),
            "```",
            "",
            "## State flow",
            "",
            "Which instructions read (dotted) and write (solid) the mode, control and timing "
            "components.",
            "",
            "```mermaid",
            state_flow_mermaid(flow).rstrip("\n"),
            "```",
            "",
        ]
    )


def _analysis_schema() -> dict[str, Any]:
    text = resources.files("analyzer").joinpath("schema", "analysis.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def validated_json(analysis: Analysis) -> str:
    """``analysis`` as ``pgv/analysis/1`` JSON text, checked against the published schema
    (``jsonschema.ValidationError`` if it does not conform)."""
    import jsonschema  # type: ignore[import-untyped,unused-ignore]

    data = analysis_dict(analysis)
    jsonschema.validate(data, _analysis_schema())
    return json.dumps(data, indent=2) + "\n"


def _isa_for(analysis: Analysis, isas: Sequence[ir.Isa]) -> ir.Isa | None:
    return next((i for i in isas if i.name == analysis.isa.name), None)


def _baseline(analysis: Analysis, analyses: Sequence[Analysis]) -> list[Analysis] | None:
    base = next((a for a in analyses if a.isa.name == analysis.isa.base), None)
    return None if base is None else [base]


def published_text(analysis: Analysis) -> str | None:
    """The literature's findings on this machine and how the derived ones differ."""
    found = published(Path(analysis.isa.source).stem)
    if found is None:
        return None
    theorems = {t.number: t.verdict.value for t in analysis.theorems}
    text = f"{found.summary}. Source: {found.source}."
    differences = comparison(found, theorems, list(analysis.theorem(1).offending))
    if differences:
        text += " Differences: " + " ".join(d if d.endswith(".") else d + "." for d in differences)
    else:
        text += " The derived results agree."
    return text


def _extension_pairs(analyses: Sequence[Analysis]) -> list[tuple[Analysis, Analysis]]:
    by_name = {a.isa.name: a for a in analyses}
    return [(by_name[a.isa.base], a) for a in analyses if a.isa.base in by_name]


def _diff_index_markdown(pairs: list[tuple[Analysis, Analysis]]) -> str:
    if not pairs:
        return ""
    lines = ["", "## Extensions", ""]
    for base, ext in pairs:
        diff = diff_analyses(base, ext)
        verdicts = ", ".join(
            f"Theorem {old.number} {old.verdict.value} -> {new.verdict.value}"
            for old, new in diff.theorem_pairs()
        )
        lines.append(
            f"- [{ext.isa.name} against {base.isa.name}]({ext.isa.name}.diff.md): "
            f"{len(diff.changes)} instruction forms changed; {verdicts}"
        )
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> Path:
    path.write_bytes(text.encode("utf-8"))
    return path


def write_reports(
    analyses: Sequence[Analysis],
    out_dir: str | Path,
    published: Mapping[str, str] | None = None,
    *,
    isas: Sequence[ir.Isa] = (),
    root: Path | None = None,
    executions: Mapping[str, Execution] | None = None,
) -> list[Path]:
    """Write every report of ``analyses`` into ``out_dir`` (created if need be) and return the
    paths written, sorted.

    ``published`` maps a spec name to the literature's verdict, for the index. ``isas`` are
    the IRs the analyses were made from (matched by name): with them the Markdown and HTML
    reports include the mode-transition and state-flow graphs. An ISA that extends another in
    the same set gets its SARIF ``baselineState`` against it. ``executions`` (by ISA name)
    add the executable model's results: a section in ``NAME.md`` and ``NAME.html``,
    ``NAME.execution.json``, and a table in the index.
    """
    executions = executions or {}
    out = Path(out_dir)
    names = [a.isa.name for a in analyses]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"two analyses of the same ISA name: {', '.join(duplicates)}")
    out.mkdir(parents=True, exist_ok=True)
    relative = [relative_analysis(a, root) for a in analyses]
    written = []
    for a in relative:
        name = a.isa.name
        isa = _isa_for(a, isas)
        markdown = analysis_markdown(a)
        if isa is not None:
            markdown += "\n" + graphs_markdown(a, isa)
        execution = executions.get(name)
        sections: list[str] = []
        if execution is not None:
            markdown += "\n" + execution_markdown(execution)
            sections = execution_html(execution)
            data = json.dumps(execution_dict(execution), indent=2) + "\n"
            written.append(_write(out / f"{name}.execution.json", data))
        written.append(_write(out / f"{name}.md", markdown))
        written.append(_write(out / f"{name}.html", render_html(a, isa, sections)))
        written.append(_write(out / f"{name}.json", validated_json(a)))
        sarif = render_sarif([a], _baseline(a, relative), root=root)
        written.append(_write(out / f"{name}.sarif", json.dumps(sarif, indent=2) + "\n"))
    if published is None:
        published = {a.isa.name: t for a in relative if (t := published_text(a)) is not None}
    pairs = _extension_pairs(relative)
    for base, ext in pairs:
        diff = diff_analyses(base, ext)
        written.append(_write(out / f"{ext.isa.name}.diff.md", render_diff_markdown(diff)))
        written.append(_write(out / f"{ext.isa.name}.diff.json", render_diff_json(diff)))
    ran = [(a.isa.name, executions[a.isa.name]) for a in relative if a.isa.name in executions]
    index = (
        render_index_markdown(relative, published)
        + _diff_index_markdown(pairs)
        + execution_index_markdown(ran)
    )
    written.append(_write(out / "index.md", index))
    index_html = render_index_html(relative, published, execution_index_html(ran))
    written.append(_write(out / "index.html", index_html))
    return sorted(written)

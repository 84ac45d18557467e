"""The HTML report: one self-contained page per ISA, an index of machines, a notebook summary.

A page fetches nothing (a Content-Security-Policy forbids it): CSS, SVG figures and the small
script that sorts and filters the instruction table are inline. Output is deterministic: no
timestamps, no absolute paths, no randomness, so the same analysis gives the same bytes.
Figures and rows carry ``data-*`` attributes (``data-figure``, ``data-instruction``,
``data-region``) so that tests and scripts can find them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from pathlib import PurePath
from typing import Any

from analyzer import ir
from analyzer.graphs import (
    mode_transition_graph,
    mode_transition_svg,
    state_flow_graph,
    state_flow_svg,
)
from analyzer.report.common import (
    critical_reason,
    critical_results,
    finding,
    operands_text,
    user_critical_results,
    user_reason,
    witness_rows,
)
from analyzer.report.sarif import source_uri
from analyzer.results import Analysis, InstrClass, InstructionResult, Verdict, Witness

CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"

_MARK = {Verdict.PROVED: "yes", Verdict.REFUTED: "no", Verdict.UNKNOWN: "?"}

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #222;
  max-width: 1200px; margin: 0 auto; padding: 0 1.5em 3em; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }
code, .mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .92em; }
nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: .6em 0; }
th, td { border: 1px solid #ccc; padding: .25em .55em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
th button { all: unset; cursor: pointer; font-weight: bold; }
th button::after { content: " \\2195"; color: #999; }
th[aria-sort="ascending"] button::after { content: " \\2191"; color: #222; }
th[aria-sort="descending"] button::after { content: " \\2193"; color: #222; }
.verdict-PROVED { color: #1a6b1a; font-weight: bold; }
.verdict-REFUTED { color: #b00020; font-weight: bold; }
.verdict-UNKNOWN { color: #a06000; font-weight: bold; }
tr.class-critical td { background: #fde8e8; }
tr.class-unknown td, tr.class-unmodelled td { background: #fff6dc; }
figure { margin: 1em 0; overflow-x: auto; }
figcaption { color: #555; font-size: .92em; margin-top: .3em; }
article.critical { border-left: 4px solid #b00020; padding-left: 1em; margin: 1.2em 0; }
article.user-critical { border-left: 4px solid #a06000; padding-left: 1em; margin: 1.2em 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1em; }
dl.facts dt { font-weight: bold; }
dl.facts dd { margin: 0; }
.controls { margin: .6em 0; display: flex; gap: 1em; align-items: center; flex-wrap: wrap; }
.muted { color: #666; }
"""

_SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("instructions");
  if (!table) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var text = document.getElementById("instruction-filter");
  var klass = document.getElementById("class-filter");
  var shown = document.getElementById("instruction-count");
  var sorted = { col: -1, dir: 1 };
  function key(row, col) {
    var cell = row.cells[col];
    var value = cell.getAttribute("data-key");
    return value === null ? cell.textContent.trim().toLowerCase() : value;
  }
  function compare(a, b) {
    var x = Number(a), y = Number(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y)) { return x - y; }
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    var button = th.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      sorted.dir = sorted.col === col ? -sorted.dir : 1;
      sorted.col = col;
      rows.sort(function (a, b) {
        var c = compare(key(a, col), key(b, col));
        return c !== 0 ? c * sorted.dir : Number(a.dataset.order) - Number(b.dataset.order);
      });
      rows.forEach(function (row) { body.appendChild(row); });
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) {
        other.removeAttribute("aria-sort");
      });
      th.setAttribute("aria-sort", sorted.dir > 0 ? "ascending" : "descending");
    });
  });
  function filter() {
    var words = text.value.trim().toLowerCase();
    var wanted = klass.value;
    var count = 0;
    rows.forEach(function (row) {
      var match = (words === "" || row.textContent.toLowerCase().indexOf(words) >= 0) &&
        (wanted === "" || row.dataset.class === wanted);
      row.hidden = !match;
      if (match) { count += 1; }
    });
    shown.textContent = String(count);
  }
  text.addEventListener("input", filter);
  klass.addEventListener("change", filter);
})();
"""


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _verdict(v: Verdict) -> str:
    return f'<span class="verdict-{v.value}">{v.value}</span>'


def table(
    header: Sequence[str], rows: Sequence[Sequence[str]], attrs: str = "", escaped: bool = False
) -> list[str]:
    """A table; cells are escaped unless ``escaped`` says they already are HTML."""
    cell = (lambda c: c) if escaped else _e
    out = [f"<table{attrs}>", "<thead><tr>" + "".join(f"<th>{_e(h)}</th>" for h in header)]
    out.append("</tr></thead><tbody>")
    out += ["<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in rows]
    out.append("</tbody></table>")
    return out


# ---------------------------------------------------------------- counts and sets


def counts(analysis: Analysis) -> dict[str, int]:
    """Instruction forms that are (PROVED) privileged, sensitive, critical, user sensitive,
    user critical, timing dependent, and undecided or unmodelled."""
    rs = analysis.instructions
    return {
        "forms": len(rs),
        "mnemonics": len({r.mnemonic for r in rs}),
        "privileged": sum(r.privileged.verdict is Verdict.PROVED for r in rs),
        "sensitive": sum(r.sensitive is Verdict.PROVED for r in rs),
        "critical": sum(r.critical is Verdict.PROVED for r in rs),
        "user_sensitive": sum(r.user_sensitive is Verdict.PROVED for r in rs),
        "user_critical": sum(r.user_critical is Verdict.PROVED for r in rs),
        "timing_dependent": sum(r.timing_dependent.verdict is Verdict.PROVED for r in rs),
        "undecided": sum(r.klass is InstrClass.UNKNOWN for r in rs),
        "unmodelled": sum(r.klass is InstrClass.UNMODELLED for r in rs),
    }


REGIONS: tuple[tuple[str, str], ...] = (
    ("critical", "sensitive, not privileged, not user sensitive (critical)"),
    ("critical-user", "sensitive and user sensitive, not privileged (critical; refutes Thm 3)"),
    ("sensitive-privileged", "sensitive and privileged"),
    ("all-three", "sensitive, user sensitive and privileged"),
    ("privileged", "privileged, not sensitive"),
    ("neither", "neither sensitive nor privileged"),
    ("user-only", "user sensitive but not sensitive (inconsistent: should be empty)"),
    ("user-privileged", "user sensitive and privileged, not sensitive (inconsistent)"),
    ("undecided", "undecided or unmodelled: in no region"),
)


def _region(r: InstructionResult) -> str:
    verdicts = (r.sensitive, r.privileged.verdict, r.user_sensitive)
    if r.unmodelled is not None or Verdict.UNKNOWN in verdicts:
        return "undecided"
    s, p, u = (v is Verdict.PROVED for v in verdicts)
    if s:
        if p:
            return "all-three" if u else "sensitive-privileged"
        return "critical-user" if u else "critical"
    if u:
        return "user-privileged" if p else "user-only"
    return "privileged" if p else "neither"


def set_regions(analysis: Analysis) -> dict[str, list[InstructionResult]]:
    """The instruction forms in each region of the sets diagram (keys of REGIONS), spec order."""
    regions: dict[str, list[InstructionResult]] = {key: [] for key, _ in REGIONS}
    for r in analysis.instructions:
        regions[_region(r)].append(r)
    return regions


def _mnemonics(results: Sequence[InstructionResult]) -> list[str]:
    return list(dict.fromkeys(r.mnemonic for r in results))


def _name_lines(names: list[str], per_line: int, max_lines: int) -> list[str]:
    lines = [", ".join(names[k : k + per_line]) for k in range(0, len(names), per_line)]
    if len(lines) > max_lines:
        shown = per_line * (max_lines - 1)
        lines = [*lines[: max_lines - 1], f"+{len(names) - shown} more"]
    return lines


_SVG_FONT = "font-family:system-ui,sans-serif"
_BELOW_LABEL = {
    "critical": "critical",
    "critical-user": "critical and user sensitive",
}


def _wrapped(label: str, names: list[str], width: int) -> list[str]:
    """``label`` and ``names``, comma separated, in lines of at most ``width`` characters."""
    lines = [label.rstrip()]
    for name in names:
        candidate = f"{lines[-1]} {name}," if lines[-1] else f"{name},"
        if len(candidate) > width and lines[-1]:
            lines.append(f"{name},")
        else:
            lines[-1] = candidate
    lines[-1] = lines[-1].rstrip(",")
    return lines


def sets_svg(analysis: Analysis) -> str:
    """An Euler diagram of the sensitive (S), privileged (P) and user-sensitive (U) forms.

    U lies inside S (a user-sensitivity witness is a sensitivity witness), so the diagram has
    the regions S only, S and U, S and P, all three, P only, and outside; each shows its count,
    and the sensitive-but-unprivileged regions name their (critical) mnemonics.
    """
    regions = set_regions(analysis)
    n = {key: len(v) for key, v in regions.items()}
    named = {
        key: (_mnemonics(regions[key]), per_line, lines)
        for key, per_line, lines in (("critical", 3, 9), ("critical-user", 2, 6))
    }
    # Names that do not fit their region are all listed under the circles instead, so that
    # every critical mnemonic is on the figure (the x86 has about ninety).
    below = {
        key: _wrapped(f"{_BELOW_LABEL[key]}: ", names, 110)
        for key, (names, per_line, lines) in named.items()
        if len(names) > per_line * lines
    }
    width = 760
    height = 500 + sum(14 * len(v) + 8 for v in below.values())
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" data-graph="sets" '
        f'aria-label="Euler diagram of sensitive, privileged and user-sensitive instructions">',
        f'<rect x="1" y="1" width="{width - 2}" height="{height - 2}" fill="#fafafa" '
        f'stroke="#bbb" data-region="neither"/>',
        '<circle cx="300" cy="240" r="200" fill="#e06666" fill-opacity="0.18" stroke="#b00020" '
        'stroke-width="2" data-set="sensitive"/>',
        '<circle cx="530" cy="240" r="160" fill="#6aa84f" fill-opacity="0.18" stroke="#38761d" '
        'stroke-width="2" data-set="privileged"/>',
        '<circle cx="370" cy="320" r="90" fill="#f6b26b" fill-opacity="0.30" stroke="#b45f06" '
        'stroke-width="2" data-set="user-sensitive"/>',
        f'<text x="30" y="60" style="{_SVG_FONT};font-size:15px;font-weight:bold" '
        f'fill="#b00020">sensitive ({_set_size(regions, "sensitive")})</text>',
        f'<text x="560" y="62" style="{_SVG_FONT};font-size:15px;font-weight:bold" '
        f'fill="#38761d">privileged ({_set_size(regions, "privileged")})</text>',
        f'<text x="282" y="365" text-anchor="end" '
        f'style="{_SVG_FONT};font-size:12px;font-weight:bold" '
        f'fill="#b45f06">user sensitive ({_set_size(regions, "user")})</text>',
    ]

    listed_at = 500

    def region(key: str, x: int, y: int, names: list[str], per_line: int, lines: int) -> None:
        nonlocal listed_at
        out.append(
            f'<g data-region="{key}" data-count="{n[key]}">'
            f'<text x="{x}" y="{y}" text-anchor="middle" '
            f'style="{_SVG_FONT};font-size:22px;font-weight:bold">{n[key]}</text>'
        )
        inside = ["(listed below)"] if key in below else _name_lines(names, per_line, lines)
        for k, line in enumerate(inside):
            out.append(
                f'<text x="{x}" y="{y + 18 + 14 * k}" text-anchor="middle" '
                f'style="{_SVG_FONT};font-size:12px" fill="#7a0010">{_e(line)}</text>'
            )
        for line in below.get(key, []):
            listed_at += 14
            out.append(
                f'<text x="16" y="{listed_at}" style="{_SVG_FONT};font-size:12px" '
                f'fill="#7a0010">{_e(line)}</text>'
            )
        listed_at += 8 if key in below else 0
        out.append("</g>")

    for key, (x, y) in (("critical", (210, 170)), ("critical-user", (330, 300))):
        region(key, x, y, *named[key])
    region("sensitive-privileged", 430, 150, [], 1, 1)
    region("all-three", 420, 320, [], 1, 1)
    region("privileged", 610, 240, [], 1, 1)
    region("neither", 680, 460, [], 1, 1)
    out.append(
        f'<text x="680" y="482" text-anchor="middle" style="{_SVG_FONT};font-size:12px" '
        f'fill="#555">neither</text>'
    )
    odd = n["user-only"] + n["user-privileged"]
    notes = []
    if n["undecided"]:
        notes.append(f"{n['undecided']} undecided or unmodelled, in no region")
    if odd:
        notes.append(f"{odd} user sensitive but not sensitive (inconsistent results)")
    for k, note in enumerate(notes):
        out.append(
            f'<text x="16" y="{462 + 18 * k}" style="{_SVG_FONT};font-size:12px" '
            f'fill="#a06000" data-note="sets">{_e(note)}</text>'
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _set_size(regions: Mapping[str, Sequence[InstructionResult]], which: str) -> int:
    """How many forms of the sets diagram lie in the sensitive, privileged or user set."""
    members = {
        "sensitive": ("critical", "critical-user", "sensitive-privileged", "all-three"),
        "privileged": ("sensitive-privileged", "all-three", "privileged", "user-privileged"),
        "user": ("critical-user", "all-three", "user-only", "user-privileged"),
    }[which]
    return sum(len(regions[key]) for key in members)


# ---------------------------------------------------------------- page sections


def _relative(path: str) -> str:
    return source_uri(path)


def _title(r: InstructionResult) -> str:
    return r.form if r.form == r.mnemonic else f"{r.form} ({r.mnemonic})"


def _header(a: Analysis) -> list[str]:
    base = f", extends <code>{_e(a.isa.base)}</code>" if a.isa.base else ""
    out = [
        "<header>",
        f'<h1 data-isa="{_e(a.isa.name)}">{_e(a.isa.title)} (<code>{_e(a.isa.name)}</code>)</h1>',
        f"<p>Spec <code>{_e(_relative(a.isa.source))}</code>{base}; digest "
        f"<code>{_e(a.isa.digest)}</code>; solver budget {a.timeout_ms} ms per query.</p>",
    ]
    if a.isa.manuals:
        out += ["<ul>", *[f"<li>{_e(m)}</li>" for m in a.isa.manuals], "</ul>"]
    out += [
        '<nav><a href="#theorems">Theorems</a><a href="#sets">Sets</a>'
        '<a href="#critical">Critical instructions</a><a href="#graphs">Graphs</a>'
        '<a href="#state">State</a><a href="#all-instructions">All instructions</a></nav>',
        "</header>",
    ]
    return out


def _theorems(a: Analysis) -> list[str]:
    out = ['<section id="theorems" data-section="theorems">', "<h2>Theorems</h2>"]
    out.append('<table data-table="theorems"><thead><tr>')
    out.append("<th>theorem</th><th>verdict</th><th>statement</th><th>refuted by</th>")
    out.append("<th>undecided</th></tr></thead><tbody>")
    for t in a.theorems:
        out.append(
            f'<tr data-theorem="{t.number}" data-verdict="{t.verdict.value}">'
            f"<td>{t.number}</td><td>{_verdict(t.verdict)}</td><td>{_e(t.statement)}</td>"
            f"<td>{_e(', '.join(t.offending) or '-')}</td>"
            f"<td>{_e(', '.join(t.undecided) or '-')}</td></tr>"
        )
    out.append("</tbody></table>")
    notes = [(t.number, note) for t in a.theorems for note in t.notes]
    if notes:
        out += ["<ul>", *[f"<li>Theorem {k}: {_e(note)}</li>" for k, note in notes], "</ul>"]
    out.append("</section>")
    return out


def _sets(a: Analysis) -> list[str]:
    regions = set_regions(a)
    c = counts(a)
    out = [
        '<section id="sets" data-section="sets">',
        "<h2>Sensitive, privileged and user-sensitive instructions</h2>",
        '<figure id="figure-sets" data-figure="sets">',
        sets_svg(a),
        f"<figcaption>Instruction forms by the verdicts the solver proved: {c['sensitive']} "
        f"sensitive, {c['privileged']} privileged, {c['user_sensitive']} user sensitive, of "
        f"{c['forms']}. Theorem 1 holds when the sensitive-but-unprivileged regions are empty; "
        "Theorem 3 when the user-sensitive-but-unprivileged one is.</figcaption>",
        "</figure>",
        '<dl class="facts" data-list="regions">',
    ]
    for key, words in REGIONS:
        members = regions[key]
        if not members and key in ("user-only", "user-privileged", "undecided"):
            continue
        names = ", ".join(_title(r) for r in members) or "none"
        out.append(f'<dt data-region="{key}">{_e(words)} ({len(members)})</dt><dd>{_e(names)}</dd>')
    out += ["</dl>", "</section>"]
    return out


def witness_html(witness: Witness, prop: str) -> list[str]:
    """A witness as its operands and a table of the states side by side."""
    header, rows = witness_rows(witness)
    out = [
        f'<div class="witness" data-witness="{_e(prop)}">',
        f"<p>Operands: <code>{_e(operands_text(witness))}</code>.</p>",
    ]
    out += table(header, rows, ' class="mono"')
    if witness.differing:
        out.append(f"<p>Control components that differ: {_e(', '.join(witness.differing))}.</p>")
    out.append("</div>")
    return out


def _instruction_article(
    r: InstructionResult, css: str, why: str, props: Sequence[str]
) -> list[str]:
    out = [
        f'<article class="{css}" id="{css}-{_e(r.name)}" data-{css}="{_e(r.name)}">',
        f"<h3>{_e(_title(r))}</h3>",
        '<dl class="facts">',
        f"<dt>mnemonic</dt><dd>{_e(r.mnemonic)}</dd>",
        f"<dt>why</dt><dd>{_e(why)}</dd>",
        f"<dt>manual</dt><dd>{_e(r.cite)}</dd>",
        f"<dt>spec</dt><dd><code>{_e(_relative(r.source.file))}:{r.source.line}:"
        f"{r.source.column}</code></dd>",
        "</dl>",
    ]
    for prop in props:
        f = finding(r, prop)
        if f.verdict is Verdict.PROVED and f.witness is not None:
            out.append(f"<h4>Witness: {_e(prop.replace('_', ' '))}</h4>")
            out.append(f"<p>{_e(f.reason)}</p>")
            out += witness_html(f.witness, prop)
    out.append("</article>")
    return out


def _critical(a: Analysis) -> list[str]:
    out = [
        '<section id="critical" data-section="critical">',
        "<h2>Critical instructions (sensitive, not privileged)</h2>",
    ]
    critical = critical_results(a)
    if not critical:
        out.append("<p>None: every sensitive instruction is privileged.</p>")
    for r in critical:
        out += _instruction_article(
            r, "critical", critical_reason(r), ("control_sensitive", "behavior_sensitive")
        )
    user_only = [r for r in user_critical_results(a) if r.critical is not Verdict.PROVED]
    if user_only:
        out.append("<h2>User sensitive, not privileged</h2>")
        for r in user_only:
            out += _instruction_article(
                r,
                "user-critical",
                user_reason(r),
                ("user_control_sensitive", "user_behavior_sensitive"),
            )
    out += _other_findings(a)
    out.append("</section>")
    return out


def _other_findings(a: Analysis) -> list[str]:
    items = []
    for r in a.instructions:
        if r.timing_dependent.verdict is Verdict.PROVED:
            items.append((r, "timing dependent (does not refute Theorem 2)", r.timing_dependent))
        if r.context_invariant.verdict is Verdict.REFUTED:
            items.append((r, "leaves vm_context", r.context_invariant))
        if r.execution_safe.verdict is Verdict.REFUTED and r.critical is not Verdict.PROVED:
            items.append((r, "not safe to execute directly", r.execution_safe))
        if r.unmodelled is not None:
            continue
        if r.klass is InstrClass.UNKNOWN:
            items.append((r, "undecided", r.privileged))
    unmodelled = [r for r in a.instructions if r.unmodelled is not None]
    if not items and not unmodelled:
        return []
    out = ["<h2>Other findings</h2>", '<ul data-list="findings">']
    for r, what, f in items:
        out.append(
            f'<li data-finding="{_e(r.name)}"><strong>{_e(_title(r))}</strong>: {_e(what)}: '
            f"{_e(f.reason)} <code>{_e(_relative(r.source.file))}:{r.source.line}</code></li>"
        )
    for r in unmodelled:
        out.append(
            f'<li data-finding="{_e(r.name)}"><strong>{_e(_title(r))}</strong>: not modelled: '
            f"{_e(r.unmodelled)}</li>"
        )
    out.append("</ul>")
    return out


def _graphs(a: Analysis, isa: ir.Isa | None) -> list[str]:
    out = ['<section id="graphs" data-section="graphs">', "<h2>Graphs</h2>"]
    if isa is None:
        out.append(
            '<p class="muted" data-figure-missing="graphs">The graphs are drawn from the '
            "spec's IR, which was not given to the renderer.</p>"
        )
        out.append("</section>")
        return out
    flow = state_flow_graph(isa)
    modes = mode_transition_graph(isa, a)
    out += [
        "<h3>Mode transitions</h3>",
        '<figure id="figure-mode-transitions" data-figure="mode-transitions">',
        mode_transition_svg(modes),
        "<figcaption>How an instruction can move between supervisor and user mode without "
        "trapping. <em>shown</em> (solid): a control-sensitivity witness starts in one mode "
        "and ends in the other; <em>may</em> (dashed): the instruction writes a mode "
        "component and nothing proves it cannot, but no witness shows the move; "
        "<em>trap</em> (dotted): a trap enters the handler.</figcaption>",
        "</figure>",
    ]
    edges = sorted(
        (data["status"], u, v, data["form"], data["evidence"])
        for u, v, data in modes.edges(data=True)
    )
    out += table(
        ["from", "to", "status", "instruction", "evidence"],
        [[u, v, s, form, ev] for s, u, v, form, ev in edges],
        ' data-table="mode-transitions"',
    )
    out += [
        "<h3>State flow</h3>",
        '<figure id="figure-state-flow" data-figure="state-flow">',
        state_flow_svg(flow),
        "<figcaption>Which instructions (and trap handlers) read and write the mode, control "
        "and timing components. A read in a trap condition or an effect counts; a call reads "
        "what the function reads; a memory access through a translation reads what the "
        "translation reads.</figcaption>",
        "</figure>",
        "</section>",
    ]
    return out


def _state(a: Analysis) -> list[str]:
    out = ['<section id="state" data-section="state">', "<h2>State</h2>"]
    rows = [
        [
            c.name,
            f"bits({c.width})" + (f"[{c.count}]" if c.count is not None else ""),
            c.kind + (", mapping" if c.mapping else ""),
        ]
        for c in a.isa.state
    ]
    out += table(["component", "width", "kind"], rows, ' data-table="state"')
    if a.isa.memories:
        out.append(f"<p>Memories: {_e(', '.join(a.isa.memories))}.</p>")
    out.append("</section>")
    return out


_COLUMNS = (
    "#",
    "form",
    "mnemonic",
    "class",
    "sensitivity",
    "privileged",
    "user sensitive",
    "timing",
    "spec",
    "cite",
)


def _instruction_table(a: Analysis) -> list[str]:
    classes = [k.value for k in InstrClass]
    out = [
        '<section id="all-instructions" data-section="instructions">',
        "<h2>All instructions</h2>",
        '<div class="controls">',
        '<label>Filter <input type="search" id="instruction-filter" '
        'placeholder="text in any column"></label>',
        '<label>Class <select id="class-filter"><option value="">any</option>'
        + "".join(f'<option value="{c}">{c}</option>' for c in classes)
        + "</select></label>",
        f'<span><span id="instruction-count">{len(a.instructions)}</span> of '
        f"{len(a.instructions)} forms shown</span>",
        "</div>",
        '<table id="instructions" data-table="instructions">',
    ]
    out.append(
        "<thead><tr>"
        + "".join(f'<th><button type="button">{_e(h)}</button></th>' for h in _COLUMNS)
        + "</tr></thead><tbody>"
    )
    for k, r in enumerate(a.instructions):
        spec = f"{_relative(r.source.file)}:{r.source.line}"
        cells = [
            f'<td data-key="{k}">{k + 1}</td>',
            f'<td><a href="#critical-{_e(r.name)}">{_e(r.form)}</a></td>'
            if r.critical is Verdict.PROVED
            else f"<td>{_e(r.form)}</td>",
            f"<td>{_e(r.mnemonic)}</td>",
            f"<td>{_e(r.klass.value)}</td>",
            f"<td>{_e(r.sensitivity_words or '-')}</td>",
            f"<td>{_MARK[r.privileged.verdict]}</td>",
            f"<td>{_MARK[r.user_sensitive]}</td>",
            f"<td>{_MARK[r.timing_dependent.verdict]}</td>",
            f'<td data-key="{r.source.line:08d}"><code>{_e(spec)}</code></td>',
            f"<td>{_e(r.cite)}</td>",
        ]
        out.append(
            f'<tr id="row-{_e(r.name)}" class="class-{r.klass.value}" data-order="{k}" '
            f'data-instruction="{_e(r.name)}" data-mnemonic="{_e(r.mnemonic)}" '
            f'data-class="{r.klass.value}" data-critical="{r.critical.value}">'
            + "".join(cells)
            + "</tr>"
        )
    out += ["</tbody></table>", "</section>"]
    return out


def _page(title: str, body: list[str], script: bool) -> str:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="pgv">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        *body,
    ]
    if script:
        out.append(f"<script>{_SCRIPT}</script>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


def render_html(analysis: Analysis, isa: ir.Isa | None = None, sections: Sequence[str] = ()) -> str:
    """One ISA's self-contained report page. ``isa`` (the IR the analysis was made from)
    adds the state-flow and mode-transition graphs; without it the page says they are
    missing. ``sections`` (HTML lines) go after the graphs."""
    a = analysis
    body = [
        *_header(a),
        "<main>",
        *_theorems(a),
        *_sets(a),
        *_critical(a),
        *_graphs(a, isa),
        *sections,
        *_state(a),
        *_instruction_table(a),
        "</main>",
    ]
    return _page(f"pgv: {a.isa.title} ({a.isa.name})", body, script=True)


# ---------------------------------------------------------------- notebook summary


def analysis_html_fragment(analysis: Analysis) -> str:
    """A compact summary for notebooks (``Analysis._repr_html_``): theorem verdicts, counts
    and the critical instructions; inline styles only, no script."""
    a = analysis
    c = counts(a)
    colour = {Verdict.PROVED: "#1a6b1a", Verdict.REFUTED: "#b00020", Verdict.UNKNOWN: "#a06000"}
    cell = "border:1px solid #ccc;padding:2px 6px;text-align:left"
    rows = "".join(
        f'<tr data-theorem="{t.number}"><td style="{cell}">Theorem {t.number}</td>'
        f'<td style="{cell};color:{colour[t.verdict]};font-weight:bold">{t.verdict.value}</td>'
        f'<td style="{cell}">{_e(", ".join(t.offending) or "-")}</td></tr>'
        for t in a.theorems
    )
    critical = _mnemonics(critical_results(a))
    return (
        f'<div class="pgv-analysis" data-isa="{_e(a.isa.name)}">'
        f"<p><strong>{_e(a.isa.title)}</strong> (<code>{_e(a.isa.name)}</code>): "
        f"{c['forms']} instruction forms; {c['privileged']} privileged, {c['sensitive']} "
        f"sensitive, {c['critical']} critical, {c['user_sensitive']} user sensitive.</p>"
        f'<table style="border-collapse:collapse"><thead><tr><th style="{cell}">theorem</th>'
        f'<th style="{cell}">verdict</th><th style="{cell}">refuted by</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        f"<p>Critical: {_e(', '.join(critical) or 'none')}.</p></div>"
    )


# ---------------------------------------------------------------- index of machines


def _published(a: Analysis, published: Mapping[str, str] | None) -> str:
    if not published:
        return ""
    stem = PurePath(a.isa.source).stem
    return published.get(a.isa.name, published.get(stem, ""))


def index_rows(
    analyses: Sequence[Analysis], published: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """One row per machine: name, title, theorem verdicts, counts, critical mnemonics and
    the literature's verdict (``published``: spec name -> text)."""
    rows = []
    for a in analyses:
        c = counts(a)
        rows.append(
            {
                "name": a.isa.name,
                "title": a.isa.title,
                "theorems": {t.number: t.verdict for t in a.theorems},
                **c,
                "critical_mnemonics": _mnemonics(critical_results(a)),
                "published": _published(a, published),
            }
        )
    return rows


_INDEX_HEADER = (
    "machine",
    "Thm 1",
    "Thm 2",
    "Thm 3",
    "forms",
    "privileged",
    "sensitive",
    "critical",
    "user sensitive",
    "critical instructions",
    "published",
)


def render_index_html(
    analyses: Sequence[Analysis],
    published: Mapping[str, str] | None = None,
    sections: Sequence[str] = (),
) -> str:
    """The machines side by side, each linking to its ``NAME.html``; ``sections`` (HTML
    lines) follow the table."""
    body = [
        "<header><h1>pgv: Popek–Goldberg analysis of the machines</h1>",
        "<p>Verdicts derived from the specs by the solver; <em>published</em> is the "
        "literature's verdict, for comparison. Counts are instruction forms.</p></header>",
        "<main>",
        '<table data-table="index"><thead><tr>'
        + "".join(f"<th>{_e(h)}</th>" for h in _INDEX_HEADER)
        + "</tr></thead><tbody>",
    ]
    for row in index_rows(analyses, published):
        verdicts = "".join(f"<td>{_verdict(row['theorems'][k])}</td>" for k in (1, 2, 3))
        body.append(
            f'<tr data-isa="{_e(row["name"])}"><td><a href="{_e(row["name"])}.html">'
            f"{_e(row['title'])}</a> (<code>{_e(row['name'])}</code>)</td>{verdicts}"
            f"<td>{row['forms']}</td><td>{row['privileged']}</td><td>{row['sensitive']}</td>"
            f"<td>{row['critical']}</td><td>{row['user_sensitive']}</td>"
            f"<td>{_e(', '.join(row['critical_mnemonics']) or '-')}</td>"
            f"<td>{_e(row['published'] or '-')}</td></tr>"
        )
    body += ["</tbody></table>", *sections, "</main>"]
    return _page("pgv: machines", body, script=False)


def md_cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def render_index_markdown(
    analyses: Sequence[Analysis], published: Mapping[str, str] | None = None
) -> str:
    """The machines side by side as a Markdown table, each linking to its ``NAME.md``."""
    lines = [
        "# pgv: Popek–Goldberg analysis of the machines",
        "",
        "Verdicts derived from the specs by the solver; *published* is the literature's "
        "verdict, for comparison. Counts are instruction forms.",
        "",
        "| " + " | ".join(_INDEX_HEADER) + " |",
        "|" + "|".join(" --- " for _ in _INDEX_HEADER) + "|",
    ]
    for row in index_rows(analyses, published):
        cells = [
            f"[{md_cell(row['title'])}]({row['name']}.md) (`{row['name']}`)",
            *[f"**{row['theorems'][k].value}**" for k in (1, 2, 3)],
            *[
                str(row[k])
                for k in ("forms", "privileged", "sensitive", "critical", "user_sensitive")
            ],
            md_cell(", ".join(row["critical_mnemonics"]) or "-"),
            md_cell(row["published"] or "-"),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

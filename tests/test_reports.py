"""Graphs, the HTML report, SARIF and the report directory, on P&G's machine."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from analyzer import analyze, ir, load_isa, load_isa_text
from analyzer.confirm import confirm, red_pills
from analyzer.graphs import (
    MAY,
    SHOWN,
    SUPERVISOR,
    TRAP,
    USER,
    component_node,
    evaluate,
    instruction_node,
    ir_mode_changes,
    mode_of,
    mode_transition_graph,
    mode_transition_mermaid,
    mode_transition_svg,
    reads_of,
    state_flow_graph,
    state_flow_mermaid,
    state_flow_svg,
    writes_of,
)
from analyzer.report.execution import execution_dict, execution_markdown
from analyzer.report.html import (
    CSP,
    analysis_html_fragment,
    counts,
    render_html,
    render_index_html,
    render_index_markdown,
    set_regions,
)
from analyzer.report.jsonout import analysis_dict
from analyzer.report.sarif import render_sarif, source_uri
from analyzer.report.site import write_reports
from analyzer.results import Analysis, Execution, Verdict

from .conftest import SPECS, analysis_of

ROOT = Path(__file__).resolve().parent.parent
PG74 = ROOT / "isa_specs" / "pg74.isa"
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def isa() -> ir.Isa:
    return load_isa(PG74)


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return analysis_of("pg74")


@pytest.fixture(scope="module")
def variant() -> tuple[ir.Isa, Analysis]:
    """P&G's machine with the privilege checks of LPSW and RDMODE removed: both critical."""
    text = PG74.read_text().replace("isa pg74 ", "isa pg74open ")
    for name in ("lpsw", "rdmode"):
        text, found = re.subn(
            rf"(instruction {name}\b[^{{]*\{{\n)  trap privilege vector 2 when M == 1\n",
            r"\1",
            text,
        )
        assert found == 1
    variant_isa = load_isa_text(text, "isa_specs/pg74open.isa")
    return variant_isa, analyze(variant_isa)


@pytest.fixture(scope="module")
def page(analysis: Analysis, isa: ir.Isa) -> str:
    return render_html(analysis, isa)


class _Elements(HTMLParser):
    """Start tags with their attributes, in document order, and the figure each lies in."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str], str | None]] = []
        self._figures: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "figure":
            self._figures.append(values.get("data-figure"))
        figure = next((f for f in reversed(self._figures) if f), None)
        self.elements.append((tag, values, figure))

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._figures.pop()


def elements(text: str) -> list[tuple[str, dict[str, str], str | None]]:
    parser = _Elements()
    parser.feed(text)
    parser.close()
    return parser.elements


# ---------------------------------------------------------------- graphs


def test_state_flow_edges(isa: ir.Isa) -> None:
    graph = state_flow_graph(isa)
    assert writes_of(graph, "lpsw") == ["B", "L", "M"]
    assert writes_of(graph, "settimer") == ["T"]
    assert reads_of(graph, "rdtimer") == ["T"]
    assert reads_of(graph, "rdmode") == ["M"]
    # E is reached through the translation, which reads B (fault) and L (relocation).
    assert reads_of(graph, "load") == ["B", "L"]
    assert writes_of(graph, "load") == [] and reads_of(graph, "jump") == []
    edge = graph.edges[component_node("M"), instruction_node("lpsw")]
    assert edge["access"] == "read" and edge["in_trap"] and not edge["in_effect"]
    assert graph.edges[instruction_node("settimer"), component_node("T")]["access"] == "write"
    node = graph.nodes[instruction_node("lpsw")]
    assert (node["kind"], node["mnemonic"]) == ("instruction", "LPSW")
    assert graph.nodes[component_node("T")]["state_kind"] == "timing"
    assert component_node("A") not in graph  # visible state only on request
    assert component_node("A") in state_flow_graph(isa, kinds=list(ir.Kind))


def test_mode_of_reads_the_mode_predicates(isa: ir.Isa) -> None:
    assert mode_of(isa, {"M": 0}) == SUPERVISOR
    assert mode_of(isa, {"M": 1}) == USER
    assert mode_of(isa, {"A": 1}) is None


def test_mode_transitions(isa: ir.Isa, analysis: Analysis) -> None:
    graph = mode_transition_graph(isa, analysis)
    assert set(graph.nodes) == {SUPERVISOR, USER}
    lpsw = graph.get_edge_data(SUPERVISOR, USER, "lpsw")
    assert lpsw is not None and lpsw["status"] in (SHOWN, MAY) and lpsw["mnemonic"] == "LPSW"
    assert graph.get_edge_data(USER, SUPERVISOR, TRAP)["kind"] == "trap"
    # Every instruction that writes M traps in user mode: nothing else leaves user mode.
    assert [k for _, _, k in graph.out_edges(USER, keys=True)] == [TRAP]


def test_mode_transitions_of_an_unprivileged_lpsw(variant: tuple[ir.Isa, Analysis]) -> None:
    variant_isa, variant_analysis = variant
    graph = mode_transition_graph(variant_isa, variant_analysis)
    lpsw = graph.get_edge_data(USER, SUPERVISOR, "lpsw")
    assert lpsw is not None and lpsw["status"] in (SHOWN, MAY)


def test_graph_renderings_are_deterministic(isa: ir.Isa, analysis: Analysis) -> None:
    flow, modes = state_flow_graph(isa), mode_transition_graph(isa, analysis)
    again_flow, again_modes = state_flow_graph(isa), mode_transition_graph(isa, analysis)
    assert state_flow_svg(flow) == state_flow_svg(again_flow)
    assert mode_transition_svg(modes) == mode_transition_svg(again_modes)
    mermaid = state_flow_mermaid(flow)
    assert mermaid.startswith("flowchart LR\n") and mermaid == state_flow_mermaid(again_flow)
    assert "LPSW (" in mode_transition_mermaid(modes)


# ---------------------------------------------------------------- HTML


def test_html_is_self_contained(page: str, analysis: Analysis) -> None:
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "default-src 'none'" in CSP
    for tag, attrs, _ in elements(page):
        assert tag not in ("link", "img", "iframe", "object", "embed"), tag
        assert "src" not in attrs, (tag, attrs)
        href = attrs.get("href", "#")
        assert href.startswith("#"), (tag, href)
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page)
    assert "@import" not in page and "url(http" not in page
    assert str(ROOT) not in page, "an absolute path leaked into the page"
    for text in (render_index_html([analysis]), analysis_html_fragment(analysis)):
        assert str(ROOT) not in text and not re.search(r"(src|href)=\"https?:", text)


def test_html_has_the_figures(page: str) -> None:
    found = elements(page)
    figures = {a["data-figure"] for t, a, _ in found if t == "figure"}
    assert figures == {"sets", "state-flow", "mode-transitions"}
    for figure in figures:
        assert any(t == "svg" and f == figure for t, _, f in found), figure
    regions = {a["data-region"]: a for t, a, f in found if f == "sets" and t == "g"}
    assert regions["sensitive-privileged"]["data-count"] == "3"  # LPSW, LRA, STIMER
    assert regions["critical"]["data-count"] == "0"
    flow_nodes = {a["data-node"] for t, a, f in found if f == "state-flow" and "data-node" in a}
    assert {instruction_node("lpsw"), component_node("T")} <= flow_nodes
    mode_edges = [a for t, a, f in found if f == "mode-transitions" and "data-edge" in a]
    assert any("LPSW" in a["data-mnemonics"].split() for a in mode_edges)


def test_html_instruction_table_matches_the_json(page: str, analysis: Analysis) -> None:
    data = analysis_dict(analysis)
    rows = [a for t, a, _ in elements(page) if t == "tr" and "data-instruction" in a]
    assert [r["data-instruction"] for r in rows] == [i["name"] for i in data["instructions"]]
    assert [r["data-class"] for r in rows] == [i["class"] for i in data["instructions"]]
    assert [r["data-critical"] for r in rows] == [i["critical"] for i in data["instructions"]]
    assert '<table id="instructions"' in page and 'id="instruction-filter"' in page
    assert "<script>" in page and "addEventListener" in page


def test_html_sets_count_every_form(analysis: Analysis) -> None:
    regions = set_regions(analysis)
    assert sum(len(v) for v in regions.values()) == len(analysis.instructions)
    assert [r.mnemonic for r in regions["sensitive-privileged"]] == ["LPSW", "LRA", "STIMER"]
    assert counts(analysis)["critical"] == 0


def test_html_names_critical_instructions_with_witnesses(
    variant: tuple[ir.Isa, Analysis],
) -> None:
    variant_isa, variant_analysis = variant
    text = render_html(variant_analysis, variant_isa)
    found = elements(text)
    critical = [a["data-critical"] for t, a, _ in found if t == "article" and "data-critical" in a]
    assert critical == ["lpsw", "rdmode"]
    assert any(t == "div" and a.get("data-witness") == "behavior_sensitive" for t, a, _ in found)
    assert "isa_specs/pg74open.isa:" in text and "P&amp;G 1974, section 3" in text
    sets = [a for t, a, f in found if f == "sets" and t == "g" and a.get("data-region")]
    named = {a["data-region"]: int(a["data-count"]) for a in sets}
    assert named["critical"] + named["critical-user"] == 2
    assert re.search(r"<text[^>]*>[^<]*RDMODE", text.split('data-figure="sets"')[1])


def test_html_escapes_text(analysis: Analysis, isa: ir.Isa) -> None:
    hostile = dataclasses.replace(
        analysis, isa=dataclasses.replace(analysis.isa, title='<script>alert("x")</script>')
    )
    text = render_html(hostile, isa)
    assert "<script>alert" not in text and "&lt;script&gt;alert" in text


def test_html_without_the_ir_says_so(analysis: Analysis) -> None:
    text = render_html(analysis)
    assert 'data-figure-missing="graphs"' in text and 'data-figure="sets"' in text


def test_fragment_and_index(analysis: Analysis) -> None:
    fragment = analysis_html_fragment(analysis)
    assert 'data-isa="pg74"' in fragment and "<script" not in fragment
    assert fragment.count("data-theorem=") == 3
    published = {"pg74": "holds (P&G 1974, Theorem 1)"}
    index = render_index_markdown([analysis], published)
    assert "(pg74.md)" in index and "holds (P&G 1974, Theorem 1)" in index
    assert 'href="pg74.html"' in render_index_html([analysis], published)


# ---------------------------------------------------------------- SARIF


def sarif_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text()))


def test_sarif_validates_against_the_official_schema(analysis: Analysis) -> None:
    log = render_sarif([analysis])
    sarif_validator().validate(log)
    (run,) = log["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["PGV-T1", "PGV-T2", "PGV-T3"]
    assert {r["ruleId"] for r in run["results"]} == {"PGV-T2"}  # RTIMER reads the timer
    assert run["properties"]["theorems"]["pg74"] == {"1": "PROVED", "2": "PROVED", "3": "PROVED"}


def test_sarif_locates_critical_instructions(
    analysis: Analysis, variant: tuple[ir.Isa, Analysis]
) -> None:
    _, variant_analysis = variant
    log = render_sarif([variant_analysis], baseline=[analysis])
    sarif_validator().validate(log)
    results = log["runs"][0]["results"]
    t1 = [r for r in results if r["ruleId"] == "PGV-T1"]
    assert [r["properties"]["instruction"] for r in t1] == ["lpsw", "rdmode"]
    rdmode = t1[1]
    assert rdmode["level"] == "error" and rdmode["baselineState"] == "new"
    location = rdmode["locations"][0]["physicalLocation"]
    source = variant_analysis.find("rdmode")[0].source
    assert location["artifactLocation"]["uri"] == "isa_specs/pg74open.isa"
    assert location["region"] == {"startLine": source.line, "startColumn": source.column}
    assert "RDMODE" in rdmode["message"]["text"] and "mode" in rdmode["message"]["text"]
    timing = [r for r in results if r["ruleId"] == "PGV-T2"]
    assert [r["baselineState"] for r in timing] == ["unchanged"]
    # Against the variant as baseline, the critical results are gone.
    back = render_sarif([analysis], baseline=[variant_analysis])
    sarif_validator().validate(back)
    absent = [r for r in back["runs"][0]["results"] if r["baselineState"] == "absent"]
    assert {r["properties"]["instruction"] for r in absent if r["ruleId"] == "PGV-T1"} == {
        "lpsw",
        "rdmode",
    }


def test_source_uri_is_never_absolute() -> None:
    assert source_uri("isa_specs/pg74.isa") == "isa_specs/pg74.isa"
    assert source_uri(str(PG74), ROOT) == "isa_specs/pg74.isa"
    assert source_uri("/elsewhere/x.isa", ROOT) == "x.isa"


# ---------------------------------------------------------------- the report directory


def test_write_reports_twice_gives_identical_bytes(
    tmp_path: Path, analysis: Analysis, isa: ir.Isa
) -> None:
    published = {"pg74": "holds"}
    first = write_reports([analysis], tmp_path / "a", published, isas=[isa])
    second = write_reports([analysis], tmp_path / "b", published, isas=[isa])
    names = [p.name for p in first]
    assert names == sorted(names) == [p.name for p in second]
    assert names == [
        "index.html",
        "index.md",
        "pg74.html",
        "pg74.json",
        "pg74.md",
        "pg74.sarif",
    ]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
        text = a.read_text()
        assert str(ROOT) not in text and str(tmp_path) not in text, a.name
    schema = json.loads(
        resources.files("analyzer").joinpath("schema", "analysis.schema.json").read_text()
    )
    data = json.loads((tmp_path / "a" / "pg74.json").read_text())
    jsonschema.validate(data, schema)
    assert data["isa"]["source"] == "isa_specs/pg74.isa"
    sarif_validator().validate(json.loads((tmp_path / "a" / "pg74.sarif").read_text()))
    markdown = (tmp_path / "a" / "pg74.md").read_text()
    assert markdown.count("```mermaid") == 2
    assert "holds" in (tmp_path / "a" / "index.md").read_text()


def test_write_reports_rejects_two_analyses_of_one_name(tmp_path: Path, analysis: Analysis) -> None:
    with pytest.raises(ValueError, match="pg74"):
        write_reports([analysis, analysis], tmp_path)


def test_verdicts_shown_are_the_analysis_verdicts(page: str, analysis: Analysis) -> None:
    theorems = {
        a["data-theorem"]: a["data-verdict"]
        for t, a, _ in elements(page)
        if t == "tr" and "data-theorem" in a
    }
    assert theorems == {str(t.number): t.verdict.value for t in analysis.theorems}
    assert all(t.verdict is Verdict.PROVED for t in analysis.theorems)


def test_ir_mode_changes_prune_by_the_mode(isa: ir.Isa) -> None:
    text = PG74.read_text() + (
        '\ninstruction orm(v: bits(1)) mnemonic "ORM" cite "test" {\n  M := M | v\n}\n'
        'instruction grd(v: bits(1)) mnemonic "GRD" cite "test" {\n'
        "  if M == 0 {\n    M := v\n  }\n  P := P + 1\n}\n"
    )
    extended = load_isa_text(text, "isa_specs/pg74more.isa")
    # M | v keeps M = 1: no way out of user mode; from supervisor it may set user mode.
    assert ir_mode_changes(extended, extended.instruction("orm"), USER) == set()
    assert ir_mode_changes(extended, extended.instruction("orm"), SUPERVISOR) == {USER}
    assert ir_mode_changes(extended, extended.instruction("grd"), USER) == set()
    assert ir_mode_changes(extended, extended.instruction("grd"), SUPERVISOR) == {USER}
    # LPSW traps in user mode; RDMODE writes no mode component.
    assert ir_mode_changes(isa, isa.instruction("lpsw"), USER) == set()
    assert ir_mode_changes(isa, isa.instruction("lpsw"), SUPERVISOR) == {USER}
    assert ir_mode_changes(isa, isa.instruction("rdmode"), SUPERVISOR) == set()
    bits = ir.Binary("|", ir.StateRead("M", 1), ir.OperandRef("v", 1), 1)
    assert evaluate(bits, {"M": 1}) == 1 and evaluate(bits, {"M": 0}) is None


# ---------------------------------------------------------------- executable model


@pytest.fixture(scope="module")
def mc68000_execution() -> tuple[ir.Isa, Analysis, Execution]:
    isa = load_isa(SPECS / "mc68000.isa")
    analysis = analysis_of("mc68000")
    execution = Execution(
        confirm(isa, analysis, budget=20), red_pills(isa, analysis, random_budget=20)
    )
    return isa, analysis, execution


def test_execution_reports(
    tmp_path: Path, mc68000_execution: tuple[ir.Isa, Analysis, Execution]
) -> None:
    isa, analysis, execution = mc68000_execution
    written = write_reports(
        [analysis], tmp_path, isas=[isa], executions={"mc68000": execution}, root=ROOT
    )
    assert tmp_path / "mc68000.execution.json" in written
    data = json.loads((tmp_path / "mc68000.execution.json").read_text())
    assert data["schema"] == "pgv/execution/1"
    assert "seconds" not in json.dumps(data), "wall-clock times vary run to run"
    campaigns = {c["vmm"]: c for c in data["confirmation"]["campaigns"]}
    # MC68000: MOVE from SR tells a guest it runs in user mode (Theorem 1 refuted).
    assert not campaigns["trap-emulate"]["equivalent"]
    assert any("move_from_sr" in line for line in campaigns["trap-emulate"]["counterexample"])
    assert [m["mnemonic"] for m in data["red_pill_mnemonics"]] == ["MOVE from SR"]
    assert all(p["diverges"] for p in data["red_pills"])
    markdown = (tmp_path / "mc68000.md").read_text()
    assert "## Executable model" in markdown and "### Red pills" in markdown
    page = (tmp_path / "mc68000.html").read_text()
    assert 'data-table="campaigns"' in page and 'data-table="redpills"' in page
    index = (tmp_path / "index.md").read_text()
    assert "| mc68000 | diverges | diverges | equivalent | 2/2 |" in index


def test_execution_reports_are_deterministic(
    tmp_path: Path, mc68000_execution: tuple[ir.Isa, Analysis, Execution]
) -> None:
    isa, analysis, first = mc68000_execution
    again = Execution(confirm(isa, analysis, budget=20), red_pills(isa, analysis, random_budget=20))
    assert execution_dict(again) == execution_dict(first)
    assert execution_markdown(again) == execution_markdown(first)

"""The committed reports/ is exactly what `pgv report isa_specs/*.isa --out reports/` makes."""

from __future__ import annotations

from pathlib import Path

from analyzer import load_isa
from analyzer.cli import REPORT_BUDGET, REPORT_RANDOM_BUDGET
from analyzer.confirm import execute
from analyzer.report.site import write_reports

from .conftest import ROOT, analysis_of, bundled_specs

REPORTS = ROOT / "reports"


def test_reports_are_current(tmp_path: Path) -> None:
    specs = bundled_specs()
    analyses = [analysis_of(spec.stem) for spec in specs]
    isas = [load_isa(spec.relative_to(ROOT)) for spec in specs]
    executions = {
        isa.name: execute(isa, analysis, budget=REPORT_BUDGET, random_budget=REPORT_RANDOM_BUDGET)
        for isa, analysis in zip(isas, analyses, strict=True)
    }
    written = write_reports(analyses, tmp_path, isas=isas, root=ROOT, executions=executions)
    fresh = {p.name: p.read_bytes() for p in written}
    committed = {
        p.name: p.read_bytes()
        for p in REPORTS.iterdir()
        if p.is_file() and p.suffix in (".md", ".html", ".json", ".sarif")
    }
    regenerate = "regenerate with: pgv report isa_specs/*.isa --out reports/"
    assert sorted(fresh) == sorted(committed), regenerate
    stale = [name for name in sorted(fresh) if fresh[name] != committed[name]]
    assert not stale, f"out of date: {', '.join(stale)}; {regenerate}"


def test_reports_have_no_timestamps_or_absolute_paths() -> None:
    for path in REPORTS.iterdir():
        if path.is_file() and path.suffix in (".md", ".html", ".json", ".sarif"):
            text = path.read_text()
            assert str(ROOT) not in text, path.name
            assert "/work/" not in text and "/tmp/" not in text, path.name

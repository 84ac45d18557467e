"""pgv: a Popek-Goldberg virtualizability analyzer and ISA model checker."""

from analyzer.analysis import analyze
from analyzer.errors import PgvError, SpecError
from analyzer.results import Analysis, InstructionResult, TheoremResult, Verdict
from analyzer.validate import load_isa, load_isa_text

__all__ = [
    "Analysis",
    "InstructionResult",
    "PgvError",
    "SpecError",
    "TheoremResult",
    "Verdict",
    "analyze",
    "load_isa",
    "load_isa_text",
]

__version__ = "0.1.0"


def _attach_notebook_rendering() -> None:
    """Result objects render themselves in Jupyter (``_repr_html_``); the renderer is
    imported on first use, so that importing pgv does not load it."""

    def analysis_html(self: Analysis) -> str:
        from analyzer.report.html import analysis_html_fragment

        return analysis_html_fragment(self)

    Analysis._repr_html_ = analysis_html  # type: ignore[attr-defined]


_attach_notebook_rendering()

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

"""The machine-readable contract: ``pgv/analysis/1`` (schema in analyzer/schema/)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from analyzer.report.common import PROPERTIES, finding
from analyzer.results import Analysis, Entry, Finding, InstructionResult, Witness

SCHEMA = "pgv/analysis/1"
SET_SCHEMA = "pgv/analysis-set/1"


def _entry(e: Entry) -> dict[str, Any]:
    return {"name": e.name, "value": e.value, "bits": e.width}


def witness_dict(w: Witness) -> dict[str, Any]:
    """A witness as plain data."""
    return {
        "summary": w.summary,
        "operands": [_entry(e) for e in w.operands],
        "states": [{"label": s.label, "values": [_entry(e) for e in s.entries]} for s in w.states],
        "differing": list(w.differing),
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "verdict": f.verdict.value,
        "reason": f.reason,
        "witness": None if f.witness is None else witness_dict(f.witness),
    }


def instruction_dict(r: InstructionResult) -> dict[str, Any]:
    """One instruction form's results; verdicts spelled PROVED, REFUTED, UNKNOWN."""
    return {
        "name": r.name,
        "mnemonic": r.mnemonic,
        "form": r.form,
        "family": r.family,
        "cite": r.cite,
        "source": {"file": r.source.file, "line": r.source.line, "column": r.source.column},
        "class": r.klass.value,
        "unmodelled": r.unmodelled,
        "privileged": r.privileged.verdict.value,
        "always_traps": r.always_traps.verdict.value,
        "control_sensitive": r.control_sensitive.verdict.value,
        "behavior_sensitive": r.behavior_sensitive.verdict.value,
        "behavior_kind": r.behavior_kind,
        "sensitive": r.sensitive.value,
        "user_sensitive": r.user_sensitive.value,
        "user_control_sensitive": r.user_control_sensitive.verdict.value,
        "user_behavior_sensitive": r.user_behavior_sensitive.verdict.value,
        "timing_dependent": r.timing_dependent.verdict.value,
        "critical": r.critical.value,
        "context_invariant": r.context_invariant.verdict.value,
        "execution_safe": r.execution_safe.verdict.value,
        "findings": {prop: _finding(finding(r, prop)) for prop, _ in PROPERTIES},
        "witnesses": {
            prop: witness_dict(w)
            for prop, _ in PROPERTIES
            if (w := finding(r, prop).witness) is not None
        },
    }


def analysis_dict(a: Analysis) -> dict[str, Any]:
    """The whole analysis of one ISA as plain data, entries in spec order."""
    return {
        "schema": SCHEMA,
        "isa": {
            "name": a.isa.name,
            "title": a.isa.title,
            "source": a.isa.source,
            "extends": a.isa.base,
            "manuals": list(a.isa.manuals),
            "digest": a.isa.digest,
            "state": [
                {
                    "name": c.name,
                    "bits": c.width,
                    "count": c.count,
                    "kind": c.kind,
                    "mapping": c.mapping,
                }
                for c in a.isa.state
            ],
            "memories": list(a.isa.memories),
        },
        "timeout_ms": a.timeout_ms,
        "instructions": [instruction_dict(r) for r in a.instructions],
        "theorems": {
            str(t.number): {
                "statement": t.statement,
                "verdict": t.verdict.value,
                "offending": list(t.offending),
                "offending_forms": list(t.offending_forms),
                "undecided": list(t.undecided),
                "notes": list(t.notes),
            }
            for t in a.theorems
        },
    }


def render_json(analyses: Sequence[Analysis]) -> str:
    """One analysis as a ``pgv/analysis/1`` object; several as a ``pgv/analysis-set/1``."""
    if len(analyses) == 1:
        data: dict[str, Any] = analysis_dict(analyses[0])
    else:
        data = {"schema": SET_SCHEMA, "analyses": [analysis_dict(a) for a in analyses]}
    return json.dumps(data, indent=2, sort_keys=False) + "\n"

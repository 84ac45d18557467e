"""The machine-readable report: ``pgv/analysis/1`` (schema in analyzer/schema/)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from analyzer.results import Analysis, ExtensionDiff
from analyzer.serialize import (
    SET_SCHEMA,
    analysis_to_dict,
    diff_to_dict,
    instruction_to_dict,
    witness_to_dict,
)

# The names the renderers have always used for the plain-data form.
analysis_dict = analysis_to_dict
instruction_dict = instruction_to_dict
witness_dict = witness_to_dict


def render_json(analyses: Sequence[Analysis]) -> str:
    """One analysis as a ``pgv/analysis/1`` object; several as a ``pgv/analysis-set/1``."""
    if len(analyses) == 1:
        data: dict[str, Any] = analysis_to_dict(analyses[0])
    else:
        data = {"schema": SET_SCHEMA, "analyses": [analysis_to_dict(a) for a in analyses]}
    return json.dumps(data, indent=2) + "\n"


def render_diff_json(diff: ExtensionDiff) -> str:
    """An extension diff as a ``pgv/diff/1`` object."""
    return json.dumps(diff_to_dict(diff), indent=2) + "\n"

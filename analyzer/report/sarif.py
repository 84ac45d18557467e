"""SARIF 2.1.0 for code-scanning tools: a rule per theorem, results at the instruction's line.

Plain dicts, deterministic order (analyses as given, then rules, then spec order), no
timestamps and no absolute paths. With a baseline (the analyses of a base ISA, say the MC68000
for the MC68010), each result has a ``baselineState``: ``new``, ``unchanged`` or, for a result
of the baseline that is gone, ``absent``; results are matched by rule, mnemonic and form.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

from analyzer.report.common import (
    critical_reason,
    finding,
    operands_text,
    user_reason,
    witness_change,
)
from analyzer.results import Analysis, InstructionResult, Verdict

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)

RULES: tuple[dict[str, Any], ...] = (
    {
        "id": "PGV-T1",
        "name": "SensitiveInstructionNotPrivileged",
        "shortDescription": {
            "text": "Sensitive instruction is not privileged (Popek-Goldberg Theorem 1)."
        },
        "fullDescription": {
            "text": "Theorem 1 (efficient VMM): every sensitive instruction must be privileged. "
            "A critical instruction changes or reveals control state (mode, relocation, "
            "other system state) without trapping under the VMM's context, so a "
            "trap-and-emulate VMM cannot intercept it."
        },
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["virtualization", "popek-goldberg", "theorem-1"]},
    },
    {
        "id": "PGV-T2",
        "name": "TimingDependentInstruction",
        "shortDescription": {
            "text": "Instruction reads a timing component (Popek-Goldberg Theorem 2)."
        },
        "fullDescription": {
            "text": "Theorem 2 (recursive virtualization): the machine is virtualizable and a "
            "VMM without timing dependencies can be built. Its static verdict is Theorem "
            "1's (reported under PGV-T1); the results here are the timing-dependent "
            "instructions, where a guest can tell that time differs under a VMM. They do "
            "not refute the theorem."
        },
        "defaultConfiguration": {"level": "none"},
        "properties": {"tags": ["virtualization", "popek-goldberg", "theorem-2", "timing"]},
    },
    {
        "id": "PGV-T3",
        "name": "UserSensitiveInstructionNotPrivileged",
        "shortDescription": {
            "text": "User-sensitive instruction is not privileged (Popek-Goldberg Theorem 3)."
        },
        "fullDescription": {
            "text": "Theorem 3 (hybrid VMM): every user-sensitive instruction must be "
            "privileged. A user-sensitive instruction changes control state, or behaves "
            "differently with different control state, when run in user mode; unprivileged, "
            "it defeats even a hybrid VMM that interprets every supervisor-mode instruction."
        },
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["virtualization", "popek-goldberg", "theorem-3"]},
    },
)
_RULE_INDEX = {rule["id"]: k for k, rule in enumerate(RULES)}


def source_uri(path: str, root: Path | None = None) -> str:
    """``path`` as a relative URI with forward slashes: relative to ``root`` (default: the
    current directory) when it is absolute and lies under it, otherwise its file name. Never
    an absolute path."""
    pure = PurePath(path)
    if not pure.is_absolute():
        return PurePosixPath(*pure.parts).as_posix() if pure.parts else str(path)
    base = root if root is not None else Path.cwd()
    try:
        relative = os.path.relpath(pure, base)
    except ValueError:
        return pure.name
    if relative.startswith(".."):
        return pure.name
    return PurePosixPath(*PurePath(relative).parts).as_posix()


@dataclass(frozen=True, slots=True)
class _Result:
    """One SARIF result before it becomes a dict: what it says and where."""

    rule: str
    level: str
    kind: str
    isa: str
    instruction: InstructionResult
    text: str

    @property
    def key(self) -> tuple[str, str, str]:
        return self.rule, self.instruction.mnemonic, self.instruction.form


def _title(r: InstructionResult) -> str:
    return r.form if r.form == r.mnemonic else f"{r.form} ({r.mnemonic})"


def _witness_summary(result: InstructionResult, props: Sequence[str]) -> str:
    for prop in props:
        f = finding(result, prop)
        if f.verdict is Verdict.PROVED and f.witness is not None:
            return f" Witness ({prop.replace('_', ' ')}): operands {operands_text(f.witness)}."
    return ""


def _results(analysis: Analysis) -> Iterator[_Result]:
    """The findings of one analysis, rule by rule, in spec order."""
    name = analysis.isa.name
    for r in analysis.instructions:
        if r.critical is Verdict.PROVED:
            text = (
                f"{_title(r)} is sensitive but not privileged: {critical_reason(r)}."
                + _witness_summary(r, ("control_sensitive", "behavior_sensitive"))
            )
            yield _Result("PGV-T1", "error", "fail", name, r, text)
        elif r.unmodelled is not None:
            text = f"{_title(r)} is not modelled ({r.unmodelled}): not analysed."
            yield _Result("PGV-T1", "none", "open", name, r, text)
        elif r.critical is Verdict.UNKNOWN:
            text = (
                f"{_title(r)}: the solver could not decide whether it is "
                f"sensitive and unprivileged (privileged: {r.privileged.reason})."
            )
            yield _Result("PGV-T1", "none", "open", name, r, text)
    for r in analysis.instructions:
        timing = r.timing_dependent
        if timing.verdict is Verdict.PROVED:
            change = f" ({witness_change(timing.witness)})" if timing.witness else ""
            text = (
                f"{_title(r)} is timing dependent: {timing.reason}{change}. "
                "A guest can tell that time differs under a VMM; this does not refute "
                "Theorem 2."
            )
            yield _Result("PGV-T2", "none", "informational", name, r, text)
    for r in analysis.instructions:
        if r.user_critical is Verdict.PROVED:
            text = (
                f"{_title(r)} is user sensitive but not privileged: "
                f"{user_reason(r)}."
                + _witness_summary(r, ("user_control_sensitive", "user_behavior_sensitive"))
            )
            yield _Result("PGV-T3", "warning", "fail", name, r, text)
        elif r.user_critical is Verdict.UNKNOWN and r.unmodelled is None:
            text = (
                f"{_title(r)}: the solver could not decide whether it is user "
                "sensitive and unprivileged."
            )
            yield _Result("PGV-T3", "none", "open", name, r, text)


def _baseline_for(analysis: Analysis, index: int, baseline: Sequence[Analysis]) -> Analysis | None:
    """The baseline analysis to compare ``analysis`` with: the one it extends, else the one of
    the same name, else the one at the same position."""
    for candidate in baseline:
        if analysis.isa.base is not None and candidate.isa.name == analysis.isa.base:
            return candidate
    for candidate in baseline:
        if candidate.isa.name == analysis.isa.name:
            return candidate
    return baseline[index] if index < len(baseline) else None


def _result_dict(item: _Result, artifacts: dict[str, int], root: Path | None) -> dict[str, Any]:
    r = item.instruction
    uri = source_uri(r.source.file, root)
    data: dict[str, Any] = {
        "ruleId": item.rule,
        "ruleIndex": _RULE_INDEX[item.rule],
        "kind": item.kind,
        "level": item.level,
        "message": {"text": item.text},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": uri, "index": artifacts[uri]},
                    "region": {"startLine": r.source.line, "startColumn": r.source.column},
                },
                "logicalLocations": [
                    {
                        "name": r.name,
                        "fullyQualifiedName": f"{item.isa}::{r.name}",
                        "kind": "function",
                    }
                ],
            }
        ],
        "partialFingerprints": {"pgvInstruction/v1": f"{item.isa}/{r.mnemonic}/{r.form}"},
        "properties": {
            "isa": item.isa,
            "instruction": r.name,
            "mnemonic": r.mnemonic,
            "form": r.form,
            "class": r.klass.value,
            "cite": r.cite,
        },
    }
    return data


def _tool_version() -> str | None:
    try:
        return metadata.version("pgv")
    except metadata.PackageNotFoundError:
        return None


def render_sarif(
    analyses: Sequence[Analysis],
    baseline: Sequence[Analysis] | None = None,
    *,
    root: Path | None = None,
) -> dict[str, Any]:
    """One SARIF 2.1.0 log, one run, for ``analyses``; ``root`` is what spec paths are made
    relative to (default: the current directory)."""
    current: list[tuple[_Result, str | None]] = []
    absent: list[_Result] = []
    for index, analysis in enumerate(analyses):
        items = list(_results(analysis))
        if baseline is None:
            current += [(item, None) for item in items]
            continue
        base = _baseline_for(analysis, index, baseline)
        base_items = list(_results(base)) if base is not None else []
        base_keys = {item.key for item in base_items}
        keys = {item.key for item in items}
        current += [(item, "unchanged" if item.key in base_keys else "new") for item in items]
        absent += [item for item in base_items if item.key not in keys]
    artifacts: dict[str, int] = {}
    for analysis in analyses:
        for r in analysis.instructions:
            artifacts.setdefault(source_uri(r.source.file, root), len(artifacts))
    for item in absent:
        artifacts.setdefault(source_uri(item.instruction.source.file, root), len(artifacts))
    results = []
    for item, state in [*current, *((item, "absent") for item in absent)]:
        data = _result_dict(item, artifacts, root)
        if state is not None:
            data["baselineState"] = state
        results.append(data)
    driver: dict[str, Any] = {"name": "pgv", "rules": copy.deepcopy(list(RULES))}
    version = _tool_version()
    if version is not None:
        driver["version"] = version
    run: dict[str, Any] = {
        "tool": {"driver": driver},
        "columnKind": "unicodeCodePoints",
        "artifacts": [{"location": {"uri": uri}, "sourceLanguage": "pgv-isa"} for uri in artifacts],
        "results": results,
        "properties": {
            "theorems": {
                a.isa.name: {str(t.number): t.verdict.value for t in a.theorems} for a in analyses
            }
        },
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render_sarif_text(
    analyses: Sequence[Analysis],
    baseline: Sequence[Analysis] | None = None,
    *,
    root: Path | None = None,
) -> str:
    """The SARIF log as JSON text, indented, ending in a newline."""
    return json.dumps(render_sarif(analyses, baseline, root=root), indent=2) + "\n"

"""Result objects to plain data and back: the ``pgv/analysis/1`` contract.

The JSON renderer writes what :func:`analysis_to_dict` gives; the result cache reads it back
with :func:`analysis_from_dict`, so a cached analysis renders byte for byte as a fresh one.
"""

from __future__ import annotations

from typing import Any

from analyzer.results import (
    PROPERTIES,
    Analysis,
    Confirmation,
    ContextSearch,
    Entry,
    ExtensionDiff,
    Finding,
    InstructionResult,
    IsaSummary,
    RedPill,
    SourceRef,
    StateSummary,
    StateView,
    TheoremResult,
    Verdict,
    Witness,
    pill_summary,
)

SCHEMA = "pgv/analysis/1"
SET_SCHEMA = "pgv/analysis-set/1"


def _entry(e: Entry) -> dict[str, Any]:
    return {"name": e.name, "value": e.value, "bits": e.width}


def witness_to_dict(w: Witness) -> dict[str, Any]:
    """A witness as plain data."""
    return {
        "summary": w.summary,
        "operands": [_entry(e) for e in w.operands],
        "states": _views(w.states),
        "differing": list(w.differing),
        "inputs": _views(w.inputs),
    }


def _views(views: tuple[StateView, ...]) -> list[dict[str, Any]]:
    return [{"label": s.label, "values": [_entry(e) for e in s.entries]} for s in views]


def _views_from(d: list[dict[str, Any]]) -> tuple[StateView, ...]:
    return tuple(StateView(s["label"], tuple(_entry_from(e) for e in s["values"])) for s in d)


def _finding(f: Finding) -> dict[str, Any]:
    # The witness, if any, is under the instruction's "witnesses", keyed the same way.
    return {"verdict": f.verdict.value, "reason": f.reason}


def instruction_to_dict(r: InstructionResult) -> dict[str, Any]:
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
        "findings": {prop: _finding(r.finding(prop)) for prop, _ in PROPERTIES},
        "witnesses": {
            prop: witness_to_dict(w)
            for prop, _ in PROPERTIES
            if (w := r.finding(prop).witness) is not None
        },
    }


def analysis_to_dict(a: Analysis) -> dict[str, Any]:
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
        "instructions": [instruction_to_dict(r) for r in a.instructions],
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


def _entry_from(d: dict[str, Any]) -> Entry:
    return Entry(d["name"], d["value"], d["bits"])


def witness_from_dict(d: dict[str, Any]) -> Witness:
    """The inverse of :func:`witness_to_dict`."""
    return Witness(
        d["summary"],
        tuple(_entry_from(e) for e in d["operands"]),
        _views_from(d["states"]),
        tuple(d["differing"]),
        _views_from(d["inputs"]),
    )


def _finding_from(d: dict[str, Any], witness: dict[str, Any] | None) -> Finding:
    return Finding(
        Verdict(d["verdict"]), d["reason"], None if witness is None else witness_from_dict(witness)
    )


def instruction_from_dict(d: dict[str, Any]) -> InstructionResult:
    """The inverse of :func:`instruction_to_dict`."""
    source = d["source"]
    return InstructionResult(
        name=d["name"],
        mnemonic=d["mnemonic"],
        form=d["form"],
        cite=d["cite"],
        source=SourceRef(source["file"], source["line"], source["column"]),
        family=d["family"],
        unmodelled=d["unmodelled"],
        behavior_kind=d["behavior_kind"],
        **{
            prop: _finding_from(d["findings"][prop], d["witnesses"].get(prop))
            for prop, _ in PROPERTIES
        },
    )


def analysis_from_dict(d: dict[str, Any]) -> Analysis:
    """The inverse of :func:`analysis_to_dict`."""
    isa = d["isa"]
    summary = IsaSummary(
        isa["name"],
        isa["title"],
        isa["source"],
        isa["extends"],
        tuple(isa["manuals"]),
        tuple(
            StateSummary(c["name"], c["bits"], c["count"], c["kind"], c["mapping"])
            for c in isa["state"]
        ),
        tuple(isa["memories"]),
        isa["digest"],
    )
    theorems = tuple(
        TheoremResult(
            int(number),
            t["statement"],
            Verdict(t["verdict"]),
            tuple(t["offending"]),
            tuple(t["offending_forms"]),
            tuple(t["undecided"]),
            tuple(t["notes"]),
        )
        for number, t in sorted(d["theorems"].items())
    )
    return Analysis(
        summary,
        tuple(instruction_from_dict(i) for i in d["instructions"]),
        theorems,
        d["timeout_ms"],
    )


DIFF_SCHEMA = "pgv/diff/1"


def _change_side(r: InstructionResult) -> dict[str, Any]:
    """One side of a changed instruction: its verdicts and the witnesses of the sensitivity
    and privilege findings (the full results are in each ISA's own analysis)."""
    shown = ("privileged", "control_sensitive", "behavior_sensitive")
    return {
        "class": r.klass.value,
        "privileged": r.privileged.verdict.value,
        "sensitive": r.sensitive.value,
        "behavior_kind": r.behavior_kind,
        "critical": r.critical.value,
        "user_sensitive": r.user_sensitive.value,
        "source": {"file": r.source.file, "line": r.source.line, "column": r.source.column},
        "findings": {prop: _finding(r.finding(prop)) for prop in shown},
        "witnesses": {
            prop: witness_to_dict(w) for prop in shown if (w := r.finding(prop).witness) is not None
        },
    }


def diff_to_dict(diff: ExtensionDiff) -> dict[str, Any]:
    """An extension diff as plain data: each changed instruction's verdicts on both sides."""
    return {
        "schema": DIFF_SCHEMA,
        "base": {"name": diff.base.isa.name, "source": diff.base.isa.source},
        "extension": {"name": diff.extension.isa.name, "source": diff.extension.isa.source},
        "theorems": {
            str(old.number): {
                "before": old.verdict.value,
                "after": new.verdict.value,
                "offending_before": list(old.offending),
                "offending_after": list(new.offending),
            }
            for old, new in diff.theorem_pairs()
        },
        "changes": [
            {
                "name": c.name,
                "form": c.form,
                "mnemonic": c.mnemonic,
                "change": c.change,
                "what": list(c.what),
                "before": None if c.before is None else _change_side(c.before),
                "after": None if c.after is None else _change_side(c.after),
            }
            for c in diff.changes
        ],
    }


CONTEXT_SCHEMA = "pgv/context/1"


def context_to_dict(search: ContextSearch) -> dict[str, Any]:
    """A context search as plain data."""
    return {
        "schema": CONTEXT_SCHEMA,
        "isa": {"name": search.isa.name, "source": search.isa.source},
        "fields": [{"name": name, "bits": bits} for name, bits in search.fields],
        "sensitive": list(search.sensitive),
        "timing_dependent": list(search.timing_dependent),
        "settings": [
            {
                "values": dict(s.values),
                "possible": s.possible,
                "declared": s.declared,
                "theorem1": s.theorem1.value,
                "trapping": list(s.trapping),
                "untrapped": list(s.escaping),
                "timing_trapping": list(s.timing_trapping),
            }
            for s in search.settings
        ],
        "best": list(search.best),
        "some_setting_proves_theorem1": search.verdict.value,
        "notes": list(search.notes),
    }


def entries_to_dict(entries: tuple[Entry, ...]) -> dict[str, int]:
    """Entries as a name-to-value mapping, in order."""
    return {e.name: e.value for e in entries}


def confirmation_to_dict(c: Confirmation) -> dict[str, Any]:
    """A confirmation campaign as plain data (``pgv/confirm/1``). Everything but the
    ``seconds`` key (wall-clock times) is the same on every run."""
    return {
        "schema": "pgv/confirm/1",
        "isa": {"name": c.isa.name, "source": c.isa.source},
        "budget": c.budget,
        "max_length": c.max_length,
        "focus": list(c.focus),
        "campaigns": [
            {
                "vmm": k.vmm,
                "programs": k.programs,
                "equivalent": k.equivalent,
                "counterexample": list(k.counterexample),
                "initial": entries_to_dict(k.initial),
                "differences": list(k.differences),
                "guest_steps": k.guest_steps,
                "direct": k.direct,
                "emulated": k.emulated,
                "real_steps": k.real_steps,
                "direct_share": round(k.direct_share, 4),
                "real_per_guest": round(k.real_per_guest, 4),
                "resource_violations": list(k.resource_violations),
            }
            for k in c.campaigns
        ],
        "agreements": [
            {"theorem": n, "static": v.value, "vmm": vmm, "runs": said}
            for n, v, vmm, said in c.agreements
        ],
        "disagreements": list(c.disagreements),
        "seconds": {
            "total": round(sum(k.seconds for k in c.campaigns), 3),
            "campaigns": {k.vmm: k.seconds for k in c.campaigns},
        },
    }


def red_pills_to_dict(isa: IsaSummary, pills: tuple[RedPill, ...]) -> dict[str, Any]:
    """Red pills as plain data (``pgv/redpill/1``). Everything but the ``seconds`` key
    (wall-clock times of the random searches, by instruction name) is the same on every
    run."""
    return {
        "schema": "pgv/redpill/1",
        "isa": {"name": isa.name, "source": isa.source},
        "red_pills": [
            {
                "name": p.name,
                "form": p.form,
                "mnemonic": p.mnemonic,
                "diverges": p.diverges,
                "solver": p.solver,
                "program": p.program,
                "vmm_context": entries_to_dict(p.vmm_context),
                "guest_context": entries_to_dict(p.guest_context),
                "bare": entries_to_dict(p.bare),
                "virtualized": entries_to_dict(p.virtualized),
                "differences": list(p.differences),
                "random_budget": p.random_budget,
                "random_tries": p.random_tries,
                "note": p.note,
            }
            for p in pills
        ],
        "mnemonics": [
            {"mnemonic": m, "forms": forms, "diverging": diverging}
            for m, forms, diverging in pill_summary(pills)
        ],
        "seconds": {
            "random_search_total": round(sum(p.random_seconds for p in pills), 3),
            "random_search": {p.name: p.random_seconds for p in pills},
        },
    }

"""Words shared by every renderer: one-line reasons and witness tables."""

from __future__ import annotations

from analyzer.results import (
    Analysis,
    Finding,
    InstructionResult,
    StateView,
    Verdict,
    Witness,
)


def finding(result: InstructionResult, prop: str) -> Finding:
    """The finding for property ``prop`` (a field name of InstructionResult)."""
    return result.finding(prop)


def witness_change(witness: Witness) -> str:
    """What a witness shows, in a few words: the entries whose values differ."""
    states = witness.states
    if not states:
        return witness.summary
    names = [e.name for e in states[0].entries]
    changes = []
    if len(states) == 2:
        before, after = states
        for name in names:
            a, b = before.get(name), after.get(name)
            if a and b and a.value != b.value:
                changes.append(f"{name} {a.text} -> {b.text}")
        return "; ".join(changes) or witness.summary
    s1, s2, p1, p2 = states
    pre = [f"{n} {_t(s1, n)} vs {_t(s2, n)}" for n in names if _v(s1, n) != _v(s2, n)]
    post = [
        f"{n} {_t(p1, n)} vs {_t(p2, n)}"
        for n in (e.name for e in p1.entries)
        if _v(p1, n) != _v(p2, n) and n not in witness.differing
    ]
    return f"from {', '.join(pre) or 'equal visible state'}: {', '.join(post) or 'results differ'}"


def _v(view: StateView, name: str) -> int | None:
    entry = view.get(name)
    return None if entry is None else entry.value


def _t(view: StateView, name: str) -> str:
    entry = view.get(name)
    return "?" if entry is None else entry.text


def critical_reason(result: InstructionResult) -> str:
    """Why ``result`` is critical: which sensitivity, shown by which witness, and that it runs
    untrapped under vm_context."""
    parts = []
    for prop, words in (
        ("control_sensitive", "control sensitive"),
        ("behavior_sensitive", "behavior sensitive"),
    ):
        f = finding(result, prop)
        if f.verdict is Verdict.PROVED and f.witness is not None:
            kind = (
                f" ({result.behavior_kind})"
                if prop == "behavior_sensitive" and result.behavior_kind
                else ""
            )
            parts.append(f"{words}{kind}: {witness_change(f.witness)}")
    return "; ".join(parts) + "; runs untrapped under vm_context"


def user_reason(result: InstructionResult) -> str:
    """Why ``result`` is user sensitive and unprivileged."""
    parts = []
    for prop, words in (
        ("user_control_sensitive", "user control sensitive"),
        ("user_behavior_sensitive", "user behavior sensitive"),
    ):
        f = finding(result, prop)
        if f.verdict is Verdict.PROVED and f.witness is not None:
            parts.append(f"{words}: {witness_change(f.witness)}")
    return "; ".join(parts)


def critical_results(analysis: Analysis) -> list[InstructionResult]:
    """The critical instruction forms, in spec order."""
    return [r for r in analysis.instructions if r.critical is Verdict.PROVED]


def user_critical_results(analysis: Analysis) -> list[InstructionResult]:
    """The forms that refute Theorem 3, in spec order."""
    return [r for r in analysis.instructions if r.user_critical is Verdict.PROVED]


def witness_rows(witness: Witness) -> tuple[list[str], list[list[str]]]:
    """A witness as a table: a header (component, then one column per state) and rows."""
    header = ["", *[s.label for s in witness.states]]
    names: list[str] = []
    for state in witness.states:
        for entry in state.entries:
            if entry.name not in names:
                names.append(entry.name)
    rows = [[name, *[_cell(s, name) for s in witness.states]] for name in names]
    return header, rows


def _cell(view: StateView, name: str) -> str:
    entry = view.get(name)
    return "" if entry is None else entry.text


def operands_text(witness: Witness) -> str:
    """The witness's operand values, as ``a=0x10, n=3``."""
    return ", ".join(f"{e.name}={e.text}" for e in witness.operands) or "(no operands)"

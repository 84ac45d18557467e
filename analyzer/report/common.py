"""Words shared by every renderer: one-line reasons and witness tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

from analyzer.results import (
    Analysis,
    ContextSearch,
    Finding,
    InstructionResult,
    Setting,
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


Condition = tuple[tuple[tuple[str, int], ...], ...]
"""A disjunction of conjunctions of field values: ``((("IOPL", 0), ("PVI", 0)), (("TSD", 1),))``
reads 'IOPL=0 and PVI=0, or TSD=1'."""


Term = tuple[tuple[str, int], ...]


def trapping_condition(search: ContextSearch, form: str, most: int = 2) -> Condition | None:
    """When ``form`` traps, as few terms of at most ``most`` field values each as cover
    exactly the grid settings (:func:`grid_settings`) under which it traps (chosen greedily,
    widest first), or None when no such terms cover them or it never traps."""
    return trapping_conditions(search, [form], most)[form]


def trapping_conditions(
    search: ContextSearch, forms: Sequence[str], most: int = 2
) -> dict[str, Condition | None]:
    """:func:`trapping_condition` of each of ``forms``, the grid and its terms built once."""
    grid = grid_settings(search)
    order = _field_order(grid)
    terms = _terms(grid, most, order)
    conditions: dict[str, Condition | None] = {}
    for form in forms:
        trapping = {
            i for i, s in enumerate(grid) if form in s.trapping or form in s.timing_trapping
        }
        conditions[form] = _cover(trapping, terms, order) if trapping else None
    return conditions


def _terms(
    grid: Sequence[Setting], most: int, order: Callable[[tuple[str, int]], tuple[int, int]]
) -> dict[Term, frozenset[int]]:
    """Every conjunction of up to ``most`` values of distinct fields that some grid setting
    has, with the settings that have it; a conjunction is dropped when a shorter (or earlier)
    one holds in the same settings."""
    literals = sorted({v for s in grid for v in s.values}, key=order)
    holds = {lit: frozenset(i for i, s in enumerate(grid) if lit in s.values) for lit in literals}
    found: dict[Term, frozenset[int]] = {}
    seen: set[frozenset[int]] = set()
    for size in range(1, most + 1):
        for term in combinations(literals, size):
            if len({name for name, _ in term}) < size:
                continue
            covered = frozenset.intersection(*(holds[lit] for lit in term))
            if covered and covered not in seen:
                seen.add(covered)
                found[term] = covered
    return found


def _cover(
    trapping: set[int],
    terms: dict[Term, frozenset[int]],
    order: Callable[[tuple[str, int]], tuple[int, int]],
) -> Condition | None:
    """Terms that hold only in ``trapping`` settings and together in all of them, the one
    covering most of what is left first; None when they cannot cover it."""
    usable = {term: covered for term, covered in terms.items() if covered <= trapping}
    chosen: list[Term] = []
    uncovered = set(trapping)
    while uncovered:
        best = max(usable, key=lambda t: (len(usable[t] & uncovered), -len(t)), default=None)
        if best is None or not usable[best] & uncovered:
            return None
        chosen.append(best)
        uncovered -= usable[best]
    return tuple(sorted(chosen, key=lambda term: [order(literal) for literal in term]))


def sampled_fields(search: ContextSearch) -> list[str]:
    """The settable fields the search did not try in full (too many bits): it tried them
    all-zeros, all-ones and at the declared vm_context's own values."""
    tried: dict[str, set[int]] = {name: set() for name, _ in search.fields}
    for setting in search.settings:
        for name, value in setting.values:
            tried[name].add(value)
    return [name for name, bits in search.fields if len(tried[name]) < 2**bits]


def grid_settings(search: ContextSearch) -> list[Setting]:
    """The possible settings in which every sampled field is all-zeros or all-ones (all the
    possible settings when the search was exhaustive): a condition over field values is read
    over these, since the declared vm_context's own values are tried in one setting only."""
    widths = dict(search.fields)
    sampled = set(sampled_fields(search))
    return [
        s
        for s in search.settings
        if s.possible and all(v in (0, 2 ** widths[n] - 1) for n, v in s.values if n in sampled)
    ]


def _field_order(grid: Sequence[Setting]) -> Callable[[tuple[str, int]], tuple[int, int]]:
    """Sort key of a field value: the field's declaration order, then the value."""
    order = {name: index for index, (name, _) in enumerate(grid[0].values)} if grid else {}
    return lambda literal: (order.get(literal[0], len(order)), literal[1])


def condition_text(condition: Condition) -> str:
    """'IOPL=0 and PVI=0, or TSD=1'."""
    return ", or ".join(" and ".join(f"{n}={v}" for n, v in term) for term in condition)

"""MODEL.md section 4: Theorems 1, 2 and 3 from the per-instruction verdicts."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from analyzer.results import InstructionResult, TheoremResult, Verdict

STATEMENTS = {
    1: "every sensitive instruction is privileged (an efficient VMM can be built)",
    2: "the machine is virtualizable and a VMM without timing dependencies can be built "
    "(recursive virtualization)",
    3: "every user-sensitive instruction is privileged (a hybrid VMM can be built)",
}


def _mnemonics(results: Sequence[InstructionResult]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r.mnemonic for r in results))


def _theorem(
    number: int,
    results: Sequence[InstructionResult],
    breaks: Callable[[InstructionResult], Verdict],
) -> TheoremResult:
    offending = [r for r in results if breaks(r) is Verdict.PROVED]
    undecided = [r for r in results if breaks(r) is Verdict.UNKNOWN]
    if offending:
        verdict = Verdict.REFUTED
    elif undecided:
        verdict = Verdict.UNKNOWN
    else:
        verdict = Verdict.PROVED
    return TheoremResult(
        number,
        STATEMENTS[number],
        verdict,
        _mnemonics(offending),
        tuple(r.form for r in offending),
        tuple(r.form for r in undecided),
    )


def theorem_1(results: Sequence[InstructionResult]) -> TheoremResult:
    """Every sensitive instruction is privileged; the critical ones refute it."""
    result = _theorem(1, results, lambda r: r.critical)
    return _with_safety_notes(result, results)


def theorem_3(results: Sequence[InstructionResult]) -> TheoremResult:
    """Every user-sensitive instruction is privileged."""
    return _theorem(3, results, lambda r: r.user_critical)


def theorem_2(results: Sequence[InstructionResult], first: TheoremResult) -> TheoremResult:
    """Static part: Theorem 1's verdict (the VMM pgv builds reads no timing state); the
    timing-dependent instructions are listed apart and do not refute it."""
    timing = _mnemonics([r for r in results if r.timing_dependent.verdict is Verdict.PROVED])
    notes = [
        "static verdict: Theorem 1's, since the VMM construction reads no timing "
        "component; equivalence holds up to timing, as in P&G"
    ]
    if timing:
        notes.append(
            "timing-dependent (a guest can tell time differs under a VMM; does not "
            "refute the theorem): " + ", ".join(timing)
        )
    return TheoremResult(
        2,
        STATEMENTS[2],
        first.verdict,
        first.offending,
        first.offending_forms,
        first.undecided,
        tuple(notes),
    )


def _with_safety_notes(
    result: TheoremResult, results: Sequence[InstructionResult]
) -> TheoremResult:
    notes = []
    for r in results:
        safe = r.execution_safe.verdict
        if safe is Verdict.REFUTED and r.critical is Verdict.REFUTED:
            notes.append(
                f"{r.form}: not critical, yet direct execution under vm_context is "
                f"not exact ({r.execution_safe.reason})"
            )
        if safe is Verdict.PROVED and r.critical is Verdict.PROVED:
            notes.append(
                f"{r.form}: critical, yet direct execution under vm_context is exact: "
                "the difference lies outside vm_context"
            )
    return TheoremResult(
        result.number,
        result.statement,
        result.verdict,
        result.offending,
        result.offending_forms,
        result.undecided,
        tuple(notes),
    )


def all_theorems(results: Sequence[InstructionResult]) -> tuple[TheoremResult, ...]:
    """Theorems 1, 2 and 3, in order."""
    first = theorem_1(results)
    return first, theorem_2(results, first), theorem_3(results)

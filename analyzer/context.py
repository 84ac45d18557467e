"""MODEL.md section 8, VMM context search: which settings of the control fields a VMM may
choose (``vmm sets ...``) make the most sensitive instructions trap, and whether any makes
Theorem 1 hold."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

from analyzer import ir
from analyzer.results import Analysis, ContextSearch, Finding, Setting, Verdict
from analyzer.smt.encode import Encoder
from analyzer.smt.queries import InstructionProver
from analyzer.smt.solver import Session, fresh_context

MAX_SETTING_BITS = 12

Assignment = tuple[tuple[ir.Field, int], ...]


def _settings(isa: ir.Isa, declared: list[int] | None) -> tuple[list[Assignment], bool]:
    """The settings to try, and whether they are all the settings there are.

    Up to MAX_SETTING_BITS bits in all, every setting. Beyond, each field all-zeros or
    all-ones (every combination), plus the setting the declared vm_context admits."""
    fields = isa.settable
    if sum(f.width for f in fields) <= MAX_SETTING_BITS:
        ranges = [range(1 << f.width) for f in fields]
        return [
            tuple(zip(fields, combo, strict=True)) for combo in itertools.product(*ranges)
        ], True
    extremes = [(0, (1 << f.width) - 1) for f in fields]
    candidates = [tuple(zip(fields, combo, strict=True)) for combo in itertools.product(*extremes)]
    if declared is not None:
        own = tuple(zip(fields, declared, strict=True))
        if own not in candidates:
            candidates.append(own)
    return candidates, False


def search_contexts(isa: ir.Isa, analysis: Analysis, timeout_ms: int) -> ContextSearch:
    """For every setting of the settable fields, which sensitive instructions trap in every
    user state with that setting (and behave as P&G require in supervisor mode)."""
    fresh_context()
    probe = InstructionProver(isa, isa.instructions[0], Encoder(isa), Session(timeout_ms))
    settings, exhaustive = _settings(isa, probe.context_fields(isa.settable))
    pairs = list(zip(isa.instructions, analysis.instructions, strict=True))
    sensitive = [i for i, r in pairs if r.sensitive is not Verdict.REFUTED and r.unmodelled is None]
    unmodelled = [i.form for i, r in pairs if r.unmodelled is not None]
    timing = [
        i
        for i, r in pairs
        if r.sensitive is Verdict.REFUTED and r.timing_dependent.verdict is Verdict.PROVED
    ]
    traps: dict[str, list[Finding]] = {}
    possible: list[bool] = []
    declared: list[bool] = []
    for fields in settings:
        possible.append(probe.fields_possible(fields))
        declared.append(probe.context_allows(fields))
    for instruction in [*sensitive, *timing]:
        fresh_context()
        prover = InstructionProver(isa, instruction, Encoder(isa), Session(timeout_ms))
        supervisor = prover.supervisor_behaviour()
        traps[instruction.name] = [
            prover.traps_with_fields(fields) if supervisor.verdict is Verdict.PROVED else supervisor
            for fields in settings
        ]
    results = []
    for index, fields in enumerate(settings):
        verdicts = {i.name: traps[i.name][index].verdict for i in sensitive}
        trapping = tuple(_form(isa, n) for n, v in verdicts.items() if v is Verdict.PROVED)
        escaping = tuple(_form(isa, n) for n, v in verdicts.items() if v is not Verdict.PROVED)
        timed = tuple(i.form for i in timing if traps[i.name][index].verdict is Verdict.PROVED)
        results.append(
            Setting(
                tuple((f.label, v) for f, v in fields),
                possible[index],
                trapping,
                escaping,
                timed,
                _all(verdicts.values()) & (Verdict.UNKNOWN if unmodelled else Verdict.PROVED),
                declared[index],
            )
        )
    usable = [i for i, s in enumerate(results) if s.possible]
    score = {i: (len(results[i].trapping), len(results[i].timing_trapping)) for i in usable}
    most = max(score.values(), default=(0, 0))
    best = tuple(i for i in usable if score[i] == most)
    verdict = _any(results[i].theorem1 for i in usable)
    notes = _notes(isa, results, best)
    if unmodelled:
        notes = (
            "not modelled, so not searched (each may or may not trap): " + ", ".join(unmodelled),
            *notes,
        )
    if not exhaustive:
        notes = (
            f"the settable fields have more than {MAX_SETTING_BITS} bits: the search tried each "
            "field all-zeros and all-ones, and the declared vm_context's own setting",
            *notes,
        )
    return ContextSearch(
        analysis.isa,
        tuple((f.label, f.width) for f in isa.settable),
        tuple(i.form for i in sensitive),
        tuple(i.form for i in timing),
        tuple(results),
        best,
        verdict,
        notes,
    )


def _form(isa: ir.Isa, name: str) -> str:
    return isa.instruction(name).form


def _all(verdicts: Iterable[Verdict]) -> Verdict:
    result = Verdict.PROVED
    for v in verdicts:
        result = result & v
    return result


def _any(verdicts: Iterable[Verdict]) -> Verdict:
    result = Verdict.REFUTED
    for v in verdicts:
        result = result | v
    return result


def _notes(isa: ir.Isa, results: list[Setting], best: tuple[int, ...]) -> tuple[str, ...]:
    notes = []
    if not isa.settable:
        notes.append(
            "the spec declares no VMM-settable fields ('vmm sets ...'): the only "
            "setting is user mode itself"
        )
    declared = [i for i, s in enumerate(results) if s.declared]
    if not declared:
        notes.append("the declared vm_context admits none of these settings")
    elif set(declared) <= set(best):
        notes.append("the declared vm_context is one of the best settings")
    else:
        notes.append(
            "the declared vm_context is not among the best settings: "
            + "; ".join(results[i].text for i in declared)
        )
    notes.append(
        "a setting counts a sensitive instruction as trapping when it traps in every "
        "user state with that setting and behaves as P&G require in supervisor mode; "
        "whether a guest can change the settings itself is checked by context "
        "invariance in the analysis, not here"
    )
    return tuple(notes)

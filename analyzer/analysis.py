"""Runs the whole analysis of an ISA: one job per instruction, on any executor, in spec order."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from analyzer import ir
from analyzer.classify import classify_instruction
from analyzer.pretty import pretty
from analyzer.results import Analysis, InstructionResult, IsaSummary, StateSummary
from analyzer.smt.solver import DEFAULT_TIMEOUT_MS, QueryStats, configure_determinism
from analyzer.theorems import all_theorems
from analyzer.validate import load_isa

ANALYSIS_VERSION = "1"


def summarize(isa: ir.Isa, digest: str) -> IsaSummary:
    """The ISA facts a report shows beside the results."""
    state = tuple(
        StateSummary(c.name, c.width, c.count, c.kind.value, c.mapping) for c in isa.state
    )
    return IsaSummary(
        isa.name,
        isa.title,
        isa.source,
        isa.base,
        isa.manuals,
        state,
        tuple(m.name for m in isa.memories),
        digest,
    )


def spec_digest(isa: ir.Isa) -> str:
    """A short content hash of the spec's sources and the analysis version."""
    text = f"{ANALYSIS_VERSION}:{isa.digest or pretty(isa)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@cache
def _load_cached(path: str) -> ir.Isa:
    return load_isa(path)


def _classify_job(path: str, name: str, timeout_ms: int) -> tuple[InstructionResult, int]:
    configure_determinism()
    isa = _load_cached(path)
    stats = QueryStats()
    return classify_instruction(isa, isa.instruction(name), timeout_ms, stats), stats.count


@dataclass
class PendingAnalysis:
    """An analysis whose instruction jobs are on an executor; :meth:`result` collects them."""

    isa: ir.Isa
    timeout_ms: int
    futures: list[Future[tuple[InstructionResult, int]]]

    def result(self, progress: Callable[[int, int], None] | None = None) -> Analysis:
        """Wait for every job, in spec order, and decide the theorems."""
        results: list[InstructionResult] = []
        queries = 0
        for done, future in enumerate(self.futures, 1):
            result, count = future.result()
            results.append(result)
            queries += count
            if progress:
                progress(done, len(self.futures))
        return _assemble(self.isa, results, self.timeout_ms, queries)


def submit_analysis(isa: ir.Isa, executor: Executor, timeout_ms: int) -> PendingAnalysis:
    """Queue one job per instruction of ``isa`` on ``executor`` (each worker reloads the spec
    from ``isa.source``; z3 objects never cross processes). Queue several ISAs before
    collecting any, so that no worker waits at the end of each."""
    configure_determinism()
    source = str(Path(isa.source))
    futures = [executor.submit(_classify_job, source, i.name, timeout_ms) for i in isa.instructions]
    return PendingAnalysis(isa, timeout_ms, futures)


def analyze(
    isa: ir.Isa,
    *,
    timeout_ms: int = DEFAULT_TIMEOUT_MS,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    stats: QueryStats | None = None,
) -> Analysis:
    """Classify every instruction of ``isa`` and decide the theorems.

    With an ``executor`` (a process pool, or a cluster's), each instruction is a job (see
    :func:`submit_analysis`).
    """
    if executor is not None:
        return submit_analysis(isa, executor, timeout_ms).result(progress)
    configure_determinism()
    stats = stats if stats is not None else QueryStats()
    results: list[InstructionResult] = []
    for done, instruction in enumerate(isa.instructions, 1):
        results.append(classify_instruction(isa, instruction, timeout_ms, stats))
        if progress:
            progress(done, len(isa.instructions))
    return _assemble(isa, results, timeout_ms, stats.count)


def _assemble(
    isa: ir.Isa, results: list[InstructionResult], timeout_ms: int, queries: int
) -> Analysis:
    return Analysis(
        summarize(isa, spec_digest(isa)), tuple(results), all_theorems(results), timeout_ms, queries
    )

"""The one place a z3 solver is made: fixed seeds, a per-query budget, three-valued answers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import z3

DEFAULT_TIMEOUT_MS = 10_000


class Answer(Enum):
    """What z3 said about a satisfiability query."""

    SAT = "sat"
    UNSAT = "unsat"
    UNKNOWN = "unknown"


@dataclass
class QueryStats:
    """How many queries ran and how long each took (seconds), for benchmarks."""

    durations: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.durations)


@dataclass(frozen=True, slots=True)
class Outcome:
    """A query's answer; ``model`` is set when the answer is SAT."""

    answer: Answer
    model: Any = None
    reason: str = ""


class Session:
    """A solver reused across the queries of one instruction, each inside push/pop."""

    def __init__(
        self,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        stats: QueryStats | None = None,
        context: z3.Context | None = None,
    ) -> None:
        self.context = context or z3.main_ctx()
        self.solver = z3.Solver(ctx=self.context)
        self.solver.set("random_seed", 0)
        self.solver.set("timeout", int(timeout_ms))
        self.stats = stats if stats is not None else QueryStats()

    def check(self, *constraints: Any) -> Outcome:
        """Is the conjunction of ``constraints`` satisfiable? Never raises on a timeout."""
        self.solver.push()
        try:
            self.solver.add(*constraints)
            started = time.perf_counter()
            result = self.solver.check()
            self.stats.durations.append(time.perf_counter() - started)
            if result == z3.sat:
                return Outcome(Answer.SAT, self.solver.model())
            if result == z3.unsat:
                return Outcome(Answer.UNSAT)
            return Outcome(Answer.UNKNOWN, reason=self.solver.reason_unknown())
        finally:
            self.solver.pop()


def fresh_context() -> None:
    """Start a new default z3 context.

    A model z3 returns depends on the order in which terms were created, so each instruction
    is analysed in a context of its own: its witnesses are then the same whether it runs
    alone, after other instructions, or in a worker process. z3py offers no public call to
    replace its default context; dropping the module's cached one makes the next call create
    a fresh one. Terms made before this call must not be used after it.
    """
    z3.z3._main_ctx = None
    configure_determinism()


def configure_determinism() -> None:
    """Fix z3's global seeds so the same queries give the same models on every run."""
    z3.set_param("smt.random_seed", 0)
    z3.set_param("sat.random_seed", 0)

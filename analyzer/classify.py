"""MODEL.md section 3 for one instruction: which properties to decide, and in what order.

The queries themselves live in :mod:`analyzer.smt.queries`; this module decides which ones are
needed (an always-trapping instruction needs no more; a property already refuted in general
is refuted in user mode too) and assembles the result.
"""

from __future__ import annotations

from typing import Any

from analyzer import ir
from analyzer.results import Finding, InstructionResult, SourceRef, Verdict
from analyzer.smt.encode import Encoder
from analyzer.smt.queries import InstructionProver
from analyzer.smt.solver import QueryStats, Session, fresh_context


def _result(
    instruction: ir.Instruction, unmodelled: str | None, **findings: Any
) -> InstructionResult:
    span = instruction.span
    return InstructionResult(
        name=instruction.name,
        mnemonic=instruction.mnemonic,
        form=instruction.form,
        cite=instruction.cite,
        source=SourceRef(span.file, span.line, span.column),
        family=instruction.family,
        unmodelled=unmodelled,
        **findings,
    )


def classify_instruction(
    isa: ir.Isa, instruction: ir.Instruction, timeout_ms: int, stats: QueryStats | None = None
) -> InstructionResult:
    """Every property of ``instruction``, decided by z3 within ``timeout_ms`` per query."""
    if instruction.unmodelled is not None:
        unknown = Finding(Verdict.UNKNOWN, f"not modelled: {instruction.unmodelled}")
        return _result(
            instruction,
            instruction.unmodelled,
            always_traps=unknown,
            privileged=unknown,
            control_sensitive=unknown,
            behavior_sensitive=unknown,
            behavior_kind=None,
            user_control_sensitive=unknown,
            user_behavior_sensitive=unknown,
            timing_dependent=unknown,
            context_invariant=unknown,
            execution_safe=unknown,
        )
    fresh_context()
    session = Session(timeout_ms, stats)
    prover = InstructionProver(isa, instruction, Encoder(isa), session)
    always = prover.always_traps()
    if always.verdict is Verdict.PROVED:
        return _always_trapping(instruction, always)
    control = prover.control_sensitive()
    behavior, kind = prover.behavior_sensitive()
    user_control = (
        prover.control_sensitive(user_only=True)
        if control.verdict is not Verdict.REFUTED
        else _implied(control)
    )
    user_behavior = (
        prover.user_behavior_sensitive()
        if behavior.verdict is not Verdict.REFUTED
        else _implied(behavior)
    )
    timing = (
        prover.timing_dependent()
        if isa.of_kind(ir.Kind.TIMING)
        else Finding(Verdict.REFUTED, "the ISA declares no timing component")
    )
    return _result(
        instruction,
        None,
        always_traps=always,
        privileged=prover.privileged(),
        control_sensitive=control,
        behavior_sensitive=behavior,
        behavior_kind=kind,
        user_control_sensitive=user_control,
        user_behavior_sensitive=user_behavior,
        timing_dependent=timing,
        context_invariant=prover.context_invariant(),
        execution_safe=prover.execution_safe(),
    )


def _implied(general: Finding) -> Finding:
    return Finding(Verdict.REFUTED, f"implied: {general.reason}")


def _always_trapping(instruction: ir.Instruction, always: Finding) -> InstructionResult:
    none = Finding(Verdict.REFUTED, "implied: it traps in every state (proof: unsatisfiable)")
    holds = Finding(Verdict.PROVED, "implied: it traps in every state (proof: unsatisfiable)")
    return _result(
        instruction,
        None,
        always_traps=always,
        privileged=Finding(
            Verdict.REFUTED, "traps in supervisor mode too: it traps in every state"
        ),
        control_sensitive=none,
        behavior_sensitive=none,
        behavior_kind=None,
        user_control_sensitive=none,
        user_behavior_sensitive=none,
        timing_dependent=none,
        context_invariant=holds,
        execution_safe=holds,
    )

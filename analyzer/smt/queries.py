"""The z3 queries behind MODEL.md section 3 and the per-instruction checks of section 5.

Each property is a satisfiability question. A "for all" property is PROVED when its negation
is unsatisfiable and REFUTED with the model as witness; an "exists" property is PROVED with the
model as witness and REFUTED when unsatisfiable. A timeout is UNKNOWN, never a silent no.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import z3

from analyzer import ir
from analyzer.results import Entry, Finding, StateView, Verdict
from analyzer.results import Witness as W
from analyzer.smt.encode import Access, Encoder, Execution, SymState, fresh_operands, fresh_state
from analyzer.smt.solver import Answer, Outcome, Session

Term = Any


@dataclass(frozen=True)
class RedPillStates:
    """Concrete values (component, register or physical cell keys such as ``D[3]`` and
    ``M[0x10]``) of a bare state and a real state, and the operands."""

    bare: dict[str, int]
    real: dict[str, int]
    operands: dict[str, int]


@dataclass(frozen=True)
class RedPillSearch:
    """The solver's answer to a red-pill query: the states when SAT, why not otherwise."""

    answer: Answer
    states: RedPillStates | None
    reason: str


MAX_FILE_REGISTERS = 256


def concrete_state(
    reader: _ModelReader, state: SymState, accesses: Sequence[Access]
) -> dict[str, int]:
    """Every scalar, every register (files of up to MAX_FILE_REGISTERS, else the accessed
    ones) and the physical cells behind the accessed addresses, read from a model."""
    isa = reader.enc.isa
    values: dict[str, int] = {}
    for c in isa.state:
        if c.count is None:
            values[c.name] = reader.value(state[c.name])
        elif c.count <= MAX_FILE_REGISTERS:
            for i in range(c.count):
                values[f"{c.name}[{i}]"] = reader.value(
                    z3.Select(state[c.name], z3.BitVecVal(i, c.index_width))
                )
    memories = {m.name: m for m in isa.memories}
    for access in accesses:
        index = reader.value(access.index)
        if access.array in memories:
            memory = memories[access.array]
            address = z3.BitVecVal(index, memory.address_width)
            if access.physical:
                physical = index
            else:
                _, term = reader.enc.translate(state, memory, address)
                physical = reader.value(term)
            values[f"{memory.name}[{physical}]"] = reader.value(
                z3.Select(state[memory.name], z3.BitVecVal(physical, memory.address_width))
            )
        else:
            component = isa.component(access.array)
            values[f"{component.name}[{index}]"] = reader.value(
                z3.Select(state[component.name], z3.BitVecVal(index, component.index_width))
            )
    return values


Setting = Sequence[tuple[ir.Field, int]]


def _field_terms(state: SymState, fields: Setting) -> list[Term]:
    return [z3.Extract(f.hi, f.lo, state[f.name]) == value for f, value in fields]


@dataclass
class _Pair:
    """Two runs of one instruction with the same operands, for two-state properties."""

    first: Execution
    second: Execution
    visible_equal: Term
    timing_equal: Term
    neither_traps: Term
    posts_differ: Term
    probes: list[Access]


class InstructionProver:
    """Decides every property of one instruction on one reusable solver."""

    def __init__(
        self, isa: ir.Isa, instruction: ir.Instruction, encoder: Encoder, session: Session
    ) -> None:
        self.isa = isa
        self.instruction = instruction
        self.enc = encoder
        self.session = session
        self.ops = fresh_operands(instruction, "op")
        self.run = self._execute("s")
        self.mode = isa.of_kind(ir.Kind.MODE)
        self.control = isa.of_kind(ir.Kind.MODE, ir.Kind.CONTROL)
        self.timing = isa.of_kind(ir.Kind.TIMING)
        self._pair: _Pair | None = None

    # -- building blocks
    def _execute(self, tag: str) -> Execution:
        state = fresh_state(self.isa, tag)
        return self.enc.execute(self.instruction, state, self.ops, f"{tag}'")

    def _well_formed(self, run: Execution) -> Term:
        return z3.And(
            self.enc.invariants(run.pre), self.enc.where(self.instruction, self.ops, run.pre)
        )

    def _pred(self, name: str, state: SymState) -> Term:
        return self.enc.predicate(name, state)

    def pair(self) -> _Pair:
        """Two runs from states that agree on visible and timing state (built once)."""
        if self._pair is None:
            first, second = self.run, self._execute("t")
            differ, probes = self.enc.visible_differ(first.post, second.post, "d")
            self._pair = _Pair(
                first,
                second,
                visible_equal=self.enc.visible_equal(first.pre, second.pre),
                timing_equal=self.enc.equal(first.pre, second.pre, self.timing),
                neither_traps=z3.And(z3.Not(first.trapped()), z3.Not(second.trapped())),
                posts_differ=differ,
                probes=probes,
            )
        return self._pair

    def _changed(
        self, pre: SymState, post: SymState, components: Sequence[ir.StateComponent]
    ) -> tuple[Term, list[Access]]:
        parts: list[Term] = []
        probes: list[Access] = []
        for c in components:
            if c.count is None:
                parts.append(pre[c.name] != post[c.name])
            else:
                index = z3.BitVec(f"chg.{c.name}.k", c.index_width)
                parts.append(z3.Select(pre[c.name], index) != z3.Select(post[c.name], index))
                probes.append(Access(c.name, index))
        return z3.Or(parts), probes

    # -- MODEL.md section 3
    def always_traps(self) -> Finding:
        """Traps in every state: no effect without trapping."""
        outcome = self.session.check(self._well_formed(self.run), z3.Not(self.run.trapped()))
        return self._forall(
            outcome,
            "traps in every state",
            "executes without trapping in this state",
            lambda m: self._single(m, self.run, "state in which it runs"),
        )

    def privileged(self) -> Finding:
        """Traps whenever vm_context holds; never raises a privilege trap in supervisor mode."""
        in_context = self.traps_under(self._pred("vm_context", self.run.pre), "vm_context")
        if in_context.verdict is not Verdict.PROVED:
            return in_context
        supervisor = self.supervisor_behaviour()
        if supervisor.verdict is not Verdict.PROVED:
            return supervisor
        return Finding(
            Verdict.PROVED,
            f"{in_context.reason}; {supervisor.reason}",
            supervisor.witness,
        )

    def traps_under(self, context: Term, label: str) -> Finding:
        """Traps in every well-formed state satisfying ``context``."""
        run = self.run
        outcome = self.session.check(self._well_formed(run), context, z3.Not(run.trapped()))
        return self._forall(
            outcome,
            f"traps in every {label} state",
            f"runs without trapping under {label}",
            lambda m: self._single(m, run, f"{label} state, no trap"),
        )

    def traps_with_fields(self, fields: Setting) -> Finding:
        """Traps in every user state whose control ``fields`` have the given values."""
        pre = self.run.pre
        context = z3.And(self._pred("user", pre), *_field_terms(pre, fields))
        label = "user, " + ", ".join(f"{f.label}={value}" for f, value in fields)
        return self.traps_under(context, label)

    def supervisor_behaviour(self) -> Finding:
        """Never raises a privilege trap in supervisor mode, and runs in some supervisor
        state: the supervisor half of P&G's definition of privileged."""
        run = self.run
        wf = self._well_formed(run)
        supervisor = self._pred("supervisor", run.pre)
        trap = self.session.check(wf, supervisor, run.trapped_with(ir.TrapKind.PRIVILEGE))
        if trap.answer is Answer.SAT:
            return Finding(
                Verdict.REFUTED,
                "raises a privilege trap in supervisor mode",
                self._single(trap.model, run, "supervisor state, traps"),
            )
        runs = self.session.check(wf, supervisor, z3.Not(run.trapped()))
        if runs.answer is Answer.UNSAT:
            return Finding(
                Verdict.REFUTED, "traps in every supervisor state too (proof: unsatisfiable)"
            )
        unknown = [o for o in (trap, runs) if o.answer is Answer.UNKNOWN]
        if unknown:
            return Finding(Verdict.UNKNOWN, f"solver gave up: {unknown[0].reason}")
        return Finding(
            Verdict.PROVED,
            "runs in supervisor mode as witnessed, never with a privilege trap",
            self._single(runs.model, run, "supervisor state, runs"),
        )

    def fields_possible(self, fields: Setting) -> bool:
        """Some well-formed user state has these field values (else the setting is void)."""
        pre = self.run.pre
        outcome = self.session.check(
            self.enc.invariants(pre), self._pred("user", pre), *_field_terms(pre, fields)
        )
        return outcome.answer is not Answer.UNSAT

    def context_allows(self, fields: Setting) -> bool:
        """The declared vm_context admits a state with these field values."""
        pre = self.run.pre
        outcome = self.session.check(
            self.enc.invariants(pre), self._pred("vm_context", pre), *_field_terms(pre, fields)
        )
        return outcome.answer is Answer.SAT

    def context_fields(self, fields: Sequence[ir.Field]) -> list[int] | None:
        """Values of ``fields`` in some state the declared vm_context admits."""
        pre = self.run.pre
        outcome = self.session.check(self.enc.invariants(pre), self._pred("vm_context", pre))
        if outcome.answer is not Answer.SAT:
            return None
        reader = _ModelReader(self.enc, outcome.model, set())
        return [reader.value(z3.Extract(f.hi, f.lo, pre[f.name])) for f in fields]

    def control_sensitive(self, user_only: bool = False) -> Finding:
        """Some non-trapping run changes a control or timing component."""
        run = self.run
        changed, probes = self._changed(run.pre, run.post, (*self.control, *self.timing))
        constraints = [self._well_formed(run), z3.Not(run.trapped()), changed]
        if user_only:
            constraints.append(self._pred("user", run.pre))
        outcome = self.session.check(*constraints)
        where = " in user mode" if user_only else ""
        return self._exists(
            outcome,
            f"changes control state{where} without trapping",
            f"never changes control or timing state{where} without trapping",
            lambda m: self._single(m, run, "state", probes),
        )

    def behavior_sensitive(self) -> tuple[Finding, str | None]:
        """Two states differing only in control state give different visible results.
        Returns the finding and the most specific sub-kind with a witness."""
        p = self.pair()
        general = self._behavior_query()
        if general.answer is not Answer.SAT:
            return self._exists(
                general, "", "same visible result whatever the control state", lambda m: None
            ), None
        non_mode = [c for c in self.control if c.kind is not ir.Kind.MODE]
        mode_only = self._behavior_query(
            self.enc.equal(p.first.pre, p.second.pre, non_mode),
            self.enc.memories_equal(p.first.pre, p.second.pre),
        )
        if mode_only.answer is Answer.SAT:
            return self._pair_finding(
                mode_only, "states differing only in mode give different visible results"
            ), "mode"
        fixed = [c for c in self.control if not c.mapping]
        location = self._behavior_query(self.enc.equal(p.first.pre, p.second.pre, fixed))
        if location.answer is Answer.SAT:
            return self._pair_finding(
                location,
                "states differing only in relocation or mapping give different visible results",
            ), "location"
        return self._pair_finding(
            general, "states differing in control state give different visible results"
        ), "resource"

    def user_behavior_sensitive(self) -> Finding:
        """Behavior sensitive between two user states with the same mode (P&G section 8)."""
        p = self.pair()
        outcome = self._behavior_query(
            self._pred("user", p.first.pre),
            self._pred("user", p.second.pre),
            self.enc.equal(p.first.pre, p.second.pre, self.mode),
        )
        return self._exists(
            outcome,
            "two user-mode states differing in control state give different visible results",
            "same visible result in user mode whatever the other control state",
            lambda m: self._double(m, p),
        )

    def timing_dependent(self) -> Finding:
        """Two states differing only in timing components give different visible results."""
        p = self.pair()
        outcome = self.session.check(
            self._well_formed(p.first),
            self._well_formed(p.second),
            p.visible_equal,
            self.enc.equal(p.first.pre, p.second.pre, self.control),
            self.enc.memories_equal(p.first.pre, p.second.pre),
            p.neither_traps,
            p.posts_differ,
        )
        return self._exists(
            outcome,
            "states differing only in timing give different visible results",
            "visible result does not depend on timing state",
            lambda m: self._double(m, p),
        )

    def _behavior_query(self, *extra: Term) -> Outcome:
        p = self.pair()
        return self.session.check(
            self._well_formed(p.first),
            self._well_formed(p.second),
            p.visible_equal,
            p.timing_equal,
            p.neither_traps,
            p.posts_differ,
            *extra,
        )

    # -- MODEL.md section 5
    def context_invariant(self) -> Finding:
        """A guest running under vm_context cannot leave it without trapping."""
        run = self.run
        outcome = self.session.check(
            self._well_formed(run),
            self._pred("vm_context", run.pre),
            z3.Not(run.trapped()),
            z3.Not(self._pred("vm_context", run.post)),
        )
        return self._forall(
            outcome,
            "vm_context is preserved by every non-trapping run",
            "leaves vm_context without trapping",
            lambda m: self._single(m, run, "vm_context state"),
        )

    def _unsafe(self, *extra: Term) -> tuple[Outcome, list[Access]]:
        """A bare state and a vm_context state with the same visible state in which direct
        execution does not trap yet differs from the bare run; and the register probes of
        the control change."""
        p = self.pair()
        bare, real = p.first, p.second
        changed, probes = self._changed(bare.pre, bare.post, self.control)
        outcome = self.session.check(
            self._well_formed(bare),
            self._well_formed(real),
            self._pred("vm_context", real.pre),
            p.visible_equal,
            p.timing_equal,
            z3.Not(real.trapped()),
            z3.Or(bare.trapped(), p.posts_differ, changed),
            *extra,
        )
        return outcome, probes

    def red_pill(
        self, same_memory: bool = True, free: Mapping[str, int | None] | None = None
    ) -> RedPillSearch:
        """Complete concrete states for a red pill: the bare state, the real state the VMM
        runs the guest in, and the operands. With ``same_memory`` the two states agree on
        every visible and timing component, every read-only one (the machine is the same)
        and every physical memory cell, and differ in control state only (mode, control,
        relocation and mapping): a real state a VMM can make from its guest's by setting
        control components, without moving memory. ``free`` narrows that to the given
        control components (a scalar's mask of bits, or None for all of it)."""
        p = self.pair()
        bare, real = p.first.pre, p.second.pre
        extra = []
        if same_memory:
            kept = [c for c in self.isa.state if not c.is_control or c.readonly]
            extra = [bare[c.name] == real[c.name] for c in kept]
            extra += [bare[m.name] == real[m.name] for m in self.isa.memories]
        if same_memory and free is not None:
            for c in self.isa.state:
                if not c.is_control or c.readonly or (c.name in free and free[c.name] is None):
                    continue
                if c.count is not None:
                    extra.append(bare[c.name] == real[c.name])
                    continue
                kept_bits = z3.BitVecVal(~(free.get(c.name) or 0) & ((1 << c.width) - 1), c.width)
                extra.append(bare[c.name] & kept_bits == real[c.name] & kept_bits)
        outcome, probes = self._unsafe(*extra)
        if outcome.answer is not Answer.SAT:
            return RedPillSearch(outcome.answer, None, outcome.reason)
        accesses = [*p.first.accesses, *p.second.accesses, *p.probes, *probes]
        reader = _ModelReader(self.enc, outcome.model, set())
        states = RedPillStates(
            bare=concrete_state(reader, p.first.pre, accesses),
            real=concrete_state(reader, p.second.pre, accesses),
            operands={name: reader.value(term) for name, term in self.ops.items()},
        )
        return RedPillSearch(outcome.answer, states, "")

    def execution_safe(self) -> Finding:
        """Direct execution under vm_context is exact: it traps, or does what the bare
        machine does from the same visible state, without the bare run changing control."""
        p = self.pair()
        outcome, _ = self._unsafe()
        return self._forall(
            outcome,
            "direct execution under vm_context matches the bare machine or traps",
            "runs untrapped under vm_context but differs from the bare machine",
            lambda m: self._double(m, p, labels=("bare s", "bare i(s)", "real s'", "real i(s')")),
        )

    def invariants_preserved(self) -> Finding:
        """The spec's invariants hold after every non-trapping run from a well-formed state."""
        run = self.run
        outcome = self.session.check(
            self._well_formed(run), z3.Not(run.trapped()), z3.Not(self.enc.invariants(run.post))
        )
        return self._forall(
            outcome,
            "preserves the spec's invariants",
            "breaks a spec invariant",
            lambda m: self._single(m, run, "state"),
        )

    # -- verdicts from outcomes
    def _forall(self, outcome: Outcome, holds: str, fails: str, witness: Any) -> Finding:
        if outcome.answer is Answer.UNSAT:
            return Finding(Verdict.PROVED, f"{holds} (proof: unsatisfiable)")
        if outcome.answer is Answer.SAT:
            return Finding(Verdict.REFUTED, fails, witness(outcome.model))
        return Finding(Verdict.UNKNOWN, f"solver gave up: {outcome.reason}")

    def _exists(self, outcome: Outcome, holds: str, fails: str, witness: Any) -> Finding:
        if outcome.answer is Answer.SAT:
            return Finding(Verdict.PROVED, holds, witness(outcome.model))
        if outcome.answer is Answer.UNSAT:
            return Finding(Verdict.REFUTED, f"{fails} (proof: unsatisfiable)")
        return Finding(Verdict.UNKNOWN, f"solver gave up: {outcome.reason}")

    def _pair_finding(self, outcome: Outcome, text: str) -> Finding:
        return Finding(Verdict.PROVED, text, self._double(outcome.model, self.pair()))

    # -- witnesses
    def _single(self, model: Any, run: Execution, label: str, probes: Iterable[Access] = ()) -> W:
        reader = _ModelReader(self.enc, model, self._focus())
        accesses = [*run.accesses, *probes]
        states, inputs = reader.states([(label, run.pre), ("after", run.post)], accesses, 1)
        return W(label, reader.operands(self.ops), states, inputs=inputs)

    def _double(
        self,
        model: Any,
        p: _Pair,
        labels: tuple[str, str, str, str] = ("s1", "i(s1)", "s2", "i(s2)"),
    ) -> W:
        reader = _ModelReader(self.enc, model, self._focus())
        accesses = [*p.first.accesses, *p.second.accesses, *p.probes]
        states, inputs = reader.states(
            [
                (labels[0], p.first.pre),
                (labels[2], p.second.pre),
                (labels[1], p.first.post),
                (labels[3], p.second.post),
            ],
            accesses,
            2,
        )
        differing = tuple(
            c.name for c in self.control if _differs(reader, p.first.pre, p.second.pre, c)
        )
        return W(
            f"{labels[0]} and {labels[2]} differ only in control state",
            reader.operands(self.ops),
            states,
            differing,
            inputs,
        )

    def _focus(self) -> set[str]:
        names = {c.name for c in self.mode}
        for stmt in ir.walk_stmts(self.instruction.body):
            if isinstance(stmt, ir.Trap) and stmt.when is not None:
                names |= {e.name for e in ir.walk_expr(stmt.when) if isinstance(e, ir.StateRead)}
        return names


def _differs(reader: _ModelReader, a: SymState, b: SymState, c: ir.StateComponent) -> bool:
    if c.count is None:
        return bool(reader.value(a[c.name]) != reader.value(b[c.name]))
    return not z3.is_true(reader.model.eval(a[c.name] == b[c.name], model_completion=True))


class _ModelReader:
    """Reads concrete values of states out of a z3 model, keeping the entries that matter:
    mode and trap-condition components, and whatever differs between the states shown."""

    def __init__(self, enc: Encoder, model: Any, focus: set[str]) -> None:
        self.enc = enc
        self.model = model
        self.focus = focus

    def value(self, term: Term) -> int:
        return self.values([term])[0]

    def values(self, terms: Sequence[Term], widths: Sequence[int] | None = None) -> list[int]:
        """The values of ``terms`` in the model, evaluated a few hundred at a time as one
        concatenation (one call into z3 instead of one per term). ``widths``, when the caller
        knows them, are the terms' bit-vector widths (asking z3 costs a call per term)."""
        if widths is not None:
            sized = list(zip(terms, widths, strict=True))
        else:
            one, zero = z3.BitVecVal(1, 1), z3.BitVecVal(0, 1)
            sized = [(t, t.size()) if z3.is_bv(t) else (z3.If(t, one, zero), 1) for t in terms]
        out: list[int] = []
        for chunk in _chunks(sized):
            whole = chunk[0][0] if len(chunk) == 1 else z3.Concat(*(t for t, _ in chunk))
            number = int(self.model.eval(whole, model_completion=True).as_long())
            values = []
            for _, width in reversed(chunk):
                values.append(number & ((1 << width) - 1))
                number >>= width
            out.extend(reversed(values))
        return out

    def operands(self, ops: dict[str, Term]) -> tuple[Entry, ...]:
        values = self.values(list(ops.values()))
        return tuple(
            Entry(name, v, t.size()) for (name, t), v in zip(ops.items(), values, strict=True)
        )

    def states(
        self, labelled: list[tuple[str, SymState]], accesses: Sequence[Access], inputs: int
    ) -> tuple[tuple[StateView, ...], tuple[StateView, ...]]:
        """The states shown (the entries that matter) and the first ``inputs`` of them in
        full (their non-zero scalars and accessed cells)."""
        rows: dict[str, list[Entry]] = {label: [] for label, _ in labelled}
        full: dict[str, list[Entry]] = {label: [] for label, _ in labelled[:inputs]}
        scalars = [c for c in self.enc.isa.state if c.count is None]
        flat = self.values(
            [s[c.name] for c in scalars for _, s in labelled],
            [c.width for c in scalars for _ in labelled],
        )
        per_state = len(labelled)
        for n, component in enumerate(scalars):
            values = flat[n * per_state : (n + 1) * per_state]
            shown = component.name in self.focus or len(set(values)) > 1
            for (label, _), v in zip(labelled, values, strict=True):
                entry = Entry(component.name, v, component.width)
                if shown:
                    rows[label].append(entry)
                if label in full and v:
                    full[label].append(entry)
        unique: dict[tuple[str, int, bool], None] = {}
        for access, index in zip(accesses, self.values([a.index for a in accesses]), strict=True):
            unique.setdefault((access.array, index, access.physical), None)
        for name, index_value, width, cells in self._cells(labelled, list(unique)):
            if len(set(cells)) > 1:
                for (label, _), v in zip(labelled, cells, strict=True):
                    rows[label].append(Entry(f"{name}[{index_value}]", v, width))
        for entries, (label, _) in zip(
            self._input_cells(labelled, list(unique), inputs), labelled, strict=False
        ):
            full[label] += entries
        return (
            tuple(StateView(label, tuple(rows[label])) for label, _ in labelled),
            tuple(StateView(label, tuple(entries)) for label, entries in full.items()),
        )

    def _input_cells(
        self,
        labelled: list[tuple[str, SymState]],
        unique: list[tuple[str, int, bool]],
        inputs: int,
    ) -> list[list[Entry]]:
        """For each of the first ``inputs`` states, its non-zero registers and physical memory
        cells among those any state shown reads: every register accessed, and the physical
        cell behind every program address accessed, through each state's translation (an
        instruction that changes the translation shows cells the pre-state maps elsewhere)."""
        isa = self.enc.isa
        memories = {m.name: m for m in isa.memories}
        physical_terms: list[tuple[str, Term]] = []
        cells: dict[tuple[str, int], None] = {}
        for array, index, physical in unique:
            if array not in memories or physical:
                cells.setdefault((array, index), None)
                continue
            memory = memories[array]
            address = z3.BitVecVal(index, memory.address_width)
            for _, state in labelled:
                _, target = self.enc.translate(state, memory, address)
                if target is not None:
                    physical_terms.append((array, target))
        found = self.values(
            [t for _, t in physical_terms],
            [memories[array].address_width for array, _ in physical_terms],
        )
        for (array, _), address in zip(physical_terms, found, strict=True):
            cells.setdefault((array, address), None)
        ordered = sorted(cells)
        terms = []
        widths = []
        for _, state in labelled[:inputs]:
            for array, index in ordered:
                if array in memories:
                    address_width, width = memories[array].address_width, memories[array].cell_width
                else:
                    component = isa.component(array)
                    address_width, width = component.index_width, component.width
                terms.append(_select(state[array], index, address_width))
                widths.append(width)
        flat = self.values(terms, widths)
        out: list[list[Entry]] = []
        for n in range(min(inputs, len(labelled))):
            row = flat[n * len(ordered) : (n + 1) * len(ordered)]
            out.append(
                [
                    Entry(
                        f"{array}[{index:#x} phys]" if array in memories else f"{array}[{index}]",
                        value,
                        memories[array].cell_width
                        if array in memories
                        else isa.component(array).width,
                    )
                    for (array, index), value in zip(ordered, row, strict=True)
                    if value
                ]
            )
        return out

    def _cells(
        self, labelled: list[tuple[str, SymState]], unique: list[tuple[str, int, bool]]
    ) -> list[tuple[str, str, int, list[int]]]:
        """(array, index shown, width, value in each state) of each register and memory cell
        accessed (memory through each state's view unless the access is physical)."""
        isa = self.enc.isa
        memories = {m.name: m for m in isa.memories}
        rows: list[tuple[str, str, int]] = []
        terms: list[Term] = []
        widths: list[int] = []
        views: dict[tuple[int, str], Term] = {}
        for array, index, physical in unique:
            if array in memories:
                memory = memories[array]
                width = memory.cell_width
                rows.append((array, f"{index:#x}" + (" phys" if physical else ""), width))
                for n, (_, state) in enumerate(labelled):
                    if physical:
                        source = state[array]
                    else:
                        if (n, array) not in views:
                            views[n, array] = self.enc.view(state, memory)
                        source = views[n, array]
                    cell = _select(source, index, memory.address_width)
                    # A translated view carries a valid bit above the cell: show the cell.
                    terms.append(z3.Extract(width - 1, 0, cell))
                    widths.append(width)
            else:
                component = isa.component(array)
                rows.append((array, str(index), component.width))
                terms += [
                    _select(state[array], index, component.index_width) for _, state in labelled
                ]
                widths += [component.width] * len(labelled)
        flat = self.values(terms, widths)
        per_state = len(labelled)
        out = [
            (array, shown, width, flat[n * per_state : (n + 1) * per_state])
            for n, (array, shown, width) in enumerate(rows)
        ]
        return sorted(out, key=lambda row: (row[0], row[1]))


def _select(array: Term, index: int, width: int) -> Term:
    """``array[index]`` built through z3's C API: the Python wrapper's argument checks cost
    more than the select itself, and witnesses read thousands of cells."""
    ctx = array.ctx
    address = z3.BitVecVal(index, width, ctx)
    # Every array of the encoding (registers, memories, views) holds bit-vectors.
    return z3.BitVecRef(z3.Z3_mk_select(ctx.ref(), array.as_ast(), address.as_ast()), ctx)


def _chunks(terms: list[tuple[Term, int]], bits: int = 2048) -> Iterator[list[tuple[Term, int]]]:
    """``terms`` (with their widths) in runs of at most ``bits`` bits, at least one term each:
    z3 hands back a value as decimal text, and Python reads at most a few thousand digits."""
    chunk: list[tuple[Term, int]] = []
    total = 0
    for term, width in terms:
        if chunk and total + width > bits:
            yield chunk
            chunk, total = [], 0
        chunk.append((term, width))
        total += width
    if chunk:
        yield chunk


def context_example(isa: ir.Isa) -> dict[str, int | dict[int, int]]:
    """A concrete choice of every mode and control component (mapping aside) satisfying
    ``vm_context`` and the invariants, as close to all-zero as a few tries find: the real
    control state a generic VMM runs its guests in. A register file is given as its non-zero
    registers (index to value)."""
    from analyzer.smt.solver import fresh_context

    fresh_context()
    encoder = Encoder(isa)
    state = fresh_state(isa, "ctx")
    solver = z3.Solver()
    solver.set("timeout", 10_000)
    solver.add(encoder.predicate("vm_context", state), encoder.invariants(state))
    owned = [c for c in isa.of_kind(ir.Kind.MODE, ir.Kind.CONTROL) if not c.mapping]
    files = [c for c in owned if c.count is not None]
    zero_files = [state[c.name] == _sparse(c, 0) for c in files]
    zero_scalars = [state[c.name] == 0 for c in owned if c.count is None]
    # Prefer zeros: every owned component at once if possible, else the register files (all
    # zero, or zero but for a few registers), then each scalar that can still be zero, one
    # at a time.
    if solver.check(*zero_files, *zero_scalars) != z3.sat:
        for stores in (0, 1, 2, 4, 8, 16, 32):
            sparse = [state[c.name] == _sparse(c, stores) for c in files]
            if solver.check(*sparse) == z3.sat:
                solver.add(*sparse)
                break
        for constraint in zero_scalars:
            if solver.check(constraint) == z3.sat:
                solver.add(constraint)
        if solver.check() != z3.sat:
            raise ValueError(f"{isa.source}: no state satisfies vm_context and the invariants")
    model = solver.model()
    reader = _ModelReader(encoder, model, set())
    out: dict[str, int | dict[int, int]] = {}
    for c in owned:
        if c.count is None:
            out[c.name] = reader.value(state[c.name])
        else:
            out[c.name] = _registers(model, state[c.name], c)
    return out


def _sparse(component: ir.StateComponent, stores: int) -> Term:
    """A register file that is zero but for ``stores`` registers (fresh indices and values)."""
    array = z3.K(z3.BitVecSort(component.index_width), z3.BitVecVal(0, component.width))
    for n in range(stores):
        index = z3.BitVec(f"ctx.{component.name}.i{n}", component.index_width)
        value = z3.BitVec(f"ctx.{component.name}.v{n}", component.width)
        array = z3.Store(array, index, value)
    return array


def _registers(model: Any, array: Term, component: ir.StateComponent) -> dict[int, int]:
    """The non-zero registers of a register file in a model, read from the array's value (a
    constant array with stores, or a function table) rather than register by register:
    some files have billions of registers."""
    default, cells = _array_value(model, model.eval(array, model_completion=True))
    assert component.count is not None
    if default and component.count > MAX_DENSE_DEFAULT:
        raise ValueError(
            f"{component.name}: the chosen context fills all {component.count} registers "
            f"with {default:#x}; only sparse register files are supported here"
        )
    registers = dict.fromkeys(range(component.count), default) if default else {}
    registers.update(cells)
    return {i: v for i, v in registers.items() if v}


MAX_DENSE_DEFAULT = 1 << 16
"""A register file this large or smaller may be filled with a non-zero default value."""


def _array_value(model: Any, value: Term) -> tuple[int, dict[int, int]]:
    """(default, {index: value}) of an array value from a model."""
    if z3.is_K(value):
        return value.arg(0).as_long(), {}
    if z3.is_store(value):
        default, cells = _array_value(model, value.arg(0))
        cells[value.arg(1).as_long()] = value.arg(2).as_long()
        return default, cells
    if z3.is_as_array(value):
        table = model[z3.get_as_array_func(value)]
        cells = {entry[0].as_long(): entry[1].as_long() for entry in table.as_list()[:-1]}
        return table.else_value().as_long(), cells
    raise ValueError(f"cannot read the array value {value} from the model")

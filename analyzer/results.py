"""Result objects: what the analysis found, with witnesses. Frozen; no solver types inside.

Renderers read only these. A verdict is about the statement "the instruction has the property":
PROVED (it has), REFUTED (it has not), UNKNOWN (the solver could not decide, or the instruction
is not modelled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Verdict(Enum):
    PROVED = "PROVED"
    REFUTED = "REFUTED"
    UNKNOWN = "UNKNOWN"

    def __and__(self, other: Verdict) -> Verdict:
        """Three-valued conjunction."""
        if Verdict.REFUTED in (self, other):
            return Verdict.REFUTED
        if Verdict.UNKNOWN in (self, other):
            return Verdict.UNKNOWN
        return Verdict.PROVED

    def __or__(self, other: Verdict) -> Verdict:
        """Three-valued disjunction."""
        if Verdict.PROVED in (self, other):
            return Verdict.PROVED
        if Verdict.UNKNOWN in (self, other):
            return Verdict.UNKNOWN
        return Verdict.REFUTED

    def __invert__(self) -> Verdict:
        """Three-valued negation."""
        return {Verdict.PROVED: Verdict.REFUTED, Verdict.REFUTED: Verdict.PROVED}.get(
            self, Verdict.UNKNOWN
        )


@dataclass(frozen=True, slots=True)
class Entry:
    """One value in a witness: a component, register, memory cell or operand."""

    name: str
    value: int
    width: int

    @property
    def text(self) -> str:
        """The value in hexadecimal, padded to its width (booleans as true/false)."""
        if self.width == 0:
            return "true" if self.value else "false"
        if self.width <= 4:
            return str(self.value)
        return f"0x{self.value:0{(self.width + 3) // 4}x}"


@dataclass(frozen=True, slots=True)
class StateView:
    """A state of a witness, restricted to the entries that matter."""

    label: str
    entries: tuple[Entry, ...]

    def get(self, name: str) -> Entry | None:
        """The entry called ``name``, if shown."""
        return next((e for e in self.entries if e.name == name), None)


@dataclass(frozen=True, slots=True)
class Witness:
    """Concrete evidence: operand values and states, side by side.

    ``states`` show the entries that matter (MODEL.md section 3); ``inputs`` give each
    pre-state in full, as its non-zero entries: every scalar component and every register or
    memory cell the instruction reads, zero elsewhere. Running the instruction on an input
    (and its operands) reproduces the witness."""

    summary: str
    operands: tuple[Entry, ...]
    states: tuple[StateView, ...]
    differing: tuple[str, ...] = ()
    inputs: tuple[StateView, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """The verdict on one property of one instruction, why, and its witness if any."""

    verdict: Verdict
    reason: str
    witness: Witness | None = None


@dataclass(frozen=True, slots=True)
class SourceRef:
    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


PROPERTIES: tuple[tuple[str, str], ...] = (
    ("always_traps", "always traps"),
    ("privileged", "privileged"),
    ("control_sensitive", "control sensitive"),
    ("behavior_sensitive", "behavior sensitive"),
    ("user_control_sensitive", "user control sensitive"),
    ("user_behavior_sensitive", "user behavior sensitive"),
    ("timing_dependent", "timing dependent"),
    ("context_invariant", "keeps vm_context"),
    ("execution_safe", "safe to execute directly"),
)
"""The per-instruction findings (field names of InstructionResult) and their names in words."""


class InstrClass(Enum):
    """The one-word summary of an instruction's classification."""

    CRITICAL = "critical"
    PRIVILEGED = "privileged"
    ALWAYS_TRAPPING = "always-trapping"
    INNOCUOUS = "innocuous"
    UNKNOWN = "unknown"
    UNMODELLED = "unmodelled"


@dataclass(frozen=True, slots=True)
class InstructionResult:
    """Every property of MODEL.md section 3 for one instruction form."""

    name: str
    mnemonic: str
    form: str
    cite: str
    source: SourceRef
    family: str | None
    unmodelled: str | None
    always_traps: Finding
    privileged: Finding
    control_sensitive: Finding
    behavior_sensitive: Finding
    behavior_kind: str | None
    user_control_sensitive: Finding
    user_behavior_sensitive: Finding
    timing_dependent: Finding
    context_invariant: Finding
    execution_safe: Finding

    def finding(self, prop: str) -> Finding:
        """The finding for property ``prop`` (a name from PROPERTIES)."""
        value = getattr(self, prop)
        assert isinstance(value, Finding)
        return value

    @property
    def sensitive(self) -> Verdict:
        return self.control_sensitive.verdict | self.behavior_sensitive.verdict

    @property
    def user_sensitive(self) -> Verdict:
        return self.user_control_sensitive.verdict | self.user_behavior_sensitive.verdict

    @property
    def critical(self) -> Verdict:
        """Sensitive and not privileged: breaks Theorem 1."""
        return self.sensitive & ~self.privileged.verdict

    @property
    def user_critical(self) -> Verdict:
        """User sensitive and not privileged: breaks Theorem 3."""
        return self.user_sensitive & ~self.privileged.verdict

    @property
    def klass(self) -> InstrClass:
        if self.unmodelled is not None:
            return InstrClass.UNMODELLED
        if self.critical is Verdict.PROVED:
            return InstrClass.CRITICAL
        if self.always_traps.verdict is Verdict.PROVED:
            return InstrClass.ALWAYS_TRAPPING
        if self.privileged.verdict is Verdict.PROVED:
            return InstrClass.PRIVILEGED
        if self.sensitive is Verdict.REFUTED and self.privileged.verdict is Verdict.REFUTED:
            return InstrClass.INNOCUOUS
        return InstrClass.UNKNOWN

    @property
    def sensitivity_words(self) -> str:
        """The kinds of sensitivity proved, in words, e.g. 'control, behavior (mode)'."""
        words = []
        if self.control_sensitive.verdict is Verdict.PROVED:
            words.append("control")
        if self.behavior_sensitive.verdict is Verdict.PROVED:
            words.append(f"behavior ({self.behavior_kind})" if self.behavior_kind else "behavior")
        return ", ".join(words)


@dataclass(frozen=True, slots=True)
class TheoremResult:
    """A theorem's verdict, the instructions that refute it, and notes."""

    number: int
    statement: str
    verdict: Verdict
    offending: tuple[str, ...]
    offending_forms: tuple[str, ...]
    undecided: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StateSummary:
    name: str
    width: int
    count: int | None
    kind: str
    mapping: bool


@dataclass(frozen=True, slots=True)
class IsaSummary:
    name: str
    title: str
    source: str
    base: str | None
    manuals: tuple[str, ...]
    state: tuple[StateSummary, ...]
    memories: tuple[str, ...]
    digest: str


@dataclass(frozen=True, slots=True)
class Analysis:
    """The whole analysis of one ISA."""

    isa: IsaSummary
    instructions: tuple[InstructionResult, ...]
    theorems: tuple[TheoremResult, ...]
    timeout_ms: int
    queries: int = field(default=0, compare=False)

    def theorem(self, number: int) -> TheoremResult:
        """The result for Theorem ``number`` (1, 2 or 3)."""
        return next(t for t in self.theorems if t.number == number)

    def find(self, name: str) -> list[InstructionResult]:
        """Instructions whose name, mnemonic or form equals ``name`` (case-insensitive)."""
        key = name.lower()
        return [
            r
            for r in self.instructions
            if key in (r.name.lower(), r.mnemonic.lower(), r.form.lower())
        ]


@dataclass(frozen=True, slots=True)
class InstructionChange:
    """How one instruction form differs between a base ISA and its extension."""

    name: str
    form: str
    mnemonic: str
    change: str  # "added", "removed" or "changed"
    before: InstructionResult | None
    after: InstructionResult | None
    what: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ExtensionDiff:
    """What an extension changes: instruction classes and theorem verdicts."""

    base: Analysis
    extension: Analysis
    changes: tuple[InstructionChange, ...]

    def theorem_pairs(self) -> tuple[tuple[TheoremResult, TheoremResult], ...]:
        """Each theorem's result before and after, in order."""
        return tuple(zip(self.base.theorems, self.extension.theorems, strict=True))


@dataclass(frozen=True, slots=True)
class Setting:
    """One assignment of the VMM-settable control fields, and what it achieves."""

    values: tuple[tuple[str, int], ...]
    possible: bool
    trapping: tuple[str, ...]
    escaping: tuple[str, ...]
    timing_trapping: tuple[str, ...]
    theorem1: Verdict
    declared: bool

    @property
    def text(self) -> str:
        """``IOPL=0, TSD=1``."""
        return ", ".join(f"{name}={value}" for name, value in self.values) or "(none)"


@dataclass(frozen=True, slots=True)
class ContextSearch:
    """MODEL.md section 8: the settings of the VMM-settable fields, ranked by how many
    sensitive instructions trap under them (guests run in user mode with those settings),
    ties broken by how many timing-dependent ones do."""

    isa: IsaSummary
    fields: tuple[tuple[str, int], ...]
    sensitive: tuple[str, ...]
    timing_dependent: tuple[str, ...]
    settings: tuple[Setting, ...]
    best: tuple[int, ...]
    verdict: Verdict
    notes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Campaign:
    """Random programs run bare and under one VMM (MODEL.md section 6)."""

    vmm: str
    programs: int
    equivalent: bool
    counterexample: tuple[str, ...]
    initial: tuple[Entry, ...]
    differences: tuple[str, ...]
    guest_steps: int
    direct: int
    emulated: int
    real_steps: int
    resource_violations: tuple[str, ...]
    seconds: float = field(default=0.0, compare=False)
    """Wall-clock time of the campaign (not part of the result: it varies run to run)."""

    @property
    def direct_share(self) -> float:
        """The share of guest instructions run directly on the real machine."""
        return self.direct / self.guest_steps if self.guest_steps else 0.0

    @property
    def real_per_guest(self) -> float:
        """Real-machine instructions per guest instruction (emulations not counted)."""
        return self.real_steps / self.guest_steps if self.guest_steps else 0.0


@dataclass(frozen=True, slots=True)
class Confirmation:
    """The theorems, confirmed (or not) by running programs under the VMMs."""

    isa: IsaSummary
    campaigns: tuple[Campaign, ...]
    agreements: tuple[tuple[int, Verdict, str, str], ...]
    """(theorem, static verdict, VMM, what the runs say)."""
    disagreements: tuple[str, ...]
    budget: int = 0
    """Random programs per VMM at most."""
    max_length: int = 0
    """Instructions per program at most."""
    focus: tuple[str, ...] = ()
    """The forms about half of the program lines are drawn from."""


@dataclass(frozen=True, slots=True)
class RedPill:
    """A program whose observable result differs bare and under trap-and-emulate, run both
    ways; or why a critical form has none."""

    name: str
    form: str
    mnemonic: str
    program: str
    vmm_context: tuple[Entry, ...]
    """The real values the VMM runs the guest with, where they differ from the guest's."""
    guest_context: tuple[Entry, ...]
    """The guest's own (virtual) values of the same components."""
    bare: tuple[Entry, ...]
    virtualized: tuple[Entry, ...]
    differences: tuple[str, ...]
    random_tries: int | None
    random_seconds: float = field(default=0.0, compare=False)
    """Wall-clock time of the random search (not part of the result)."""
    note: str = ""
    random_budget: int = 0
    solver: str = "sat"
    """z3's answer to the red-pill query: "sat" (a program), "unsat" (proof that there is
    none) or "unknown" (it gave up)."""

    @property
    def diverges(self) -> bool:
        """Running the program bare and under the VMM gives different results."""
        return bool(self.differences)


@dataclass(frozen=True, slots=True)
class Execution:
    """What running one ISA's programs showed: the campaigns, and the red pills (empty when
    no instruction is critical)."""

    confirmation: Confirmation
    red_pills: tuple[RedPill, ...]


def pill_summary(pills: tuple[RedPill, ...]) -> list[tuple[str, int, int]]:
    """(mnemonic, critical forms, forms whose red pill diverges), in first-seen order."""
    counts: dict[str, list[int]] = {}
    for p in pills:
        row = counts.setdefault(p.mnemonic, [0, 0])
        row[0] += 1
        row[1] += p.diverges
    return [(m, forms, diverging) for m, (forms, diverging) in counts.items()]

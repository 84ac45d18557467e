"""Published findings on the bundled ISAs (MODEL.md section 7), each with its source.

The tests hold the derived results against these, and the reports print them beside the
derived ones. Nothing here is an input to the analysis: the classifier never reads this module
(a test of the import layering enforces it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analyzer.results import Verdict

PROVED, REFUTED = Verdict.PROVED, Verdict.REFUTED


@dataclass(frozen=True)
class Published:
    """What the literature says of one ISA."""

    spec: str
    source: str
    theorem1: Verdict
    theorem3: Verdict | None = None
    # Critical mnemonics: all of these must be derived critical ...
    critical_include: frozenset[str] = frozenset()
    # ... and, when set, nothing else may be.
    critical_exactly: bool = False
    # Mnemonics the literature says are timing dependent (and not critical).
    timing_dependent: frozenset[str] = frozenset()
    # Mnemonics the literature says trap in user mode (derived privileged).
    privileged_include: frozenset[str] = frozenset()
    # Mnemonics the model derives critical beyond the published list, each explained in
    # ``notes`` (pinned by the tests, so a change is noticed).
    critical_explained: frozenset[str] = frozenset()
    # Why the derived results differ from the published ones, where they do.
    notes: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> str:
        """The published verdicts in a few words."""
        words = [f"Theorem 1 {'holds' if self.theorem1 is PROVED else 'fails'}"]
        if self.theorem3 is not None:
            words.append(f"Theorem 3 {'holds' if self.theorem3 is PROVED else 'fails'}")
        if self.critical_include:
            words.append("critical: " + ", ".join(sorted(self.critical_include)))
        return "; ".join(words)


CATALOG: tuple[Published, ...] = (
    Published(
        spec="pg74",
        source="Popek & Goldberg, CACM 17(7), 1974, sections 2-3 (their machine meets the "
        "conditions of Theorem 1 by construction: every sensitive instruction traps in user "
        "mode)",
        theorem1=PROVED,
        theorem3=PROVED,
        critical_exactly=True,
        timing_dependent=frozenset({"RTIMER"}),
        privileged_include=frozenset({"LPSW", "LRA", "STIMER", "HALT"}),
    ),
    Published(
        spec="mc68000",
        source="MC68010 user's manual (MOVE from SR made privileged for virtual machine "
        "support); MODEL.md section 7",
        theorem1=REFUTED,
        critical_include=frozenset({"MOVE from SR"}),
        critical_exactly=True,
        privileged_include=frozenset(
            {
                "MOVE to SR",
                "ANDI to SR",
                "ORI to SR",
                "EORI to SR",
                "MOVE USP",
                "RTE",
                "STOP",
                "RESET",
            }
        ),
    ),
    Published(
        spec="mc68010",
        source="MC68010 user's manual: MOVE from SR privileged, MOVE from CCR added",
        theorem1=PROVED,
        critical_exactly=True,
        privileged_include=frozenset(
            {"MOVE from SR", "MOVE to SR", "RTE", "STOP", "RESET", "MOVEC"}
        ),
    ),
    Published(
        spec="x86",
        source="Robin & Irvine, USENIX Security 2000 (17 instructions); Wikipedia's list of 18 "
        "mnemonics",
        theorem1=REFUTED,
        theorem3=REFUTED,
        critical_include=frozenset(
            {
                "SGDT",
                "SIDT",
                "SLDT",
                "SMSW",
                "PUSHF",
                "POPF",
                "LAR",
                "LSL",
                "VERR",
                "VERW",
                "POP",
                "PUSH",
                "CALL",
                "JMP",
                "INT",
                "RET",
                "STR",
                "MOV",
            }
        ),
        privileged_include=frozenset(
            {
                "LGDT",
                "LIDT",
                "LLDT",
                "LTR",
                "LMSW",
                "CLTS",
                "HLT",
                "INVD",
                "WBINVD",
                "INVLPG",
                "RDMSR",
                "WRMSR",
                "RDTSC",
                "CLI",
                "STI",
                "IN",
                "OUT",
            }
        ),
        notes=(
            "LDS, LES, LFS, LGS and LSS load a segment register through a far pointer: the "
            "same descriptor load (from the VMM-owned tables, with DPL/RPL/CPL checks) that "
            "Robin & Irvine count under MOV; the published list folds them into MOV.",
            "INTO is INT 4 when OF is set, and IRET is the return half of INT and far CALL "
            "(it restores CPL and flags, silently keeping IF when CPL > IOPL): the published "
            "list folds them into INT and RET/POPF.",
            "REP INSD/OUTSD with ECX = 0 skip the I/O permission check and do nothing, so they "
            "never trap in that state: not privileged, though direct execution stays exact.",
            "The x87 instructions record the CS selector, whose low bits are the CPL, in the "
            "FPU instruction pointer (SDM vol. 1, 7.3.8), which FSTENV/FSAVE then store: a "
            "mode leak the published lists (which cover the integer and system "
            "instructions) do not mention.",
        ),
    ),
    Published(
        spec="x86-vtx",
        source="Intel SDM vol. 3C, VMX non-root operation; VT-x is taken to make IA-32 "
        "classically virtualizable (MODEL.md section 7, issue text)",
        theorem1=PROVED,
        theorem3=PROVED,
        critical_exactly=True,
    ),
    Published(
        spec="pdp10",
        source="Popek & Goldberg 1974, section 8 (JRST 1 and JRSTF; JSR, JSP, PUSHJ store the "
        "USER flag; the PDP-10 can host a hybrid VMM)",
        theorem1=REFUTED,
        theorem3=PROVED,
        critical_include=frozenset({"JRST", "JSR", "JSP", "PUSHJ"}),
        critical_exactly=True,
        critical_explained=frozenset({"XCT"}),
        notes=(
            "XCT is derived critical through its subjects alone: the spec gives XCT one form per "
            "instruction it may execute, and XCT of JRST 1, JSR, JSP or PUSHJ is exactly as "
            "sensitive and as unprivileged as its subject. P&G list the subjects.",
            "Theorem 3 holds with User In-Out modelled because the user predicate is P&G's user "
            "mode, the one in which the privileged instructions trap: USER set and User In-Out "
            "clear. A program with User In-Out set may issue in-out instructions, so a hybrid "
            "VMM interprets it as it interprets supervisor mode. Taking the manual's user mode "
            "(USER alone) instead would make JSR, JSP and PUSHJ (which store User In-Out with "
            "the flags) and JRSTF (which may clear it) user sensitive, refuting Theorem 3.",
        ),
    ),
    Published(
        spec="system370",
        source="IBM System/370 Principles of Operation GA22-7000; VM/370 runs guests by "
        "trap-and-emulate (MODEL.md section 7)",
        theorem1=PROVED,
        theorem3=PROVED,
        critical_exactly=True,
        timing_dependent=frozenset({"STCK"}),
        privileged_include=frozenset({"LPSW", "SSM", "SSK", "ISK", "SCK", "SIO", "LCTL", "STCTL"}),
    ),
    Published(
        spec="powerpc",
        source="PowerPC OEA (32-bit); Linux KVM PR runs guest kernels in problem state "
        "(MODEL.md section 7)",
        theorem1=PROVED,
        theorem3=PROVED,
        critical_exactly=True,
        timing_dependent=frozenset({"mftb"}),
        privileged_include=frozenset({"mfmsr", "mtmsr", "rfi", "mfsr", "mtsr", "tlbie"}),
    ),
)


def published(spec: str) -> Published | None:
    """The published findings on ``spec`` (a bundled spec's name), if any."""
    return next((p for p in CATALOG if p.spec == spec), None)


def comparison(
    found: Published, derived_theorems: dict[int, str], derived_critical: list[str]
) -> list[str]:
    """Where the derived results differ from the published ones, each with the explanation
    recorded in ``found.notes`` (one line per difference, then the notes)."""
    lines = []
    expected = {1: found.theorem1, 3: found.theorem3}
    for number, verdict in expected.items():
        if verdict is not None and derived_theorems.get(number) != verdict.value:
            lines.append(
                f"Theorem {number}: published {verdict.value}, derived "
                f"{derived_theorems.get(number)}"
            )
    extra = [m for m in derived_critical if m not in found.critical_include]
    missing = sorted(found.critical_include - set(derived_critical))
    if extra and found.critical_include:
        lines.append("derived critical, not in the published list: " + ", ".join(extra))
    elif extra:
        lines.append("derived critical, none published: " + ", ".join(extra))
    if missing:
        lines.append("published critical, not derived: " + ", ".join(missing))
    if lines or found.notes:
        lines += list(found.notes)
    return lines

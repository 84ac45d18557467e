"""Ground truth from the literature (MODEL.md section 7), each row with its source.

These are the published findings the derived results are tested against; nothing here is an
input to the analysis.
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
    notes: tuple[str, ...] = field(default=())


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
    ),
    Published(
        spec="pdp10",
        source="Popek & Goldberg 1974, section 8 (JRST 1 and JRSTF; JSR, JSP, PUSHJ store the "
        "USER flag; the PDP-10 can host a hybrid VMM)",
        theorem1=REFUTED,
        theorem3=PROVED,
        critical_include=frozenset({"JRST", "JSR", "JSP", "PUSHJ"}),
        critical_exactly=True,
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

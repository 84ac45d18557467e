"""One exception hierarchy; every diagnostic begins ``file:line:col``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """A region of a source file, 1-based line and column (end exclusive)."""

    file: str
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


NO_SPAN = Span("<builtin>", 0, 0)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a spec: where, what, and optionally how to fix it."""

    span: Span
    message: str
    hint: str | None = None

    def render(self, sources: Mapping[str, str]) -> str:
        """The diagnostic as ``file:line:col: message`` with the source line and a caret."""
        lines = [f"{self.span}: {self.message}"]
        text = sources.get(self.span.file)
        if text is not None and self.span.line > 0:
            source_lines = text.splitlines()
            if self.span.line <= len(source_lines):
                line = source_lines[self.span.line - 1].expandtabs(1)
                width = 1
                if self.span.end_line == self.span.line and self.span.end_column > self.span.column:
                    width = self.span.end_column - self.span.column
                lines.append(f"    {line}")
                lines.append("    " + " " * (self.span.column - 1) + "^" * max(1, min(width, 60)))
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)


class PgvError(Exception):
    """Base of every error pgv reports to a user (exit status 2 at the command line)."""


@dataclass(eq=False)
class SpecError(PgvError):
    """One or more problems in an ISA description, each located in its source."""

    diagnostics: tuple[Diagnostic, ...]
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.render())

    def render(self) -> str:
        """All diagnostics, in source order, separated by blank lines."""
        ordered = sorted(self.diagnostics, key=lambda d: (d.span, d.message))
        return "\n".join(d.render(self.sources) for d in ordered)

    def __str__(self) -> str:
        return self.render()


class UsageError(PgvError):
    """A command was called with arguments that cannot be honoured."""


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt ``name``, or None when nothing is close."""
    pool = sorted(set(candidates))
    cutoff = 0.5 if len(name) <= 3 else 0.6
    close = difflib.get_close_matches(name, pool, n=1, cutoff=cutoff)
    if not close:
        lowered = {c.lower(): c for c in pool}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return f"did you mean '{close[0]}'?" if close else None

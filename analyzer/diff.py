"""MODEL.md section 8, extension check: which instructions changed class, which verdicts
changed, between an ISA and an extension of it."""

from __future__ import annotations

from analyzer.results import Analysis, ExtensionDiff, InstructionChange, InstructionResult


def _facets(r: InstructionResult) -> dict[str, str]:
    return {
        "class": r.klass.value,
        "privileged": r.privileged.verdict.value,
        "sensitivity": r.sensitivity_words or "none",
        "user sensitive": r.user_sensitive.value,
        "timing dependent": r.timing_dependent.verdict.value,
    }


def _what_changed(before: InstructionResult, after: InstructionResult) -> tuple[str, ...]:
    old, new = _facets(before), _facets(after)
    return tuple(f"{key}: {old[key]} -> {new[key]}" for key in old if old[key] != new[key])


def diff_analyses(base: Analysis, extension: Analysis) -> ExtensionDiff:
    """Instruction forms added, removed or reclassified, in the extension's order (removed
    ones last, in the base's order)."""
    before = {r.name: r for r in base.instructions}
    after_names = {r.name for r in extension.instructions}
    changes: list[InstructionChange] = []
    for r in extension.instructions:
        old = before.get(r.name)
        if old is None:
            changes.append(
                InstructionChange(
                    r.name,
                    r.form,
                    r.mnemonic,
                    "added",
                    None,
                    r,
                    tuple(f"{k}: {v}" for k, v in _facets(r).items()),
                )
            )
        elif what := _what_changed(old, r):
            changes.append(InstructionChange(r.name, r.form, r.mnemonic, "changed", old, r, what))
    for r in base.instructions:
        if r.name not in after_names:
            changes.append(InstructionChange(r.name, r.form, r.mnemonic, "removed", r, None, ()))
    return ExtensionDiff(base, extension, tuple(changes))

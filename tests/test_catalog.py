"""One test body, every bundled ISA: derived results agree with the published findings."""

from __future__ import annotations

import pytest

from analyzer.results import Verdict

from .catalog import CATALOG, Published
from .conftest import analysis_of

IDS = [p.spec for p in CATALOG]


@pytest.mark.parametrize("published", CATALOG, ids=IDS)
def test_theorem_verdicts_match_the_literature(published: Published) -> None:
    analysis = analysis_of(published.spec)
    assert analysis.theorem(1).verdict is published.theorem1, analysis.theorem(1)
    if published.theorem3 is not None:
        assert analysis.theorem(3).verdict is published.theorem3, analysis.theorem(3)
    assert analysis.theorem(2).verdict is analysis.theorem(1).verdict


@pytest.mark.parametrize("published", CATALOG, ids=IDS)
def test_critical_instructions_match_the_literature(published: Published) -> None:
    derived = set(analysis_of(published.spec).theorem(1).offending)
    missing = published.critical_include - derived
    assert not missing, f"published critical, derived not: {sorted(missing)}"
    if published.critical_exactly:
        extra = derived - published.critical_include - published.critical_explained
        assert not extra, f"derived critical, not published: {sorted(extra)}"
    unexplained = published.critical_explained - derived
    assert not unexplained, f"explained as derived critical, but not: {sorted(unexplained)}"
    if published.critical_explained:
        assert published.notes, "each derived extra is explained in the notes"


@pytest.mark.parametrize("published", CATALOG, ids=IDS)
def test_published_privileged_instructions_are_derived_privileged(published: Published) -> None:
    analysis = analysis_of(published.spec)
    for mnemonic in sorted(published.privileged_include):
        forms = [r for r in analysis.instructions if r.mnemonic == mnemonic]
        assert forms, f"{published.spec} describes no {mnemonic}"
        assert any(r.privileged.verdict is Verdict.PROVED for r in forms), (
            mnemonic,
            [(r.form, r.privileged.reason) for r in forms],
        )


@pytest.mark.parametrize("published", CATALOG, ids=IDS)
def test_timing_dependent_instructions(published: Published) -> None:
    analysis = analysis_of(published.spec)
    for mnemonic in sorted(published.timing_dependent):
        forms = [r for r in analysis.instructions if r.mnemonic == mnemonic]
        assert forms and all(r.timing_dependent.verdict is Verdict.PROVED for r in forms)
        assert all(r.critical is Verdict.REFUTED for r in forms)


@pytest.mark.parametrize("published", CATALOG, ids=IDS)
def test_no_verdict_is_unknown(published: Published) -> None:
    analysis = analysis_of(published.spec)
    undecided = [
        r.form
        for r in analysis.instructions
        if r.unmodelled is None
        and Verdict.UNKNOWN
        in (r.privileged.verdict, r.sensitive, r.user_sensitive, r.timing_dependent.verdict)
    ]
    assert not undecided

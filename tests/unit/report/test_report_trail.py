"""The evidence trail in words, from a typed ledger check (no ledger read here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialkit.register import LedgerCheck
from trialkit.register.anchor import Anchor
from trialkit.register.history import FindingKind, HistoryFinding
from trialkit.report.trail import CHECKED, FINDING_TITLES, LedgerEvidence, evidence_trail

HEAD = "ab" * 32


def _check(**fields: object) -> LedgerCheck:
    base: dict[str, object] = {
        "ledger": Path("/home/someone/pilot/ledger.jsonl"),
        "count": 9,
        "head": HEAD,
        "problems": (),
        "torn": None,
    }
    return LedgerCheck(**(base | fields))  # type: ignore[arg-type]


def _finding(kind: FindingKind, seq: int = 8, earlier: int = 4) -> HistoryFinding:
    files = ("allocation.csv",) if kind == "rerandomised" else ("data/team.csv", "data/x.csv")
    action = "randomise" if kind == "rerandomised" else "analyse"
    after = (7, "analyse") if kind == "rerandomised" else None
    return HistoryFinding(kind, seq, action, earlier, files, "not shown in the report", after)


def test_without_a_ledger_the_trail_is_not_checked_and_names_the_option() -> None:
    trail = evidence_trail(None)
    assert not trail.checked and not trail.clean and not trail.findings and not trail.rows
    assert trail.intro.startswith("The evidence trail was not checked")
    assert "--ledger ledger.jsonl" in trail.verdict and "trialkit verify" in trail.verdict


def test_a_clean_check_says_what_was_checked_and_what_it_cannot_see() -> None:
    trail = evidence_trail(LedgerEvidence(_check(), results_entry=4))
    assert trail.clean and trail.status.endswith("(9 entries): nothing found")
    assert trail.verdict == f"The checks ran and found nothing to report: {CHECKED}."
    assert dict(trail.rows) == {
        "Ledger checked": "ledger.jsonl",  # its name only: no home directory in a report
        "Ledger entries": "9",
        "Ledger head (sha256 of the last entry)": HEAD,
        "Signed entries": "none",
        "Ledger entry of these results": "4",
    }
    assert trail.signatures == "The entries are not signed." and trail.anchor == ""
    gaps = " ".join(trail.not_checked)
    assert "checked with --head" in gaps and "(--public-key)" in gaps
    assert "without --ledger: they leave no entry" in gaps


@pytest.mark.parametrize(
    "kind", ["outcome_data_changed", "analysis_inputs_changed", "rerandomised"]
)
def test_each_finding_is_headed_and_names_both_entries_and_the_files(kind: FindingKind) -> None:
    trail = evidence_trail(LedgerEvidence(_check(findings=(_finding(kind),)), results_entry=8))
    assert not trail.clean
    (finding,) = trail.findings
    assert finding.title == FINDING_TITLES[kind]
    assert "entry 8" in finding.text.lower() and "entry 4" in finding.text
    named = "allocation.csv" if kind == "rerandomised" else "data/team.csv and data/x.csv"
    assert named in finding.text and "not shown in the report" not in finding.text
    assert (
        trail.verdict == "The checks found 1 finding an evaluator should ask about, set out below."
    )
    assert trail.status.endswith(f"(9 entries): {FINDING_TITLES[kind].lower()}")


def test_the_results_entry_is_named_where_the_analysis_changed() -> None:
    evidence = LedgerEvidence(_check(findings=(_finding("outcome_data_changed"),)), 8)
    (finding,) = evidence_trail(evidence).findings
    assert "The results in this report are those recorded by entry 8." in finding.text
    (without,) = evidence_trail(LedgerEvidence(evidence.check)).findings
    assert "The results in this report" not in without.text


def test_alterations_come_first_and_several_findings_are_counted() -> None:
    check = _check(
        problems=("results/estimates.csv: altered since entry 4 (analyse) recorded it.",),
        findings=(_finding("rerandomised", seq=9, earlier=2),),
    )
    trail = evidence_trail(LedgerEvidence(check))
    assert [f.title for f in trail.findings] == [
        "Changed since it was recorded",
        FINDING_TITLES["rerandomised"],
    ]
    assert "results/estimates.csv: altered since entry 4" in trail.findings[0].text
    assert trail.status.endswith("2 findings, among them: changed since it was recorded")


def test_signatures_checked_with_a_key_and_a_held_anchor() -> None:
    check = _check(signed=9, key="f" * 64, anchor=Anchor(head=HEAD, seq=7, count=9))
    trail = evidence_trail(LedgerEvidence(check))
    assert trail.clean
    assert trail.signatures.startswith("All 9 entries are signed, and every signature was checked")
    assert "fingerprint ffffffffffffffff…" in trail.signatures
    assert "the anchored head is entry 7 of 9" in trail.anchor
    assert dict(trail.rows)["Signed entries"] == "9 of 9, checked with the public key"
    assert trail.not_checked[0].startswith("The 2 entries after the recorded head")
    assert not any("--public-key" in gap for gap in trail.not_checked)


def test_bad_signatures_and_a_lost_anchor_are_findings() -> None:
    check = _check(
        signed=8,
        key="f" * 64,
        signatures=("entry 9 (deviation): signature does not verify",),
        anchor=Anchor(head=HEAD, seq=None, count=9),
    )
    trail = evidence_trail(LedgerEvidence(check))
    assert [f.title for f in trail.findings] == [
        "The ledger no longer holds its recorded head",
        "A signature does not hold",
    ]
    assert "entry 9 (deviation): signature does not verify" in trail.findings[1].text
    assert "dropped, or the chain was rewritten" in trail.findings[0].text


def test_signatures_present_but_unchecked_say_which_option_checks_them() -> None:
    trail = evidence_trail(LedgerEvidence(_check(signed=5)))
    assert trail.signatures == (
        "5 of 9 entries carry a signature, which was not checked: this report was made "
        "without the public key (--public-key)."
    )
    assert dict(trail.rows)["Signed entries"] == "5 of 9, not checked"


def test_a_redraw_names_the_step_it_came_after() -> None:
    (finding,) = evidence_trail(
        LedgerEvidence(_check(findings=(_finding("rerandomised"),)))
    ).findings
    assert "from the one entry 4 drew, after the analysis in entry 7." in finding.text

"""The evidence trail in words: what the pilot's ledger showed when the report was made.

``trialkit report --ledger`` audits the ledger (:func:`trialkit.register.audit`) just before
rendering, and hands the :class:`~trialkit.register.LedgerCheck` here with the entry that
recorded these results. :func:`evidence_trail` words its typed fields (the history's
findings by kind, the alterations, signatures, the anchored head, what was not checked)
for an evaluator and a council reader; it checks nothing itself.

The check belongs to the report, not to ``results.json``: the analysis is recorded in the
ledger after ``results.json`` is written (so the file cannot hold its own entry's
findings), and a ledger grows after the analysis (a later redraw, a re-run), so the check
that counts is the one made when the report is issued. A report made without ``--ledger``
says so, and names the option that would check it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trialkit.register import LedgerCheck
from trialkit.register.history import FindingKind, HistoryFinding

#: A heading for each kind of history finding, for readers who do not know the ledger.
FINDING_TITLES: dict[FindingKind, str] = {
    "outcome_data_changed": "Outcome data changed after the first analysis",
    "analysis_inputs_changed": "The analysis was re-run with different inputs",
    "rerandomised": "Units were randomised again after the allocation should have been final",
}

#: What each action that fixes the allocation did, for "after the analysis in entry 8".
_FIXED_BY = {
    "register": "registration",
    "validate": "validation of the data",
    "analyse": "analysis",
}

#: What the history checks look for, named in the sentence of a clean check.
CHECKED = (
    "the chain of entries is unbroken, every file still matches the hash recorded for it, "
    "outcome data were not changed after the first analysis, the analysis was not re-run "
    "with different inputs, and units were not randomised again after registration"
)

_OUTSIDE = (
    "Steps taken outside trialkit or without --ledger: they leave no entry, so data edited "
    "before the first analysis read them look original."
)


@dataclass(frozen=True, slots=True)
class LedgerEvidence:
    """What ``report --ledger`` hands the report.

    Attributes
    ----------
    check
        The audit of the ledger, made when the report was rendered.
    results_entry
        The ``analyse`` entry that recorded the ``results.json`` reported, or ``None``
        when it is not known (a document rendered from Python).
    """

    check: LedgerCheck
    results_entry: int | None = None


@dataclass(frozen=True, slots=True)
class TrailFinding:
    """One finding of the check, as a heading and the sentences under it."""

    title: str
    text: str


@dataclass(frozen=True, slots=True)
class EvidenceTrail:
    """The "Evidence trail" part of the provenance section, as display values.

    Attributes
    ----------
    checked
        Whether a ledger was checked at all.
    status
        One short line for the report's facts at the top ("checked: nothing found").
    intro
        What the ledger is and what was checked.
    verdict
        One sentence: nothing found (naming what was checked), or how many findings.
    findings
        The history's findings and any alterations, each headed.
    signatures, anchor
        Sentences on the signatures and on an anchored head; ``""`` when there is nothing
        to say.
    rows
        Label–value pairs for the provenance table: ledger, entries, head hash, signatures.
    not_checked
        What this check cannot see, given what it was given (no key, no anchored head).
    """

    checked: bool
    status: str
    intro: str
    verdict: str
    findings: tuple[TrailFinding, ...] = ()
    signatures: str = ""
    anchor: str = ""
    rows: tuple[tuple[str, str], ...] = ()
    not_checked: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        """True when a ledger was checked and nothing was found."""
        return self.checked and not self.findings


def _files(files: Sequence[str]) -> str:
    names = list(files)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def finding_text(finding: HistoryFinding, *, results_entry: int | None) -> TrailFinding:
    """A history finding as a heading and sentences naming both entries and the files."""
    files, seq, earlier = _files(finding.files), finding.seq, finding.earlier
    these = (
        f" The results in this report are those recorded by entry {results_entry}."
        if results_entry is not None
        else ""
    )
    if finding.kind == "outcome_data_changed":
        text = (
            f"Entry {seq} ({finding.action}) read {files} with different contents from "
            f"those the first analysis (entry {earlier}) read: the data were changed after "
            f"results had been seen.{these} Ask why, and compare both analyses."
        )
    elif finding.kind == "analysis_inputs_changed":
        text = (
            f"The analysis in entry {seq} used different inputs from the first analysis "
            f"(entry {earlier}): {files} differ (a changed protocol, allocation or audit "
            f"sample, or data files added or dropped).{these} Ask which run is the "
            "registered one, and why it was repeated."
        )
    else:
        when = (
            f"after the {_FIXED_BY.get(finding.after[1], finding.after[1])} in entry "
            f"{finding.after[0]}"
            if finding.after is not None
            else "after the protocol was registered or outcome data were seen"
        )
        text = (
            f"Entry {seq} drew a different allocation ({files}) from the one entry "
            f"{earlier} drew, {when}. A redraw once the plan is fixed can steer who gets "
            "the reform; ask which allocation was used, and why it was drawn again."
        )
    return TrailFinding(FINDING_TITLES[finding.kind], text)


def _signatures(check: LedgerCheck) -> tuple[str, tuple[TrailFinding, ...]]:
    if check.key:
        if not check.signatures:
            return (
                f"All {check.count} entries are signed, and every signature was checked "
                f"against the evaluator's public key (fingerprint {check.key[:16]}…): no "
                "entry was forged or rewritten by anyone without the private key.",
                (),
            )
        problems = tuple(TrailFinding("A signature does not hold", p) for p in check.signatures)
        return "Signatures were checked against the evaluator's public key.", problems
    if check.signed:
        return (
            f"{check.signed} of {check.count} entries carry a signature, which was not "
            "checked: this report was made without the public key (--public-key).",
            (),
        )
    return "The entries are not signed.", ()


def _anchor(check: LedgerCheck) -> tuple[str, tuple[TrailFinding, ...]]:
    if check.anchor is None:
        return "", ()
    problem = check.anchor.problem()
    if problem is not None:
        return "", (TrailFinding("The ledger no longer holds its recorded head", problem),)
    return f"A head hash recorded elsewhere (--head) was found: {check.anchor.describe()}.", ()


def _not_checked(check: LedgerCheck) -> tuple[str, ...]:
    gaps = []
    if check.anchor is None:
        gaps.append(
            "Whether the ledger was cut short or rebuilt: unless its head hash was recorded "
            "elsewhere (an email, a registry, a git commit) and checked with --head, a ledger "
            "stripped of its last entries or rewritten with fresh hashes looks honest."
        )
    elif check.anchor.seq is not None and check.anchor.seq < check.count:
        later = check.count - check.anchor.seq
        gaps.append(
            f"The {later} {'entry' if later == 1 else 'entries'} after the recorded head: "
            "they could have been dropped or replaced unseen."
        )
    if not check.key:
        gaps.append(
            "Whether an entry was forged: without the evaluator's public key "
            "(--public-key), an entry added with any name, date and reason, or a ledger "
            "rewritten after editing files, still holds together."
        )
    return (*gaps, _OUTSIDE)


def _rows(evidence: LedgerEvidence) -> tuple[tuple[str, str], ...]:
    check = evidence.check
    signed = f"{check.signed} of {check.count}" + (
        ", checked with the public key" if check.key else ", not checked"
    )
    rows = [
        ("Ledger checked", check.ledger.name),
        ("Ledger entries", str(check.count)),
        ("Ledger head (sha256 of the last entry)", check.head),
        ("Signed entries", signed if check.signed else "none"),
    ]
    if evidence.results_entry is not None:
        rows.append(("Ledger entry of these results", str(evidence.results_entry)))
    return tuple(rows)


def _unchecked_trail() -> EvidenceTrail:
    return EvidenceTrail(
        checked=False,
        status="not checked: this report was made without the pilot's ledger",
        intro=(
            "The evidence trail was not checked: this report was made without the pilot's "
            "ledger, so nothing here shows whether outcome data changed after the first "
            "analysis, whether the analysis was re-run with different inputs, or whether "
            "units were randomised again after registration."
        ),
        verdict=(
            "To check it, make the report with the ledger: trialkit report RESULTS "
            "--ledger ledger.jsonl (add --public-key and --head to check signatures and a "
            "recorded head), or run trialkit verify on the pilot's folder."
        ),
    )


def evidence_trail(evidence: LedgerEvidence | None) -> EvidenceTrail:
    """Word the ledger check for the provenance section (and one line for the top).

    Examples
    --------
    >>> evidence_trail(None).status
    "not checked: this report was made without the pilot's ledger"
    """
    if evidence is None:
        return _unchecked_trail()
    check = evidence.check
    signatures, bad_signatures = _signatures(check)
    anchor, lost = _anchor(check)
    altered = tuple(TrailFinding("Changed since it was recorded", p) for p in check.problems)
    if check.torn is not None:
        altered += (
            TrailFinding(
                "A write to the ledger was interrupted", check.torn.describe(check.ledger)
            ),
        )
    altered += tuple(
        TrailFinding("Written by the interrupted step, not recorded", change)
        for change in check.unrecorded
    )
    history = tuple(finding_text(f, results_entry=evidence.results_entry) for f in check.findings)
    findings = altered + lost + bad_signatures + history
    count = len(findings)
    entries = f"{check.count} {'entry' if check.count == 1 else 'entries'}"
    named = "1 finding" if count == 1 else f"{count} findings"
    verdict = (
        f"The checks ran and found nothing to report: {CHECKED}."
        if not findings
        else f"The checks found {named} an evaluator should ask about, set out below."
    )
    status = f"checked when this report was made ({entries}): " + (
        "nothing found"
        if not findings
        else findings[0].title.lower()
        if count == 1
        else f"{named}, among them: {findings[0].title.lower()}"
    )
    return EvidenceTrail(
        checked=True,
        status=status,
        intro=(
            "Each step run through trialkit (registration, randomisation, data, analysis, "
            "report) is an entry in the pilot's ledger, chained to the one before by a "
            "SHA-256 hash and naming the hash of every file it read or wrote. All "
            f"{entries} were checked when this report was made."
        ),
        verdict=verdict,
        findings=findings,
        signatures=signatures,
        anchor=anchor,
        rows=_rows(evidence),
        not_checked=_not_checked(check),
    )

"""Waste, misuse and fraud as a distribution, and the loss net of the green tape saved.

Sentences from :class:`~trialkit.analyse.spending_rows.ReviewRow`,
:class:`~trialkit.analyse.spending_rows.SeverityRow`,
:class:`~trialkit.analyse.spending_rows.MisuseModelRow` and
:class:`~trialkit.analyse.spending_rows.GreenTapeRow`. A saving is claimed only when the
net interval lies above zero, a net loss only when it lies below.
"""

from __future__ import annotations

from trialkit.analyse.document import ResultsDocument
from trialkit.analyse.spending_rows import GreenTapeRow, MisuseModelRow, SpendingSection
from trialkit.protocol.vocabulary import SpendVerdict
from trialkit.report.phrases import Arms
from trialkit.report.tables import DASH
from trialkit.report.words import (
    chance,
    estimated_share,
    lower_first,
    money,
    percent,
    plural,
)

#: Each review verdict in words: as a count ("12 misuse") and as a table label.
VERDICT_WORDS: dict[SpendVerdict, str] = {
    "appropriate": "appropriate",
    "poor_value": "poor value",
    "misuse": "misuse",
    "fraud": "fraud",
}
#: Convergence thresholds under which the model's numbers are flagged as rough.
RHAT_MAX, ESS_MIN = 1.01, 400.0


def _cash(section: SpendingSection, value: float, *, signed: bool = False) -> str:
    text = money(value, section.currency)
    return ("−" if signed and value < 0 else "") + text


def _interval(section: SpendingSection, low: float, high: float) -> str:
    both_signed = low < 0 or high < 0
    return (
        f"{_cash(section, low, signed=both_signed)} to {_cash(section, high, signed=both_signed)}"
    )


def review_sentence(doc: ResultsDocument) -> str | None:
    """How spends were reviewed: all of them, or a stratified audit sample."""
    section = doc.spending
    if section is None or section.review is None:
        return None
    r = section.review
    who = lower_first(r.reviewer.rstrip("."))
    if r.design == "census":
        if r.reviewed == r.spends:
            return f"Every spend ({r.spends:,}) was reviewed by {who}."
        return (
            f"{r.reviewed:,} of the {r.spends:,} spends were reviewed, by {who}; the "
            "rest had no verdict when the data were frozen."
        )
    seed = f", seed {r.sample_seed}" if r.sample_seed is not None else ""
    return (
        f"A stratified random sample of {r.reviewed:,} of the {r.spends:,} spends was "
        f"reviewed ({who}; {r.strata} strata{seed}). The rates and losses below are "
        "estimated for the whole ledger, weighting each reviewed spend by the inverse "
        "of its chance of being drawn."
    )


def severity_sentences(doc: ResultsDocument) -> list[str]:
    """Spends by verdict, the estimated rates and the money lost, with intervals."""
    section = doc.spending
    if section is None or not section.severity:
        return []
    rows = section.severity
    level = percent(rows[0].ci_level)
    reviewed = (
        section.review.reviewed if section.review is not None else sum(r.spends for r in rows)
    )
    counts = [
        f"{r.spends:,}{' were' if i == 0 else ''} {VERDICT_WORDS[r.verdict]}"
        for i, r in enumerate(rows)
    ]
    out = [f"Of the {reviewed:,} spends reviewed, {_and(counts)}."]
    bad = [r for r in rows if r.verdict != "appropriate" and r.spends]
    none = [VERDICT_WORDS[r.verdict] for r in rows if r.verdict != "appropriate" and not r.spends]
    if bad:
        rates = [
            f"{VERDICT_WORDS[r.verdict]} {estimated_share(r.rate, places=1)} "
            f"({estimated_share(r.rate_ci[0], places=1)} to "
            f"{estimated_share(r.rate_ci[1], places=1)})"
            for r in bad
        ]
        losses = [
            f"{_cash(section, r.loss)} to {VERDICT_WORDS[r.verdict]} "
            f"({_interval(section, *r.loss_ci)})"
            for r in bad
        ]
        out.append(f"Estimated shares of all spends ({level} intervals): {_and(rates)}.")
        out.append(f"Money lost, as the reviewers estimated it: {_and(losses)}.")
    if none:
        out.append(
            f"No reviewed spend was judged {' or '.join(none)}, so there is no rate "
            "or loss to estimate for it."
        )
    if bad or none:
        out.append(
            "Poor value is money spent in good faith that did little good; misuse "
            "and fraud are spending against the rules or for someone's own benefit."
        )
    return out


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def severity_rows(doc: ResultsDocument) -> list[dict[str, str]]:
    """One table row per verdict: spends, rate and loss with intervals, loss per year."""
    section = doc.spending
    if section is None:
        return []
    rows = []
    for r in section.severity:
        lost = r.verdict != "appropriate"  # an appropriate spend loses nothing by definition
        found = r.spends > 0  # none found: nothing to estimate, the interval is degenerate
        rows.append(
            {
                "verdict": VERDICT_WORDS[r.verdict].capitalize(),
                "spends": f"{r.spends:,}",
                "rate": estimated_share(r.rate, places=1) if found else "none found",
                "rate_ci": f"{estimated_share(r.rate_ci[0], places=1)} to "
                f"{estimated_share(r.rate_ci[1], places=1)}"
                if found
                else DASH,
                "loss": _cash(section, r.loss) if lost else DASH,
                "loss_ci": _interval(section, *r.loss_ci) if lost and found else DASH,
                "per_year": _cash(section, r.loss_per_year) if lost else DASH,
            }
        )
    return rows


def per_100(value: float) -> str:
    """A count out of 100 people: "about 6", or "fewer than 1"."""
    return "fewer than 1" if value < 0.5 else f"about {round(value)}"


def _per_100_ci(low: float, high: float) -> str:
    return f"up to {round(high)}" if round(low) == 0 else f"{round(low)} to {round(high)}"


def model_sentence(doc: ResultsDocument, row: MisuseModelRow) -> list[str]:
    """The hierarchical model's answer: out of 100 workers like these, how many, what cost."""
    section = doc.spending
    assert section is not None
    one = "worker" if row.level == "worker" else doc.protocol.units.name
    who = plural(one)
    tolerance = percent(row.tolerance, places=1 if row.tolerance < 0.01 else 0)
    out = [
        f"A model of each {one}'s misuse rate, which draws {who} with few spends "
        f"towards the average, answers the sceptic's question: out of 100 {who} like "
        f"these, {per_100(row.per_100)} (95% credible interval "
        f"{_per_100_ci(*row.per_100_ci)}) would misuse the budget at least once a year at "
        f"{round(row.spends_per_year)} spends each. Misuse would cost about "
        f"{_cash(section, row.cost_per_year)} a year across the pilot's {row.groups} "
        f"{who} (95% credible interval {_interval(section, *row.cost_per_year_ci)}).",
        f"Out of 100, {per_100(row.per_100_above)} (95% credible interval "
        f"{_per_100_ci(*row.per_100_above_ci)}) would misuse more than {tolerance} of "
        f"their spends, the tolerance; the chance that the typical {one}'s rate is "
        f"above it is {chance(row.p_mean_above_tolerance)}.",
    ]
    if row.rhat_max > RHAT_MAX or row.ess_bulk_min < ESS_MIN:
        out.append(
            f"The model's sampler had not fully settled (largest R-hat "
            f"{row.rhat_max:.3f}, smallest effective sample {row.ess_bulk_min:,.0f}): "
            "treat these numbers as rough."
        )
    return out


def model_sentences(doc: ResultsDocument) -> list[str]:
    """Every misuse model's answer in words."""
    section = doc.spending
    if section is None:
        return []
    return [s for row in section.misuse_model for s in model_sentence(doc, row)]


def net_sentence(doc: ResultsDocument, row: GreenTapeRow, arms: Arms) -> list[str]:
    """Misuse loss against the approval cost saved; a saving only if the interval says so."""
    section = doc.spending
    assert section is not None
    units = plural(doc.protocol.units.name)
    green = doc.protocol.costs.green_tape if doc.protocol.costs else None
    what = f" ({lower_first(green.description.rstrip('.'))})" if green is not None else ""
    where = f"the {row.units} {units} given {arms.treatment(row.arm)}"
    ci = _interval(section, *row.net_ci)
    lead = (
        f"The approval rules the budget replaced{what} cost about "
        f"{_cash(section, row.cost_per_unit)} per {doc.protocol.units.name} over the "
        f"pilot: {_cash(section, row.saved)} across {where}. Misuse and fraud there cost "
        f"{_cash(section, row.misuse_loss)} (95% CI "
        f"{_interval(section, *row.misuse_loss_ci)})."
    )
    if row.net_ci[0] > 0:
        verdict = (
            f"The approval time saved exceeded the loss to misuse and fraud by "
            f"{_cash(section, row.net)} (95% CI {ci})."
        )
    elif row.net_ci[1] < 0:
        verdict = (
            f"Misuse and fraud cost {_cash(section, -row.net)} more than the "
            f"approval time saved (95% CI for the net {ci})."
        )
    else:
        verdict = (
            f"We could not tell whether the approval time saved outweighed the loss "
            f"to misuse: the net is {_cash(section, row.net, signed=True)}"
            f" (95% CI {ci})."
        )
    return [lead, verdict]


def net_sentences(doc: ResultsDocument, arms: Arms) -> list[str]:
    """Each treated arm's misuse loss net of the green tape saved, then the caveat."""
    section = doc.spending
    if section is None or not section.green_tape:
        return []
    out = [s for row in section.green_tape for s in net_sentence(doc, row, arms)]
    out.append(
        "This sets only the loss to misuse against the staff time approval took; "
        "what the budget itself cost and what it did for clients are in the summary "
        "and the results above."
    )
    return out


def summary_lines(doc: ResultsDocument, arms: Arms) -> list[str]:
    """The summary's share of this section: verdict counts, the model and the net."""
    severity = severity_sentences(doc)[:1]
    model = model_sentences(doc)[:1]
    net = [
        s
        for row in (doc.spending.green_tape if doc.spending else ())
        for s in net_sentence(doc, row, arms)[1:]
    ]
    return severity + model + net

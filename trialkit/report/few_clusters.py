"""The few-cluster checks in words: why they are shown, what they found, where they disagree.

The analysis adds CR3 and wild cluster bootstrap rows
(:class:`~trialkit.analyse.rows.FewClusterRow`) when fewer than 20 clusters were analysed;
this module only words and formats them.
"""

from __future__ import annotations

from typing import Any

from trialkit.analyse.document import ResultsDocument
from trialkit.analyse.rows import FewClusterRow
from trialkit.estimate.frequentist.few_clusters import FEW_CLUSTERS
from trialkit.report.phrases import Arms
from trialkit.report.scale import Scale
from trialkit.report.tables import fmt, fmt_p
from trialkit.report.words import plural, short_label


def few_cluster_context(doc: ResultsDocument, arms: Arms) -> dict[str, Any] | None:
    """Intro, table rows, disagreements and caveat of the checks; ``None`` without any."""
    if not doc.few_clusters:
        return None
    protocol = doc.protocol
    units = plural(protocol.units.name.replace("_", " "))
    g = max(r.n_clusters for r in doc.few_clusters)
    alpha = protocol.analysis.frequentist.alpha
    rows, disagreements = [], []
    adjusted = any(_adjusted(doc, r) for r in doc.few_clusters)
    for row in doc.few_clusters:
        est = doc.estimate(row.outcome, row.arm)
        outcome = protocol.outcome(row.outcome)
        scale = Scale.of(outcome, est) if est is not None else None
        factor, digits = (scale.factor, scale.digits) if scale else (1.0, 2)
        rows.append(
            {
                "outcome": outcome.label,
                "arm": arms.label(row.arm),
                "method": _method(row, protocol.units.name.replace("_", " ")),
                "ci": _interval(row, factor, digits),
                "p": fmt_p(row.p_value),
                "registered_p": fmt_p(row.registered_p_value),
                "agrees": "No" if row.disagrees else "Yes",
            }
        )
        if row.disagrees:
            disagreements.append(
                _disagreement(
                    row,
                    short_label(outcome.label),
                    arms.treatment(row.arm),
                    alpha,
                    adjusted=_adjusted(doc, row),
                )
            )
    return {
        "intro": (
            f"Only {g} {units} were randomised. With fewer than {FEW_CLUSTERS} "
            f"{units} (clusters), standard errors can be too small, so two "
            f"small-sample checks "
            f"are shown beside each primary result: the jackknife (CR3), which "
            f"leaves out one of the {units} at a time, and a wild cluster bootstrap "
            f"(Webb weights), which asks how often chance alone, with no effect, "
            f"would give a difference this large. The registered result above stays "
            f"the headline."
            + (
                " Each check is compared with the registered p-value before the "
                "adjustment for the other outcomes in its family: the checks are about "
                "the standard error, not about testing several outcomes."
                if adjusted
                else ""
            )
        ),
        "registered_label": "Registered p (unadjusted)" if adjusted else "Registered p",
        "rows": rows,
        "disagreements": disagreements,
        "agree_all": not disagreements,
        "alpha": f"{alpha:g}",
        "caveat": (
            "Both checks are approximations too. In trialkit's simulations with 6 "
            "and 8 clusters of unequal size the jackknife and the registered CR2 "
            "intervals kept their 95% coverage, while the bootstrap found an effect "
            "that was not there 7–8% of the time instead of 5%."
            + (
                " The randomisation test above is exact whatever the number of clusters."
                if doc.randomisation
                else ""
            )
        ),
    }


def summary_lines(doc: ResultsDocument, arms: Arms, outcome: str, arm: str) -> list[str]:
    """The checks of ``outcome`` and ``arm`` that disagree with the registered result, in
    words, for the summary (the section has the table)."""
    alpha = doc.protocol.analysis.frequentist.alpha
    label = short_label(doc.protocol.outcome(outcome).label)
    return [
        _disagreement(r, label, arms.treatment(arm), alpha, adjusted=_adjusted(doc, r))
        + " See “Small-sample checks” in the results."
        for r in doc.few_clusters
        if (r.outcome, r.arm) == (outcome, arm) and r.disagrees
    ]


def _adjusted(doc: ResultsDocument, row: FewClusterRow) -> bool:
    """Whether the registered p-value of the row's contrast is adjusted for its family."""
    est = doc.estimate(row.outcome, row.arm)
    return est is not None and est.adjustment != "none"


def _method(row: FewClusterRow, unit: str) -> str:
    if row.method == "CR3":
        df = f"{row.df:g}" if row.df is not None else "G − 1"
        return f"Jackknife, CR3 (leave one {unit} out; {df} degrees of freedom)"
    draws = row.draws or 0
    which = f"all {draws:,} weight patterns" if draws == 6**row.n_clusters else f"{draws:,} draws"
    return f"Wild cluster bootstrap (no effect imposed, Webb weights, {which})"


def _interval(row: FewClusterRow, factor: float, digits: int) -> str:
    """The interval on the outcome's scale; an end that the test never reaches is
    "unbounded" (the bootstrap rejects no value on that side)."""

    def end(value: float | None) -> str:
        return "unbounded" if value is None else fmt(value * factor, digits)

    return f"{end(row.ci_low)} to {end(row.ci_high)}"


def _disagreement(
    row: FewClusterRow, outcome: str, treatment: str, alpha: float, *, adjusted: bool
) -> str:
    check = "the jackknife (CR3)" if row.method == "CR3" else "the wild cluster bootstrap"
    p = fmt_p(row.p_value)
    registered = fmt_p(row.registered_p_value) + (
        " before the adjustment for its family's other outcomes" if adjusted else ""
    )
    if row.p_value < alpha:
        caution = (
            ", though this bootstrap rejects too often with so few clusters"
            if row.method == "wild_cluster_bootstrap"
            else ""
        )
        return (
            f"For {outcome} under {treatment}, {check} finds a difference unlikely to be "
            f"chance (p = {p}) where the registered analysis does not (p = {registered}, "
            f"α = {alpha:g}). The two analyses disagree. The registered result stands, "
            f"since it was fixed in advance; the check suggests the evidence may be "
            f"a little stronger than the headline says{caution}."
        )
    return (
        f"For {outcome} under {treatment}, the registered analysis finds a difference "
        f"unlikely to be chance (p = {registered}, α = {alpha:g}) but {check} does not "
        f"(p = {p}). The two analyses disagree: with this few clusters, treat the "
        f"registered result as less certain than its p-value suggests."
    )

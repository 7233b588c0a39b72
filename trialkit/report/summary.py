"""The plain-language summary that decision makers read first.

Every sentence is built from typed fields of the results document. Words of direction
("an improvement", "lower") appear in a headline only when the registered criterion
(:class:`~trialkit.analyse.rows.VerdictRow`) supports them; otherwise the summary says the
pilot could not tell. Where the two schools disagree, it says so and why. Numbers use the
same decimals as the results table (one rule, :func:`trialkit.report.tables.digits_for`).
"""

from __future__ import annotations

from typing import Any

from trialkit.analyse.document import ResultsDocument
from trialkit.analyse.rows import EstimateRow, PosteriorRow, VerdictRow
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.report.few_clusters import summary_lines
from trialkit.report.phrases import Arms
from trialkit.report.scale import Scale
from trialkit.report.tables import p_is
from trialkit.report.words import capitalise, chance, chance_words, percent, short_label


def headline(
    outcome: Outcome, verdict: VerdictRow, est: EstimateRow, arms: Arms, protocol: Protocol
) -> dict[str, Any]:
    """The registered primary analysis of one outcome and arm, in sentences."""
    scale = Scale.of(outcome, est)
    treated, control = arms.phrase(est.arm), arms.control_phrase
    label = short_label(outcome.label)
    who = arms.people(outcome)
    p_words = p_text(verdict)
    if verdict.frequentist == "unclear":
        lead = (
            f"The pilot could not tell whether {arms.treatment(est.arm)} changed {label}. "
            f"The best estimate of the difference ({who} in {treated} minus {who} in "
            f"{control}) is {scale.signed(est.estimate)}, but chance alone could "
            f"easily produce a difference this size ({p_words})."
        )
    else:
        word = "lower" if est.estimate < 0 else "higher"
        better = "Lower" if outcome.direction == "lower_is_better" else "Higher"
        good = "an improvement" if verdict.frequentist == "benefit" else "a change for the worse"
        subject = f"the share of {who} with {label}" if outcome.type == "binary" else label
        lead = (
            f"{capitalise(subject)} was {scale.amount(est.estimate)} {word} for {who} "
            f"in {treated} than in {control} ({p_words}). {better} is better here, so "
            f"this is {good}."
        )
    interval = (
        f"Allowing for chance, the true difference is probably between "
        f"{scale.end(est.ci_low)} and {scale.end(est.ci_high)} "
        f"({percent(est.ci_level)} confidence interval)."
    )
    resampled = verdict.adjustment == "westfall_young"
    if verdict.frequentist != "unclear" and resampled and est.ci_low <= 0 <= est.ci_high:
        interval += (
            " This interval comes from the model, while the registered p-value comes "
            "from re-randomising the family, which is why it can include zero while "
            "the registered result is clear."
        )
    if verdict.frequentist == "unclear" and (est.ci_low > 0 or est.ci_high < 0):
        interval += (
            " This interval does not allow for the other outcomes in the family, "
            "which is why it can leave out zero while the registered, adjusted "
            "result is not clear."
        )
    return {
        "outcome": outcome.name,
        "arm": est.arm,
        "verdict": verdict.frequentist,
        "lead": lead,
        "interval": interval,
        "adjusted_for": est.adjusted_for,
    }


def p_text(verdict: VerdictRow) -> str:
    """The registered test's p-value in words: adjusted or not, below alpha or not."""
    alpha = f"{verdict.alpha:g}"
    adjusted = " after allowing for the other outcomes in its family" if verdict.adjusted else ""
    if verdict.adjustment == "westfall_young":
        adjusted += " (Westfall–Young, by re-randomising the family)"
    below = "below" if verdict.p_value < verdict.alpha else "not below"
    return f"{p_is(verdict.p_value)}{adjusted}, {below} the registered {alpha}"


def sure(outcome: Outcome, post: PosteriorRow, est: EstimateRow, arms: Arms) -> list[str]:
    """The posterior's probabilities in words, never "0%" or "100%"."""
    scale = Scale.of(outcome, est)
    change = "reduced" if outcome.direction == "lower_is_better" else "increased"
    label = short_label(outcome.label)
    what = f"{arms.treatment(post.arm)} {change} {label}"
    out = [
        f"The chance that {what} is {chance(post.p_benefit)} "
        f"({chance_words(post.p_benefit)} on the government's probability scale)."
    ]
    if post.p_mid is not None and outcome.mid is not None:
        out.append(
            f"The chance that it {change} {label} by at least "
            f"{scale.amount(outcome.mid)}, the smallest change that "
            f"matters, is {chance(post.p_mid)}."
        )
    if post.p_rope is not None and outcome.rope is not None:
        out.append(
            f"The chance that the change is too small to matter (within ±"
            f"{scale.amount(outcome.rope)}) is {chance(post.p_rope)}."
        )
    return out


def disagreement(
    outcome: Outcome, verdict: VerdictRow, post: PosteriorRow, est: EstimateRow, arms: Arms
) -> str:
    """Why the frequentist and Bayesian answers differ, in plain words."""
    scale = Scale.of(outcome, est)
    names = {"benefit": "a benefit", "harm": "a harm", "unclear": "no clear answer"}
    text = (
        f"On {short_label(outcome.label)} under {arms.treatment(est.arm)}, the "
        f"registered analysis gives "
        f"{names[verdict.frequentist]} (estimate {scale.signed(est.estimate)}); the "
        f"Bayesian analysis gives {names[verdict.bayesian or 'unclear']} "
        f"({_posterior(post, scale)}, chance of benefit {chance(post.p_benefit)})."
    )
    if verdict.sign_differs:
        text += " They point in opposite directions."
    elif post.ratio_median is not None:
        pass  # a hazard-odds ratio and a difference in days are not on one scale
    elif abs(post.mean) < abs(est.estimate):
        text += " The posterior mean is closer to zero than the registered estimate."
    else:
        text += (
            " The posterior mean is further from zero than the registered estimate, so"
            " the prior's pull alone does not explain the difference."
        )
    reasons = [
        f"the Bayesian analysis combines the data with a prior for the effect, {post.prior}",
        f"it fits a {post.model.replace('_', ' ')} model with a random effect for each "
        f"{arms.protocol.units.name}, where the registered analysis uses least squares "
        "with cluster-robust standard errors",
    ]
    if verdict.adjusted:
        reasons.append(
            "the registered p-value is adjusted for the other outcomes in its "
            "family, while the posterior probability is not"
        )
    return text + " The two analyses differ in these ways: " + "; ".join(reasons) + "."


def _posterior(post: PosteriorRow, scale: Scale) -> str:
    """The posterior's centre in words: a mean difference, or a hazard-odds ratio."""
    if post.ratio_median is not None:
        return f"hazard-odds ratio {post.ratio_median:.2f}"
    return f"posterior mean {scale.signed(post.mean)}"


def plan_terms(outcome: Outcome, est: EstimateRow, powered: float | None) -> str:
    """MID, the band too small to matter and the powered effect, explained once."""
    scale = Scale.of(outcome, est)
    label = short_label(outcome.label)
    parts = []
    if outcome.mid is not None:
        parts.append(
            f"the smallest change in {label} that matters (the minimum important "
            f"difference) is {scale.amount(outcome.mid)}"
        )
    if outcome.rope is not None:
        parts.append(
            f"changes within ±{scale.amount(outcome.rope)} are treated as too small to matter"
        )
    if powered is not None:
        parts.append(f"the pilot was sized to detect a change of {scale.amount(powered)}")
    return capitalise("; ".join(parts)) + "." if parts else ""


def primary_blocks(doc: ResultsDocument, arms: Arms) -> list[dict[str, Any]]:
    """One block per primary outcome and treated arm: headline, interval, Bayes, notes."""
    protocol = doc.protocol
    out: list[dict[str, Any]] = []
    for verdict in doc.verdicts:
        outcome = protocol.outcome(verdict.outcome)
        est = doc.estimate(verdict.outcome, verdict.arm)
        if est is None:
            continue
        block = headline(outcome, verdict, est, arms, protocol)
        post = doc.posterior(verdict.outcome, verdict.arm)
        block["sure"] = sure(outcome, post, est, arms) if post is not None else []
        block["disagree"] = (
            disagreement(outcome, verdict, post, est, arms)
            if verdict.disagree and post is not None
            else ""
        )
        block["few_clusters"] = summary_lines(doc, arms, verdict.outcome, verdict.arm)
        powered = outcome.assumptions.effect if outcome.assumptions is not None else None
        first = outcome.name not in {b["outcome"] for b in out}
        block["terms"] = plan_terms(outcome, est, powered) if first else ""
        block["label"] = outcome.label
        block["arm_label"] = arms.label(verdict.arm)
        out.append(block)
    return out


def mechanism_blocks(doc: ResultsDocument, arms: Arms) -> list[dict[str, Any]]:
    """The manipulation check: did the reform move what it works through (felt autonomy)?"""
    out: list[dict[str, Any]] = []
    for verdict in doc.mechanisms:
        outcome = doc.protocol.outcome(verdict.outcome)
        est = doc.estimate(verdict.outcome, verdict.arm)
        if est is not None:
            block = headline(outcome, verdict, est, arms, doc.protocol)
            out.append(block | {"label": outcome.label, "arm_label": arms.label(verdict.arm)})
    return out

"""The staff section: who stayed (time-to-event outcomes), rates such as sickness absence
per FTE-year, and the other staff outcomes.

Sentences follow the registered criterion (:class:`~trialkit.analyse.rows.VerdictRow` in
``retention``): "stayed longer" only when the RMST difference is clear; hazard ratios are
reported as numbers beside it, with their proportional-hazards check.
"""

from __future__ import annotations

from typing import Any

from trialkit.analyse.document import ResultsDocument
from trialkit.report import tables
from trialkit.report.phrases import Arms
from trialkit.report.scale import Scale
from trialkit.report.summary import p_text
from trialkit.report.words import capitalise, chance, short_label


def event_noun(label: str) -> str:
    """The event of a time-to-event outcome from its label: "Time to leaving" → "leaving"."""
    text = short_label(label)
    return text[len("time to ") :] if text.lower().startswith("time to ") else text


def retention_sentences(doc: ResultsDocument, arms: Arms) -> list[str]:
    """Each time-to-event outcome and arm: the RMST difference, then the hazard ratio."""
    out = []
    for verdict in doc.retention:
        outcome = doc.protocol.outcome(verdict.outcome)
        est = doc.estimate(verdict.outcome, verdict.arm)
        if est is None or outcome.survival is None:
            continue
        scale = Scale.of(outcome, est)
        horizon = outcome.survival.horizon_days
        who = f"{arms.people(outcome)} in {arms.phrase(verdict.arm)}"
        p_words = p_text(verdict)
        label = short_label(outcome.label)
        if verdict.frequentist == "unclear":
            text = (
                f"Over the first {horizon} days, the pilot could not tell whether "
                f"{arms.treatment(verdict.arm)} changed {label}: the difference in "
                f"average time ({who} minus {arms.people(outcome)} in "
                f"{arms.control_phrase}) was "
                f"{scale.signed(est.estimate)} ({p_words})."
            )
        else:
            longer = "longer" if est.estimate > 0 else "less long"
            text = (
                f"Over the first {horizon} days, {who} went on average "
                f"{scale.amount(est.estimate)} {longer} without "
                f"{event_noun(outcome.label)} than in {arms.control_phrase} ({p_words})."
            )
        text += (
            f" Allowing for chance, the difference is probably between "
            f"{scale.signed(est.ci_low)} and {scale.signed(est.ci_high)} "
            f"({round(100 * est.ci_level)}% confidence interval)."
        )
        hazard = next(
            (h for h in doc.hazard_ratios if (h.outcome, h.arm) == (verdict.outcome, verdict.arm)),
            None,
        )
        if hazard is not None:
            text += (
                f" The hazard ratio was {hazard.hazard_ratio:.2f} "
                f"({hazard.hr_ci_low:.2f} to {hazard.hr_ci_high:.2f}; below 1 means "
                f"fewer events); the proportional-hazards check gives "
                f"{tables.p_is(hazard.ph_p_value)}."
            )
        post = doc.posterior(verdict.outcome, verdict.arm)
        if post is not None and post.ratio_median is not None:
            text += (
                f" By the Bayesian discrete-time model, the chance that "
                f"{event_noun(outcome.label)} was less frequent under "
                f"{arms.treatment(verdict.arm)} is {chance(post.p_benefit)} (hazard-odds "
                f"ratio {post.ratio_median:.2f}, {round(100 * post.ci_level)}% credible "
                f"interval {post.ratio_ci_low:.2f} to {post.ratio_ci_high:.2f})."
            )
        out.append(text)
    return out


def rate_sentences(doc: ResultsDocument, arms: Arms) -> list[str]:
    """Each rate measured on staff (a count per unit of exposure, e.g. sickness absence per
    FTE-year): each arm's rate, its total count over its total exposure, and the difference
    with its interval ("staff in budget teams had 7.1 days per FTE-year of sickness
    absence, against 8.3 in teams that kept usual practice")."""
    out = []
    levels = staff_levels(doc)
    control = doc.protocol.control.id
    for outcome in doc.protocol.outcomes:
        if outcome.exposure is None or outcome.level not in levels:
            continue
        base = doc.descriptive(outcome.name, control)
        for arm in arms.treated:
            est, own = doc.estimate(outcome.name, arm), doc.descriptive(outcome.name, arm)
            if est is None or own is None or base is None:
                continue
            if own.mean is None or base.mean is None:
                continue
            scale = Scale.of(outcome, est)
            kind = f" ({outcome.role} outcome)" if outcome.role == "exploratory" else ""
            out.append(
                f"{capitalise(arms.people(outcome))} in {arms.phrase(arm)} had "
                f"{scale.amount(own.mean)} of {short_label(outcome.label)}, against "
                f"{base.mean * scale.factor:.{scale.digits}f} in "
                f"{arms.control_phrase}{kind}: a difference of {scale.signed(est.estimate)} "
                f"({round(100 * est.ci_level)}% confidence interval "
                f"{_signed(est.ci_low, scale)} to {_signed(est.ci_high, scale)}; "
                f"{tables.p_is(est.p_value)})."
            )
    return out


def _signed(value: float, scale: Scale) -> str:
    """A signed number on the outcome's scale, without its unit ("−2.9", "+0.5")."""
    sign = "−" if value < 0 else "+" if value > 0 else ""
    return f"{sign}{abs(value) * scale.factor:.{scale.digits}f}"


def km_spec(doc: ResultsDocument, arms: Arms) -> dict[str, Any] | None:
    """The Kaplan–Meier figure of the first time-to-event outcome."""
    if not doc.survival_curves:
        return None
    name = doc.survival_curves[0].outcome
    curves = [c for c in doc.survival_curves if c.outcome == name]
    outcome = doc.protocol.outcome(name)
    return {
        "outcome": capitalise(outcome.label),
        "event": event_noun(outcome.label),
        "horizon": curves[0].horizon,
        "arms": [
            {
                "label": arms.label(c.arm),
                "times": list(c.times[1:]),
                "survival": list(c.survival[1:]),
            }
            for c in curves
        ],
        "at_risk": {
            "times": list(curves[0].at),
            "rows": [
                {
                    "label": arms.label(c.arm),
                    "counts": list(c.n_at_risk),
                    "survival": list(c.survival_at),
                }
                for c in curves
            ],
        },
    }


def staff_levels(doc: ResultsDocument) -> set[str]:
    """The levels of time-to-event and mechanism outcomes: where the staff are measured."""
    return {o.level for o in doc.protocol.outcomes if o.type == "survival" or o.role == "mechanism"}

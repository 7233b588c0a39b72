"""The effect sections of the results document: frequentist rows, randomisation inference
and the verdicts of the registered criterion for each primary outcome and arm.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from trialkit.analyse.rows import (
    DescriptiveRow,
    EffectSizeRow,
    EstimateRow,
    FewClusterRow,
    HazardRatioRow,
    IndexRow,
    KaplanMeierRow,
    PosteriorRow,
    RandomisationRow,
    SubgroupRow,
    VerdictRow,
)
from trialkit.analyse.trial import frame_rows, model_rows
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame
from trialkit.estimate.frequentist.plan import FrequentistResults
from trialkit.estimate.frequentist.survival import KaplanMeierCurve
from trialkit.estimate.frequentist.survival_plan import SurvivalFit, survival_at
from trialkit.estimate.verdicts import bayesian_verdict, frequentist_verdict, signs_differ
from trialkit.protocol import Protocol
from trialkit.validate import TrialData


def frequentist_rows(freq: FrequentistResults) -> dict[str, tuple[object, ...]]:
    """The plan's tidy frames as document rows, keyed by document field."""
    return {
        "survival_curves": tuple(
            _curve(fit, curve) for fit in freq.survival for curve in fit.curves
        ),
        "hazard_ratios": tuple(
            row for fit in freq.survival for row in frame_rows(HazardRatioRow, fit.hazard_ratios)
        ),
        "estimates": frame_rows(EstimateRow, freq.estimates),
        "indices": frame_rows(IndexRow, freq.indices),
        "subgroups": frame_rows(SubgroupRow, _subgroups(freq)),
        "effect_sizes": frame_rows(EffectSizeRow, freq.effect_sizes),
        "descriptives": frame_rows(DescriptiveRow, freq.descriptives),
        "few_clusters": frame_rows(FewClusterRow, freq.few_clusters),
    }


def _curve(fit: SurvivalFit, curve: KaplanMeierCurve) -> KaplanMeierRow:
    rmst = dict(zip(fit.rmst["arm"].astype(str), fit.rmst["mean"].astype(float), strict=True))
    outcome = str(fit.rmst["outcome"].iloc[0])
    return KaplanMeierRow(
        outcome=outcome,
        arm=str(curve.arm),
        times=tuple(map(float, curve.times)),
        survival=tuple(map(float, curve.survival)),
        ci_low=tuple(map(float, curve.ci_low)),
        ci_high=tuple(map(float, curve.ci_high)),
        ci_level=curve.ci_level,
        at=tuple(map(float, curve.at)),
        n_at_risk=tuple(map(int, curve.n_at_risk)),
        survival_at=tuple(map(float, survival_at(curve, curve.at))),
        n_obs=curve.n_obs,
        n_events=curve.n_events,
        n_competing=curve.n_competing,
        rmst=rmst[str(curve.arm)],
        horizon=float(curve.at[-1]),
    )


def _subgroups(freq: FrequentistResults) -> pd.DataFrame:
    # n is the level's own N (n_obs is the whole interacted model's).
    frame = freq.subgroups.rename(columns={"n_level": "n", "level": "level_value"})
    if "level_value" in frame:
        frame["level_value"] = frame["level_value"].astype(str)
    return frame


def randomisation_rows(
    protocol: Protocol, data: TrialData, *, frames: dict[str, AnalysisFrame] | None = None
) -> tuple[RandomisationRow, ...]:
    """Randomisation inference for the primary outcomes, redrawn with the pilot's scheme
    (``frames``: the levels' analysis frames, shared with the other stages)."""
    from trialkit.analyse.randomisation import randomisation_results

    return model_rows(RandomisationRow, randomisation_results(protocol, data, frames=frames))


def verdicts(
    protocol: Protocol,
    estimates: tuple[EstimateRow, ...],
    posteriors: tuple[PosteriorRow, ...],
    *,
    outcomes: Collection[str],
) -> tuple[VerdictRow, ...]:
    """What the registered criterion says of each of ``outcomes`` and each arm against
    control, in each school (primary outcomes: the headline; mechanisms: the manipulation
    check; a shirking family's outcomes: the shirking check)."""
    alpha = protocol.analysis.frequentist.alpha
    out = []
    for est in estimates:
        outcome = protocol.outcome(est.outcome)
        if (
            outcome.name not in outcomes
            or est.estimand != "ITT"
            or est.versus != protocol.control.id
        ):
            continue
        freq = frequentist_verdict(
            est.estimate, est.p_adjusted, alpha=alpha, direction=outcome.direction
        )
        post = next((p for p in posteriors if (p.outcome, p.arm) == (est.outcome, est.arm)), None)
        bayes = None if post is None else bayesian_verdict(post.p_benefit, alpha=alpha)
        # A time-to-event posterior is on the hazard scale: fewer events (negative) means a
        # longer time, so its sign is reversed to compare it with the RMST difference.
        oriented = (
            None if post is None else (-post.mean if outcome.type == "survival" else post.mean)
        )
        sign = oriented is not None and signs_differ(est.estimate, oriented)
        out.append(
            VerdictRow(
                outcome=est.outcome,
                arm=est.arm,
                alpha=alpha,
                frequentist=freq,
                estimate=est.estimate,
                p_value=est.p_adjusted,
                adjusted=est.adjustment != "none",
                adjustment=est.adjustment,
                bayesian=bayes,
                posterior_mean=None if post is None else post.mean,
                p_benefit=None if post is None else post.p_benefit,
                disagree=bayes is not None and (bayes != freq or sign),
                sign_differs=sign,
            )
        )
    return tuple(out)

"""The Bayesian section of the results document: posteriors, decisions, net benefit.

Orchestration only; the models, summaries, decision rules and net benefit live in
:mod:`trialkit.estimate.bayesian`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from trialkit.analyse.document import BayesianSection
from trialkit.analyse.jsonable import plain_mapping
from trialkit.analyse.rows import (
    ConditionRow,
    DecisionRow,
    NetBenefitPart,
    NetBenefitRow,
    PosteriorRow,
)
from trialkit.protocol import Protocol
from trialkit.validate import TrialData

#: Draws kept per outcome and arm for the report's posterior plot.
SAMPLE = 2000


def bayesian_section(
    protocol: Protocol,
    data: TrialData,
    *,
    draws: int | None,
    chains: int | None,
    tune: int | None = None,
    echo: Callable[[str], None],
) -> BayesianSection:
    """Fit the Bayesian plan and gather its posteriors, decisions and net benefit."""
    from trialkit.estimate.bayesian import fit_protocol

    echo("estimating: Bayesian plan (PyMC models; sampled by nutpie when installed)")
    results = fit_protocol(protocol, data, draws=draws, chains=chains, tune=tune, progress=echo)
    arm_of = {(f.outcome, t): a for f in results.fits for t, a in zip(f.terms, f.arms, strict=True)}
    return BayesianSection(
        status="run",
        posteriors=tuple(
            row
            for fit in results.fits
            for row in (
                *_posteriors(fit, timed=protocol.outcome(fit.outcome).type == "survival"),
                *_pairwise(protocol, fit),
            )
        ),
        decisions=tuple(_decision(d, arm_of) for d in results.decisions),
        net_benefit=tuple(_net_benefit(protocol, nb) for nb in results.net_benefits),
        notes=results.notes,
    )


def _posteriors(fit: Any, *, timed: bool = False) -> list[PosteriorRow]:
    """Natural-scale rows; a time-to-event outcome's on its log hazard-odds ratio scale."""
    from trialkit.estimate.bayesian.survival import hazard_odds_ratio

    frame = fit.to_frame()
    scale = fit.scales[0] if timed else fit.scales[-1]
    natural = frame[frame["scale"] == scale]
    rows = []
    for record in natural.to_dict("records"):
        term = str(record["term"])
        values = fit.draws(term, scale)
        sample = values[:: max(1, values.size // SAMPLE)][:SAMPLE]
        row = plain_mapping(record)
        ratio = hazard_odds_ratio(values, float(row["ci_level"])) if timed else (None,) * 3
        rows.append(
            PosteriorRow(
                outcome=fit.outcome,
                arm=fit.arms[fit.terms.index(term)],
                versus=fit.control,
                term=term,
                scale=str(row["scale"]),
                model=fit.family,
                mean=row["mean"],
                median=row["median"],
                sd=row["sd"],
                ci_low=row["ci_low"],
                ci_high=row["ci_high"],
                ci_level=row["ci_level"],
                p_benefit=row["p_benefit"],
                p_mid=row["p_mid"],
                p_harm=row["p_harm"],
                p_rope=row["p_rope"],
                r_hat=row["r_hat"],
                ess_bulk=row["ess_bulk"],
                divergences=fit.diagnostics.divergences,
                passed=fit.diagnostics.passed,
                advice=" ".join(fit.diagnostics.advice),
                sampler=fit.sampler,
                prior=fit.effect_prior.describe(),
                n_obs=row["n_obs"],
                draws_sample=tuple(round(float(v), 6) for v in sample),
                ratio_median=ratio[0],
                ratio_ci_low=ratio[1],
                ratio_ci_high=ratio[2],
            )
        )
    return rows


def _pairwise(protocol: Protocol, fit: Any) -> list[PosteriorRow]:
    """Each declared pairwise contrast: the difference of the two arms' natural-scale draws."""
    from trialkit.estimate.bayesian.summarise import CI_LEVEL, describe_draws, tail_probabilities

    rows = []
    base = _posteriors(fit)
    for contrast in protocol.analysis.contrasts:
        if not {contrast.arm, contrast.versus} <= set(fit.arms):
            continue
        term = fit.terms[fit.arms.index(contrast.arm)]
        draws = fit.draws(term) - fit.draws(fit.terms[fit.arms.index(contrast.versus)])
        sample = draws[:: max(1, draws.size // SAMPLE)][:SAMPLE]
        first = base[0]
        rows.append(
            first.model_copy(
                update={
                    "arm": contrast.arm,
                    "versus": contrast.versus,
                    "term": term,
                    "r_hat": None,
                    "ess_bulk": None,  # the model's diagnostics are the arms' rows
                    **describe_draws(draws),
                    "ci_level": CI_LEVEL,
                    **plain_mapping(tail_probabilities(draws, fit.thresholds)),
                    "draws_sample": tuple(round(float(v), 6) for v in sample),
                }
            )
        )
    return rows


def _decision(decision: Any, arm_of: dict[tuple[str, str], str]) -> DecisionRow:
    conditions = tuple(
        ConditionRow(
            outcome=c.outcome,
            arm=arm_of[(c.outcome, c.term)],
            event=c.event,
            margin=c.margin,
            probability=c.probability,
            bound=c.bound,
            threshold=c.threshold,
            met=c.met,
        )
        for c in decision.conditions
    )
    return DecisionRow(
        rule=decision.name,
        action=decision.action,
        otherwise=decision.otherwise,
        met=decision.met,
        conditions=conditions,
    )


def _net_benefit(protocol: Protocol, nb: Any) -> NetBenefitRow:
    from trialkit.estimate.bayesian.summarise import CI_LEVEL

    tail = (1 - CI_LEVEL) / 2
    low, high = (float(v) for v in np.quantile(nb.per_unit, [tail, 1 - tail]))
    units = int(nb.units)
    return NetBenefitRow(
        arm=nb.arm,
        currency=protocol.costs.currency,
        unit=protocol.units.name,
        units=units,
        extra_cost_per_unit=nb.extra_cost,
        per_unit_mean=float(nb.per_unit.mean()),
        per_unit_ci_low=low,
        per_unit_ci_high=high,
        aggregate_mean=float(nb.aggregate.mean()),
        aggregate_ci_low=low * units,
        aggregate_ci_high=high * units,
        ci_level=CI_LEVEL,
        p_positive=float((nb.per_unit > 0).mean()),
        parts=tuple(
            NetBenefitPart(outcome=o, value_per_unit=v, people_per_unit=p) for o, v, p in nb.parts
        ),
    )

"""Run the protocol's registered Bayesian plan: :func:`fit_protocol`.

For every primary, secondary and harm outcome (harm outcomes feed decision rules): the
outcome's level frame (with the randomised unit's columns merged in when the outcome is
measured below it), cluster random
intercepts whenever the design is clustered or the outcome is measured below the unit,
block fixed effects, period fixed effects for stepped-wedge designs, and the declared
adjusted covariates plus the outcome's baseline. The family follows the outcome's type:
continuous and proportion → the plan's likelihood (``auto`` = normal), binary → logistic,
count → negative binomial, ordinal → ordered logistic (codes 0..K−1, so the natural-unit
effect is in scale points). Complete cases are analysed, as in the frequentist plan, and
the rows dropped are reported in ``notes``. A fit with divergent transitions is refitted
once with smaller steps (``target_accept`` 0.95), and ``notes`` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from trialkit._core.provenance import Provenance
from trialkit.estimate.bayesian.survival import INTERVAL, INTERVALS, person_periods
from trialkit.estimate.exposure import exposed_arms
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Outcome

from .decisions import NetBenefit, Valued, evaluate_rule, net_benefit
from .design import Family
from .fit import Sampler, bayes
from .priors import Prior
from .results import BayesianFit, BayesianResults

RETRY_TARGET_ACCEPT = 0.95  # rstanarm's default adapt_delta


def _family(protocol: Protocol, outcome: Outcome) -> Family:
    if outcome.type == "binary":
        return "logistic"
    if outcome.type == "count":
        return "negative_binomial"
    if outcome.type == "ordinal":
        return "ordered_logistic"
    like = protocol.analysis.bayesian.likelihood
    return "student_t" if like == "student_t" else "normal"


def _frame(protocol: Protocol, frames: Mapping[str, pd.DataFrame], outcome: Outcome) -> Any:
    unit = protocol.units
    frame = frames[outcome.level].copy()
    if outcome.level != unit.name and unit.name in frames:
        level = protocol.level(outcome.level)
        link = level.unit_column if level is not None else unit.id_column
        extra = frames[unit.name]
        keep = [c for c in extra.columns if c not in frame.columns or c == unit.id_column]
        extra = extra[keep].rename(columns={unit.id_column: link})
        frame = frame.merge(extra, on=link, how="left", validate="many_to_one")
    return exposed_arms(protocol, frame)


def _columns(protocol: Protocol, frame: pd.DataFrame, outcome: Outcome) -> dict[str, Any]:
    unit = protocol.units
    clustered = protocol.design.type != "individual" or outcome.level != unit.name
    cluster = "cluster" if clustered and "cluster" in frame else None
    if cluster is None and clustered:
        level = protocol.level(outcome.level)
        cluster = level.unit_column if level is not None else None
    blocks = "block" if "block" in frame and frame["block"].nunique() > 1 else None
    sw = protocol.design.stepped_wedge
    period = sw.period_column if sw is not None and sw.period_column in frame else None
    covs = [
        c.data_column
        for c in protocol.covariates
        if c.adjust and c.data_column in frame and c.level in (outcome.level, unit.name)
    ]
    if outcome.baseline and outcome.baseline in frame:
        covs.append(outcome.baseline)
    return {
        "cluster": cluster,
        "blocks": blocks,
        "period": period,
        "covariates": list(dict.fromkeys(covs)),
    }


def _prior(
    protocol: Protocol,
    outcome: Outcome,
    family: Family,
    y: pd.Series,
    control: pd.Series,
    notes: list[str],
) -> Prior | None:
    """The declared prior, converted from outcome units to the link scale if needed."""
    declared = [p for p in protocol.analysis.bayesian.priors if p.outcome == outcome.name]
    if not declared:
        return None
    p = declared[0]
    factor, how = 1.0, ""
    base = float(y[control].mean()) if control.any() else float(y.mean())
    if family == "logistic":
        rate = min(max(base, 0.02), 0.98)
        factor, how = 1 / (rate * (1 - rate)), f"log-odds at control rate {rate:.3g}"
    elif family == "negative_binomial":
        factor, how = 1 / max(base, 1e-6), f"log rate ratio at control mean {base:.3g}"
    elif family == "ordered_logistic":
        sd = float(y.std()) or 1.0
        factor, how = np.pi / np.sqrt(3) / sd, "log-odds ratio via the latent logistic SD"
    if how:
        notes.append(
            f"Prior for `{outcome.name}` declared in outcome units, converted to "
            f"the {how} (first-order approximation)."
        )
    return Prior(
        distribution=p.distribution, mu=p.mean * factor, sigma=p.sd * factor, source=p.source
    )


def _fit_one(
    protocol: Protocol,
    frames: Mapping[str, pd.DataFrame],
    outcome: Outcome,
    notes: list[str],
    settings: dict[str, Any],
) -> BayesianFit:
    frame = _frame(protocol, frames, outcome)
    cols = _columns(protocol, frame, outcome)
    if outcome.survival is not None:
        return _fit_survival(protocol, frame, outcome, cols, notes, settings)
    needed = [
        outcome.data_column,
        "arm",
        *cols["covariates"],
        *[c for c in (cols["cluster"], cols["blocks"], cols["period"]) if c],
    ]
    complete = frame.dropna(subset=needed)
    if len(complete) < len(frame):
        notes.append(
            f"`{outcome.name}`: {len(frame) - len(complete)} of {len(frame)} rows "
            "with a missing outcome or covariate left out (complete cases)."
        )
    family = _family(protocol, outcome)
    if family == "logistic" and protocol.analysis.bayesian.binary_model == "beta_binomial":
        if cols["cluster"] is None:
            return _beta_binomial(protocol, complete, outcome, settings)
        notes.append(
            f"`{outcome.name}`: the beta-binomial model ignores clustering, so this clustered "
            "outcome was fitted by the logistic model with cluster effects."
        )
    y = complete[outcome.data_column].astype(float)
    prior = _prior(protocol, outcome, family, y, complete["arm"] == protocol.control.id, notes)
    plan = protocol.analysis.bayesian
    return _bayes_with_retry(
        outcome.name,
        notes,
        data=complete,
        outcome=outcome.data_column,
        treatment="arm",
        control=protocol.control.id,
        family=family,
        prior=prior if prior is not None else plan.default_prior,
        outcome_range=outcome.range if family in ("normal", "student_t") else None,
        direction=outcome.direction,
        mid=outcome.mid,
        rope=outcome.rope,
        **cols,
        **settings,
    )


def _beta_binomial(
    protocol: Protocol, complete: pd.DataFrame, outcome: Outcome, settings: dict[str, Any]
) -> BayesianFit:
    """The declared beta-binomial model: exact per-arm posteriors (no sampler)."""
    from .conjugate_fit import beta_binomial_fit

    return beta_binomial_fit(
        complete,
        outcome.data_column,
        "arm",
        control=protocol.control.id,
        prior=protocol.analysis.bayesian.beta_prior,
        draws=settings["draws"],
        chains=settings["chains"],
        seed=settings["seed"],
        direction=outcome.direction,
        mid=outcome.mid,
        rope=outcome.rope,
    )


def _fit_survival(
    protocol: Protocol,
    frame: pd.DataFrame,
    outcome: Outcome,
    cols: dict[str, Any],
    notes: list[str],
    settings: dict[str, Any],
) -> BayesianFit:
    """The discrete-time hazard model of a time-to-event outcome (:mod:`.survival`)."""
    assert outcome.survival is not None
    time, event = outcome.data_column, f"{outcome.data_column}_event"
    needed = [
        time,
        event,
        "arm",
        *cols["covariates"],
        *[c for c in (cols["cluster"], cols["blocks"]) if c],
    ]
    complete = frame.dropna(subset=needed)
    periods = person_periods(
        complete,
        time=time,
        event=event,
        outcome=outcome.name,
        horizon=float(outcome.survival.horizon_days),
    )
    notes.append(
        f"`{outcome.name}`: discrete-time hazard model ({INTERVALS} intervals up to day "
        f"{outcome.survival.horizon_days}, logistic, interval effects); its effect is a "
        "hazard-odds ratio, and P(benefit) the chance of fewer events."
    )
    fewer = "lower_is_better" if outcome.direction == "higher_is_better" else "higher_is_better"
    return _bayes_with_retry(
        outcome.name,
        notes,
        data=periods,
        outcome=outcome.name,
        treatment="arm",
        control=protocol.control.id,
        family="logistic",
        prior=protocol.analysis.bayesian.default_prior,
        outcome_range=None,
        direction=fewer,
        mid=None,
        rope=None,
        **(cols | {"period": INTERVAL}),
        **settings,
    )


def _bayes_with_retry(name: str, notes: list[str], **kwargs: Any) -> BayesianFit:
    """:func:`bayes`; after divergent transitions, once more with smaller steps.

    Divergences mean the sampler's steps were too large for part of the posterior (often
    the funnel of a small cluster SD); the standard remedy is a higher ``target_accept``.
    The plan applies it once, at rstanarm's default of 0.95, and says so in the notes; the
    refit's own diagnostics are reported whatever they show.
    """
    fit = bayes(**kwargs)
    divergences = fit.diagnostics.divergences
    if divergences == 0 or kwargs.get("target_accept", 0.8) >= RETRY_TARGET_ACCEPT:
        return fit
    retry = bayes(**{**kwargs, "target_accept": RETRY_TARGET_ACCEPT})
    notes.append(
        f"`{name}`: {divergences} divergent transition{'s' * (divergences != 1)} at the "
        "default target_accept of "
        f"0.8, so refitted at {RETRY_TARGET_ACCEPT} (smaller steps), which had "
        f"{retry.diagnostics.divergences}; the refit is reported."
    )
    return retry


def _net_benefits(protocol: Protocol, fits: list[BayesianFit]) -> tuple[NetBenefit, ...]:
    """Net benefit of every arm over the outcomes with a money value (none without one)."""
    valued = []
    for fit in fits:
        outcome = protocol.outcome(fit.outcome)
        if outcome.value_per_unit:
            level = protocol.level(outcome.level)
            people = level.per_unit.mean if level is not None else 1.0
            valued.append(Valued(fit, float(outcome.value_per_unit), float(people)))
    if not valued:
        return ()
    costs = {arm.id: arm.cost_per_unit for arm in protocol.arms}
    return net_benefit(valued, cost_per_unit=costs, units=protocol.units.planned)


def fit_protocol(
    protocol: Protocol,
    data_frames: Mapping[str, pd.DataFrame] | Any,
    *,
    draws: int | None = None,
    chains: int | None = None,
    seed: int | None = None,
    tune: int | None = None,
    sampler: Sampler = "auto",
    progress: Callable[[str], None] | None = None,
) -> BayesianResults:
    """Fit the Bayesian plan to every outcome it covers (:meth:`Protocol.bayesian_outcomes`).

    Parameters
    ----------
    protocol
        The pilot protocol (outcomes' type, direction, MID, ROPE, range, value; the
        Bayesian plan's priors, likelihood and sampling settings; decision rules).
    data_frames
        Analysis-ready frames keyed by level (``TrialData.frames``, or a ``TrialData``),
        each with an ``arm`` column holding arm ids (and ``cluster``/``block`` columns).
    draws, chains, tune
        Override the plan's sampling settings (e.g. for a quick demo).
    seed
        Sampler seed; defaults to the protocol's seed (reduced modulo 2³²).
    sampler
        ``"auto"`` (nutpie when installed), ``"nutpie"`` or ``"pymc"``.
    progress
        Called with a line before each outcome's fit (the first fit of each family in a
        process compiles its kernel first, a few seconds when numba's cache is empty).

    Returns
    -------
    BayesianResults
        One fit per outcome, evaluated decision rules (rules naming an outcome not
        fitted are skipped, with a note), net benefit where outcomes declare a money value.
    """
    frames = getattr(data_frames, "frames", data_frames)
    plan = protocol.analysis.bayesian
    seed = (protocol.seed if seed is None else seed) % 2**32
    provenance = Provenance(protocol_hash=protocol.content_hash(), seed=seed)
    notes: list[str] = []
    if not plan.enabled:
        return BayesianResults(
            fits=(),
            decisions=(),
            provenance=provenance,
            notes=("The Bayesian plan is disabled in the protocol.",),
        )
    settings = {
        "draws": draws or plan.draws,
        "chains": chains or plan.chains,
        "tune": tune or plan.tune,
        "seed": seed,
        "sampler": sampler,
    }
    fits = []
    fitted_roles = protocol.bayesian_outcomes()
    for i, outcome in enumerate(fitted_roles, start=1):
        if outcome.level not in frames:
            notes.append(f"`{outcome.name}` not fitted: no data at level `{outcome.level}`.")
            continue
        if progress is not None:
            progress(f"Bayesian model {i} of {len(fitted_roles)}: {outcome.name}")
        fits.append(_fit_one(protocol, frames, outcome, notes, settings))
    fitted = {f.outcome for f in fits}
    decisions = []
    for rule in protocol.analysis.decision_rules:
        missing = sorted({c.outcome for c in rule.conditions} - fitted)
        if missing:
            notes.append(
                f"Decision rule `{rule.name}` not evaluated: no Bayesian fit for "
                f"{', '.join(missing)} (no data at its level)."
            )
            continue
        conditions = [c.model_dump(exclude_none=True) for c in rule.conditions]
        decisions.append(
            evaluate_rule(
                conditions, fits, name=rule.name, action=rule.action, otherwise=rule.otherwise
            )
        )
    return BayesianResults(
        fits=tuple(fits),
        decisions=tuple(decisions),
        provenance=provenance,
        net_benefits=_net_benefits(protocol, fits),
        notes=tuple(notes),
    )

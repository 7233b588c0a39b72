"""Decisions from posteriors: pre-registered decision rules, net benefit, misuse rates.

All probabilities use the natural-scale draws of each fit (risk difference, rate
difference, mean difference or raw difference), oriented by the outcome's direction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, get_args

import numpy as np
import pandas as pd
from scipy import stats

from trialkit.errors import EstimationError
from trialkit.protocol.vocabulary import DecisionEvent

from .results import BayesianFit
from .summarise import CI_LEVEL, describe_draws


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One condition of a decision rule, evaluated for one term."""

    outcome: str
    term: str
    event: str
    margin: float
    probability: float
    bound: str
    threshold: float
    met: bool


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """A decision rule: met only if every condition is met (for every term it covers)."""

    name: str
    met: bool
    conditions: tuple[ConditionResult, ...]
    action: str = ""
    otherwise: str = ""

    def to_frame(self) -> pd.DataFrame:
        """One row per condition × term, with the probability and whether it was met."""
        return pd.DataFrame([{"rule": self.name, **asdict(c)} for c in self.conditions])


def _event_probability(
    fit: BayesianFit, term: str, event: DecisionEvent, margin: float | None
) -> tuple[float, float]:
    th = fit.thresholds
    d = th.sign * fit.draws(term)
    if event == "benefit":
        m = 0.0 if margin is None else abs(margin)
        return float(np.mean(d > m)), m
    if event == "at_least_mid":
        mid = margin if margin is not None else th.mid
        if mid is None:
            raise EstimationError(
                f"Condition 'at_least_mid' on {fit.outcome!r} needs a margin "
                "or a MID. Fix: declare the outcome's MID or give margin."
            )
        return float(np.mean(d >= abs(mid))), abs(mid)
    m = th.harm_margin if margin is None else abs(margin)
    return float(np.mean(d < -m)), m


def _condition(spec: Mapping[str, Any], fits: Mapping[str, BayesianFit]) -> list[ConditionResult]:
    outcome, event = str(spec["outcome"]), spec.get("event", "benefit")
    if outcome not in fits:
        raise EstimationError(
            f"Decision rule names outcome {outcome!r}, which was not fitted; "
            f"fitted: {sorted(fits)}."
        )
    if event not in get_args(DecisionEvent):
        raise EstimationError(
            f"The 'event' of a decision condition must be one of "
            f"{get_args(DecisionEvent)}. Got {event!r} instead."
        )
    if ("at_least" in spec) == ("at_most" in spec):
        raise EstimationError(
            f"Decision condition {dict(spec)} needs exactly one of "
            "'at_least' or 'at_most' (a probability)."
        )
    bound = "at_least" if "at_least" in spec else "at_most"
    threshold = float(spec[bound])
    fit = fits[outcome]
    terms = [spec["term"]] if spec.get("term") else list(fit.terms)
    out = []
    for term in terms:
        p, m = _event_probability(fit, term, event, spec.get("margin"))
        met = p >= threshold if bound == "at_least" else p <= threshold
        out.append(ConditionResult(outcome, term, event, m, p, bound, threshold, bool(met)))
    return out


def evaluate_rule(
    conditions: Sequence[Mapping[str, Any]],
    fits: Mapping[str, BayesianFit] | Iterable[BayesianFit],
    *,
    name: str = "decision rule",
    action: str = "",
    otherwise: str = "",
) -> DecisionResult:
    """Evaluate a decision rule given as a list of conditions.

    Parameters
    ----------
    conditions
        Each ``{outcome, event, margin?, term?, at_least | at_most}``: ``event`` is
        ``"benefit"`` (effect beyond ``margin``, default 0, in the direction of benefit),
        ``"at_least_mid"`` (effect ≥ ``margin``, default the outcome's MID) or ``"harm"``
        (harm beyond ``margin``, default the outcome's harm margin); the condition is met
        when that probability is ``≥ at_least`` or ``≤ at_most``. Without ``term``, every
        arm must meet it.
    fits
        Fits keyed by outcome, or an iterable of fits.
    name, action, otherwise
        The rule's name and what to do when it is met or not, for reports.

    Returns
    -------
    DecisionResult
        ``met`` plus each condition's probability.

    Examples
    --------
    >>> rule = [{"outcome": "wellbeing", "event": "benefit", "at_least": 0.9},
    ...         {"outcome": "complaints", "event": "harm", "margin": 2, "at_most": 0.1}]
    >>> evaluate_rule(rule, fits).met  # doctest: +SKIP
    True
    """
    by_outcome = dict(fits) if isinstance(fits, Mapping) else {f.outcome: f for f in fits}
    results = [r for spec in conditions for r in _condition(spec, by_outcome)]
    return DecisionResult(
        name=name,
        met=all(r.met for r in results),
        conditions=tuple(results),
        action=action,
        otherwise=otherwise,
    )


@dataclass(frozen=True, slots=True)
class Valued:
    """An outcome's posterior with its money value.

    Attributes
    ----------
    fit
        The outcome's posterior.
    value_per_unit
        Money value of one unit of the outcome for one person (e.g. £140 a point).
    people_per_unit
        People measured per randomised unit (e.g. 30 clients per team); 1 when the outcome
        is measured on the randomised unit itself.
    """

    fit: BayesianFit
    value_per_unit: float
    people_per_unit: float = 1.0


@dataclass(frozen=True, slots=True)
class NetBenefit:
    """Posterior of net monetary benefit of one arm versus control.

    Attributes
    ----------
    arm, term
        The arm and its term in the fits.
    per_unit, aggregate
        Draws of net benefit per randomised unit, and times ``units``.
    units
        Number of units the aggregate covers.
    extra_cost
        The arm's cost per unit less the control's.
    parts
        ``(outcome, value_per_unit, people_per_unit)`` of each valued outcome counted.
    """

    arm: str
    term: str
    per_unit: np.ndarray
    aggregate: np.ndarray
    units: float
    extra_cost: float
    parts: tuple[tuple[str, float, float], ...]

    def to_frame(self) -> pd.DataFrame:
        """Mean, median, SD, 95 % equal-tailed interval and P(net benefit > 0)."""
        rows = []
        for level, draws in (("per_unit", self.per_unit), ("aggregate", self.aggregate)):
            rows.append(
                {
                    "arm": self.arm,
                    "term": self.term,
                    "level": level,
                    **describe_draws(draws),
                    "ci_level": CI_LEVEL,
                    "p_positive": float(np.mean(draws > 0)),
                }
            )
        return pd.DataFrame(rows)


def net_benefit(
    valued: Sequence[Valued],
    *,
    cost_per_unit: Mapping[str, float],
    units: float = 1.0,
) -> tuple[NetBenefit, ...]:
    """Net benefit of each arm against control, per randomised unit and in aggregate.

    For each arm: the sum over valued outcomes of ``value_per_unit × people_per_unit ×
    benefit`` less ``cost_arm − cost_control``, where ``benefit`` is the natural-scale
    effect oriented so that positive is good. Posteriors of different outcomes come from
    separate models, so their draws are combined as if independent (draw ``i`` of each).

    Raises
    ------
    EstimationError
        If an arm's cost is missing, no outcome is valued, or the fits' draws differ in
        number or arms.
    """
    if not valued:
        raise EstimationError("net_benefit needs at least one valued outcome.")
    first = valued[0].fit
    missing = [a for a in (first.control, *first.arms) if a not in cost_per_unit]
    if missing:
        raise EstimationError(
            f"cost_per_unit lacks arm(s) {missing}; give a cost per unit "
            f"for every arm, control {first.control!r} included."
        )
    if any(v.fit.arms != first.arms or v.fit.draws().size != first.draws().size for v in valued):
        raise EstimationError("net_benefit needs fits with the same arms and number of draws.")
    parts = tuple((v.fit.outcome, v.value_per_unit, v.people_per_unit) for v in valued)
    out = []
    for i, arm in enumerate(first.arms):
        extra = float(cost_per_unit[arm]) - float(cost_per_unit[first.control])
        benefit = sum(
            v.value_per_unit
            * v.people_per_unit
            * v.fit.thresholds.sign
            * v.fit.draws(v.fit.terms[i])
            for v in valued
        )
        per_unit = np.asarray(benefit, dtype=float) - extra
        out.append(
            NetBenefit(
                arm=arm,
                term=first.terms[i],
                per_unit=per_unit,
                aggregate=per_unit * units,
                units=units,
                extra_cost=extra,
                parts=parts,
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class MisusePosterior:
    """Beta-binomial posterior of a misuse rate: "a distribution, not an anecdote".

    Attributes
    ----------
    events, n
        Observed misuses and units at risk.
    alpha, beta
        Posterior Beta parameters (prior plus data).
    mean, median, ci_low, ci_high
        Posterior summaries of the rate (95 % equal-tailed interval).
    tolerance, p_above_tolerance
        The tolerated rate and P(rate > tolerance).
    population, expected_events, events_ci
        Units in the roll-out, expected misuses there and a 95 % predictive interval
        (beta-binomial).
    expected_cost, cost_ci
        The same in money, given ``cost_per_event`` (``nan`` without one).
    """

    events: int
    n: int
    alpha: float
    beta: float
    mean: float
    median: float
    ci_low: float
    ci_high: float
    tolerance: float
    p_above_tolerance: float
    population: int
    expected_events: float
    events_ci: tuple[float, float]
    expected_cost: float
    cost_ci: tuple[float, float]


def misuse_rate(
    events: int,
    n: int,
    *,
    tolerance: float,
    prior: tuple[float, float] = (1.0, 1.0),
    population: int | None = None,
    cost_per_event: float | None = None,
) -> MisusePosterior:
    """Posterior of a misuse rate from ``events`` in ``n`` (conjugate Beta prior).

    Examples
    --------
    >>> m = misuse_rate(1, 98, tolerance=0.05)
    >>> round(m.mean, 4), round(m.p_above_tolerance, 3)
    (0.02, 0.039)
    """
    if not 0 <= events <= n:
        raise EstimationError(f"misuse_rate needs 0 <= events <= n; got events={events}, n={n}.")
    a, b = prior[0] + events, prior[1] + n - events
    post = stats.beta(a, b)
    lo, hi = (float(v) for v in post.ppf([(1 - CI_LEVEL) / 2, (1 + CI_LEVEL) / 2]))
    pop = n if population is None else population
    counts = stats.betabinom(pop, a, b)
    ev_ci = tuple(float(v) for v in counts.ppf([(1 - CI_LEVEL) / 2, (1 + CI_LEVEL) / 2]))
    cost = float("nan") if cost_per_event is None else float(cost_per_event)
    return MisusePosterior(
        events=events,
        n=n,
        alpha=a,
        beta=b,
        mean=float(post.mean()),
        median=float(post.median()),
        ci_low=lo,
        ci_high=hi,
        tolerance=tolerance,
        p_above_tolerance=float(post.sf(tolerance)),
        population=pop,
        expected_events=float(counts.mean()),
        events_ci=(ev_ci[0], ev_ci[1]),
        expected_cost=float(counts.mean()) * cost,
        cost_ci=(ev_ci[0] * cost, ev_ci[1] * cost),
    )

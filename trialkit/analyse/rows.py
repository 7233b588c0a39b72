"""The rows of the results document: one frozen, typed model per kind of result.

Every field the report shows is declared here, so a stale or edited ``results.json`` fails
to load with the field's path instead of leaving a blank cell. Numbers that may be
undefined (an ICC from one row per cluster, a Monte Carlo SE of an exact test) are
``float | None``; ``None`` is written as JSON ``null``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from trialkit.estimate.verdicts import Verdict
from trialkit.protocol.vocabulary import DecisionEvent, EstimandType, FamilyKind

Number = float | None


class Row(BaseModel):
    """Base of every document row: unknown keys are errors; rows are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class EstimateRow(Row):
    """One frequentist contrast of ``arm`` against ``versus``, estimatr vocabulary.

    ``versus`` is the control arm, or another treated arm for a pre-registered pairwise
    contrast (never adjusted for multiplicity). ``adjusted_for`` lists the covariates the
    model adjusted for (empty: unadjusted); ``p_adjusted`` is the p-value after the
    family's multiplicity adjustment (``adjustment``), equal to ``p_value`` when the family
    or the contrast is not adjusted. ``r_squared`` to ``f_p_value`` describe the whole
    regression the contrast came from, as estimatr's ``glance`` does (R², adjusted R², the
    robust Wald F of every slope and its df); ``None`` for difference in means and GLMs.
    """

    outcome: str
    arm: str
    versus: str
    estimand: EstimandType
    estimator: str
    term: str
    estimate: float
    std_error: float
    statistic: Number
    df: Number
    p_value: float
    ci_low: float
    ci_high: float
    ci_level: float
    se_type: str
    n_obs: int
    n_clusters: int | None
    family: str
    p_adjusted: float
    adjustment: str
    adjusted_for: tuple[str, ...] = ()
    r_squared: Number = None
    adj_r_squared: Number = None
    f_statistic: Number = None
    f_df_num: int | None = None
    f_df_denom: Number = None
    f_p_value: Number = None


class IndexRow(Row):
    """A family's summary index (Anderson or Kling–Liebman–Katz), one arm against control."""

    family: str
    kind: FamilyKind
    method: str
    arm: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    n_outcomes: int
    adjusted_for: tuple[str, ...] = ()


class SubgroupRow(Row):
    """The effect of one arm within one level of a pre-specified subgroup.

    ``n`` counts the level's observations in every arm; ``n_arm`` and ``n_control`` those of
    the row's arm and of the control arm within the level.
    """

    outcome: str
    arm: str
    subgroup: str
    label: str
    equity: bool
    level_value: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
    heterogeneity_p: Number
    adjusted_for: tuple[str, ...] = ()
    n_arm: int | None = None
    n_control: int | None = None


class EffectSizeRow(Row):
    """Hedges' g of one arm against control (total SD), its interval, and the outcome's ICC
    with Searle's F-based interval at the plan's level (``icc_ci_low``, ``icc_ci_high``)."""

    outcome: str
    arm: str
    hedges_g: Number
    g_ci_low: Number = None
    g_ci_high: Number = None
    sd_pooled: Number = None
    icc: Number = None
    icc_ci_low: Number = None
    icc_ci_high: Number = None


class DescriptiveRow(Row):
    """N, mean and SD of one outcome in one arm (CONSORT 2025 item 26).

    For a time-to-event outcome ``statistic`` is ``rmst``: ``mean`` is the arm's
    Kaplan–Meier restricted mean time up to the horizon, and ``sd`` is undefined.
    """

    outcome: str
    arm: str
    n: int
    mean: Number
    sd: Number
    statistic: Literal["mean", "rmst"] = "mean"


class KaplanMeierRow(Row):
    """One arm's Kaplan–Meier curve of a time-to-event outcome, with numbers at risk."""

    outcome: str
    arm: str
    times: tuple[float, ...]
    survival: tuple[float, ...]
    ci_low: tuple[float, ...]
    ci_high: tuple[float, ...]
    ci_level: float
    at: tuple[float, ...]
    n_at_risk: tuple[int, ...]
    survival_at: tuple[float, ...]
    n_obs: int
    n_events: int
    n_competing: int
    rmst: float
    horizon: float


class HazardRatioRow(Row):
    """The Cox hazard ratio of one arm against control, with the proportional-hazards check.

    Cause-specific (competing events censored); robust SEs clustered on the unit of
    randomisation without small-sample correction (``se_type`` CR0): supporting evidence
    beside the registered RMST difference.
    """

    outcome: str
    arm: str
    estimate: float
    std_error: float
    p_value: float
    hazard_ratio: float
    hr_ci_low: float
    hr_ci_high: float
    ci_level: float
    ph_p_value: Number
    se_type: str
    n_obs: int
    n_events: int


class RandomisationRow(Row):
    """Randomisation inference for one outcome and arm (ri2 conventions).

    ``p_value`` is ri2's two-tailed p; ``p_upper`` and ``p_lower`` its one-sided ``upper``
    (a statistic at least the observed one) and ``lower`` (at most) p-values.
    """

    outcome: str
    arm: str
    observed: float
    p_value: float
    mc_se: Number
    ci_low: Number
    ci_high: Number
    draws: int
    exact: bool
    design: str
    null_sample: tuple[float, ...]
    p_upper: Number = None
    p_lower: Number = None


class FewClusterRow(Row):
    """A small-sample check of one primary ITT contrast, shown when clusters are few.

    ``method`` is ``CR3`` (the leave-one-cluster-out jackknife, G − 1 df) or
    ``wild_cluster_bootstrap`` (restricted, Webb weights, CR1 t: ``std_error`` and
    ``statistic`` are CR1's, ``df`` is ``None``, the interval inverts the test and a bound
    is ``None`` where it is unbounded). Both refit the registered model (``estimator``).
    ``disagrees`` is true when the check and the registered ``registered_p_value`` (both
    before multiplicity adjustment) fall on different sides of the plan's alpha.
    """

    outcome: str
    arm: str
    method: Literal["CR3", "wild_cluster_bootstrap"]
    estimator: str
    estimate: float
    std_error: float
    statistic: Number
    df: Number
    p_value: float
    ci_low: Number
    ci_high: Number
    ci_level: float
    draws: int | None
    n_clusters: int
    registered_p_value: float
    disagrees: bool


class PosteriorRow(Row):
    """The posterior of one outcome's effect for one arm, on the natural scale.

    ``p_benefit`` is P(effect in the direction of benefit); ``p_mid`` P(at least the MID);
    ``p_harm`` P(harm beyond the outcome's harm margin); ``p_rope`` P(inside the band too
    small to matter). ``model`` names the likelihood family and ``prior`` the effect prior.
    ``versus`` is the control, or another treated arm for a pre-registered pairwise contrast
    (the difference of the two arms' draws). A time-to-event outcome's row is on the scale
    of the discrete-time hazard model (``scale`` ``log_odds_ratio``), with the hazard-odds
    ratio's median and interval in ``ratio_*``; ``p_benefit`` is the chance of fewer events.
    """

    outcome: str
    arm: str
    versus: str
    term: str
    scale: str
    model: str
    mean: float
    median: float
    sd: float
    ci_low: float
    ci_high: float
    ci_level: float
    p_benefit: float
    p_mid: Number
    p_harm: Number
    p_rope: Number
    r_hat: Number
    ess_bulk: Number
    divergences: int
    passed: bool
    advice: str
    sampler: str
    prior: str
    n_obs: int
    draws_sample: tuple[float, ...]
    ratio_median: Number = None
    ratio_ci_low: Number = None
    ratio_ci_high: Number = None


class ConditionRow(Row):
    """One condition of a decision rule, evaluated for one arm."""

    outcome: str
    arm: str
    event: DecisionEvent
    margin: float
    probability: float
    bound: Literal["at_least", "at_most"]
    threshold: float
    met: bool


class DecisionRow(Row):
    """A pre-registered decision rule: met only if every condition is met for every arm."""

    rule: str
    action: str
    otherwise: str
    met: bool
    conditions: tuple[ConditionRow, ...]


class NetBenefitPart(Row):
    """One valued outcome's contribution to net benefit."""

    outcome: str
    value_per_unit: float
    people_per_unit: float


class NetBenefitRow(Row):
    """Posterior net monetary benefit of one arm against control, in ``currency``.

    Per randomised unit: the sum over valued outcomes of the effect (oriented so positive
    is good) × its money value × people per unit, less the arm's extra cost per unit.
    ``aggregate_*`` multiply by ``units``. Outcomes' posteriors are combined as independent.
    """

    arm: str
    currency: str
    unit: str
    units: int
    extra_cost_per_unit: float
    per_unit_mean: float
    per_unit_ci_low: float
    per_unit_ci_high: float
    aggregate_mean: float
    aggregate_ci_low: float
    aggregate_ci_high: float
    ci_level: float
    p_positive: float
    parts: tuple[NetBenefitPart, ...]


class VerdictRow(Row):
    """What the registered criterion says of one primary outcome and arm, in each school.

    ``frequentist``: ``benefit`` or ``harm`` when the (family-adjusted) two-sided p-value
    of the registered ITT estimate is below alpha, in the direction of its sign; else
    ``unclear``. ``adjustment`` names the family's method (``westfall_young``: the p-value
    is from re-randomising the family, not from the model). ``bayesian``: ``benefit`` when
    P(benefit) ≥ 1 − alpha/2, ``harm`` when P(benefit) ≤ alpha/2 (the one-sided
    counterparts of the same test); else ``unclear``; ``None`` without a posterior.
    ``disagree`` is true when both exist and their verdicts or the signs of their
    estimates differ.
    """

    outcome: str
    arm: str
    alpha: float
    frequentist: Verdict
    estimate: float
    p_value: float
    adjusted: bool
    adjustment: str = "none"
    bayesian: Verdict | None = None
    posterior_mean: Number = None
    p_benefit: Number = None
    disagree: bool = False
    sign_differs: bool = False

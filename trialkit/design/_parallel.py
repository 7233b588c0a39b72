"""Parallel-arm designs (individual or cluster randomised): the shared variance model.

For ``J`` clusters of analysed size ``m`` with a share ``s_t`` of clusters in a treatment arm
and ``s_c`` in control, the ITT estimate's variance is (Bloom 2006; Dong & Maynard 2013,
PowerUp! CRA2_2, extended to unequal cluster sizes with Eldridge et al. 2006's
``(1 + cv²)``)::

    Var = (v_t / (J s_t) + v_c / (J s_c)) * ((1 - ICC)(1 - R²₁) / m + ICC (1 - R²₂)(1 + cv²))

with per-unit variances ``v_t, v_c`` on the test scale and df ``J − k − g`` (``k`` arms,
``g`` covariates). Without covariates and with equal arms this is Eldridge's design
effect ``1 + ((cv² + 1) m − 1) ICC`` times the variance of an individually randomised
trial. An individually randomised trial is the case ``m = 1``, ``ICC = 0``, ``J = n``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trialkit.design._checks import (
    InvalidParameterError,
    NoSolutionError,
    check_int,
    check_option,
    check_real,
)
from trialkit.design._engine import Adjustment, Distribution, MdeMethod, Problem, comparison_alpha
from trialkit.design.outcomes import BinaryOutcome, ContinuousOutcome, Outcome, result_fields
from trialkit.design.results import PowerResult, SolveFor
from trialkit.protocol.vocabulary import DesignType


@dataclass(frozen=True, slots=True)
class Parallel:
    """Validated inputs of a parallel design, apart from the three unknowns."""

    design: DesignType
    outcome: Outcome
    icc: float
    cv: float
    r2_individual: float
    r2_cluster: float
    covariates: int
    alpha: float
    treated_share: float
    control_share: float
    n_arms: int
    adjustment: Adjustment
    attrition: float
    cluster_attrition: float
    compliance: float
    normal: bool
    mde_method: MdeMethod

    @property
    def alpha_per_comparison(self) -> float:
        shares = self.treated_share + self.control_share
        return comparison_alpha(
            self.alpha, self.n_arms - 1, self.adjustment, self.treated_share / shares
        )

    def analysed(self, clusters: float, size: float) -> tuple[float, float]:
        """Analysed (clusters or units, cluster size): attrition removes units and clusters."""
        keep = 1.0 - self.attrition
        if self.design == "individual":
            return clusters * keep, 1.0
        return clusters * (1.0 - self.cluster_attrition), size * keep

    def factor(self, size: float) -> float:
        """Variance per cluster, in units of the total per-unit variance."""
        within = (1 - self.icc) * (1 - self.r2_individual) / size
        return within + self.icc * (1 - self.r2_cluster) * (1 + self.cv**2)

    def se(self, clusters: float, size: float, effect: float) -> float:
        j, m = self.analysed(clusters, size)
        v_t, v_c = self.outcome.variances(self.compliance * effect)
        arms = v_t / (j * self.treated_share) + v_c / (j * self.control_share)
        return math.sqrt(arms * self.factor(m))

    def df(self, clusters: float) -> float | None:
        if self.normal:
            return None
        return self.analysed(clusters, 1.0)[0] - self.n_arms - self.covariates

    def null_ratio(self, effect: float) -> float:
        """SE under the null over SE under the alternative (1 unless the null is pooled)."""
        itt = self.compliance * effect
        s_t, s_c = self.treated_share, self.control_share
        v_0 = self.outcome.null_variance(itt, s_t, s_c)
        if v_0 is None:
            return 1.0
        v_t, v_c = self.outcome.variances(itt)
        return math.sqrt(v_0 * (1 / s_t + 1 / s_c) / (v_t / s_t + v_c / s_c))

    def problem(self) -> Problem:
        pooled = isinstance(self.outcome, BinaryOutcome) and self.outcome.method == "pooled"
        return Problem(
            se=self.se,
            test_effect=lambda e: self.outcome.test_effect(self.compliance * e),
            df=self.df,
            alpha=self.alpha_per_comparison,
            null_ratio=self.null_ratio if pooled else None,
        )

    def min_clusters(self) -> float:
        """Smallest cluster (or unit) count with at least one df and a unit in every arm."""
        need = self.n_arms + self.covariates + (0.0 if self.normal else 1.0)
        smallest_share = min(self.treated_share, self.control_share)
        need = max(need, 1.0 / smallest_share)
        lost = self.attrition if self.design == "individual" else self.cluster_attrition
        return need / (1.0 - lost)


def solve(
    setup: Parallel,
    *,
    effect: float | None,
    clusters: float | None,
    size: float | None,
    power: float | None,
    unknown: SolveFor,
) -> PowerResult:
    """Solve the parallel design for ``unknown`` and build the result."""
    problem = setup.problem()
    exact: float | None = None
    if unknown == "effect":
        assert clusters is not None and size is not None and power is not None
        far = setup.outcome.effect_bounds(problem.se(clusters, size, 0.0))[1]
        effect = problem.solve_effect(
            power, clusters, size, bounds=(0.0, far / setup.compliance), method=setup.mde_method
        )
    elif unknown in ("n", "clusters"):
        assert effect is not None and size is not None and power is not None
        problem.require_effect(effect, power)
        e, m = effect, size
        exact = problem.solve_size(
            power,
            lambda j: problem.power(e, j, m),
            low=setup.min_clusters(),
            what="number of clusters" if unknown == "clusters" else "number of units",
        )
        clusters = float(math.ceil(exact - 1e-9))
    elif unknown == "cluster_size":
        assert effect is not None and clusters is not None and power is not None
        exact = _solve_cluster_size(setup, problem, effect, clusters, power)
        size = float(math.ceil(exact - 1e-9))
    assert effect is not None and clusters is not None and size is not None
    return _result(
        setup, problem, effect=effect, clusters=clusters, size=size, unknown=unknown, exact=exact
    )


def _solve_cluster_size(
    setup: Parallel, problem: Problem, effect: float, clusters: float, power: float
) -> float:
    problem.require_effect(effect, power)
    ceiling = problem.power(effect, clusters, math.inf)
    if ceiling < power:
        floor = setup.icc * (1 - setup.r2_cluster) * (1 + setup.cv**2)
        raise NoSolutionError(
            f"No cluster size reaches {power:.0%} power with {clusters:g} clusters: the "
            f"cluster-level variance floor ICC·(1 − R²₂)·(1 + cv²) = {floor:.4g} caps power "
            f"at {ceiling:.1%} however large the clusters are. Fix: add clusters, explain "
            "cluster-level variance with cluster covariates (r2_cluster), or plan for a "
            "larger effect."
        )
    return problem.solve_size(
        power, lambda m: problem.power(effect, clusters, m), low=1.0, what="cluster size"
    )


def _result(
    setup: Parallel,
    problem: Problem,
    *,
    effect: float,
    clusters: float,
    size: float,
    unknown: SolveFor,
    exact: float | None,
) -> PowerResult:
    outcome = setup.outcome
    p_control, p_treatment, sd, binary_method = result_fields(outcome, effect)
    individual = setup.design == "individual"
    j, m = setup.analysed(clusters, size)
    n_units = round(clusters) if individual else round(clusters * size)
    n_analysed = j if individual else j * m
    design_effect = 1.0 + ((setup.cv**2 + 1) * m - 1) * setup.icc
    return PowerResult(
        design=setup.design,
        outcome=outcome.kind,
        solved_for=unknown,
        power=problem.power(effect, clusters, size),
        effect=effect,
        standardised_effect=outcome.standardise(effect),
        p_control=p_control,
        p_treatment=p_treatment,
        sd=sd,
        binary_method=binary_method,
        alpha=setup.alpha,
        alpha_per_comparison=setup.alpha_per_comparison,
        adjustment=setup.adjustment,
        n_arms=setup.n_arms,
        treated_share=setup.treated_share,
        control_share=setup.control_share,
        n_units=n_units,
        n_analysed=n_analysed,
        n_clusters=None if individual else round(clusters),
        cluster_size=None if individual else size,
        steps=None,
        periods=None,
        icc=setup.icc,
        cv=setup.cv,
        r2_individual=setup.r2_individual,
        r2_cluster=setup.r2_cluster,
        covariates=setup.covariates,
        attrition=setup.attrition,
        cluster_attrition=setup.cluster_attrition,
        compliance=setup.compliance,
        design_effect=design_effect,
        effective_n=n_analysed / design_effect,
        df=problem.df(clusters),
        std_error=problem.se(clusters, size, effect),
        test=describe_test(outcome, normal=setup.normal),
        mde_method=setup.mde_method,
        size_exact=exact,
    )


def describe_test(outcome: Outcome, *, normal: bool) -> str:
    """The test and the power method in words."""
    if isinstance(outcome, BinaryOutcome):
        scale = {
            "arcsine": "Cohen's h (arcsine transformation)",
            "unpooled": "the risk difference, Wald test with unpooled variance",
            "pooled": "the risk difference, pooled variance under the null (Fleiss)",
        }[outcome.method]
    else:
        scale = "the difference in means"
    if normal:
        return f"two-sided z test of {scale}; power from the normal distribution"
    return f"two-sided t test of {scale}; power from the noncentral t distribution"


def make(
    func: str,
    *,
    design: DesignType,
    outcome: Outcome,
    icc: float = 0.0,
    cv: float = 0.0,
    r2_individual: float = 0.0,
    r2_cluster: float = 0.0,
    covariates: int = 0,
    alpha: float,
    treated_share: float | None,
    control_share: float | None = None,
    n_arms: int,
    adjustment: str,
    attrition: float,
    cluster_attrition: float = 0.0,
    compliance: float,
    dist: str | None,
    mde_method: str,
) -> Parallel:
    """Check every shared parameter (messages name ``func``) and build the setup."""
    if not isinstance(outcome, ContinuousOutcome | BinaryOutcome):
        raise InvalidParameterError(
            f"The 'outcome' parameter of {func} must be a ContinuousOutcome or a "
            f"BinaryOutcome. Got {outcome!r} instead."
        )
    arms, share, control = arm_shares(n_arms, treated_share, control_share, func=func)
    dist = dist or ("normal" if isinstance(outcome, BinaryOutcome) else "t")
    return Parallel(
        design=design,
        outcome=outcome,
        icc=check_real("icc", icc, 0.0, 1.0, closed="left", func=func),
        cv=check_real("cv", cv, 0.0, math.inf, closed="left", func=func),
        r2_individual=check_real(
            "r2_individual", r2_individual, 0.0, 1.0, closed="left", func=func
        ),
        r2_cluster=check_real("r2_cluster", r2_cluster, 0.0, 1.0, closed="left", func=func),
        covariates=check_int("covariates", covariates, 0, func=func),
        alpha=check_real("alpha", alpha, 0.0, 1.0, closed="neither", func=func),
        treated_share=share,
        control_share=control,
        n_arms=arms,
        adjustment=check_option("adjustment", adjustment, Adjustment, func=func),  # type: ignore[arg-type]
        attrition=check_real("attrition", attrition, 0.0, 1.0, closed="left", func=func),
        cluster_attrition=check_real(
            "cluster_attrition", cluster_attrition, 0.0, 1.0, closed="left", func=func
        ),
        compliance=check_real("compliance", compliance, 0.0, 1.0, closed="right", func=func),
        normal=check_option("dist", dist, Distribution, func=func) == "normal",
        mde_method=check_option("mde_method", mde_method, MdeMethod, func=func),  # type: ignore[arg-type]
    )


def arm_shares(
    n_arms: int, treated_share: float | None, control_share: float | None, *, func: str
) -> tuple[int, float, float]:
    """Checked ``(n_arms, treated_share, control_share)``; shares default to equal arms."""
    arms = check_int("n_arms", n_arms, 2, func=func)
    share = 1.0 / arms if treated_share is None else treated_share
    if control_share is None:
        share = check_real("treated_share", share, 0.0, 1 / (arms - 1), closed="neither", func=func)
        return arms, share, 1.0 - (arms - 1) * share
    # Treatment arms may differ in size: only this arm and control are constrained.
    share = check_real("treated_share", share, 0.0, 1.0, closed="neither", func=func)
    control = check_real(
        "control_share", control_share, 0.0, 1.0 - share, closed="right", func=func
    )
    return arms, share, control


def check_effect(outcome: Outcome, effect: float | None, *, func: str) -> float | None:
    """Check a given effect: finite, and a risk difference inside (−p_c, 1 − p_c)."""
    if effect is None:
        return None
    if isinstance(outcome, BinaryOutcome):
        p_c = outcome.p_control
        return check_real("effect", effect, -p_c, 1.0 - p_c, closed="neither", func=func)
    return check_real("effect", effect, -math.inf, math.inf, closed="neither", func=func)

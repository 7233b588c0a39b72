"""Cluster-randomised trials: solve for power, clusters, cluster size or the MDE."""

from __future__ import annotations

import math

from trialkit.design import _parallel
from trialkit.design._checks import check_one_unknown, check_real
from trialkit.design.outcomes import ContinuousOutcome, Outcome
from trialkit.design.results import PowerResult, SolveFor

_FUNC = "solve_cluster"


def solve_cluster(
    effect: float | None = None,
    clusters: float | None = None,
    cluster_size: float | None = None,
    power: float | None = None,
    *,
    icc: float,
    outcome: Outcome | None = None,
    cv: float = 0.0,
    alpha: float = 0.05,
    r2_individual: float = 0.0,
    r2_cluster: float = 0.0,
    covariates: int = 0,
    treated_share: float | None = None,
    control_share: float | None = None,
    n_arms: int = 2,
    adjustment: str = "bonferroni",
    attrition: float = 0.0,
    cluster_attrition: float = 0.0,
    compliance: float = 1.0,
    dist: str | None = None,
    mde_method: str = "exact",
) -> PowerResult:
    """Solve a cluster-randomised trial for whichever of the four quantities is None.

    The variance follows Bloom (2006) and PowerUp!'s CRA2_2 model (Dong & Maynard 2013),
    ``(1/(J s_t) + 1/(J s_c)) · (ICC(1 − R²₂)(1 + cv²) + (1 − ICC)(1 − R²₁)/m)`` in units of
    the outcome's total variance, where the ``(1 + cv²)`` term carries Eldridge et al.
    (2006)'s design effect for unequal cluster sizes. The test has ``J − n_arms −
    covariates`` degrees of freedom.

    Parameters
    ----------
    effect
        Effect of receiving treatment (outcome units, or a risk difference); ``None`` to
        solve for the MDE.
    clusters
        Clusters, all arms together; ``None`` to solve for it.
    cluster_size
        Mean units recruited per cluster; ``None`` to solve for it.
    power
        Target or achieved power; ``None`` to solve for it.
    icc
        Intra-cluster correlation of the outcome, in [0, 1). There is no default: Stata's
        ``power twomeans, cluster`` assumes 0.5, which is rarely right, so say what you assume.
    outcome
        :class:`ContinuousOutcome` (default ``sd=1``) or :class:`BinaryOutcome`.
    cv
        Coefficient of variation of cluster sizes (0 for equal sizes).
    alpha
        Two-sided family-wise significance level.
    r2_individual, r2_cluster
        Shares of within- and between-cluster variance explained by covariates.
    covariates
        Cluster-level covariates taken off the df (PowerUp!'s ``g*``).
    treated_share, control_share
        Shares of clusters in each treatment arm and in control; defaults ``1 / n_arms``
        and whatever the treatment arms leave.
    n_arms, adjustment
        Arms including control, and the multiplicity adjustment across the ``n_arms − 1``
        treatment-versus-control comparisons (``"bonferroni"``, ``"dunnett"``, ``"none"``).
    attrition
        Expected share of units lost; it shrinks the analysed cluster size.
    cluster_attrition
        Expected share of whole clusters lost (analysed clusters ``J (1 − loss)``).
    compliance
        Share of the treated arm taking up treatment; MDE = ITT MDE / compliance.
    dist
        ``"t"`` or ``"normal"``; default ``"t"`` for continuous, ``"normal"`` for binary.
    mde_method
        ``"exact"`` (power at the MDE equals the target) or ``"multiplier"`` (PowerUp!'s
        ``M · SE`` with ``M = t_{1−α/2} + t_{power}`` on the design's df).

    Returns
    -------
    PowerResult
        The solved design; solved sizes are rounded up and ``size_exact`` keeps the root.

    Raises
    ------
    InvalidParameterError
        When a parameter is out of range or not exactly one quantity is None.
    NoSolutionError
        When nothing reaches the target, e.g. a cluster size when the cluster-level
        variance alone keeps power below it.

    Examples
    --------
    >>> result = solve_cluster(effect=0.25, cluster_size=20, power=0.8, icc=0.1)
    >>> result.n_clusters, round(result.design_effect, 2)
    (75, 2.9)
    """
    values: dict[str, object] = {
        "effect": effect,
        "clusters": clusters,
        "cluster_size": cluster_size,
        "power": power,
    }
    unknown: SolveFor = check_one_unknown(values, func=_FUNC)  # type: ignore[assignment]
    setup = _parallel.make(
        _FUNC,
        design="cluster",
        outcome=outcome if outcome is not None else ContinuousOutcome(),
        icc=icc,
        cv=cv,
        r2_individual=r2_individual,
        r2_cluster=r2_cluster,
        covariates=covariates,
        alpha=alpha,
        treated_share=treated_share,
        control_share=control_share,
        n_arms=n_arms,
        adjustment=adjustment,
        attrition=attrition,
        cluster_attrition=cluster_attrition,
        compliance=compliance,
        dist=dist,
        mde_method=mde_method,
    )
    if power is not None:
        power = check_real(
            "power", power, setup.alpha_per_comparison, 1.0, closed="neither", func=_FUNC
        )
    j = (
        None
        if clusters is None
        else check_real(
            "clusters", clusters, setup.min_clusters(), math.inf, closed="left", func=_FUNC
        )
    )
    m = (
        None
        if cluster_size is None
        else check_real("cluster_size", cluster_size, 1.0, math.inf, closed="left", func=_FUNC)
    )
    effect = _parallel.check_effect(setup.outcome, effect, func=_FUNC)
    return _parallel.solve(setup, effect=effect, clusters=j, size=m, power=power, unknown=unknown)

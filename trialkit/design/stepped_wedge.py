"""Cross-sectional stepped-wedge trials: Hussey & Hughes (2007) variance and power.

Model: ``y_ijk = mu + beta_j + theta X_ij + a_i + e_ijk`` with cluster effects
``a_i ~ N(0, tau²)``, errors ``e_ijk ~ N(0, sigma_e²)``, fixed period effects and ``m``
new individuals per cluster-period. With ``sigma² = sigma_e² / m`` the variance of the
GLS estimate of theta is (Hussey & Hughes 2007, eq. 8)::

    Var = I sigma² (sigma² + T tau²) / ((I U − W) sigma² + (U² + I T U − T W − I V) tau²)

where ``U = Σ X_ij``, ``W = Σ_j (Σ_i X_ij)²`` and ``V = Σ_i (Σ_j X_ij)²``. With an ICC
``rho`` and per-unit variance ``v``: ``tau² = rho v`` and ``sigma_e² = (1 − rho) v``. Power
is two-sided from the normal distribution, as in Hussey & Hughes and swCRTdesign.
"""

from __future__ import annotations

import math

from trialkit.design import _parallel
from trialkit.design._checks import (
    InvalidParameterError,
    check_int,
    check_one_unknown,
    check_real,
)
from trialkit.design._engine import Problem
from trialkit.design._hussey_hughes import (
    hussey_hughes_variance,
    standard_design,
    standard_variance,
)
from trialkit.design.outcomes import ContinuousOutcome, Outcome, result_fields
from trialkit.design.results import PowerResult, SolveFor

_FUNC = "solve_stepped_wedge"

__all__ = ["hussey_hughes_variance", "solve_stepped_wedge", "standard_design"]


def solve_stepped_wedge(
    effect: float | None = None,
    clusters: int | None = None,
    cluster_size: float | None = None,
    power: float | None = None,
    *,
    steps: int,
    icc: float,
    periods: int | None = None,
    outcome: Outcome | None = None,
    alpha: float = 0.05,
    attrition: float = 0.0,
    compliance: float = 1.0,
) -> PowerResult:
    """Solve a cross-sectional stepped-wedge trial for whichever quantity is None.

    Parameters
    ----------
    effect
        Effect of receiving treatment (outcome units, or a risk difference); ``None`` for
        the MDE.
    clusters
        Clusters, a multiple of ``steps``; ``None`` to solve (rounded up to a multiple).
    cluster_size
        Units measured per cluster per period; ``None`` to solve for it.
    power
        Target or achieved power; ``None`` to solve for it.
    steps
        Number of sequences (crossover steps), at least 1.
    icc
        Within-period intra-cluster correlation, in [0, 1).
    periods
        Measurement periods; default ``steps + 1``; extra periods are added at the end.
    outcome
        :class:`ContinuousOutcome` (default ``sd=1``) or :class:`BinaryOutcome`; for a binary
        ``"unpooled"`` outcome the per-unit variance is ``p̄(1 − p̄)`` as in swCRTdesign.
    alpha
        Two-sided significance level.
    attrition
        Expected share of units per cluster-period without an outcome.
    compliance
        Share of treated cluster-periods' units taking up treatment; MDE = ITT MDE /
        compliance.

    Returns
    -------
    PowerResult
        The solved design; ``n_units = clusters · periods · cluster_size``.

    Raises
    ------
    InvalidParameterError
        When a parameter is out of range or not exactly one quantity is None.
    NoSolutionError
        When nothing reaches the target.

    Examples
    --------
    >>> r = solve_stepped_wedge(effect=0.3, clusters=8, cluster_size=20, steps=4, icc=0.05)
    >>> round(r.power, 3)
    0.708
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
        design="stepped_wedge",
        outcome=outcome if outcome is not None else ContinuousOutcome(),
        icc=icc,
        alpha=alpha,
        treated_share=None,
        n_arms=2,
        adjustment="none",
        attrition=attrition,
        compliance=compliance,
        dist="normal",
        mde_method="exact",
    )
    steps = check_int("steps", steps, 1, func=_FUNC)
    periods = steps + 1 if periods is None else check_int("periods", periods, steps + 1, func=_FUNC)
    if clusters is not None:
        check_int("clusters", clusters, steps, func=_FUNC)
        if clusters % steps:
            raise InvalidParameterError(
                f"The 'clusters' parameter of {_FUNC} must be a multiple of 'steps' "
                f"({steps}). Got {clusters!r} instead."
            )
    if cluster_size is not None:
        check_real("cluster_size", cluster_size, 1.0, math.inf, closed="left", func=_FUNC)
    if power is not None:
        power = check_real("power", power, setup.alpha, 1.0, closed="neither", func=_FUNC)
    effect = _parallel.check_effect(setup.outcome, effect, func=_FUNC)
    problem = _problem(setup, steps, periods)
    return _solve(
        setup,
        problem,
        steps,
        periods,
        effect=effect,
        clusters=clusters,
        size=cluster_size,
        power=power,
        unknown=unknown,
    )


def _problem(setup: _parallel.Parallel, steps: int, periods: int) -> Problem:
    outcome = setup.outcome

    def se(clusters: float, size: float, effect: float) -> float:
        v = outcome.pooled_variance(setup.compliance * effect)
        m = size * (1.0 - setup.attrition)
        sigma2 = (1.0 - setup.icc) * v / m
        return math.sqrt(standard_variance(clusters, steps, periods, sigma2, setup.icc * v))

    return Problem(
        se=se,
        test_effect=lambda e: outcome.test_effect(setup.compliance * e),
        df=lambda _: None,
        alpha=setup.alpha,
    )


def _solve(
    setup: _parallel.Parallel,
    problem: Problem,
    steps: int,
    periods: int,
    *,
    effect: float | None,
    clusters: float | None,
    size: float | None,
    power: float | None,
    unknown: SolveFor,
) -> PowerResult:
    exact: float | None = None
    if unknown == "effect":
        assert clusters is not None and size is not None and power is not None
        far = setup.outcome.effect_bounds(problem.se(clusters, size, 0.0))[1]
        effect = problem.solve_effect(
            power, clusters, size, bounds=(0.0, far / setup.compliance), method="exact"
        )
    elif unknown == "clusters":
        assert effect is not None and size is not None and power is not None
        problem.require_effect(effect, power)
        e, m = effect, size
        exact = problem.solve_size(
            power, lambda j: problem.power(e, j, m), low=float(steps), what="number of clusters"
        )
        clusters = float(steps * math.ceil(exact / steps - 1e-9))
    elif unknown == "cluster_size":
        assert effect is not None and clusters is not None and power is not None
        problem.require_effect(effect, power)
        e, j = effect, clusters
        exact = problem.solve_size(
            power, lambda m: problem.power(e, j, m), low=1.0, what="cluster size"
        )
        size = float(math.ceil(exact - 1e-9))
    assert effect is not None and clusters is not None and size is not None
    return _result(
        setup,
        problem,
        steps,
        periods,
        effect=effect,
        clusters=clusters,
        size=size,
        unknown=unknown,
        exact=exact,
    )


def _result(
    setup: _parallel.Parallel,
    problem: Problem,
    steps: int,
    periods: int,
    *,
    effect: float,
    clusters: float,
    size: float,
    unknown: SolveFor,
    exact: float | None,
) -> PowerResult:
    outcome = setup.outcome
    p_control, p_treatment, sd, binary_method = result_fields(outcome, effect)
    se = problem.se(clusters, size, effect)
    n_analysed = clusters * periods * size * (1.0 - setup.attrition)
    per_unit = outcome.pooled_variance(setup.compliance * effect)
    design_effect = se**2 * n_analysed / (4.0 * per_unit)
    treated = sum(periods - s for s in range(1, steps + 1)) / (steps * periods)
    return PowerResult(
        design="stepped_wedge",
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
        alpha_per_comparison=setup.alpha,
        adjustment="none",
        n_arms=2,
        treated_share=treated,
        control_share=1.0 - treated,
        n_units=round(clusters * periods * size),
        n_analysed=n_analysed,
        n_clusters=round(clusters),
        cluster_size=size,
        steps=steps,
        periods=periods,
        icc=setup.icc,
        cv=0.0,
        r2_individual=0.0,
        r2_cluster=0.0,
        covariates=0,
        attrition=setup.attrition,
        cluster_attrition=0.0,
        compliance=setup.compliance,
        design_effect=design_effect,
        effective_n=n_analysed / design_effect,
        df=None,
        std_error=se,
        test="two-sided z test, Hussey & Hughes (2007) GLS variance; power from the normal "
        "distribution",
        mde_method="exact",
        size_exact=exact,
    )

"""Individually randomised trials: solve for power, the number of units or the MDE."""

from __future__ import annotations

from trialkit.design import _parallel
from trialkit.design._checks import check_one_unknown, check_real
from trialkit.design.outcomes import ContinuousOutcome, Outcome
from trialkit.design.results import PowerResult, SolveFor

_FUNC = "solve_individual"


def solve_individual(
    effect: float | None = None,
    n: float | None = None,
    power: float | None = None,
    *,
    outcome: Outcome | None = None,
    alpha: float = 0.05,
    r2: float = 0.0,
    covariates: int = 0,
    treated_share: float | None = None,
    control_share: float | None = None,
    n_arms: int = 2,
    adjustment: str = "bonferroni",
    attrition: float = 0.0,
    compliance: float = 1.0,
    dist: str | None = None,
    mde_method: str = "exact",
) -> PowerResult:
    """Solve an individually randomised trial for whichever of effect, n and power is None.

    Parameters
    ----------
    effect
        Effect of receiving treatment: a difference in outcome units (continuous) or a risk
        difference (binary). ``None`` to solve for the minimum detectable effect (MDE).
    n
        Units to recruit, all arms together. ``None`` to solve for it.
    power
        Target or achieved power. ``None`` to solve for it.
    outcome
        :class:`ContinuousOutcome` (default, ``sd=1``: effects in SD units) or
        :class:`BinaryOutcome`.
    alpha
        Two-sided family-wise significance level.
    r2
        Share of outcome variance explained by baseline covariates.
    covariates
        Number of covariates, taken off the degrees of freedom.
    treated_share, control_share
        Shares of all units in each treatment arm and in control; defaults ``1 / n_arms``
        and whatever the treatment arms leave.
    n_arms
        Arms including control; each treatment arm is compared with control.
    adjustment
        ``"bonferroni"`` (alpha / comparisons), ``"dunnett"`` (large-sample Dunnett critical
        value) or ``"none"``; only used with more than two arms.
    attrition
        Expected share of recruited units without an outcome; ``n`` is inflated for it.
    compliance
        Share of the treated arm that takes up treatment; the ITT effect is
        ``compliance * effect`` so the MDE is the ITT MDE divided by ``compliance``.
    dist
        ``"t"`` (noncentral t power, df ``n − n_arms − covariates``) or ``"normal"``;
        default ``"t"`` for continuous and ``"normal"`` for binary outcomes.
    mde_method
        ``"exact"`` inverts the power function, so the MDE has exactly the target power;
        ``"multiplier"`` returns Bloom's ``(t_{1−α/2} + t_{power}) · SE``.

    Returns
    -------
    PowerResult
        The solved design. A solved ``n`` is rounded up; ``size_exact`` keeps the root.

    Raises
    ------
    InvalidParameterError
        When a parameter is outside its range or not exactly one quantity is None.
    NoSolutionError
        When no value of the unknown reaches the target.

    Examples
    --------
    >>> result = solve_individual(effect=0.5, power=0.8)
    >>> result.n_units, round(result.size_exact, 2)
    (128, 127.53)
    >>> round(solve_individual(n=128, power=0.8).effect, 4)
    0.4991
    """
    values: dict[str, object] = {"effect": effect, "n": n, "power": power}
    unknown: SolveFor = check_one_unknown(values, func=_FUNC)  # type: ignore[assignment]
    setup = _parallel.make(
        _FUNC,
        design="individual",
        outcome=outcome if outcome is not None else ContinuousOutcome(),
        r2_individual=check_real("r2", r2, 0.0, 1.0, closed="left", func=_FUNC),
        covariates=covariates,
        alpha=alpha,
        treated_share=treated_share,
        control_share=control_share,
        n_arms=n_arms,
        adjustment=adjustment,
        attrition=attrition,
        compliance=compliance,
        dist=dist,
        mde_method=mde_method,
    )
    if power is not None:
        power = check_real(
            "power", power, setup.alpha_per_comparison, 1.0, closed="neither", func=_FUNC
        )
    if n is not None:
        n = check_real("n", n, setup.min_clusters(), float("inf"), closed="left", func=_FUNC)
    effect = _parallel.check_effect(setup.outcome, effect, func=_FUNC)
    return _parallel.solve(setup, effect=effect, clusters=n, size=1.0, power=power, unknown=unknown)

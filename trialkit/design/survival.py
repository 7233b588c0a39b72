"""Time-to-event outcomes: Schoenfeld's events formula, with the cluster design effect.

The log-rank test and the Cox model's test of a treatment indicator need

    D = (z_{1−α/2} + z_{power})² / (p_t p_c (log HR)²)

events between a treated arm and control with allocation shares ``p_t`` and ``p_c``
(Schoenfeld 1983, Biometrika 68:316–319 and Biometrics 39:499–503): the estimated log
hazard ratio has variance ``1 / (D p_t p_c)``. Read the other way, ``D`` expected events give
power ``Φ(|log HR| √(D p_t p_c) − z_{1−α/2})`` (plus the far rejection region, as everywhere
in this package).

Expected events come from the control share with the event by the horizon, ``rate``, and
the treated share it implies under proportional hazards, ``1 − (1 − rate)^HR``, among the
units analysed (attrition removes units and whole clusters as in :mod:`.cluster`).

With randomised clusters the variance is inflated by the design effect
``1 + ((1 + cv²) m̄ − 1) ICC`` (Eldridge et al. 2006 for unequal sizes), the form Xie &
Waksman (2003, Stat Med 22:2835–2846) and Li & Jung (2020, Stat Med 39:3608–3623) use for
clustered log-rank tests. Here ``icc`` is the intra-cluster correlation of the event
indicator "had the event by the horizon"; the robust (cluster) Cox test is governed by that
of the log-rank scores, which a shared-frailty simulation puts a few per cent higher
(tests/reference/design/test_design_survival_simulated.py). Effects and MDEs are hazard
ratios (treated over control).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from scipy import stats

from trialkit.design._checks import (
    InvalidParameterError,
    NoSolutionError,
    check_one_unknown,
    check_option,
    check_real,
)
from trialkit.design._engine import Adjustment, MdeMethod, Problem, comparison_alpha
from trialkit.design._parallel import arm_shares
from trialkit.design.outcomes import EffectDirection, OutcomeKind
from trialkit.design.results import PowerResult, SolveFor

_FUNC = "solve_survival"
_SOLVED: dict[str, SolveFor] = {"hazard_ratio": "effect", "n": "n", "power": "power"}
_FAR = {"decrease": 1e-6, "increase": 1e6}  # hazard ratios searched for an MDE
TEST = (
    "two-sided log-rank / Cox (Schoenfeld) test of the log hazard ratio; power from the "
    "normal distribution"
)


@dataclass(frozen=True, slots=True)
class SurvivalOutcome:
    """A time-to-event outcome: ``p_control`` of control units have the event by the horizon.

    Parameters
    ----------
    p_control
        Share of control units with the event by the horizon, in (0, 1).
    direction
        Whether an MDE is sought as a hazard ratio below 1 (``"decrease"``, fewer events)
        or above 1 (``"increase"``).

    Examples
    --------
    >>> round(SurvivalOutcome(0.5).p_treatment(0.7), 4)
    0.3844
    """

    p_control: float
    direction: EffectDirection = "decrease"

    kind: ClassVar[OutcomeKind] = "survival"

    def __post_init__(self) -> None:
        check_real("p_control", self.p_control, 0.0, 1.0, closed="neither", func="SurvivalOutcome")
        check_option("direction", self.direction, EffectDirection, func="SurvivalOutcome")

    def p_treatment(self, hazard_ratio: float) -> float:
        """Treated share with the event by the horizon, under proportional hazards."""
        return 1.0 - math.pow(1.0 - self.p_control, hazard_ratio)


def schoenfeld_events(
    hazard_ratio: float, power: float, *, alpha: float = 0.05, treated_share: float = 0.5
) -> float:
    """Events needed by a two-sided test of ``hazard_ratio`` (Schoenfeld 1983), unrounded.

    Examples
    --------
    >>> round(schoenfeld_events(0.5, 0.8), 2)
    65.35
    """
    func = "schoenfeld_events"
    hr = check_real("hazard_ratio", hazard_ratio, 0.0, math.inf, closed="neither", func=func)
    if hr == 1.0:
        raise NoSolutionError("No number of events detects a hazard ratio of 1.")
    a = check_real("alpha", alpha, 0.0, 1.0, closed="neither", func=func)
    p = check_real("power", power, a, 1.0, closed="neither", func=func)
    share = check_real("treated_share", treated_share, 0.0, 1.0, closed="neither", func=func)
    z = float(stats.norm.isf(a / 2) + stats.norm.ppf(p))
    return z**2 / (share * (1 - share) * math.log(hr) ** 2)


@dataclass(frozen=True, slots=True)
class _Setup:
    """Validated inputs of a survival design, apart from the three unknowns."""

    outcome: SurvivalOutcome
    cluster_size: float | None
    icc: float
    cv: float
    alpha: float
    treated_share: float
    control_share: float
    n_arms: int
    adjustment: Adjustment
    attrition: float
    cluster_attrition: float
    mde_method: MdeMethod

    @property
    def alpha_per_comparison(self) -> float:
        shares = self.treated_share + self.control_share
        return comparison_alpha(
            self.alpha, self.n_arms - 1, self.adjustment, self.treated_share / shares
        )

    def analysed(self, n: float) -> tuple[float, float]:
        """Analysed (clusters or units, cluster size) after attrition."""
        if self.cluster_size is None:
            return n * (1.0 - self.attrition), 1.0
        return n * (1.0 - self.cluster_attrition), self.cluster_size * (1.0 - self.attrition)

    def design_effect(self) -> float:
        if self.cluster_size is None:
            return 1.0
        m = self.analysed(1.0)[1]
        return 1.0 + ((1.0 + self.cv**2) * m - 1.0) * self.icc

    def events(self, n: float, hazard_ratio: float) -> float:
        """Expected events in this treated arm and control, among the analysed units."""
        j, m = self.analysed(n)
        units = j * m
        return units * (
            self.treated_share * self.outcome.p_treatment(hazard_ratio)
            + self.control_share * self.outcome.p_control
        )

    def se(self, n: float, _size: float, hazard_ratio: float) -> float:
        """Standard error of the log hazard ratio: ``√(DE / (D p_t p_c))``."""
        shares = self.treated_share + self.control_share
        p_t, p_c = self.treated_share / shares, self.control_share / shares
        return math.sqrt(self.design_effect() / (self.events(n, hazard_ratio) * p_t * p_c))

    def problem(self) -> Problem:
        return Problem(se=self.se, test_effect=math.log, df=lambda _: None,
                       alpha=self.alpha_per_comparison)  # fmt: skip

    def min_n(self) -> float:
        """Smallest number of units (clusters) with one in every arm."""
        need = max(float(self.n_arms), 1.0 / min(self.treated_share, self.control_share))
        lost = self.attrition if self.cluster_size is None else self.cluster_attrition
        return need / (1.0 - lost)


def solve_survival(
    hazard_ratio: float | None = None,
    n: float | None = None,
    power: float | None = None,
    *,
    outcome: SurvivalOutcome,
    cluster_size: float | None = None,
    icc: float = 0.0,
    cv: float = 0.0,
    alpha: float = 0.05,
    treated_share: float | None = None,
    control_share: float | None = None,
    n_arms: int = 2,
    adjustment: str = "bonferroni",
    attrition: float = 0.0,
    cluster_attrition: float = 0.0,
    mde_method: str = "exact",
) -> PowerResult:
    """Solve a time-to-event trial for whichever of hazard ratio, size and power is None.

    Parameters
    ----------
    hazard_ratio
        Hazard ratio, treated over control. ``None`` to solve for the minimum detectable
        hazard ratio in ``outcome.direction`` (below 1 for ``"decrease"``).
    n
        Units (``cluster_size`` None) or clusters to recruit, all arms together. ``None`` to
        solve for it.
    power
        Target or achieved power. ``None`` to solve for it.
    outcome
        The control share with the event by the horizon, and the MDE's direction.
    cluster_size, icc, cv
        Mean units recruited per randomised cluster (``None``: units are randomised), the
        intra-cluster correlation of the event-by-horizon indicator, and the coefficient of
        variation of cluster sizes.
    alpha, treated_share, control_share, n_arms, adjustment
        As in :func:`solve_cluster`: each treatment arm against control.
    attrition, cluster_attrition
        Expected shares of units and of whole clusters without follow-up; they reduce the
        units analysed and so the expected events.
    mde_method
        ``"exact"`` (power at the MDE equals the target) or ``"multiplier"`` (the MDE's log
        is ``(z_{1−α/2} + z_{power}) · SE``; the same under a normal reference but for the
        far rejection region).

    Returns
    -------
    PowerResult
        ``effect`` is the hazard ratio, ``standardised_effect`` its log, ``std_error`` the
        SE of the log hazard ratio, ``p_control``/``p_treatment`` the shares with the event
        by the horizon, and ``events`` the expected events in the comparison.

    Raises
    ------
    InvalidParameterError
        When a parameter is outside its range or not exactly one quantity is None.
    NoSolutionError
        When no value of the unknown reaches the target (e.g. a hazard ratio of 1).

    Examples
    --------
    >>> result = solve_survival(0.7, power=0.8, outcome=SurvivalOutcome(0.5))
    >>> result.n_units, round(result.events, 1)
    (559, 247.2)
    """
    values: dict[str, object] = {"hazard_ratio": hazard_ratio, "n": n, "power": power}
    unknown = _SOLVED[check_one_unknown(values, func=_FUNC)]
    if unknown == "n" and cluster_size is not None:
        unknown = "clusters"
    setup = _make(
        outcome=outcome, cluster_size=cluster_size, icc=icc, cv=cv, alpha=alpha,
        treated_share=treated_share, control_share=control_share, n_arms=n_arms,
        adjustment=adjustment, attrition=attrition, cluster_attrition=cluster_attrition,
        mde_method=mde_method,
    )  # fmt: skip
    if power is not None:
        power = check_real(
            "power", power, setup.alpha_per_comparison, 1.0, closed="neither", func=_FUNC
        )
    if n is not None:
        n = check_real("n", n, setup.min_n(), math.inf, closed="left", func=_FUNC)
    if hazard_ratio is not None:
        hazard_ratio = check_real(
            "hazard_ratio", hazard_ratio, 0.0, math.inf, closed="neither", func=_FUNC
        )
    problem = setup.problem()
    exact: float | None = None
    if unknown == "power":
        assert hazard_ratio is not None and n is not None
    elif unknown == "effect":
        assert n is not None and power is not None
        hazard_ratio = _solve_hazard_ratio(setup, problem, n, power)
    else:
        assert hazard_ratio is not None and power is not None
        if hazard_ratio == 1.0:
            raise NoSolutionError(
                f"No sample size reaches {power:.0%} power for a hazard ratio of 1: power "
                "stays at alpha. Fix: give the smallest hazard ratio worth detecting."
            )
        hr = hazard_ratio
        what = "number of units" if cluster_size is None else "number of clusters"
        exact = problem.solve_size(
            power, lambda size: problem.power(hr, size, 1.0), low=setup.min_n(), what=what
        )
        n = float(math.ceil(exact - 1e-9))
    return _result(setup, problem, hazard_ratio=hazard_ratio, n=n, unknown=unknown, exact=exact)


def _solve_hazard_ratio(setup: _Setup, problem: Problem, n: float, power: float) -> float:
    far = _FAR[setup.outcome.direction]
    try:
        return problem.solve_effect(power, n, 1.0, bounds=(1.0, far), method=setup.mde_method)
    except NoSolutionError:
        side = "below" if far < 1 else "above"
        raise NoSolutionError(
            f"No hazard ratio {side} 1 reaches {power:.0%} power with these sizes: too few "
            "events are expected. Fix: increase the sample size or the follow-up, or lower "
            "the target power."
        ) from None


def _result(
    setup: _Setup,
    problem: Problem,
    *,
    hazard_ratio: float,
    n: float,
    unknown: SolveFor,
    exact: float | None,
) -> PowerResult:
    individual = setup.cluster_size is None
    j, m = setup.analysed(n)
    design_effect = setup.design_effect()
    return PowerResult(
        design="individual" if individual else "cluster",
        outcome=setup.outcome.kind,
        solved_for=unknown,
        power=problem.power(hazard_ratio, n, 1.0),
        effect=hazard_ratio,
        standardised_effect=math.log(hazard_ratio),
        p_control=setup.outcome.p_control,
        p_treatment=setup.outcome.p_treatment(hazard_ratio),
        sd=None,
        binary_method=None,
        alpha=setup.alpha,
        alpha_per_comparison=setup.alpha_per_comparison,
        adjustment=setup.adjustment,
        n_arms=setup.n_arms,
        treated_share=setup.treated_share,
        control_share=setup.control_share,
        n_units=round(n) if individual else round(n * (setup.cluster_size or 1.0)),
        n_analysed=j * m,
        n_clusters=None if individual else round(n),
        cluster_size=setup.cluster_size,
        steps=None,
        periods=None,
        icc=setup.icc,
        cv=setup.cv,
        r2_individual=0.0,
        r2_cluster=0.0,
        covariates=0,
        attrition=setup.attrition,
        cluster_attrition=setup.cluster_attrition,
        compliance=1.0,
        design_effect=design_effect,
        effective_n=j * m / design_effect,
        df=None,
        std_error=problem.se(n, 1.0, hazard_ratio),
        test=TEST,
        mde_method=setup.mde_method,
        size_exact=exact,
        events=setup.events(n, hazard_ratio),
    )


def _make(
    *,
    outcome: SurvivalOutcome,
    cluster_size: float | None,
    icc: float,
    cv: float,
    alpha: float,
    treated_share: float | None,
    control_share: float | None,
    n_arms: int,
    adjustment: str,
    attrition: float,
    cluster_attrition: float,
    mde_method: str,
) -> _Setup:
    """Check every parameter (messages name solve_survival) and build the setup."""
    if not isinstance(outcome, SurvivalOutcome):
        raise InvalidParameterError(
            f"The 'outcome' parameter of {_FUNC} must be a SurvivalOutcome. Got {outcome!r} "
            "instead."
        )
    arms, share, control = arm_shares(n_arms, treated_share, control_share, func=_FUNC)
    size = (
        None
        if cluster_size is None
        else check_real("cluster_size", cluster_size, 1.0, math.inf, closed="left", func=_FUNC)
    )
    return _Setup(
        outcome=outcome,
        cluster_size=size,
        icc=check_real("icc", icc, 0.0, 1.0, closed="left", func=_FUNC),
        cv=check_real("cv", cv, 0.0, math.inf, closed="left", func=_FUNC),
        alpha=check_real("alpha", alpha, 0.0, 1.0, closed="neither", func=_FUNC),
        treated_share=share,
        control_share=control,
        n_arms=arms,
        adjustment=check_option("adjustment", adjustment, Adjustment, func=_FUNC),  # type: ignore[arg-type]
        attrition=check_real("attrition", attrition, 0.0, 1.0, closed="left", func=_FUNC),
        cluster_attrition=check_real(
            "cluster_attrition", cluster_attrition, 0.0, 1.0, closed="left", func=_FUNC
        ),
        mde_method=check_option("mde_method", mde_method, MdeMethod, func=_FUNC),  # type: ignore[arg-type]
    )

"""Randomisation inference: p-values and intervals from the trial's own assignment mechanism.

The statistic is the OLS coefficient on each non-control arm's dummy, with an intercept
and any covariates (the difference in means without covariates). By Frisch–Waugh–Lovell
it is ``(D'MD)⁻¹ D'My`` with ``M = I − QQ'`` from one QR factorisation of ``[1, X]``, so a
redrawn assignment needs only the sums of ``My``, ``Q`` and the row count over the units
it puts in each arm. Those sums are accumulated per draw (compiled, :mod:`.ri_kernels`)
without storing assignments: memory grows with ``N + draws``, never ``N × draws``.

The sharp null ``τ₀`` (two arms) uses linearity: with ``a = coef(y, T*)`` and
``c = coef(T_obs, T*)``, the redrawn statistic is ``a − τ₀c + τ₀``, so two numbers per draw
give the p-value at every ``τ₀``, and the interval inverts the test by bisection. The
two-sided p-value is ri2's: the probability of ``|stat − τ₀| ≥ |obs − τ₀|``, exact over all
assignments when there are at most 100,000 of them, Monte Carlo otherwise.

Inputs are built in :mod:`.ri_setup`, sums drawn or enumerated in :mod:`.ri_draws`
(:mod:`.ri_exact`), and p-values and intervals found in :mod:`.ri_inversion`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError, RandomisationError
from trialkit.estimate.frequentist._design import FloatArray
from trialkit.estimate.frequentist.result import check_ci_level
from trialkit.estimate.frequentist.ri_draws import NULL_SAMPLE_SIZE as NULL_SAMPLE_SIZE
from trialkit.estimate.frequentist.ri_draws import _coefficients, _null_sample
from trialkit.estimate.frequentist.ri_draws import _sums as _sums
from trialkit.estimate.frequentist.ri_exact import EXACT_LIMIT as EXACT_LIMIT
from trialkit.estimate.frequentist.ri_exact import _count_capped as _count_capped
from trialkit.estimate.frequentist.ri_inversion import _interval, _one_sided, _p_value
from trialkit.estimate.frequentist.ri_setup import _check
from trialkit.estimate.frequentist.ri_setup import setup as setup
from trialkit.randomise.schemes import Scheme


@dataclass(frozen=True, slots=True)
class ArmTest:
    """The randomisation test of one non-control arm against control.

    Attributes
    ----------
    arm
        The arm's label in the treatment column.
    observed
        The observed statistic (OLS coefficient on the arm's dummy).
    p_value
        Two-sided randomisation p-value under the sharp null.
    mc_se
        Monte Carlo standard error of ``p_value``; 0 when exact.
    ci_low, ci_high
        Test-inversion interval (``nan`` when no ``ci_level`` was asked for).
    null_sample
        Up to 2,000 statistics under the sharp null, for a histogram.
    p_upper, p_lower
        One-sided p-values (ri2's ``upper`` and ``lower``): the probability under the
        sharp null of a statistic at least, or at most, the observed one. ``p_upper`` tests
        against an effect above ``sharp_null``, ``p_lower`` below it.
    """

    arm: str
    observed: float
    p_value: float
    mc_se: float
    ci_low: float
    ci_high: float
    null_sample: tuple[float, ...]
    p_upper: float
    p_lower: float


@dataclass(frozen=True, slots=True)
class RandomisationTest:
    """Randomisation inference for one outcome: one :class:`ArmTest` per non-control arm.

    Attributes
    ----------
    outcome
        The outcome column.
    control
        The control arm's label.
    tests
        One test per non-control arm, in the order of the arm labels.
    draws
        Assignments used (all of them when exact).
    exact
        Whether every possible assignment was enumerated, weighted by its probability.
    sharp_null
        The hypothesised constant effect ``τ₀``.
    ci_level
        Level of the test-inversion interval, or ``None``.
    design
        How assignments were redrawn, in words.
    """

    outcome: str
    control: str
    tests: tuple[ArmTest, ...]
    draws: int
    exact: bool
    sharp_null: float
    ci_level: float | None
    design: str

    def _only(self) -> ArmTest:
        if len(self.tests) != 1:
            raise EstimationError(
                f"this trial has {len(self.tests)} non-control arms, so there is one test per "
                "arm. Fix: read `tests[i]` or `to_frame()`."
            )
        return self.tests[0]

    @property
    def p_value(self) -> float:
        """Two-sided p-value (trials with two arms)."""
        return self._only().p_value

    @property
    def observed(self) -> float:
        """Observed statistic (trials with two arms)."""
        return self._only().observed

    @property
    def p_upper(self) -> float:
        """One-sided p-value against an effect above the sharp null (two arms)."""
        return self._only().p_upper

    @property
    def p_lower(self) -> float:
        """One-sided p-value against an effect below the sharp null (two arms)."""
        return self._only().p_lower

    @property
    def mc_se(self) -> float:
        """Monte Carlo standard error of the p-value; 0 when exact (two arms)."""
        return self._only().mc_se

    @property
    def ci_low(self) -> float:
        """Lower end of the test-inversion interval (two arms)."""
        return self._only().ci_low

    @property
    def ci_high(self) -> float:
        """Upper end of the test-inversion interval (two arms)."""
        return self._only().ci_high

    @property
    def null_sample(self) -> tuple[float, ...]:
        """Up to 2,000 statistics under the sharp null (two arms)."""
        return self._only().null_sample

    def to_frame(self) -> pd.DataFrame:
        """One tidy row per non-control arm (estimatr's column names)."""
        rows = [
            {
                "outcome": self.outcome,
                "term": f"{t.arm} vs {self.control}",
                "estimator": "randomisation inference",
                "estimate": t.observed,
                "observed": t.observed,
                "p_value": t.p_value,
                "p_upper": t.p_upper,
                "p_lower": t.p_lower,
                "mc_se": t.mc_se,
                "draws": self.draws,
                "exact": self.exact,
                "sharp_null": self.sharp_null,
                "ci_low": t.ci_low,
                "ci_high": t.ci_high,
                "ci_level": self.ci_level,
                "ci_kind": "test inversion" if self.ci_level else None,
                "null_sample": list(t.null_sample),
            }
            for t in self.tests
        ]
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """A fixed-width text table."""
        kind = "exact" if self.exact else "Monte Carlo"
        lines = [
            f"Randomisation inference: {self.outcome} ({kind}, {self.draws:,} assignments;"
            f" sharp null effect {self.sharp_null:g})",
            f"Design: {self.design}",
            f"{'term':<28}{'estimate':>12}{'p_value':>10}{'mc_se':>9}{'ci_low':>11}{'ci_high':>11}",
        ]
        for t in self.tests:
            term = f"{t.arm} vs {self.control}"[:27]
            lines.append(
                f"{term:<28}{t.observed:>12.4g}{t.p_value:>10.4f}{t.mc_se:>9.4f}"
                f"{t.ci_low:>11.4g}{t.ci_high:>11.4g}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _arm_test(
    arm: str,
    a: FloatArray,
    c: FloatArray,
    w: FloatArray | None,
    obs: float,
    sharp_null: float,
    level: float | None,
    exact: bool,
    seed: int,
) -> ArmTest:
    """One arm's test from its redrawn statistics ``a − τ₀c + τ₀`` (probabilities ``w``)."""
    pv = _p_value(a, c, w, obs, sharp_null)
    upper, lower = _one_sided(a, c, w, obs, sharp_null)
    low = high = float("nan")
    if level is not None:
        low, high = _interval(a, c, w, obs, 1 - level)
    se = 0.0 if exact else float(np.sqrt(pv * (1 - pv) / len(a)))
    null = _null_sample(a - sharp_null * c + sharp_null, w, int(seed))
    return ArmTest(
        arm=arm,
        observed=obs,
        p_value=pv,
        mc_se=se,
        ci_low=low,
        ci_high=high,
        null_sample=null,
        p_upper=upper,
        p_lower=lower,
    )


def _check_design_given(df: pd.DataFrame, scheme: Scheme | None, unit: str | None) -> None:
    """Refuse to assume complete randomisation of data that carry blocks or clusters of an
    allocation.

    Validated trial data carry the allocation's ``block`` and ``cluster`` columns; redrawing
    such data as one complete randomisation ignores the blocks, or (without ``unit``) splits
    the clusters row by row, and gives a test of the wrong size.
    """
    if scheme is None and "block" in df.columns and df["block"].nunique(dropna=True) > 1:
        raise EstimationError(
            f"the data carry {df['block'].nunique()} randomisation blocks (column `block`) "
            "but no scheme was given, so the test would redraw them as one complete "
            "randomisation. Fix: pass scheme=trialkit.randomise.declare(protocol, units), "
            "the scheme that allocated them.")
    if (scheme is None and unit is None and "cluster" in df.columns
            and df["cluster"].nunique(dropna=True) < len(df)):
        raise EstimationError(
            f"the data carry {df['cluster'].nunique()} randomised clusters (column `cluster`) "
            f"in {len(df)} rows but neither a scheme nor a unit column was given, so the "
            "test would redraw rows one by one and split the clusters. Fix: pass "
            "unit=\"cluster\" (rows of a cluster move together), or "
            "scheme=trialkit.randomise.declare(protocol, units) with unit=.")


def randomisation_test(
    df: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    scheme: Scheme | None = None,
    unit: str | None = None,
    covariates: Sequence[str] = (),
    sharp_null: float = 0.0,
    draws: int = 10_000,
    seed: int = 0,
    ci_level: float | None = None,
    control: Hashable | None = None,
    period: str | None = None,
    arms: Sequence[Hashable] | None = None,
) -> RandomisationTest:
    """Randomisation (permutation) test of each arm's effect under a sharp null.

    Assignments are redrawn from ``scheme``, the declaration the trial was randomised with
    (blocks, clusters, rerandomisation restriction, stepped wedge), and the OLS statistic is
    recomputed for each. Without a scheme, complete randomisation of the observed
    treatment vector is assumed: the observed number of units in each arm, every
    arrangement equally likely (``unit`` rows sharing a unit move together).

    Parameters
    ----------
    df
        One row per observation (clients or staff nested in randomised units are fine).
    outcome, treatment
        Columns of the outcome and of the arm label (for a stepped wedge: 0/1 exposure).
    scheme
        The randomisation scheme the trial used (``trialkit.randomise.declare``).
    unit
        Column holding each row's randomised-unit id (the scheme's ``units.ids``). Without
        it, row ``i`` is the scheme's unit ``i``.
    covariates
        Numeric columns adjusted for (the statistic is then the OLS coefficient).
    sharp_null
        Constant effect ``τ₀`` under the null; non-zero only for two-arm trials.
    draws
        Monte Carlo draws when there are more than 100,000 possible assignments.
    seed
        Seed of the draws; results do not depend on the number of threads.
    ci_level
        Level of a test-inversion interval for ``τ₀`` (two-arm trials).
    control
        Control arm label; the first sorted label by default.
    period
        Stepped wedge only: the period column (0 = baseline). A unit at step ``k`` is
        exposed from period ``k`` on; period dummies are added to the covariates.
    arms
        Arm labels in the scheme's arm order; needed when the labels are not ``0 … K−1``
        and the scheme's ratios differ (or it has four or more arms).

    Returns
    -------
    RandomisationTest

    Raises
    ------
    EstimationError
        For missing columns or values, labels that do not match the scheme, an observed
        allocation the scheme cannot produce, or ``sharp_null``/``ci_level`` with 3+ arms.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [5.0, 6, 7, 8, 1, 2, 3, 4], "t": [1, 1, 1, 1, 0, 0, 0, 0]})
    >>> res = randomisation_test(df, outcome="y", treatment="t")
    >>> res.exact, res.draws, round(res.p_value * 70)  # 2 of 70 splits are as extreme
    (True, 70, 2)
    """
    _check(draws, seed, sharp_null)
    _check_design_given(df, scheme, unit)
    level = None if ci_level is None else check_ci_level(ci_level)
    try:
        s = setup(
            df,
            outcome=outcome,
            treatment=treatment,
            scheme=scheme,
            unit=unit,
            covariates=tuple(covariates),
            control=control,
            period=period,
            arms=arms,
        )
    except RandomisationError as err:
        raise EstimationError(str(err)) from err
    if s.n_dummies > 1 and (sharp_null != 0.0 or level is not None):
        raise EstimationError(
            f"a sharp null other than 0 and its confidence interval need two arms; this trial "
            f"has {s.n_dummies + 1}. Fix: test sharp_null=0 (no effect of any arm), or "
            "analyse one arm against control on those rows."
        )
    need_c = sharp_null != 0.0 or level is not None
    sums, w, exact = _sums(s, int(draws), int(seed), need_c)
    m, p = s.n_responses, s.n_basis
    coef = _coefficients(sums, m, p, s.constant_basis)
    obs = _coefficients(s.observed_sums[None], m, p, s.constant_basis)[0, :, 0]
    tests = []
    for j, arm in enumerate(s.arm_labels):
        a = coef[:, j, 0]
        c = coef[:, j, 1] if m > 1 and need_c else np.zeros_like(a)
        tests.append(_arm_test(str(arm), a, c, w, float(obs[j]), sharp_null, level, exact, seed))
    return RandomisationTest(
        outcome=outcome,
        control=str(s.control),
        tests=tuple(tests),
        draws=len(coef),
        exact=exact,
        sharp_null=float(sharp_null),
        ci_level=level,
        design=s.description,
    )


__all__ = ["ArmTest", "RandomisationTest", "randomisation_test"]

"""Randomisation inference: p-values and intervals from the trial's own assignment mechanism.

The statistic is the OLS coefficient on each non-control arm's dummy, with an intercept
and any covariates (the difference in means without covariates). By Frisch–Waugh–Lovell
it is ``(D'MD)⁻¹ D'My`` with ``M = I − QQ'`` from one QR factorisation of ``[1, X]``, so a
redrawn assignment needs only the sums of ``My``, ``Q`` and the row count over the units
it puts in each arm. Those sums are accumulated per draw (compiled, :mod:`.kernels`)
without storing assignments: memory grows with ``N + draws``, never ``N × draws``.

The sharp null ``τ₀`` (two arms) uses linearity: with ``a = coef(y, T*)`` and
``c = coef(T_obs, T*)``, the redrawn statistic is ``a − τ₀c + τ₀``, so two numbers per draw
give the p-value at every ``τ₀``, and the interval inverts the test. The two-sided p-value
is ri2's: the probability of ``|stat − τ₀| ≥ |obs − τ₀|``, exact over all assignments when
there are at most 100,000 of them, Monte Carlo otherwise.

Inputs are built in :mod:`.precompute`, sums drawn or enumerated in :mod:`.redraws`
(:mod:`.exact`), and p-values and intervals found in :mod:`.inversion`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError, RandomisationError
from trialkit.estimate.frequentist._design import FloatArray
from trialkit.estimate.frequentist.result import check_ci_level
from trialkit.estimate.frequentist.ri.checks import check_design_given, check_parameters
from trialkit.estimate.frequentist.ri.inversion import (
    inverted_interval,
    one_sided_p_values,
    two_sided_p_value,
)
from trialkit.estimate.frequentist.ri.precompute import Precomputed, precompute
from trialkit.estimate.frequentist.ri.redraws import assignment_sums, coefficients, null_sample
from trialkit.estimate.frequentist.ri.result import ArmTest, RandomisationTest
from trialkit.randomise.schemes import Scheme


def _arm_test(
    arm: str,
    redrawn: FloatArray,
    slope: FloatArray,
    weights: FloatArray | None,
    observed: float,
    *,
    sharp_null: float,
    level: float | None,
    exact: bool,
    seed: int,
) -> ArmTest:
    """One arm's test from its redrawn statistics ``a − τ₀c + τ₀`` (``redrawn`` is ``a``,
    ``slope`` is ``c``; ``weights`` the assignments' probabilities when exact)."""
    p_value = two_sided_p_value(redrawn, slope, weights, observed, sharp_null)
    upper, lower = one_sided_p_values(redrawn, slope, weights, observed, sharp_null)
    low = high = float("nan")
    if level is not None:
        low, high = inverted_interval(redrawn, slope, weights, observed, 1 - level)
    mc_se = 0.0 if exact else float(np.sqrt(p_value * (1 - p_value) / len(redrawn)))
    under_null = redrawn - sharp_null * slope + sharp_null
    return ArmTest(
        arm=arm,
        observed=observed,
        p_value=p_value,
        mc_se=mc_se,
        ci_low=low,
        ci_high=high,
        null_sample=null_sample(under_null, weights, int(seed)),
        p_upper=upper,
        p_lower=lower,
    )


def _require_two_arms(pre: Precomputed, sharp_null: float, level: float | None) -> None:
    if pre.n_dummies > 1 and (sharp_null != 0.0 or level is not None):
        raise EstimationError(
            f"a sharp null other than 0 and its confidence interval need two arms; this trial "
            f"has {pre.n_dummies + 1}. Fix: test sharp_null=0 (no effect of any arm), or "
            "analyse one arm against control on those rows."
        )


def _arm_tests(
    pre: Precomputed,
    *,
    draws: int,
    seed: int,
    sharp_null: float,
    level: float | None,
) -> tuple[tuple[ArmTest, ...], int, bool]:
    """Each compared arm's test, the number of assignments used and whether exact."""
    need_slope = sharp_null != 0.0 or level is not None
    sums, weights, exact = assignment_sums(pre, int(draws), int(seed), need_slope)
    m, p = pre.n_responses, pre.n_basis
    coef = coefficients(sums, m, p, pre.constant_basis)
    observed = coefficients(pre.observed_sums[None], m, p, pre.constant_basis)[0, :, 0]
    tests = []
    for j, arm in enumerate(pre.arm_labels):
        redrawn = coef[:, j, 0]
        slope = coef[:, j, 1] if m > 1 and need_slope else np.zeros_like(redrawn)
        tests.append(
            _arm_test(
                str(arm),
                redrawn,
                slope,
                weights,
                float(observed[j]),
                sharp_null=sharp_null,
                level=level,
                exact=exact,
                seed=seed,
            )
        )
    return tuple(tests), len(coef), exact


def randomisation_test(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    control: Hashable | None = None,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    scheme: Scheme | None = None,
    ci_level: float | None = None,
    sharp_null: float = 0.0,
    draws: int = 10_000,
    seed: int = 0,
    period: str | None = None,
    arms: Sequence[Hashable] | None = None,
) -> RandomisationTest:
    """Randomisation (permutation) test of each arm's effect under a sharp null (ri2's
    ``conduct_ri``).

    Assignments are redrawn from ``scheme``, the declaration the trial was randomised with
    (blocks, clusters, rerandomisation restriction, stepped wedge), and the OLS statistic is
    recomputed for each. Without a scheme, complete randomisation of the observed
    treatment vector is assumed: the observed number of units in each arm, every
    arrangement equally likely (rows sharing a ``cluster`` move together).

    Parameters
    ----------
    data
        One row per observation (clients or staff nested in randomised units are fine).
    outcome, treatment
        Columns of the outcome and of the arm label (for a stepped wedge: 0/1 exposure).
    control
        The control arm; default 0 if present, else the first arm in sorted order.
    covariates
        Numeric columns adjusted for (the statistic is then the OLS coefficient).
    cluster
        Column of each row's randomised unit: rows with the same value are assigned
        together. With a scheme, its values are the scheme's unit ids (``units.ids``);
        without ``cluster``, row ``i`` is the scheme's unit ``i``.
    scheme
        The randomisation scheme the trial used (``trialkit.randomise.declare``); it
        carries the blocks.
    ci_level
        Level of a test-inversion interval for ``τ₀`` (two-arm trials); ``None`` for none.
    sharp_null
        Constant effect ``τ₀`` under the null; non-zero only for two-arm trials.
    draws
        Monte Carlo draws when there are more than 100,000 possible assignments.
    seed
        Seed of the draws; results do not depend on the number of threads.
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
    >>> res = randomisation_test(df, "y", "t")
    >>> res.exact, res.draws, round(res.p_value * 70)  # 2 of 70 splits are as extreme
    (True, 70, 2)
    """
    check_parameters(draws, seed, sharp_null)
    check_design_given(data, scheme, cluster)
    level = None if ci_level is None else check_ci_level(ci_level)
    try:
        pre = precompute(
            data,
            outcome=outcome,
            treatment=treatment,
            scheme=scheme,
            cluster=cluster,
            covariates=tuple(covariates),
            control=control,
            period=period,
            arms=arms,
        )
    except RandomisationError as err:
        raise EstimationError(str(err)) from err
    _require_two_arms(pre, sharp_null, level)
    tests, n_assignments, exact = _arm_tests(
        pre, draws=draws, seed=seed, sharp_null=sharp_null, level=level
    )
    return RandomisationTest(
        outcome=outcome,
        treatment=treatment,
        control=str(pre.control),
        tests=tests,
        draws=n_assignments,
        exact=exact,
        sharp_null=float(sharp_null),
        ci_level=level,
        design=pre.description,
        n_obs=pre.n_obs,
        n_clusters=pre.n_clusters,
    )

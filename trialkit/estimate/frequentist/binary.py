"""Effects on binary and count outcomes: risk difference, odds ratio, risk ratio.

* ``"risk_difference"`` (default): the linear probability model, i.e. :func:`ols` with HC2
  (CR2 with clusters). Design-based, and what most trial reports lead with.
* ``"odds_ratio"``: logistic regression (0/1 outcomes only).
* ``"risk_ratio"``: Poisson regression with a log link and robust standard errors
  ("modified Poisson", Zou 2004, Am J Epidemiol 159:702); for counts it is the ratio of
  means (rate ratio). It always converges, unlike the log-binomial model.

The generalised linear models are fitted by iteratively reweighted least squares, each step
solved by QR. Their sandwich variances are the linear ones applied to the working model at
convergence: with working weights ``W = a V(mu)`` (prior weight ``a``, canonical link),
``X~ = W^{1/2} X`` and ``e~ = a^{1/2} (y - mu) / V(mu)^{1/2}``, the score is ``X~'e~`` and
the information ``X~'X~``. HC0/HC1/CR0/CR1 then equal statsmodels' GLM ``cov_type="HC0"``
and ``"cluster"`` (with and without its small-sample correction); HC2/HC3 use the GLM
leverages (as R's ``sandwich::vcovHC``) and CR2 the working-model adjustment (as
``clubSandwich``). ``"classical"`` is the model-based ``(X'WX)^{-1}``.

Ratios are reported on the ratio scale: ``estimate = exp(b)``, ``std_error = exp(b) se(b)``
(delta method, as Stata's ``or``/``irr`` output), and the statistic, p-value and interval
are computed on the log scale and the interval exponentiated. ``coefficients`` and ``vcov``
of the result stay on the log scale. Degrees of freedom follow the linear rules (N - K,
G - 1, or Bell-McCaffrey), where statsmodels uses the normal distribution.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace
from typing import get_args

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import INTERCEPT, FloatArray, Prepared, prepare
from trialkit.estimate.frequentist.lstsq import LeastSquares, fit_lstsq
from trialkit.estimate.frequentist.ols import fixed_effect_columns, ols
from trialkit.estimate.frequentist.result import (
    RegressionResult,
    build_result,
    check_ci_level,
    make_row,
)
from trialkit.estimate.frequentist.vcov import Clusters, compute_vcov, resolve_se_type
from trialkit.protocol.vocabulary import BinaryEffect, VcovType

EFFECT_TYPES: tuple[str, ...] = get_args(BinaryEffect)
MAX_ITERATIONS = 100


def _irls(
    x: FloatArray, y: FloatArray, a: FloatArray, family: str
) -> tuple[FloatArray, FloatArray]:
    """Maximum likelihood for a canonical-link logit or Poisson model; returns (beta, mu)."""
    mu = (a * y + 0.5) / (a + 1.0) if family == "logit" else y + 0.1
    eta = np.log(mu / (1.0 - mu)) if family == "logit" else np.log(mu)
    beta = np.zeros(x.shape[1])
    for _ in range(MAX_ITERATIONS):
        var = mu * (1.0 - mu) if family == "logit" else mu
        if family == "logit" and np.any(var < 1e-10):
            raise EstimationError(
                "fitted probabilities of 0 or 1: the data are (quasi-)separated (an arm or "
                "covariate value with all 0s or all 1s), so the odds ratio is infinite. "
                "Fix: report the risk difference instead."
            )
        z = eta + (y - mu) / var
        new = fit_lstsq(x, z, a * var).coef
        eta = x @ new
        mu = 1.0 / (1.0 + np.exp(-eta)) if family == "logit" else np.exp(eta)
        step = np.max(np.abs(new - beta) / (1.0 + np.abs(new)))
        beta = new
        if step < 1e-11 and (family != "logit" or np.all(mu * (1.0 - mu) >= 1e-10)):
            break
    else:
        raise EstimationError(
            f"the {family} model did not converge in {MAX_ITERATIONS} iterations (often "
            "complete separation: an arm or covariate value with all 0s or all 1s). "
            "Fix: report the risk difference, or drop the separating covariate."
        )
    return beta, mu


def _check_outcome(y: FloatArray, effect: str, outcome: str) -> None:
    if effect == "odds_ratio" and not np.all((y == 0) | (y == 1)):
        raise EstimationError(
            f'the odds ratio needs a 0/1 outcome, but "{outcome}" has other values. '
            "Fix: recode it, or use effect='risk_ratio' for counts."
        )
    if effect == "risk_ratio" and np.any(y < 0):
        raise EstimationError(
            f'the risk ratio needs a non-negative outcome; "{outcome}" has negative values.'
        )


def _glm(
    prep: Prepared, effect: str, se_type: VcovType | None, ci_level: float
) -> RegressionResult:
    fe, fe_names = fixed_effect_columns(prep)
    n = prep.n_obs
    x = np.column_stack([np.ones(n), prep.arm_dummies(), prep.covariates, fe])
    terms = [INTERCEPT, *prep.arms.terms, *prep.covariate_names, *fe_names]
    reported = [*prep.arms.terms, *([] if fe_names else [INTERCEPT]), *prep.covariate_names]
    a = prep.weights if prep.weights is not None else np.ones(n)
    family = "logit" if effect == "odds_ratio" else "poisson"
    beta, mu = _irls(x, prep.y, a, family)
    var = mu * (1.0 - mu) if family == "logit" else mu
    work = fit_lstsq(x, prep.y, a * var, names=terms)
    model = LeastSquares(
        coef=beta,
        q=work.q,
        r_inv=work.r_inv,
        resid=np.sqrt(a) * (prep.y - mu) / np.sqrt(var),
        n_obs=n,
    )
    kind = resolve_se_type(se_type, clustered=prep.cluster is not None)
    clusters = Clusters.from_codes(prep.cluster.codes) if prep.cluster is not None else None
    vc = compute_vcov(model, kind, clusters)
    matrix = model.bread if kind == "classical" else vc.matrix
    log_scale = build_result(
        outcome=prep.outcome,
        terms=terms,
        coefficients=beta,
        vcov=matrix,
        df=vc.df,
        reported=reported,
        treatment_terms=prep.arms.terms,
        treatment_arms=prep.arms.others,
        ci_level=ci_level,
        se_type=kind,
        n_obs=n,
        n_clusters=clusters.n_clusters if clusters else None,
        estimator="logit" if family == "logit" else "poisson (robust)",
        estimand=effect.replace("_", " "),
    )
    rows = []
    for row in log_scale.rows:
        ratio = make_row(
            outcome=row.outcome,
            term=row.term,
            estimate=float(np.exp(row.estimate)),
            std_error=float(np.exp(row.estimate) * row.std_error),
            df=row.df,
            ci_level=ci_level,
            se_type=kind,
            n_obs=n,
            n_clusters=row.n_clusters,
            estimand=row.estimand,
            estimator=row.estimator,
            arm=row.arm,
        )
        rows.append(
            replace(
                ratio,
                statistic=row.statistic,
                p_value=row.p_value,
                ci_low=float(np.exp(row.ci_low)),
                ci_high=float(np.exp(row.ci_high)),
            )
        )
    return RegressionResult(
        rows=tuple(rows),
        terms=log_scale.terms,
        coefficients=beta,
        vcov=matrix,
        df=vc.df,
        treatment_terms=log_scale.treatment_terms,
        treatment_arms=log_scale.treatment_arms,
        se_type=kind,
        n_obs=n,
        n_clusters=log_scale.n_clusters,
    )


def binary_effect(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    effect: BinaryEffect = "risk_difference",
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    blocks: str | None = None,
    fixed_effects: Sequence[str] = (),
    weights: str | None = None,
    se_type: VcovType | None = None,
    ci_level: float = 0.95,
    control: Hashable | None = None,
) -> RegressionResult:
    """Treatment effect on a binary (or count) outcome as a difference or a ratio.

    Parameters
    ----------
    data
        One row per unit.
    outcome
        0/1 outcome (counts allowed for ``"risk_ratio"`` and ``"risk_difference"``).
    treatment
        Arm column; 0/1, boolean or labelled arms.
    effect
        ``"risk_difference"`` (LPM, default), ``"odds_ratio"`` (logit) or ``"risk_ratio"``
        (Poisson with robust SE).
    covariates, cluster, blocks, fixed_effects, weights, se_type, ci_level, control
        As in :func:`trialkit.estimate.ols`. Default se_type HC2, or CR2 with clusters.

    Returns
    -------
    RegressionResult
        For ratios, rows on the ratio scale (see the module docstring), ``coefficients``
        and ``vcov`` on the log scale.

    Raises
    ------
    EstimationError
        Unknown ``effect``, an outcome that does not suit it, separation, or any input
        error of :func:`trialkit.estimate.ols`.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [0, 1, 0, 1, 1, 1, 0, 0, 1, 1], "arm": [0, 1] * 5})
    >>> round(binary_effect(df, "y", "arm").effect().estimate, 3)
    0.4
    """
    if effect not in EFFECT_TYPES:
        raise EstimationError(
            "The 'effect' parameter must be one of "
            f"{', '.join(repr(e) for e in EFFECT_TYPES)}. Got {effect!r} instead."
        )
    ci_level = check_ci_level(ci_level)
    if effect == "risk_difference":
        return ols(
            data,
            outcome,
            treatment,
            covariates=covariates,
            cluster=cluster,
            blocks=blocks,
            fixed_effects=fixed_effects,
            weights=weights,
            se_type=se_type,
            ci_level=ci_level,
            control=control,
        )
    prep = prepare(
        data,
        outcome=outcome,
        treatment=treatment,
        covariates=covariates,
        cluster=cluster,
        blocks=blocks,
        fixed_effects=fixed_effects,
        weights=weights,
        control=control,
    )
    _check_outcome(prep.y, effect, outcome)
    return _glm(prep, effect, se_type, ci_level)

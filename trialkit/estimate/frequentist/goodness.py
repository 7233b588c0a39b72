"""Goodness of fit of a regression: R², adjusted R² and the robust F test (estimatr's glance).

The conventions are estimatr's (``lm_robust`` / ``lm_lin`` / ``iv_robust``, helper
``get_r2s`` and ``get_fstat``):

* ``R² = 1 - RSS / TSS``, with TSS about the (weighted) mean when the model has an
  intercept; for 2SLS the residuals are the structural ones (``y - X b``), so R² may be
  negative, as Stata's ``ivregress`` and linearmodels report it.
* ``adjusted R² = 1 - (1 - R²) (N - 1) / (N - rank)``.
* The F statistic is the Wald statistic of "every slope is zero" with the fit's own
  covariance matrix (HC2, CR2, ... — robust, not the classical R²-based formula; for
  ``classical`` the two agree exactly) divided by the number of slopes. Numerator df = the
  number of slopes; denominator df = N - rank without clusters and G - 1 with clusters.
* The slopes are every coefficient except the intercept and absorbed fixed effects (block
  indicators): with fixed effects this is estimatr's ``proj_fstatistic`` (the F of the
  model after the fixed effects are projected out), while R² stays that of the full model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import linalg, special

from trialkit.estimate.frequentist._design import FloatArray


@dataclass(frozen=True, slots=True)
class FitStatistics:
    """How well a regression fits, as estimatr's ``glance`` reports it.

    Attributes
    ----------
    r_squared, adj_r_squared
        R² and adjusted R² (weighted when the fit is weighted).
    f_statistic
        Robust Wald F statistic of "every slope is zero" (NaN when there are no slopes or
        the covariance of the slopes is singular).
    f_df_num, f_df_denom
        Its numerator (number of slopes) and denominator (N - rank, or clusters - 1)
        degrees of freedom.
    f_p_value
        ``P(F(f_df_num, f_df_denom) > f_statistic)``.
    tested
        The slopes the F test covers.
    """

    r_squared: float
    adj_r_squared: float
    f_statistic: float
    f_df_num: int
    f_df_denom: float
    f_p_value: float
    tested: tuple[str, ...]


def _wald_f(coef: FloatArray, vcov: FloatArray) -> float:
    try:
        factor = linalg.cho_factor(vcov)
    except linalg.LinAlgError:
        return float("nan")
    quadratic = float(coef @ linalg.cho_solve(factor, coef))
    return quadratic / int(coef.shape[0])


def fit_statistics(
    *,
    y: FloatArray,
    resid: FloatArray,
    weights: FloatArray | None,
    terms: Sequence[str],
    tested: Sequence[str],
    coefficients: FloatArray,
    vcov: FloatArray,
    n_clusters: int | None,
) -> FitStatistics:
    """R², adjusted R² and the robust F test of the ``tested`` slopes.

    Parameters
    ----------
    y
        The outcome (unweighted), length N.
    resid
        Unweighted residuals ``y - X b`` (structural ones for 2SLS).
    weights
        Analytic weights or ``None``.
    terms
        Every coefficient's name, in the order of ``coefficients`` (intercept included).
    tested
        The slopes of the F test (no intercept, no fixed effects).
    coefficients, vcov
        The coefficient vector and the covariance matrix the fit reports.
    n_clusters
        Clusters, or ``None``: sets the F test's denominator df.

    Returns
    -------
    FitStatistics
    """
    w = np.ones_like(y) if weights is None else np.asarray(weights, dtype=np.float64)
    centre = float(np.sum(w * y) / np.sum(w))
    tss = float(np.sum(w * (y - centre) ** 2))
    rss = float(np.sum(w * resid**2))
    n, rank = y.shape[0], len(terms)
    r2 = 1.0 - rss / tss if tss > 0 else float("nan")
    adj = 1.0 - (1.0 - r2) * (n - 1) / (n - rank)
    index = [list(terms).index(t) for t in tested]
    df_denom = float(n_clusters - 1) if n_clusters is not None else float(n - rank)
    if index:
        f = _wald_f(coefficients[index], vcov[np.ix_(index, index)])
        p = float(special.fdtrc(len(index), df_denom, f)) if np.isfinite(f) else float("nan")
    else:
        f = p = float("nan")
    return FitStatistics(
        r_squared=r2,
        adj_r_squared=adj,
        f_statistic=f,
        f_df_num=len(index),
        f_df_denom=df_denom,
        f_p_value=p,
        tested=tuple(tested),
    )


#: Columns :func:`fit_columns` adds to a tidy table of estimates.
FIT_COLUMNS: tuple[str, ...] = (
    "r_squared",
    "adj_r_squared",
    "f_statistic",
    "f_df_num",
    "f_df_denom",
    "f_p_value",
)


def fit_columns(fit: FitStatistics | None) -> dict[str, float]:
    """The fit statistics as tidy columns (NaN for an estimator that is not a regression)."""
    if fit is None:
        return dict.fromkeys(FIT_COLUMNS, float("nan"))
    return {name: float(getattr(fit, name)) for name in FIT_COLUMNS}

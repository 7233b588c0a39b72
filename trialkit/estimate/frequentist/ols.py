"""Regression-adjusted treatment effects: OLS/WLS with robust or cluster-robust inference.

The analogue of estimatr's ``lm_robust``: HC2 by default, CR2 with Bell-McCaffrey degrees
of freedom when clusters are given, t-based intervals and p-values.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from trialkit.estimate.frequentist._design import (
    INTERCEPT,
    FloatArray,
    Prepared,
    fe_dummies,
    prepare,
)
from trialkit.estimate.frequentist.goodness import fit_statistics
from trialkit.estimate.frequentist.lstsq import LeastSquares, fit_lstsq
from trialkit.estimate.frequentist.result import RegressionResult, build_result, check_ci_level
from trialkit.estimate.frequentist.row_major import stack_rows
from trialkit.estimate.frequentist.vcov import Clusters, compute_vcov, resolve_se_type
from trialkit.protocol.vocabulary import DfMethod, VcovType

#: The ``se_type`` of a result whose HC2 intervals use Bell-McCaffrey df.
HC2_BM_LABEL = "HC2 (Bell–McCaffrey df)"


def fixed_effect_columns(prep: Prepared) -> tuple[FloatArray, list[str]]:
    """Dummies for every fixed effect (first level of each dropped) and their names."""
    blocks: list[FloatArray] = []
    names: list[str] = []
    for fe in prep.fixed_effects:
        dummies, labels = fe_dummies(fe)
        blocks.append(dummies)
        names.extend(labels)
    if not blocks:
        return np.empty((prep.n_obs, 0)), []
    return np.column_stack(blocks), names


def stack_columns(n_obs: int, *blocks: FloatArray) -> FloatArray:
    """``numpy.column_stack`` into a row-major array (:func:`~.row_major.stack_rows`: the
    least-squares products run fastest on that layout), read-only."""
    out = stack_rows(n_obs, *blocks)
    out.flags.writeable = False  # finished: a design nobody changes may be reused (lstsq)
    return out


def fit_linear(
    prep: Prepared,
    x: FloatArray | None,
    terms: Sequence[str],
    *,
    reported: Sequence[str],
    se_type: VcovType | None,
    ci_level: float,
    estimator: str,
    y: FloatArray | None = None,
    df: DfMethod = "residual",
    fit: LeastSquares | None = None,
) -> RegressionResult:
    """Fit ``y`` on the columns of ``x`` and return rows for the ``reported`` terms.

    ``fit`` is that least-squares fit when the caller has it already (it keeps its QR);
    the design ``x`` is then read only to unweight a weighted fit's residuals, and may be
    ``None`` for an unweighted one.
    """
    ci_level = check_ci_level(ci_level)
    kind = resolve_se_type(se_type, clustered=prep.cluster is not None)
    if fit is None:
        if x is None:
            raise ValueError("fit_linear needs the design or its fit")
        fit = fit_lstsq(x, prep.y if y is None else y, prep.weights, names=terms)
    clusters = Clusters.from_codes(prep.cluster.codes) if prep.cluster is not None else None
    vcov = compute_vcov(fit, kind, clusters, df=df)
    outcome_y = prep.y if y is None else y
    # The fit's residuals are weighted; without weights they are y - Xb already.
    if prep.weights is None:
        resid = fit.resid
    elif x is None:
        raise ValueError("fit_linear needs the design to unweight a weighted fit's residuals")
    else:
        resid = outcome_y - x @ fit.coef
    goodness = fit_statistics(
        y=outcome_y,
        resid=resid,
        weights=prep.weights,
        terms=terms,
        tested=[t for t in reported if t != INTERCEPT],
        coefficients=fit.coef,
        vcov=vcov.matrix,
        n_clusters=clusters.n_clusters if clusters is not None else None,
    )
    return build_result(
        outcome=prep.outcome,
        terms=terms,
        coefficients=fit.coef,
        vcov=vcov.matrix,
        df=vcov.df,
        reported=reported,
        treatment_terms=prep.arms.terms,
        treatment_arms=prep.arms.others,
        ci_level=ci_level,
        se_type=HC2_BM_LABEL if kind == "HC2" and df == "bell_mccaffrey" else kind,
        n_obs=prep.n_obs,
        n_clusters=clusters.n_clusters if clusters is not None else None,
        estimator=estimator,
        fit_statistics=goodness,
    )


def ols(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    blocks: str | None = None,
    fixed_effects: Sequence[str] = (),
    weights: str | None = None,
    se_type: VcovType | None = None,
    ci_level: float = 0.95,
    control: Hashable | None = None,
    df: DfMethod = "residual",
) -> RegressionResult:
    """Treatment effects by least squares with robust standard errors (estimatr's ``lm_robust``).

    Regresses the outcome on an intercept, one indicator per non-control arm, the covariates
    as given, and indicators for each block / fixed-effect level (absorbed: not reported).

    Parameters
    ----------
    data
        One row per unit.
    outcome, treatment
        Column names. The treatment may be 0/1, boolean or labelled arms.
    covariates
        Numeric pre-treatment covariates, entered linearly (uncentred).
    cluster
        Column of the unit of randomisation, if clusters were randomised.
    blocks
        Column of randomisation blocks, entered as fixed effects.
    fixed_effects
        Further categorical columns entered as fixed effects.
    weights
        Column of positive analytic weights (WLS).
    se_type
        One of ``"classical", "HC0", "HC1", "HC2", "HC3", "CR0", "CR1", "CR2", "CR3"``.
        Default ``"HC2"`` without clusters and ``"CR2"`` with clusters (estimatr's defaults);
        ``"CR3"`` is the leave-one-cluster-out jackknife, for few clusters.
    ci_level
        Confidence level of the intervals.
    control
        The control arm; default 0 if present, else the first arm in sorted order.
    df
        Degrees of freedom of HC2 intervals: ``"residual"`` (N - k, estimatr's) or
        ``"bell_mccaffrey"`` (Imbens & Kolesár 2016; the registered plan's default).
        Ignored by the other ``se_type``.

    Returns
    -------
    RegressionResult
        Rows for the arms (term = treatment column with two arms, ``"column[arm]"`` with
        several), then the intercept (omitted with fixed effects) and covariates.

    Raises
    ------
    EstimationError
        Missing or non-numeric columns, missing values, an empty arm, collinear terms, an
        unknown ``se_type`` or one that does not fit the clustering.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 5.0, 4.0, 7.0], "arm": [0, 1, 0, 1, 0, 1]})
    >>> res = ols(df, outcome="y", treatment="arm")
    >>> round(res.effect().estimate, 6)
    2.0
    """
    prep, x, terms, reported = ols_design(
        data,
        outcome,
        treatment,
        covariates=covariates,
        cluster=cluster,
        blocks=blocks,
        fixed_effects=fixed_effects,
        weights=weights,
        control=control,
    )
    return fit_linear(
        prep,
        x,
        terms,
        reported=reported,
        se_type=se_type,
        ci_level=ci_level,
        estimator="ols",
        df=df,
    )


def ols_design(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    blocks: str | None = None,
    fixed_effects: Sequence[str] = (),
    weights: str | None = None,
    control: Hashable | None = None,
) -> tuple[Prepared, FloatArray, list[str], list[str]]:
    """What :func:`ols` fits: the prepared columns, the design (intercept, arms,
    covariates, fixed effects), its terms and the terms it reports."""
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
    fe, fe_names = fixed_effect_columns(prep)
    x = stack_columns(prep.n_obs, np.ones(prep.n_obs), prep.arm_dummies(), prep.covariates, fe)
    terms = [INTERCEPT, *prep.arms.terms, *prep.covariate_names, *fe_names]
    reported = [*prep.arms.terms, *([] if fe_names else [INTERCEPT]), *prep.covariate_names]
    return prep, x, terms, reported

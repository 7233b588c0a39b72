"""Treatment effects when some outcomes are missing: inverse probability weighting and
multiple imputation (the protocol's ``missing_data`` methods other than ``complete_case``).

Both take **every analysed row, including those whose outcome is missing**: the analysis
frame's rows (``AnalysisFrame.data`` in the plan, not ``frame.complete(column)``, which
drops them). Arms, covariates, blocks and clusters must be complete on those rows; a
missing covariate is refused, never dropped silently (drop or impute such rows first, and
record the rule in the analysis plan). Both fit the plan's complete-data estimator
(:func:`~trialkit.estimate.frequentist.lin.lin` or
:func:`~trialkit.estimate.frequentist.ols.ols`, HC2 or CR2) and say in the estimator name
what they did.

* :func:`ipw`: the probability that the outcome is observed is modelled by logistic
  regression on the arms, blocks and covariates; observed rows are weighted by the
  stabilised inverse of that probability (share observed / p̂) and the estimator is fitted
  by weighted least squares. Valid when outcomes are missing at random given those
  columns (MAR).
* :func:`multiple_imputation`: missing outcomes are imputed ``imputations`` times from an
  arm-specific normal linear regression on covariates and blocks with proper draws (Rubin
  1987, p. 167; van Buuren's ``norm``), the estimator is fitted on each completed data set
  and the results are pooled by :func:`rubin` with Barnard & Rubin's (1999) degrees of
  freedom.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import (
    FloatArray,
    RegressionModel,
    check_columns,
    fe_dummies,
    prepare,
)
from trialkit.estimate.frequentist.binary import _irls
from trialkit.estimate.frequentist.lin import lin
from trialkit.estimate.frequentist.lstsq import fit_lstsq
from trialkit.estimate.frequentist.ols import fixed_effect_columns, ols
from trialkit.estimate.frequentist.result import RegressionResult, build_result
from trialkit.protocol.vocabulary import DfMethod, VcovType

_OBSERVED = "__trialkit_observed__"
_WEIGHT = "__trialkit_ipw_weight__"


def rubin(
    estimates: Sequence[float] | FloatArray,
    variances: Sequence[float] | FloatArray,
    df_complete: float,
) -> tuple[float, float, float]:
    """Pool ``m`` completed-data estimates of one quantity by Rubin's rules.

    The pooled estimate is the mean; its variance ``T = Ū + (1 + 1/m) B`` adds the
    between-imputation variance ``B`` to the mean within-imputation variance ``Ū`` (Rubin
    1987, eqs. 3.1.2–3.1.5). The degrees of freedom are Barnard & Rubin's (1999)
    small-sample ones: with ``λ = (1 + 1/m) B / T``, ``ν_old = (m − 1) / λ²`` and
    ``ν_obs = (ν_com + 1) / (ν_com + 3) · ν_com · (1 − λ)``, ``ν = 1 / (1/ν_old + 1/ν_obs)``.

    Parameters
    ----------
    estimates, variances
        The ``m ≥ 2`` completed-data estimates and their squared standard errors.
    df_complete
        The completed-data degrees of freedom ``ν_com`` (``inf`` for normal inference).

    Returns
    -------
    tuple of float
        The pooled estimate, its standard error ``√T`` and the degrees of freedom.

    Raises
    ------
    EstimationError
        Fewer than two estimates, lengths that differ, negative variances, or
        ``df_complete`` not positive.

    Examples
    --------
    >>> estimate, se, df = rubin([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], df_complete=float("inf"))
    >>> estimate, round(se**2, 6), round(df, 6)
    (2.0, 2.333333, 6.125)
    """
    q = np.asarray(estimates, dtype=np.float64)
    u = np.asarray(variances, dtype=np.float64)
    if q.ndim != 1 or q.shape != u.shape or q.size < 2:
        raise EstimationError(
            f"rubin needs at least two estimates and one variance for each; got {q.size} "
            f"estimates and {u.size} variances. Fix: pass one value per imputation."
        )
    if np.any(u < 0) or not df_complete > 0:
        raise EstimationError(
            "rubin needs non-negative variances and a positive df_complete. "
            f"Got variances {u.tolist()} and df_complete={df_complete!r} instead."
        )
    b = float(np.var(q, ddof=1))
    t = float(np.mean(u)) + (1.0 + 1.0 / q.size) * b
    df = _barnard_rubin(np.array([b]), np.array([t]), q.size, np.array([float(df_complete)]))
    return float(np.mean(q)), float(np.sqrt(t)), float(df[0])


def _barnard_rubin(b: FloatArray, t: FloatArray, m: int, df_com: FloatArray) -> FloatArray:
    """Barnard–Rubin (1999) degrees of freedom, elementwise; ``B = 0`` gives ``ν_obs``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = np.where(t > 0, (1.0 + 1.0 / m) * b / t, 0.0)
        inv_old = lam**2 / (m - 1)
        finite = np.isfinite(df_com)
        com = np.where(finite, df_com, 1.0)
        obs = (com + 1.0) / (com + 3.0) * com * (1.0 - lam)
        inv_obs = np.where(finite, 1.0 / obs, 0.0)
        return np.asarray(1.0 / (inv_old + inv_obs), dtype=np.float64)


def _observed(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    covariates: Sequence[str],
    cluster: str | None,
    blocks: str | None,
    method: str,
) -> FloatArray:
    """The 0/1 response indicator, after refusing incomplete arms, covariates or blocks."""
    roles: dict[str, Sequence[str]] = {
        "outcome": [outcome],
        "treatment": [treatment],
        "covariates": list(covariates),
        "cluster": [cluster] if cluster else [],
        "blocks": [blocks] if blocks else [],
    }
    check_columns(data, roles)
    for role, names in roles.items():
        for name in names if role != "outcome" else ():
            missing = int(data[name].isna().sum())
            if missing:
                raise EstimationError(
                    f'column "{name}" (the {role.rstrip("s")}) has {missing} missing '
                    f"value(s); {method} needs complete arms, covariates, blocks and "
                    "clusters, because only the outcome may be missing. Fix: drop or impute "
                    "those rows first and record the rule in the analysis plan."
                )
    observed = np.asarray(data[outcome].notna().to_numpy(), dtype=np.float64)
    if observed.sum() == 0:
        raise EstimationError(
            f'outcome "{outcome}" is missing in every row. Fix: check the data file.'
        )
    return observed


def _fit(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    estimator: str,
    covariates: Sequence[str],
    cluster: str | None,
    blocks: str | None,
    control: Hashable,
    se_type: VcovType | None,
    ci_level: float,
    weights: str | None = None,
    df: DfMethod = "residual",
) -> RegressionResult:
    if estimator not in ("ols", "lin"):
        raise EstimationError(
            f"The 'estimator' parameter must be one of 'ols', 'lin'. Got {estimator!r} instead."
        )
    fitter = lin if estimator == "lin" else ols
    return fitter(
        data,
        outcome,
        treatment,
        covariates=covariates,
        cluster=cluster,
        blocks=blocks,
        weights=weights,
        se_type=se_type,
        ci_level=ci_level,
        control=control,
        df=df,
    )


def _named(result: RegressionResult, estimator: str) -> RegressionResult:
    rows = tuple(replace(row, estimator=estimator) for row in result.rows)
    return replace(result, rows=rows)


def response_probabilities(
    data: pd.DataFrame,
    observed: FloatArray,
    treatment: str,
    *,
    covariates: Sequence[str],
    blocks: str | None,
    control: Hashable,
) -> FloatArray:
    """P̂(outcome observed) per row: logistic regression on arms, blocks and covariates."""
    frame = data.assign(**{_OBSERVED: observed})
    prep = prepare(
        frame,
        outcome=_OBSERVED,
        treatment=treatment,
        covariates=covariates,
        blocks=blocks,
        control=control,
    )
    fe, _ = fixed_effect_columns(prep)
    x = np.column_stack([np.ones(prep.n_obs), prep.arm_dummies(), prep.covariates, fe])
    try:
        _, p = _irls(x, prep.y, np.ones(prep.n_obs), "logit")
    except EstimationError:
        raise EstimationError(
            "the response model (logistic regression of 'outcome observed' on arms, blocks "
            "and covariates) has no finite fit: an arm, block or covariate value where "
            "every outcome is observed, or none is. Fix: pass fewer response_covariates, "
            "merge small blocks, or use multiple imputation."
        ) from None
    return p


def ipw(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    covariates: Sequence[str],
    cluster: str | None = None,
    blocks: str | None = None,
    control: Hashable,
    estimator: RegressionModel = "lin",
    se_type: VcovType | None = None,
    ci_level: float = 0.95,
    response_covariates: Sequence[str] | None = None,
    df: DfMethod = "residual",
) -> RegressionResult:
    """Treatment effects weighting observed outcomes by their inverse response probability.

    The probability ``p̂`` that each row's outcome is observed is fitted by logistic
    regression on the arm indicators, block indicators and ``response_covariates``; observed
    rows get the stabilised weight ``(share observed) / p̂`` and ``estimator`` is fitted to
    them by weighted least squares. The weights are *estimated*, but the standard errors
    (HC2, or CR2 with clusters) **treat them as fixed**, as ``lm_robust(weights=)`` does;
    this ignores the (usually small, often conservative) correction for estimating them.
    The estimator name says so. With no missing outcome every weight is 1 and the result
    equals the complete-case estimator's.

    Parameters
    ----------
    data
        Every analysed row, **including those whose outcome is missing** (the plan's
        ``frame.data``); arms, covariates, blocks and clusters complete.
    outcome, treatment
        Column names (the treatment holds arm ids).
    covariates
        Covariates of the outcome model (the plan's ``frame.usable_covariates(column)``).
    cluster, blocks, control
        As in :func:`trialkit.estimate.frequentist.lin.lin` (``frame.cluster``,
        ``frame.blocks``, ``protocol.control.id``).
    estimator
        The complete-data estimator: ``"lin"`` (default) or ``"ols"``.
    se_type, ci_level
        As in :func:`~trialkit.estimate.frequentist.ols.ols`.
    response_covariates
        Covariates of the response model; default ``covariates``.
    df
        Degrees of freedom of HC2, as in :func:`~trialkit.estimate.frequentist.ols.ols`.

    Returns
    -------
    RegressionResult
        The weighted estimator's rows; ``n_obs`` counts the observed rows.

    Raises
    ------
    EstimationError
        A missing arm, covariate, block or cluster value; no observed outcome; a response
        model with no finite fit (separation); any error of the complete-data estimator.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, None, 3.0, 5.0, 4.0, 7.5, 2.0, 3.0, None, 4.0],
    ...                    "arm": ["c", "t"] * 5,
    ...                    "x": [0.1, 0.4, 0.9, 1.2, 1.1, 2.0, 0.3, 0.2, 1.5, 0.7]})
    >>> res = ipw(df, "y", "arm", covariates=["x"], control="c")
    >>> res.effect().estimator
    'lin (IPW: estimated response weights, SEs treat them as fixed)'
    """
    observed = _observed(data, outcome, treatment, covariates, cluster, blocks, "IPW")
    weights = np.ones(len(data))
    if observed.min() == 0:
        p = response_probabilities(
            data,
            observed,
            treatment,
            blocks=blocks,
            control=control,
            covariates=covariates if response_covariates is None else response_covariates,
        )
        weights = observed.mean() / p
    rows = data.assign(**{_WEIGHT: weights})[observed == 1]
    result = _fit(
        rows,
        outcome,
        treatment,
        estimator=estimator,
        covariates=covariates,
        cluster=cluster,
        blocks=blocks,
        control=control,
        se_type=se_type,
        ci_level=ci_level,
        weights=_WEIGHT,
        df=df,
    )
    return _named(result, f"{estimator} (IPW: estimated response weights, SEs treat them as fixed)")


def _imputation_design(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    blocks: str | None,
    control: Hashable,
) -> tuple[FloatArray, FloatArray, list[Hashable]]:
    """The imputation model's design (intercept, covariates, block dummies), arm codes and
    the arm of each code."""
    frame = data.assign(**{_OBSERVED: 0.0})
    prep = prepare(
        frame,
        outcome=_OBSERVED,
        treatment=treatment,
        covariates=covariates,
        blocks=blocks,
        control=control,
    )
    fe = [fe_dummies(f)[0] for f in prep.fixed_effects]
    x = np.column_stack([np.ones(prep.n_obs), prep.covariates, *fe])
    return x, prep.arm_codes.astype(np.float64), [prep.arms.control, *prep.arms.others]


def _arm_model(
    x: FloatArray, y: FloatArray, observed: FloatArray, arm: FloatArray, label: str
) -> tuple[FloatArray, FloatArray, FloatArray, float, int]:
    """Least squares of one arm's observed outcomes; columns constant there are dropped."""
    obs, mis = (arm == 1) & (observed == 1), (arm == 1) & (observed == 0)
    keep = np.ones(x.shape[1], dtype=bool)
    keep[1:] = np.ptp(x[obs][:, 1:], axis=0) > 0 if obs.any() else False
    if np.any(x[mis][:, ~keep] != x[obs][:1, ~keep]) or not obs.any():
        raise EstimationError(
            f"arm {label!r}: a block or covariate value of the rows with a missing outcome "
            "never occurs with an observed outcome in that arm, so it cannot be imputed. "
            "Fix: merge small blocks, or use fewer covariates."
        )
    fit = fit_lstsq(x[obs][:, keep], y[obs])
    df = fit.n_obs - fit.n_coef
    if df < 1:
        raise EstimationError(
            f"arm {label!r}: {fit.n_obs} observed outcomes cannot fit an imputation model "
            f"with {fit.n_coef} coefficients. Fix: use fewer covariates."
        )
    s2 = float(fit.resid @ fit.resid) / df
    return x[mis][:, keep], fit.coef, fit.r_inv, s2, df


def _draws(
    x: FloatArray,
    y: FloatArray,
    observed: FloatArray,
    arms: FloatArray,
    labels: Sequence[Hashable],
    imputations: int,
    rng: np.random.Generator,
) -> list[FloatArray]:
    """``imputations`` completed outcome vectors, each from fresh parameter draws per arm."""
    models = [
        (arms == j, _arm_model(x, y, observed, (arms == j).astype(float), str(label)))
        for j, label in enumerate(labels)
        if np.any((arms == j) & (observed == 0))
    ]
    out = []
    for _ in range(imputations):
        completed = y.copy()
        for rows, (x_mis, coef, r_inv, s2, df) in models:
            sigma2 = df * s2 / rng.chisquare(df)  # σ² from its posterior, then β | σ²
            beta = coef + np.sqrt(sigma2) * (r_inv @ rng.standard_normal(coef.size))
            noise = np.sqrt(sigma2) * rng.standard_normal(x_mis.shape[0])
            completed[rows & (observed == 0)] = x_mis @ beta + noise
        out.append(completed)
    return out


def multiple_imputation(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    covariates: Sequence[str],
    cluster: str | None = None,
    blocks: str | None = None,
    control: Hashable,
    imputations: int = 20,
    rng: np.random.Generator,
    estimator: RegressionModel = "lin",
    ci_level: float = 0.95,
    se_type: VcovType | None = None,
    df: DfMethod = "residual",
) -> RegressionResult:
    """Treatment effects by multiple imputation of missing outcomes and Rubin's rules.

    In each arm separately, the observed outcomes are regressed on an intercept, the
    covariates and block indicators (normal linear model). Each imputation draws the
    parameters from their posterior under a flat prior (``σ²* = ν s² / χ²_ν``, then
    ``β* ~ N(β̂, σ²* (X'X)⁻¹)``) and the missing outcomes as ``X β* + N(0, σ²*)``: a
    *proper* imputation (Rubin 1987; van Buuren's ``mice.impute.norm``). ``estimator`` is
    fitted to each completed data set and every coefficient pooled by Rubin's rules
    (:func:`rubin`; the vcov is ``Ū + (1 + 1/m) B``), with Barnard–Rubin degrees of freedom
    whose complete-data value is the fitted estimator's (``n − k`` for HC2, or Bell–McCaffrey
    with ``df="bell_mccaffrey"``; Bell–McCaffrey for CR2). With no missing outcome nothing
    is imputed and the complete-case result is returned unchanged. The imputation model has
    no cluster effects: with clusters, the imputations ignore the intra-cluster correlation
    of the missing outcomes.

    Parameters
    ----------
    data
        Every analysed row, **including those whose outcome is missing** (the plan's
        ``frame.data``); arms, covariates, blocks and clusters complete.
    outcome, treatment, covariates, cluster, blocks, control
        As in :func:`ipw`; the covariates and blocks enter both the imputation and the
        analysis model.
    imputations
        Number of imputed data sets ``m`` (at least 2).
    rng
        The only source of randomness: the same generator state gives the same result.
    estimator, ci_level, se_type, df
        The complete-data estimator and its settings, as in :func:`ipw`.

    Returns
    -------
    RegressionResult
        Pooled rows; ``n_obs`` counts every row (observed and imputed).

    Raises
    ------
    EstimationError
        A missing arm, covariate, block or cluster value; ``imputations`` below 2; an arm
        whose missing rows have a block or covariate value never observed in that arm, or
        with too few observed outcomes; any error of the complete-data estimator.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, None, 3.0, 5.0, 4.0, 7.5, 2.0, 3.0, None, 4.0],
    ...                    "arm": ["c", "t"] * 5,
    ...                    "x": [0.1, 0.4, 0.9, 1.2, 1.1, 2.0, 0.3, 0.2, 1.5, 0.7]})
    >>> res = multiple_imputation(df, "y", "arm", covariates=["x"], control="c",
    ...                           imputations=5, rng=np.random.default_rng(1))
    >>> res.n_obs, res.effect().estimator
    (10, "lin (multiple imputation, m=5, Rubin's rules)")
    """
    if not isinstance(imputations, int | np.integer) or imputations < 2:
        raise EstimationError(
            f"The 'imputations' parameter must be an integer of at least 2. Got "
            f"{imputations!r} instead."
        )
    observed = _observed(
        data, outcome, treatment, covariates, cluster, blocks, "multiple imputation"
    )

    def fit(frame: pd.DataFrame) -> RegressionResult:
        return _fit(
            frame,
            outcome,
            treatment,
            estimator=estimator,
            covariates=covariates,
            cluster=cluster,
            blocks=blocks,
            control=control,
            se_type=se_type,
            ci_level=ci_level,
            df=df,
        )

    if observed.min() == 1:
        return fit(data)
    x, arms, labels = _imputation_design(data, treatment, covariates, blocks, control)
    y = pd.to_numeric(data[outcome], errors="coerce").to_numpy(dtype=np.float64)
    fits = [
        fit(data.assign(**{outcome: completed}))
        for completed in _draws(x, y, observed, arms, labels, imputations, rng)
    ]
    return _pool(
        fits, f"{estimator} (multiple imputation, m={imputations}, Rubin's rules)", ci_level
    )


def _pool(fits: Sequence[RegressionResult], estimator: str, ci_level: float) -> RegressionResult:
    """Rubin's rules for every coefficient of ``m`` fits of the same model."""
    first, m = fits[0], len(fits)
    coefs = np.array([f.coefficients for f in fits])
    within = np.mean([f.vcov for f in fits], axis=0)
    between = np.atleast_2d(np.cov(coefs.T))
    total = within + (1.0 + 1.0 / m) * between
    df = _barnard_rubin(np.diag(between), np.diag(total), m, first.df)
    return build_result(
        outcome=first.rows[0].outcome,
        terms=first.terms,
        coefficients=coefs.mean(axis=0),
        vcov=total,
        df=df,
        reported=[row.term for row in first.rows],
        treatment_terms=first.treatment_terms,
        treatment_arms=first.treatment_arms,
        ci_level=ci_level,
        se_type=first.se_type,
        n_obs=first.n_obs,
        n_clusters=first.n_clusters,
        estimator=estimator,
    )

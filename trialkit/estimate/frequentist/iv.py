"""Complier average causal effect (CACE / LATE) by two-stage least squares.

Random assignment (the arm) instruments the treatment actually received. With several
treated arms and ``per_arm=True`` each arm has its own received-treatment regressor
(take-up × the arm's indicator, ``"<received>[<arm>]"``), instrumented by the arm indicators
(just identified), so there is one CACE per treated arm. Covariates and fixed effects enter
both stages, as in estimatr's ``iv_robust(y ~ d + x | z + x)``. The point estimate is the
QR solution of the second stage, checked against the 2SLS normal equations on a
well-conditioned design (covariates centred and scaled, which leaves the coefficient of the
received treatment unchanged); the tests check both against linearmodels' ``IV2SLS``.
Standard errors are computed here as estimatr's ``iv_robust`` does: the sandwich of the
second stage with the fitted regressors ``X_hat = P_Z X`` as design and the structural
residuals ``e = y - X b``. Hence

* ``HC0`` equals linearmodels' ``cov_type="robust"`` (``debiased=False``), ``HC1`` its
  ``debiased=True``; ``classical`` its ``"unadjusted"`` with ``debiased=True``;
* ``CR0`` equals linearmodels' ``cov_type="clustered"`` (``debiased=False``), ``CR1`` its
  ``debiased=True`` (G/(G-1) (N-1)/(N-K));
* ``HC2`` and ``CR2`` (linearmodels has neither) use the leverages of ``X_hat`` and the CR2
  adjustment and Bell-McCaffrey df of the second-stage design, as ``iv_robust`` does.

Inference is t-based with N - K df (G - 1 for CR0/CR1, BM df for CR2), like Stata's
``ivregress 2sls ..., small``; linearmodels reports normal p-values by default.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from trialkit._core.provenance import Provenance
from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import (
    INTERCEPT,
    FloatArray,
    Prepared,
    check_columns,
    numeric_column,
    prepare,
)
from trialkit.estimate.frequentist.goodness import fit_statistics
from trialkit.estimate.frequentist.lstsq import (
    LeastSquares,
    fit_in_span,
    fit_lstsq,
    solve_triangular,
)
from trialkit.estimate.frequentist.ols import fit_linear, fixed_effect_columns
from trialkit.estimate.frequentist.result import RegressionResult, build_result, check_ci_level
from trialkit.estimate.frequentist.row_major import stack_rows
from trialkit.estimate.frequentist.vcov import Clusters, compute_vcov, resolve_se_type
from trialkit.estimate.results import Estimate, EstimateTable
from trialkit.protocol.vocabulary import VcovType


@dataclass(frozen=True, slots=True, eq=False)
class IVResult:
    """CACE by 2SLS, with the intention-to-treat and first-stage regressions beside it.

    Attributes
    ----------
    rows
        The CACE row(s) (estimand ``"CACE"``), then ITT rows (``"ITT"``, when fitted) and
        first-stage rows (estimand ``"first stage"``, outcome = the received-treatment
        column).
    second_stage
        The 2SLS fit: every coefficient, its vcov and df.
    itt
        OLS of the outcome on the arms (and covariates): the reduced form; ``None`` when
        :func:`iv` was asked to leave it out (``reduced_form=False``).
    first_stage
        OLS of the received treatment on the arms (and covariates).
    provenance
        trialkit and library versions, time of fitting.
    """

    rows: tuple[Estimate, ...]
    second_stage: RegressionResult
    itt: RegressionResult | None
    first_stage: RegressionResult
    provenance: Provenance = field(default_factory=Provenance)

    @property
    def estimates(self) -> tuple[Estimate, ...]:
        """The complier effects (CACE): one row per treated arm, each naming its ``arm``."""
        return self.second_stage.estimates

    def to_frame(self) -> pd.DataFrame:
        """One tidy row per estimate (CACE, ITT, first stage)."""
        return EstimateTable(self.rows, self.provenance).to_frame()

    def summary(self) -> str:
        """A fixed-width text table."""
        frame = self.to_frame()
        shown = [
            "estimand",
            "outcome",
            "term",
            "estimate",
            "std_error",
            "df",
            "p_value",
            "ci_low",
            "ci_high",
        ]
        return f"iv (2SLS)  se_type={self.second_stage.se_type}\n" + frame.loc[:, shown].to_string(
            index=False, float_format=lambda v: f"{v:.4g}"
        )

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return EstimateTable(self.rows, self.provenance)._repr_html_()


#: Rows per block of the normal equations' cross-products (:func:`_normal_equations_coef`).
CROSS_PRODUCT_ROWS = 65536


def _normal_equations_coef(
    y: FloatArray,
    exog: Sequence[FloatArray],
    endog: FloatArray,
    instruments: FloatArray,
    weights: FloatArray | None,
) -> FloatArray:
    """2SLS coefficients of ``endog`` from the k x k cross-products (a second route).

    ``b = (X'WZ (Z'WZ)^-1 Z'WX)^-1 X'WZ (Z'WZ)^-1 Z'Wy`` with ``Z = [exog, instruments]``
    and ``X = [exog, endog]``: one pass over the rows, independent of the QR solution it
    checks. The tests check both against linearmodels' ``IV2SLS``. ``Z'WX`` is ``Z'WZ``'s
    exogenous columns beside ``Z'W endog``, so X itself is never formed. ``exog`` is the
    intercept, the covariates and the fixed effects; the covariates are standardised
    (well-conditioned cross-products; the coefficients of ``endog`` are unchanged). The
    products are summed over blocks of :data:`CROSS_PRODUCT_ROWS` rows, so that ``Z`` is
    never formed whole either: this route only checks the other, so its own rounding
    (to about 1e-13 here, against a tolerance of 1e-6) is never reported.
    """
    n = y.shape[0]
    covariates = np.asarray(exog[1], dtype=np.float64).reshape(n, -1)
    means = covariates.mean(axis=0) if n else np.zeros(covariates.shape[1])
    spread = covariates.std(axis=0) if n else np.ones(covariates.shape[1])
    inverse = 1.0 / np.where(spread > 0, spread, 1.0)  # a constant column is only centred
    columns = [np.asarray(b, dtype=np.float64).reshape(n, -1) for b in exog]
    k = sum(c.shape[1] for c in columns) + instruments.shape[1]
    gram, zx_endog, zy = np.zeros((k, k)), np.zeros((k, endog.shape[1])), np.zeros(k)
    for lo in range(0, n, CROSS_PRODUCT_ROWS):
        rows = slice(lo, lo + CROSS_PRODUCT_ROWS)
        blocks = [c[rows] for c in columns]
        blocks[1] = (blocks[1] - means) * inverse
        z = np.column_stack([*blocks, instruments[rows]])
        zw = z * weights[rows, None] if weights is not None else z
        gram += zw.T @ z
        zx_endog += zw.T @ endog[rows]
        zy += zw.T @ y[rows]
    n_exog = gram.shape[0] - instruments.shape[1]
    zx = np.column_stack([gram[:, :n_exog], zx_endog])
    projected = np.linalg.lstsq(gram, np.column_stack([zx, zy]), rcond=None)[0]
    lhs, rhs = zx.T @ projected[:, :-1], zx.T @ projected[:, -1]
    coef = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
    return np.asarray(coef[n_exog:], dtype=np.float64)


def _received(
    prep: Prepared, d: FloatArray, received: str, per_arm: bool
) -> tuple[FloatArray, list[str]]:
    """The endogenous regressors: ``d``, or ``d`` × each treated arm's indicator."""
    if not per_arm or len(prep.arms.others) == 1:
        return d[:, None], [received]
    columns = d[:, None] * prep.arm_dummies()
    names = [f"{received}[{arm}]" for arm in prep.arms.others]
    empty = [arm for arm, col in zip(prep.arms.others, columns.T, strict=True) if not col.any()]
    if empty:
        raise EstimationError(
            f'no unit of arm(s) {empty} has a non-zero "{received}", so their CACE is not '
            "identified. Fix: check the received-treatment column, or leave those arms out."
        )
    return columns, names


#: Relative size below which an arm's first-stage shift counts as rounding (see _shifts).
NO_SHIFT_TOLERANCE = 1e-10


def _shifts(first: RegressionResult, prep: Prepared, arms: FloatArray, d: FloatArray) -> bool:
    """Whether any arm shifts ``d`` by more than rounding in its first-stage fit.

    An arm's coefficient times the root mean square of its indicator is the shift it
    makes in ``d``; rounding leaves it at about machine precision times the size of ``d``
    (its root mean square, which a constant ``d`` has too), so a shift below
    :data:`NO_SHIFT_TOLERANCE` of that is none. An exact zero is not required: a
    received treatment the other regressors explain fully (a constant, a covariate)
    leaves the arms a coefficient of rounding size, not 0.
    """
    size = float(np.sqrt(np.mean(np.square(d))))
    spread = np.sqrt(np.mean(np.square(arms), axis=0))
    shifts = [
        abs(first.effect(t).estimate) * s for t, s in zip(prep.arms.terms, spread, strict=True)
    ]
    return max(shifts, default=0.0) > NO_SHIFT_TOLERANCE * size


def _first_stage(
    prep: Prepared,
    z: FloatArray,
    z_terms: Sequence[str],
    arms: FloatArray,
    d: FloatArray,
    received: str,
    reported: Sequence[str],
    se_type: VcovType | None,
    ci_level: float,
) -> tuple[RegressionResult, LeastSquares]:
    """OLS of the received treatment on the arms; refuses arms that do not shift it.

    Returns the regression and its least-squares fit, whose QR of the instruments the
    second stage works in.
    """
    zfit = fit_lstsq(z, d, prep.weights, names=z_terms)
    first = fit_linear(
        replace(prep, outcome=received, y=d),
        z,
        z_terms,
        reported=reported,
        se_type=se_type,
        ci_level=ci_level,
        estimator="ols (first stage)",
        fit=zfit,
    )
    first = replace(
        first,
        rows=tuple(
            replace(r, estimand="first stage") if r.term in prep.arms.terms else r
            for r in first.rows
        ),
    )
    if not _shifts(first, prep, arms, d):
        raise EstimationError(
            f'the arms do not shift "{received}" at all, so the CACE is not identified. '
            "Fix: check the received-treatment column."
        )
    return first, zfit


def _fitted_regressors(
    prep: Prepared, zfit: LeastSquares, endog: FloatArray, n_arms: int
) -> tuple[FloatArray, FloatArray]:
    """The second stage's design as the instruments times a k_z x k_x matrix ``T``.

    ``X_hat = [1, fitted, covariates, fixed effects] = Z T``: the fitted columns are the
    instruments times each endogenous column's first-stage coefficients (from the QR of
    ``Z`` already made), the others pick their own column of ``Z = [1, arms, covariates,
    fixed effects]``. Returns ``T`` and the first-stage coefficients (k_z x k).
    """
    if endog.shape[1] == 1:  # the received treatment itself: the first stage's coefficients
        coefs = zfit.coef[:, None]
    else:
        sw = np.sqrt(prep.weights)[:, None] if prep.weights is not None else 1.0
        coefs = zfit.r_inv @ (zfit.q.T @ (endog * sw))
    k_z, k = coefs.shape[0], endog.shape[1]
    kept = k_z - 1 - n_arms  # covariates and fixed effects, in both designs
    transform = np.zeros((k_z, 1 + k + kept))
    transform[0, 0] = 1.0
    transform[:, 1 : 1 + k] = coefs
    transform[1 + n_arms :, 1 + k :] = np.eye(kept)
    return transform, coefs


def _instruments_times(zfit: LeastSquares, v: FloatArray, prep: Prepared) -> FloatArray:
    """``Z @ v`` from the first stage's QR of the instruments, without ``Z`` itself.

    ``sqrt(w) Z = Q (R S)`` with ``zfit.r_inv = (R S)^-1`` (``S`` the column scales), so
    ``Z v = Q ((R S) v) / sqrt(w)``: the instruments need not be kept beside their basis.
    """
    zv = zfit.q @ solve_triangular(zfit.r_inv, v)
    return zv / np.sqrt(prep.weights) if prep.weights is not None else zv


def _second_stage(
    prep: Prepared,
    zfit: LeastSquares,
    x_terms: Sequence[str],
    endog: FloatArray,
    coef_check: FloatArray,
    *,
    endog_names: Sequence[str],
    reported: Sequence[str],
    kind: str,
    ci_level: float,
) -> RegressionResult:
    """Least squares on the fitted regressors; the sandwich with structural residuals.

    The fitted regressors ``X_hat = Z T`` (:func:`_fitted_regressors`) are fitted in the
    QR of the instruments ``Z`` (:func:`~.lstsq.fit_in_span`), and the structural
    residuals ``y - X b`` are ``y - Z (T b) - (endog - Z C) b_endog`` with ``C`` the
    first-stage coefficients: neither needs ``X_hat`` itself.
    """
    k = len(endog_names)
    transform, coefs = _fitted_regressors(prep, zfit, endog, len(prep.arms.others))
    fit = fit_in_span(zfit, transform, prep.y, prep.weights, names=x_terms)
    if np.any(
        np.abs(fit.coef[1 : 1 + k] - coef_check) > 1e-6 * np.maximum(1.0, np.abs(coef_check))
    ):
        raise EstimationError(  # pragma: no cover - a numerical failure, not user input
            "2SLS from the cross-products and from the QR solution disagree; the design is "
            "too ill-conditioned. Fix: rescale or drop nearly collinear covariates."
        )
    b_endog = fit.coef[1 : 1 + k]
    resid = prep.y - _instruments_times(zfit, transform @ fit.coef - coefs @ b_endog, prep)
    resid -= endog @ b_endog
    sw = np.sqrt(prep.weights) if prep.weights is not None else 1.0
    structural = LeastSquares(
        coef=fit.coef, q=fit.q, r_inv=fit.r_inv, resid=resid * sw, n_obs=prep.n_obs
    )
    clusters = Clusters.from_codes(prep.cluster.codes) if prep.cluster is not None else None
    vc = compute_vcov(structural, kind, clusters)
    goodness = fit_statistics(
        y=prep.y,
        resid=resid,
        weights=prep.weights,
        terms=x_terms,
        tested=[t for t in reported if t != INTERCEPT],
        coefficients=fit.coef,
        vcov=vc.matrix,
        n_clusters=clusters.n_clusters if clusters is not None else None,
    )
    return build_result(
        outcome=prep.outcome,
        terms=x_terms,
        coefficients=fit.coef,
        vcov=vc.matrix,
        df=vc.df,
        reported=reported,
        treatment_terms=endog_names,
        # one received column over several arms: the effect of receiving any of them
        treatment_arms=(
            prep.arms.others
            if len(endog_names) == len(prep.arms.others)
            else ["+".join(map(str, prep.arms.others))]
        ),
        ci_level=ci_level,
        se_type=kind,
        n_obs=prep.n_obs,
        n_clusters=clusters.n_clusters if clusters is not None else None,
        estimator="iv (2SLS)",
        estimand="CACE",
        fit_statistics=goodness,
    )


def iv(
    data: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    received: str,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    blocks: str | None = None,
    fixed_effects: Sequence[str] = (),
    weights: str | None = None,
    se_type: VcovType | None = None,
    ci_level: float = 0.95,
    control: Hashable | None = None,
    per_arm: bool = False,
    reduced_form: bool = True,
) -> IVResult:
    """The complier average causal effect, instrumenting treatment received with the arm.

    Parameters
    ----------
    data
        One row per unit.
    outcome
        Outcome column.
    treatment
        The randomised arm (the instrument): 0/1, boolean or labelled arms; with several
        arms every non-control arm indicator is an instrument.
    received
        Numeric column of the treatment actually received (e.g. 0/1 take-up, or a dose).
    covariates, cluster, blocks, fixed_effects, weights
        As in :func:`trialkit.estimate.ols`; covariates and fixed effects enter both stages.
    se_type
        Default HC2, or CR2 with clusters (see the module docstring for how these relate to
        linearmodels' ``robust`` and ``clustered``).
    ci_level
        Confidence level of the intervals.
    control
        The control arm; default 0 if present, else the first arm in sorted order.
    per_arm
        With several treated arms: one received-treatment regressor per treated arm
        (``received`` × the arm's indicator, term ``"<received>[<arm>]"``), so one CACE row
        per arm. Default: a single regressor ``received`` for every arm (over-identified
        with several arms). With one treated arm both give the ``received`` regressor.
    reduced_form
        Also fit the ITT regression of the outcome on the arms (its rows and ``itt``);
        ``False`` saves that fit when only the complier effects are wanted.

    Returns
    -------
    IVResult
        CACE row(s), ITT and first-stage rows and the three fits. The first stage
        regresses ``received`` itself on the arms (take-up by arm).

    Raises
    ------
    EstimationError
        Bad columns, an empty arm, or an arm that does not shift the treatment received.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2.0, 3.0, 6.0, 4.0, 7.0, 2.0, 5.0],
    ...                    "arm": [0, 1, 0, 1, 0, 1, 0, 1], "took": [0, 1, 0, 1, 0, 0, 1, 1]})
    >>> res = iv(df, "y", "arm", received="took")
    >>> res.rows[0].estimand
    'CACE'
    """
    ci_level = check_ci_level(ci_level)
    check_columns(data, {"received treatment": [received]})
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
    d = numeric_column(data, received, "received treatment")
    fe, fe_names = fixed_effect_columns(prep)
    n = prep.n_obs
    arms = prep.arm_dummies()
    reported = [*prep.arms.terms, *([] if fe_names else [INTERCEPT]), *prep.covariate_names]
    z_terms = [INTERCEPT, *prep.arms.terms, *prep.covariate_names, *fe_names]
    # The instruments, row-major (the QR's products run fastest on that layout). Left
    # writeable, so not kept for another fit (no other fit has this design): the second
    # stage works in their QR alone, and they are let go after the first stage, so that
    # the peak memory holds one n x k array, not two (a dose regression at 10^6 rows).
    z = stack_rows(n, np.ones(n), arms, prep.covariates, fe)
    itt = (
        fit_linear(
            prep,
            z,
            z_terms,
            reported=reported,
            se_type=se_type,
            ci_level=ci_level,
            estimator="ols (ITT)",
        )
        if reduced_form
        else None
    )
    endog, endog_names = _received(prep, d, received, per_arm)
    coef_check = _normal_equations_coef(
        prep.y, (np.ones(n), prep.covariates, fe), endog, arms, prep.weights
    )
    del fe  # in the instruments now
    first, zfit = _first_stage(prep, z, z_terms, arms, d, received, reported, se_type, ci_level)
    del z
    kind = resolve_se_type(se_type, clustered=prep.cluster is not None)
    x_terms = [INTERCEPT, *endog_names, *prep.covariate_names, *fe_names]
    second = _second_stage(
        prep,
        zfit,
        x_terms,
        endog,
        coef_check,
        endog_names=endog_names,
        reported=[*endog_names, *reported[len(prep.arms.terms) :]],
        kind=kind,
        ci_level=ci_level,
    )
    rows = (
        *second.rows[: len(endog_names)],
        *(() if itt is None else (itt.effect(t) for t in prep.arms.terms)),
        *(first.effect(t) for t in prep.arms.terms),
    )
    return IVResult(rows=rows, second_stage=second, itt=itt, first_stage=first)

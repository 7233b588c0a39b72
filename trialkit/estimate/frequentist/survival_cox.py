"""Cox proportional hazards by arm, via statsmodels, with a proportional-hazards check.

The model is statsmodels' ``PHReg`` (Efron's method for ties) with the robust sandwich
variance (Lin & Wei 1989): clustered on the team when clusters are given, per unit
otherwise. The sandwich is statsmodels' ``PHReg.robust_covariance``, except that a row
censored before the first event has a score residual of 0 (it is never at risk at an event
time), where statsmodels 0.15 writes NaN and so returns NaN standard errors. (lifelines,
which gives the same estimates, cannot be a dependency: its releases require pandas < 3.)
That variance is the analogue of CR0 / HC0 for least squares: **no
small-sample correction** and normal (not t) intervals, so with a couple of dozen teams it is
anti-conservative. This is why the registered primary survival estimand is the RMST
difference (:mod:`~trialkit.estimate.frequentist.survival_rmst`: CR2 with Bell–McCaffrey
degrees of freedom); the hazard ratio is secondary.

The proportional-hazards check correlates the scaled Schoenfeld residuals with the rank of
the event times (Grambsch & Therneau 1994, in the approximate form R's ``cox.zph`` used
before survival 3.0, and lifelines' ``proportional_hazard_test`` uses), with the model-based
variance: one test per term, plus the global test with as many degrees of freedom as terms.

Cause-specific: competing events (code 2) are censored for the event of interest (code 1).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from trialkit._core.provenance import Provenance
from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import FloatArray, IntArray, Prepared, prepare
from trialkit.estimate.frequentist.result import check_ci_level
from trialkit.estimate.frequentist.survival import event_indicator

#: Columns of :meth:`CoxResult.to_frame`, in order.
COX_COLUMNS: tuple[str, ...] = (
    "outcome",
    "estimand",
    "estimator",
    "term",
    "arm",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "ci_low",
    "ci_high",
    "ci_level",
    "se_type",
    "hazard_ratio",
    "hr_ci_low",
    "hr_ci_high",
    "ph_statistic",
    "ph_p_value",
    "n_obs",
    "n_events",
    "n_clusters",
)


@dataclass(frozen=True, slots=True)
class CoxTerm:
    """One Cox coefficient: log hazard ratio, robust SE, normal interval and PH test.

    Attributes
    ----------
    term
        ``"<treatment>"`` (two arms) or ``"<treatment>[<arm>]"``, or a covariate's name.
    estimand
        ``"log hazard ratio"`` for an arm, ``"coefficient"`` for a covariate.
    estimate, std_error, statistic, p_value
        Log hazard ratio, its robust standard error, z statistic and two-sided p-value.
    ci_low, ci_high
        Normal interval of the log hazard ratio.
    hazard_ratio, hr_ci_low, hr_ci_high
        ``exp`` of the estimate and of the interval.
    ph_statistic, ph_p_value
        Chi-squared (1 df) test of proportional hazards for this term (rank of time).
    """

    term: str
    estimand: str
    estimate: float
    std_error: float
    statistic: float
    p_value: float
    ci_low: float
    ci_high: float
    hazard_ratio: float
    hr_ci_low: float
    hr_ci_high: float
    ph_statistic: float
    ph_p_value: float


@dataclass(frozen=True, slots=True)
class CoxResult:
    """A fitted Cox model by arm: one :class:`CoxTerm` per arm and covariate.

    Attributes
    ----------
    outcome
        The time column's name.
    terms
        Arms first (one per treated arm, against control), then covariates.
    treatment_terms
        The terms that are arms.
    treatment_arms
        The arm of each of ``treatment_terms`` (its label as text); ``to_frame()``'s ``arm``.
    ci_level
        Level of the intervals.
    se_type
        ``"CR0"`` (the robust sandwich clustered on teams) or ``"HC0"`` (per unit).
    n_obs, n_events, n_clusters
        Units, events of interest, and clusters (``None`` without clustering).
    ph_global_statistic, ph_global_df, ph_global_p_value
        Global chi-squared test of proportional hazards over every term.
    estimator
        ``"Cox PH (statsmodels PHReg, Efron ties)"``.
    provenance
        trialkit and library versions, time of fitting.
    """

    outcome: str
    terms: tuple[CoxTerm, ...]
    treatment_terms: tuple[str, ...]
    ci_level: float
    se_type: str
    n_obs: int
    n_events: int
    n_clusters: int | None
    ph_global_statistic: float
    ph_global_df: int
    ph_global_p_value: float
    estimator: str = "Cox PH (statsmodels PHReg, Efron ties)"
    provenance: Provenance = field(default_factory=Provenance)
    treatment_arms: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One tidy row per term, columns :data:`COX_COLUMNS`."""
        common = {
            "outcome": self.outcome,
            "estimator": self.estimator,
            "ci_level": self.ci_level,
            "se_type": self.se_type,
            "n_obs": self.n_obs,
            "n_events": self.n_events,
            "n_clusters": self.n_clusters,
        }
        arm_of = dict(zip(self.treatment_terms, self.treatment_arms, strict=False))
        records = [{**common, **asdict(term), "arm": arm_of.get(term.term)} for term in self.terms]
        return pd.DataFrame.from_records(records, columns=list(COX_COLUMNS))

    def effect(self, term: str | None = None) -> CoxTerm:
        """The row of an arm (the only one when there are two arms)."""
        if term is None and len(self.treatment_terms) > 1:
            raise EstimationError(
                f"there are several arms; name one of {list(self.treatment_terms)}."
            )
        wanted = term if term is not None else self.treatment_terms[0]
        for row in self.terms:
            if row.term == wanted:
                return row
        raise EstimationError(f"no term {wanted!r}; the terms are {[r.term for r in self.terms]}.")

    def summary(self) -> str:
        """A fixed-width text table with a one-line header."""
        shown = ["term", "hazard_ratio", "hr_ci_low", "hr_ci_high", "p_value", "ph_p_value"]
        head = (
            f"{self.estimator}  se_type={self.se_type}  n_obs={self.n_obs}  "
            f"n_events={self.n_events}  global PH p={self.ph_global_p_value:.3g}"
        )
        body = self.to_frame().loc[:, shown].to_string(index=False, float_format="{:.4g}".format)
        return head + "\n" + body

    def __str__(self) -> str:
        return self.summary()


def _design(prep: Prepared) -> FloatArray:
    columns = [prep.arm_dummies()]
    if prep.covariate_names:
        columns.append(np.asarray(prep.covariates, dtype=np.float64))
    return np.asarray(np.column_stack(columns), dtype=np.float64)


def _check_events(prep: Prepared, d: FloatArray) -> None:
    for code, arm in enumerate((prep.arms.control, *prep.arms.others)):
        if not np.any(d[prep.arm_codes == code] > 0):
            raise EstimationError(
                f'arm {arm!r} of "{prep.arms.column}" has no events (code 1), so its hazard '
                "ratio is 0 or infinite and the Cox model has no finite estimate. Fix: report "
                "the Kaplan–Meier curves and the RMST difference instead."
            )


def _robust_covariance(model: Any, params: FloatArray, groups: IntArray) -> FloatArray:
    """The sandwich ``H^-1 (sum_g U_g U_g') H^-1`` of statsmodels' ``robust_covariance``.

    ``U_g`` sums the score residuals of the rows of group ``g``. statsmodels gives rows that
    are never at risk at an event time (censored before the first event) a NaN score
    residual, which makes every standard error NaN; their residual is 0 (they add nothing
    to the partial likelihood), as lifelines has it.
    """
    hessian = np.asarray(model.hessian(params), dtype=np.float64)
    score = np.nan_to_num(np.asarray(model.score_residuals(params), dtype=np.float64), nan=0.0)
    codes = np.unique(groups, return_inverse=True)[1]
    sums = np.zeros((int(codes.max()) + 1, score.shape[1]))
    np.add.at(sums, codes, score)
    inverse = np.linalg.inv(hessian)
    return np.asarray(inverse @ (sums.T @ sums) @ inverse, dtype=np.float64)


def _ph_tests(naive: Any, t: FloatArray, d: FloatArray) -> tuple[FloatArray, float, int]:
    """Per-term and global Grambsch–Therneau statistics (rank of time, model variance).

    With the unscaled Schoenfeld residuals ``r_k`` of the ``D`` events in time order, their
    scaled form ``s_k = D V r_k`` (``V`` the model-based variance) and the event ranks
    ``g_k = 1..D``: per term ``T_j = (sum_k (g_k - mean g) s_kj)^2 / (D V_jj sum_k (g_k -
    mean g)^2)``, and globally ``u' V^-1 u D / sum_k (g_k - mean g)^2`` with ``u = sum_k
    (g_k - mean g) s_k``, each chi-squared under proportional hazards.
    """
    variance = np.asarray(naive.cov_params(), dtype=np.float64)
    events = np.flatnonzero(d > 0)
    order = events[np.argsort(t[events], kind="stable")]
    resid = np.asarray(naive.schoenfeld_residuals, dtype=np.float64)[order]
    count = float(order.size)
    scaled = count * resid @ variance
    centred = np.arange(1.0, count + 1.0) - (count + 1.0) / 2.0
    u = centred @ scaled
    spread = float(centred @ centred)
    per_term = np.asarray(u**2 / (count * np.diag(variance) * spread), dtype=np.float64)
    global_stat = float(u @ np.linalg.solve(variance, u) / (count * spread))
    return per_term, global_stat, int(variance.shape[0])


def cox_hazard_ratios(
    data: pd.DataFrame,
    time: str,
    event: str,
    treatment: str,
    *,
    control: Hashable | None = None,
    cluster: str | None = None,
    covariates: Sequence[str] = (),
    ci_level: float = 0.95,
) -> CoxResult:
    """Hazard ratios of each treated arm against control by Cox regression (statsmodels).

    Fits ``PHReg`` on arm indicators and covariates with the robust sandwich variance,
    clustered on ``cluster`` if given. That variance is CR0-like (HC0-like without
    clusters): no small-sample correction, normal intervals, so it understates uncertainty
    with few teams; the RMST difference (CR2, Bell–McCaffrey df) is the primary estimand.
    Cause-specific: competing events (code 2) are censored, so the hazard ratio is of the
    cause-specific hazard of the event of interest.

    Parameters
    ----------
    data
        One row per unit (member of staff).
    time
        Column of follow-up days (>= 0) to the event or censoring.
    event
        Column coded 0 = censored, 1 = event, 2 = competing event (censored here).
    treatment
        Column of arms.
    control
        The control arm; default 0 if present, else the first arm in sorted order.
    cluster
        Column of the unit of randomisation (the team) for the robust variance.
    covariates
        Numeric pre-treatment covariates, entered linearly.
    ci_level
        Level of the normal intervals.

    Returns
    -------
    CoxResult
        One term per treated arm, then covariates, with per-term and global
        proportional-hazards tests (rank of time, model-based variance).

    Raises
    ------
    EstimationError
        Missing columns or values, bad times or event codes, an arm with no events, or a
        model that cannot be fitted (e.g. collinear covariates).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> arm = np.repeat([0, 1], 50)
    >>> days = np.minimum(rng.exponential(300.0 / np.where(arm == 1, 0.6, 1.0)), 365.0)
    >>> df = pd.DataFrame({"days": days, "days_event": (days < 365.0).astype(int), "arm": arm})
    >>> res = cox_hazard_ratios(df, "days", "days_event", "arm")
    >>> res.effect().term, res.se_type
    ('arm', 'HC0')
    """
    ci_level = check_ci_level(ci_level)
    prep = prepare(
        data,
        outcome=time,
        treatment=treatment,
        covariates=covariates,
        cluster=cluster,
        control=control,
    )
    t, d = event_indicator(data, time, event)
    _check_events(prep, d)
    terms = [*prep.arms.terms, *prep.covariate_names]
    from statsmodels.duration.hazard_regression import PHReg

    model = PHReg(t, _design(prep), status=d, ties="efron")
    groups = prep.cluster.codes if prep.cluster is not None else np.arange(t.size)
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=RuntimeWarning)
        try:
            fit = model.fit()
            coef = np.asarray(fit.params, dtype=np.float64)
            se = np.sqrt(np.diag(_robust_covariance(model, coef, groups)))
            ph, global_stat, global_df = _ph_tests(fit, t, d)
        except (np.linalg.LinAlgError, RuntimeWarning, ValueError) as exc:
            raise EstimationError(
                f"the Cox model of {time!r} could not be fitted ({exc}). "
                "Fix: drop collinear or constant covariates."
            ) from exc
    z = float(special.ndtri(0.5 + ci_level / 2.0))
    rows = tuple(
        CoxTerm(
            term=name,
            estimand="log hazard ratio" if name in prep.arms.terms else "coefficient",
            estimate=float(b),
            std_error=float(s),
            statistic=float(b / s),
            p_value=float(2.0 * special.ndtr(-abs(b / s))),
            ci_low=float(b - z * s),
            ci_high=float(b + z * s),
            hazard_ratio=float(np.exp(b)),
            hr_ci_low=float(np.exp(b - z * s)),
            hr_ci_high=float(np.exp(b + z * s)),
            ph_statistic=float(q),
            ph_p_value=float(special.chdtrc(1, q)),
        )
        for name, b, s, q in zip(terms, coef, se, ph, strict=True)
    )
    return CoxResult(
        outcome=time,
        terms=rows,
        treatment_terms=prep.arms.terms,
        treatment_arms=tuple(map(str, prep.arms.others)),
        ci_level=ci_level,
        se_type="CR0" if cluster else "HC0",
        n_obs=prep.n_obs,
        n_events=int(d.sum()),
        n_clusters=len(prep.cluster.levels) if prep.cluster is not None else None,
        ph_global_statistic=global_stat,
        ph_global_df=global_df,
        ph_global_p_value=float(special.chdtrc(global_df, global_stat)),
    )

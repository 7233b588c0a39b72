"""The result of a frequentist estimator: tidy rows plus the coefficient vector and vcov."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from trialkit._core.provenance import Provenance
from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import FloatArray
from trialkit.estimate.frequentist.goodness import FitStatistics
from trialkit.estimate.results import Estimate, EstimateTable
from trialkit.estimate.results import check_ci_level as check_ci_level


def t_inference(
    estimate: float, std_error: float, df: float, ci_level: float
) -> tuple[float, float, float, float]:
    """t statistic, two-sided p-value and CI; ``df = inf`` gives normal inference."""
    if not np.isfinite(std_error) or std_error <= 0:
        return float("nan"), float("nan"), float("nan"), float("nan")
    statistic = estimate / std_error
    # stdtr/stdtrit accept df = inf (the normal limit) and skip scipy.stats' overhead.
    p_value = float(2.0 * special.stdtr(df, -abs(statistic)))
    crit = float(special.stdtrit(df, 0.5 + ci_level / 2.0))
    return float(statistic), p_value, estimate - crit * std_error, estimate + crit * std_error


def make_row(
    *,
    outcome: str,
    term: str,
    estimate: float,
    std_error: float,
    df: float,
    ci_level: float,
    se_type: str,
    n_obs: int,
    n_clusters: int | None,
    estimand: str,
    estimator: str,
    arm: str | None = None,
) -> Estimate:
    """One tidy :class:`Estimate` with t-based inference."""
    statistic, p_value, low, high = t_inference(estimate, std_error, df, ci_level)
    return Estimate(
        outcome=outcome,
        term=term,
        estimate=float(estimate),
        std_error=float(std_error),
        statistic=statistic,
        df=float(df),
        p_value=p_value,
        ci_low=low,
        ci_high=high,
        ci_level=ci_level,
        se_type=se_type,
        n_obs=int(n_obs),
        n_clusters=n_clusters,
        estimand=estimand,
        estimator=estimator,
        arm=arm,
    )


def _readonly(a: FloatArray) -> FloatArray:
    out = np.array(a, dtype=np.float64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class RegressionResult:
    """A fitted estimator: one tidy row per reported term, plus coefficients and vcov.

    Attributes
    ----------
    rows
        One :class:`~trialkit.estimate.results.Estimate` per reported term (treatment arms
        first, then the intercept and covariates; fixed-effect dummies are not reported).
    terms
        Names of every coefficient in ``coefficients`` (fixed effects included).
    coefficients
        The coefficient vector (read-only).
    vcov
        Its covariance matrix (read-only).
    df
        Degrees of freedom of each coefficient.
    treatment_terms
        The terms that are treatment effects (one per non-control arm).
    treatment_arms
        The arm of each of ``treatment_terms`` (its label as text).
    se_type
        The standard-error type.
    n_obs, n_clusters
        Observations, and clusters (``None`` without clustering).
    provenance
        trialkit and library versions, time of fitting.
    fit_statistics
        R², adjusted R² and the robust F test (estimatr's ``glance``); ``None`` for
        estimators that are not a regression fit (difference in means, GLMs).
    """

    rows: tuple[Estimate, ...]
    terms: tuple[str, ...]
    coefficients: FloatArray
    vcov: FloatArray
    df: FloatArray
    treatment_terms: tuple[str, ...]
    se_type: str
    n_obs: int
    n_clusters: int | None
    provenance: Provenance = field(default_factory=Provenance)
    fit_statistics: FitStatistics | None = None
    treatment_arms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("coefficients", "vcov", "df"):
            object.__setattr__(self, name, _readonly(getattr(self, name)))

    @property
    def estimates(self) -> tuple[Estimate, ...]:
        """The treatment effects: one row per non-control arm, each naming its ``arm``."""
        return tuple(row for row in self.rows if row.term in self.treatment_terms)

    def to_frame(self) -> pd.DataFrame:
        """One tidy row per term, columns as :data:`~trialkit.estimate.results.ESTIMATE_COLUMNS`."""
        return EstimateTable(self.rows, self.provenance).to_frame()

    def effect(self, term: str | None = None) -> Estimate:
        """The row of a treatment term (the only one when there are two arms)."""
        wanted = term if term is not None else self.treatment_terms[0]
        if term is None and len(self.treatment_terms) > 1:
            raise EstimationError(
                f"there are several arms; name one of {list(self.treatment_terms)}."
            )
        for row in self.rows:
            if row.term == wanted:
                return row
        raise EstimationError(f"no term {wanted!r}; the terms are {[r.term for r in self.rows]}.")

    def summary(self) -> str:
        """A fixed-width text table with a one-line header."""
        head = f"{self.rows[0].estimator}  se_type={self.se_type}  n_obs={self.n_obs}"
        if self.n_clusters is not None:
            head += f"  n_clusters={self.n_clusters}"
        return head + "\n" + EstimateTable(self.rows, self.provenance).summary()

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return EstimateTable(self.rows, self.provenance)._repr_html_()


def build_result(
    *,
    outcome: str,
    terms: Sequence[str],
    coefficients: FloatArray,
    vcov: FloatArray,
    df: FloatArray,
    reported: Sequence[str],
    treatment_terms: Sequence[str],
    treatment_arms: Sequence[Hashable],
    ci_level: float,
    se_type: str,
    n_obs: int,
    n_clusters: int | None,
    estimator: str,
    estimand: str = "ITT",
    fit_statistics: FitStatistics | None = None,
) -> RegressionResult:
    """Assemble a :class:`RegressionResult`, treatment rows first; ``treatment_arms`` are
    the arms of ``treatment_terms``, in their order."""
    index = {t: i for i, t in enumerate(terms)}
    arm_of = dict(zip(treatment_terms, map(str, treatment_arms), strict=True))
    order = list(treatment_terms) + [t for t in reported if t not in treatment_terms]
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    rows = tuple(
        make_row(
            outcome=outcome,
            term=t,
            estimate=float(coefficients[index[t]]),
            std_error=float(se[index[t]]),
            df=float(df[index[t]]),
            ci_level=ci_level,
            se_type=se_type,
            n_obs=n_obs,
            n_clusters=n_clusters,
            estimand=estimand if t in treatment_terms else "coefficient",
            estimator=estimator,
            arm=arm_of.get(t),
        )
        for t in order
    )
    return RegressionResult(
        rows=rows,
        terms=tuple(terms),
        coefficients=coefficients,
        vcov=vcov,
        df=df,
        treatment_terms=tuple(treatment_terms),
        treatment_arms=tuple(arm_of.values()),
        se_type=se_type,
        n_obs=n_obs,
        n_clusters=n_clusters,
        fit_statistics=fit_statistics,
    )

"""Result rows shared by the frequentist and Bayesian branches.

Column names follow estimatr's tidy vocabulary in snake_case, so an evaluator who knows
``tidy(lm_robust(...))`` reads trialkit's tables without a glossary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import pandas as pd

from trialkit._core.provenance import Provenance
from trialkit.errors import EstimationError

#: Columns every estimator's ``to_frame()`` has, identical in name and meaning: the
#: outcome, estimand and estimator; the term and the treated ``arm`` it compares with control
#: (empty for a coefficient that is not an arm's effect); the point estimate; the interval
#: for the estimand and its level; the observations used. Estimators add their own columns
#: (``std_error`` and ``p_value`` for regressions, posterior probabilities for Bayes).
SHARED_COLUMNS: tuple[str, ...] = (
    "outcome",
    "estimand",
    "estimator",
    "term",
    "arm",
    "estimate",
    "ci_low",
    "ci_high",
    "ci_level",
    "n_obs",
)

#: Columns of :meth:`EstimateTable.to_frame`, in order.
ESTIMATE_COLUMNS: tuple[str, ...] = (
    "outcome",
    "estimand",
    "estimator",
    "term",
    "arm",
    "estimate",
    "std_error",
    "statistic",
    "df",
    "p_value",
    "ci_low",
    "ci_high",
    "ci_level",
    "se_type",
    "n_obs",
    "n_clusters",
)


def check_ci_level(ci_level: float) -> float:
    """Reject a confidence level outside (0, 1) (scikit-learn's message template)."""
    if not 0.0 < float(ci_level) < 1.0:
        raise EstimationError(
            f"The 'ci_level' parameter must be in (0, 1). Got {ci_level!r} instead."
        )
    return float(ci_level)


@dataclass(frozen=True, slots=True)
class Estimate:
    """One estimated quantity (a treatment effect, a coefficient, an index) with inference.

    Attributes
    ----------
    outcome
        The outcome's name.
    term
        The coefficient; for a treatment arm, the treatment column's name (two arms) or
        ``"<column>[<arm>]"`` (several arms).
    estimate, std_error, statistic, df, p_value
        Point estimate, standard error, t statistic, degrees of freedom and two-sided p-value.
    ci_low, ci_high, ci_level
        Confidence interval and its level (e.g. 0.95).
    se_type
        Standard-error type (``"HC2"``, ``"CR2"``, ...).
    estimand, estimator
        The estimand (``"ITT"``, ``"CACE"``, ...) and the estimator's name.
    n_obs, n_clusters
        Observations used and clusters (``None`` without clustering).
    arm
        The treated arm whose effect against control this is (its label as text);
        ``None`` for a coefficient that is not an arm's effect.
    """

    outcome: str
    term: str
    estimate: float
    std_error: float
    statistic: float
    df: float
    p_value: float
    ci_low: float
    ci_high: float
    ci_level: float
    se_type: str
    n_obs: int
    n_clusters: int | None = None
    estimand: str = "ITT"
    estimator: str = ""
    arm: str | None = None


@dataclass(frozen=True, slots=True)
class EstimateTable:
    """Impact estimates for every pre-registered outcome × estimator."""

    rows: tuple[Estimate, ...]
    provenance: Provenance

    def to_frame(self) -> pd.DataFrame:
        """One tidy row per estimate, columns as :data:`ESTIMATE_COLUMNS`."""
        records = [asdict(row) for row in self.rows]
        frame = pd.DataFrame.from_records(records, columns=[f.name for f in fields(Estimate)])
        return frame.loc[:, list(ESTIMATE_COLUMNS)]

    def summary(self) -> str:
        """A fixed-width text table."""
        frame = self.to_frame()
        shown = ["outcome", "term", "estimate", "std_error", "df", "p_value", "ci_low", "ci_high"]
        return frame.loc[:, shown].to_string(index=False, float_format=lambda v: f"{v:.4g}")

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return str(self.to_frame().to_html(index=False, float_format=lambda v: f"{v:.4g}"))

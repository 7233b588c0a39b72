"""Turn a data frame into the arrays a Bayesian model needs (no PyMC here).

Covariates are centred, so the intercept is the control-arm mean at the average covariate
profile; blocks and periods become treatment-coded dummies (first level is the reference);
clusters become integer codes for random intercepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError

Family = Literal[
    "normal", "student_t", "logistic", "ordered_logistic", "poisson", "negative_binomial"
]
FAMILIES: tuple[str, ...] = get_args(Family)


@dataclass(frozen=True, slots=True)
class DesignData:
    """Model-ready arrays for one outcome.

    Attributes
    ----------
    outcome, treatment
        Column names of the outcome and the treatment.
    y
        Outcome values (``float``), or category codes 0..K-1 for ordered outcomes.
    control, arms
        The control arm's label and the other arms' labels, in model order.
    terms
        One result term per non-control arm: the treatment column's name for two arms,
        ``"<column>[<arm>]"`` for several.
    T
        ``(n, len(arms))`` arm indicators.
    X, covariates
        ``(n, p)`` centred covariates and their names.
    B, P
        Block and period dummies (``(n, 0)`` when absent).
    cluster_idx, n_clusters
        Integer cluster codes (``None`` without clusters) and the number of clusters.
    categories
        Ordered outcome categories (ordered-logistic only; empty otherwise).
    """

    outcome: str
    treatment: str
    y: np.ndarray
    control: str
    arms: tuple[str, ...]
    terms: tuple[str, ...]
    T: np.ndarray
    X: np.ndarray
    covariates: tuple[str, ...]
    B: np.ndarray
    P: np.ndarray
    cluster_idx: np.ndarray | None
    n_clusters: int | None
    categories: tuple[float, ...] = ()

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(self.y.shape[0])


def _check_columns(df: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise EstimationError(
            f"Column(s) {missing} not found in the data; available: {list(df.columns)}. "
            "Fix: pass the names of existing columns."
        )
    counts = {c: int(df[c].isna().sum()) for c in columns if df[c].isna().any()}
    if counts:
        raise EstimationError(
            f"Missing values in {counts} (column: count). trialkit never drops rows silently. "
            "Fix: handle missing data as the analysis plan says (e.g. drop or impute) first."
        )


def _arms(values: pd.Series, column: str, control: str | None) -> tuple[str, list[str]]:
    levels = sorted(pd.unique(values.astype(str)).tolist())
    if len(levels) < 2:
        raise EstimationError(
            f"Treatment column {column!r} has {len(levels)} arm(s) ({levels}); at least two "
            "are needed. Fix: check the merge of outcomes with the allocation."
        )
    if control is None:
        for guess in ("0", "False", "control", "Control"):
            if guess in levels:
                control = guess
                break
        else:
            control = levels[0]
    if control not in levels:
        raise EstimationError(
            f"The 'control' arm {control!r} is not a level of {column!r} ({levels}). "
            "Fix: pass one of those levels as control."
        )
    return control, [lv for lv in levels if lv != control]


def _dummies(values: pd.Series) -> np.ndarray:
    levels = sorted(pd.unique(values.astype(str)).tolist())
    codes = values.astype(str).map({lv: i for i, lv in enumerate(levels)}).to_numpy()
    out = np.zeros((len(values), max(len(levels) - 1, 0)))
    for j in range(1, len(levels)):
        out[:, j - 1] = codes == j
    return out


def _covariates(df: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Centred covariates; a non-numeric one becomes dummies ``col[level]`` (first dropped)."""
    blocks, names = [np.zeros((len(df), 0))], []
    for c in columns:
        if pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]):
            blocks.append(df[c].to_numpy(dtype=float)[:, None])
            names.append(c)
        else:
            levels = sorted(pd.unique(df[c].astype(str)).tolist())
            blocks.append(_dummies(df[c]))
            names += [f"{c}[{lv}]" for lv in levels[1:]]
    X = np.hstack(blocks)
    return X - X.mean(axis=0), tuple(names)


def _outcome(values: pd.Series, family: Family, name: str) -> tuple[np.ndarray, tuple[float, ...]]:
    y = values.to_numpy(dtype=float)
    if family == "logistic" and not np.isin(y, (0.0, 1.0)).all():
        raise EstimationError(
            f"Outcome {name!r} must be 0/1 for family='logistic'. Fix: recode it as 0/1."
        )
    if family in ("poisson", "negative_binomial") and (
        (y < 0).any() or not np.equal(np.round(y), y).all()
    ):
        raise EstimationError(
            f"Outcome {name!r} must hold non-negative whole numbers for family={family!r}."
        )
    if family == "ordered_logistic":
        cats = np.unique(y)
        if len(cats) < 3:
            raise EstimationError(
                f"Outcome {name!r} has {len(cats)} categories; ordered_logistic needs at "
                "least 3. Fix: use family='logistic' for two categories."
            )
        return np.searchsorted(cats, y).astype(float), tuple(float(c) for c in cats)
    return y, ()


def prepare(
    df: pd.DataFrame,
    outcome: str,
    treatment: str,
    *,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    blocks: str | None = None,
    period: str | None = None,
    control: str | None = None,
    family: Family = "normal",
) -> DesignData:
    """Validate the columns and build :class:`DesignData`.

    Raises
    ------
    EstimationError
        If a column is missing, has missing values, the treatment has fewer than two arms
        or the outcome does not suit ``family``.
    """
    if family not in FAMILIES:
        raise EstimationError(f"The 'family' parameter must be one of {FAMILIES}. Got {family!r}.")
    extra = [c for c in (cluster, blocks, period) if c is not None]
    _check_columns(df, [outcome, treatment, *covariates, *extra])
    control, arms = _arms(df[treatment], treatment, control)
    labels = df[treatment].astype(str).to_numpy()
    T = np.column_stack([labels == a for a in arms]).astype(float)
    terms = (treatment,) if len(arms) == 1 else tuple(f"{treatment}[{a}]" for a in arms)
    X, names = _covariates(df, covariates)
    y, categories = _outcome(df[outcome], family, outcome)
    cluster_idx: np.ndarray | None = None
    n_clusters: int | None = None
    if cluster is not None:
        codes, uniques = pd.factorize(df[cluster], sort=True)
        cluster_idx, n_clusters = np.asarray(codes, dtype=np.int64), len(uniques)
    empty = np.zeros((len(df), 0))
    return DesignData(
        outcome=outcome,
        treatment=treatment,
        y=y,
        control=control,
        arms=tuple(arms),
        terms=terms,
        T=T,
        X=X,
        covariates=names,
        B=_dummies(df[blocks]) if blocks else empty,
        P=_dummies(df[period]) if period else empty,
        cluster_idx=cluster_idx,
        n_clusters=n_clusters,
        categories=categories,
    )

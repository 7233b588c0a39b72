"""Summary indices for a family of outcomes: Anderson (2008) and Kling–Liebman–Katz (2007).

Both start from the same z-scores: each outcome minus the control group's mean, over the
control group's standard deviation (ddof = 1), with the sign flipped for outcomes where
lower is better, so a positive index always means "better".

* Anderson (2008, JASA 103:1481) weights the z-scores by the row sums of the inverse of
  their covariance matrix, so highly correlated outcomes count less; a unit missing some
  outcomes gets the weighted mean of those it has.
* Kling, Liebman & Katz (2007, Econometrica 75:83) average the z-scores with equal
  weights; a unit with at least one outcome has the others imputed at its arm's mean.

An index is adjusted for the same index of its outcomes' baselines (:func:`baseline_index`),
as an outcome is for its own baseline: the ANCOVA of the index (Anderson 2008; McKenzie
2012, J. Dev. Econ. 99:210).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, get_args

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError
from trialkit.protocol.vocabulary import Direction

__all__ = [
    "Direction",
    "KlkMissing",
    "anderson_index",
    "baseline_index",
    "klk_index",
    "oriented_z_scores",
]

#: Which way is better for an outcome.
#: How the mean-effects index treats a missing component.
KlkMissing = Literal["arm_mean", "available"]


def oriented_z_scores(
    df: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    directions: Mapping[str, Direction],
    treatment: str,
    control: object = 0,
) -> pd.DataFrame:
    """Control-standardised z-scores, oriented so that higher is better.

    Parameters
    ----------
    df
        One row per unit.
    outcomes
        The family's outcome columns.
    directions
        For each outcome, ``"higher_is_better"`` or ``"lower_is_better"``.
    treatment
        The arm column; rows equal to ``control`` form the reference group.
    control
        The control arm's value in ``treatment``.

    Returns
    -------
    pandas.DataFrame
        The z-scores (missing values stay missing), same index as ``df``.

    Raises
    ------
    EstimationError
        For a missing column or direction, an empty control group, or an outcome that
        does not vary in the control group.
    """
    missing = [c for c in [*outcomes, treatment] if c not in df.columns]
    if missing:
        raise EstimationError(f"Columns {missing} are not in the data. Fix: check the names.")
    if not outcomes:
        raise EstimationError("The 'outcomes' parameter must name at least one outcome.")
    allowed = get_args(Direction)
    bad = {o: directions.get(o) for o in outcomes if directions.get(o) not in allowed}
    if bad:
        raise EstimationError(
            f"Directions {bad} are missing or unknown. Fix: give each outcome one of "
            f"{list(allowed)}."
        )
    is_control = (df[treatment] == control).to_numpy()
    if not is_control.any():
        raise EstimationError(
            f"No rows have {treatment} == {control!r}, so there is no control group to "
            "standardise by. Fix: pass the control arm's value as 'control'."
        )
    values = df.loc[:, list(outcomes)].astype(float)
    mean = values[is_control].mean()
    sd = values[is_control].std(ddof=1)
    flat = [o for o in outcomes if not (np.isfinite(sd[o]) and sd[o] > 0)]
    if flat:
        raise EstimationError(
            f"Outcomes {flat} do not vary in the control group, so they cannot be "
            "standardised. Fix: drop them from the family."
        )
    sign = pd.Series({o: 1.0 if directions[o] == "higher_is_better" else -1.0 for o in outcomes})
    return (values - mean) / sd * sign


def anderson_index(
    df: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    directions: Mapping[str, Direction],
    treatment: str,
    control: object = 0,
    name: str = "anderson_index",
) -> pd.Series:
    """Anderson's (2008) inverse-covariance weighted summary index.

    The covariance matrix of the oriented z-scores is estimated on all units (pairwise
    complete, ddof = 1); each outcome's weight is the row sum of its inverse. The index
    is ``sum_k w_k z_ik / sum_k w_k`` over the outcomes unit ``i`` has; it is not
    re-standardised.

    Parameters
    ----------
    df, outcomes, directions, treatment, control
        As for :func:`oriented_z_scores`.
    name
        Name of the returned series.

    Returns
    -------
    pandas.Series
        The index, NaN for units with none of the outcomes.

    Raises
    ------
    EstimationError
        As :func:`oriented_z_scores`, or if the covariance matrix is singular.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [0, 0, 0, 1, 1, 1], "a": [1.0, 2, 3, 3, 4, 5],
    ...                    "b": [2.0, 1, 3, 1, 0, 2]})
    >>> dirs = {"a": "higher_is_better", "b": "lower_is_better"}
    >>> anderson_index(df, ["a", "b"], directions=dirs, treatment="t").round(3).tolist()
    [-0.333, 0.667, -0.333, 1.0, 2.0, 1.0]
    """
    z = oriented_z_scores(df, outcomes, directions=directions, treatment=treatment, control=control)
    cov = z.cov(ddof=1).to_numpy()
    if not np.all(np.isfinite(cov)) or np.linalg.matrix_rank(cov) < len(outcomes):
        raise EstimationError(
            f"The covariance matrix of outcomes {list(outcomes)} is singular (an outcome is a "
            "copy or a combination of others, or pairs never overlap). Fix: drop one of them."
        )
    weights = np.linalg.inv(cov).sum(axis=1)
    zv = z.to_numpy()
    avail = ~np.isnan(zv)
    numer = np.where(avail, zv, 0.0) @ weights
    denom = avail.astype(float) @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        index = np.where(avail.any(axis=1), numer / denom, np.nan)
    return pd.Series(index, index=df.index, name=name)


def klk_index(
    df: pd.DataFrame,
    outcomes: Sequence[str],
    *,
    directions: Mapping[str, Direction],
    treatment: str,
    control: object = 0,
    missing: KlkMissing = "arm_mean",
    name: str = "klk_index",
) -> pd.Series:
    """Kling–Liebman–Katz (2007) mean-effects index: the mean of oriented z-scores.

    Parameters
    ----------
    df, outcomes, directions, treatment, control
        As for :func:`oriented_z_scores`.
    missing
        ``"arm_mean"`` (KLK 2007): a unit with at least one outcome has the others
        imputed at its arm's mean z-score; ``"available"``: average what it has.
    name
        Name of the returned series.

    Returns
    -------
    pandas.Series
        The index, NaN for units with none of the outcomes.

    Raises
    ------
    EstimationError
        As :func:`oriented_z_scores`, or for an unknown ``missing``.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [0, 0, 0, 1, 1, 1], "a": [1.0, 2, 3, 3, 4, 5],
    ...                    "b": [2.0, 1, 3, 1, 0, 2]})
    >>> dirs = {"a": "higher_is_better", "b": "lower_is_better"}
    >>> klk_index(df, ["a", "b"], directions=dirs, treatment="t").round(3).tolist()
    [-0.5, 0.5, 0.0, 1.0, 2.0, 1.5]
    """
    if missing not in get_args(KlkMissing):
        raise EstimationError(
            f"The 'missing' parameter of klk_index must be one of {list(get_args(KlkMissing))}."
            f" Got {missing!r} instead."
        )
    z = oriented_z_scores(df, outcomes, directions=directions, treatment=treatment, control=control)
    any_outcome = z.notna().any(axis=1)
    if missing == "arm_mean":
        arm_means = z.groupby(df[treatment]).transform("mean")
        z = z.fillna(arm_means)
    index = z.mean(axis=1, skipna=True).where(any_outcome)
    return index.rename(name)


def baseline_index(
    df: pd.DataFrame,
    baselines: Mapping[str, Direction],
    *,
    method: Literal["anderson", "kling"],
    treatment: str,
    control: object = 0,
    name: str = "baseline_index",
) -> pd.Series:
    """The family's index built the same way from its outcomes' baselines.

    Each baseline is oriented as its outcome (``baselines`` maps the baseline column to
    the outcome's direction) and standardised by the control group's baseline. A unit
    missing some baselines gets the index of those it has, for both methods: a missing
    baseline is not imputed from the unit's arm, which randomisation assigned after it
    was measured (White & Thompson 2005, Stat. Med. 24:993).

    Parameters
    ----------
    df
        One row per unit.
    baselines
        Baseline column → the direction of its outcome.
    method
        The family's index, ``"anderson"`` or ``"kling"``.
    treatment, control, name
        As for :func:`anderson_index`.

    Returns
    -------
    pandas.Series
        The baseline index, NaN for units with no baseline.

    Raises
    ------
    EstimationError
        As :func:`oriented_z_scores` (a baseline that does not vary in the control group
        cannot be standardised), or :func:`anderson_index`.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [0, 0, 0, 1, 1, 1], "a0": [1.0, 2, 3, 3, None, 5],
    ...                    "b0": [2.0, 1, 3, 1, 0, 2]})
    >>> dirs = {"a0": "higher_is_better", "b0": "lower_is_better"}
    >>> baseline_index(df, dirs, method="kling", treatment="t").round(3).tolist()
    [-0.5, 0.5, 0.0, 1.0, 2.0, 1.5]
    """
    columns = list(baselines)
    if method == "anderson":
        return anderson_index(
            df, columns, directions=baselines, treatment=treatment, control=control, name=name
        )
    return klk_index(
        df,
        columns,
        directions=baselines,
        treatment=treatment,
        control=control,
        missing="available",
        name=name,
    )

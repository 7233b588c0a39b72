"""Randomisation inference: checks of the parameters, the columns and the design given."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import FloatArray
from trialkit.randomise.schemes import Scheme


def _is_whole(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int | np.integer)


def check_parameters(draws: int, seed: int, sharp_null: float) -> None:
    """Refuse a non-positive number of draws, a negative seed or an infinite sharp null."""
    if not _is_whole(draws) or draws < 1:
        raise EstimationError(
            f"The 'draws' parameter must be a positive whole number. Got {draws!r} instead."
        )
    if not _is_whole(seed) or seed < 0:
        raise EstimationError(
            f"The 'seed' parameter must be a non-negative whole number. Got {seed!r} instead."
        )
    if not np.isfinite(sharp_null):
        raise EstimationError(
            f"The 'sharp_null' parameter must be a finite number. Got {sharp_null!r} instead."
        )


def check_design_given(data: pd.DataFrame, scheme: Scheme | None, cluster: str | None) -> None:
    """Refuse to assume complete randomisation of data that carry blocks or clusters of an
    allocation.

    Validated trial data carry the allocation's ``block`` and ``cluster`` columns; redrawing
    such data as one complete randomisation ignores the blocks, or (without ``cluster``)
    splits the clusters row by row, and gives a test of the wrong size.
    """
    if scheme is not None:
        return
    if "block" in data.columns and data["block"].nunique(dropna=True) > 1:
        raise EstimationError(
            f"the data carry {data['block'].nunique()} randomisation blocks (column `block`) "
            "but no scheme was given, so the test would redraw them as one complete "
            "randomisation. Fix: pass scheme=trialkit.randomise.declare(protocol, units), "
            "the scheme that allocated them."
        )
    if (
        cluster is None
        and "cluster" in data.columns
        and data["cluster"].nunique(dropna=True) < len(data)
    ):
        raise EstimationError(
            f"the data carry {data['cluster'].nunique()} randomised clusters (column "
            f"`cluster`) in {len(data)} rows but neither a scheme nor a cluster column was "
            "given, so the test would redraw rows one by one and split the clusters. Fix: "
            'pass cluster="cluster" (rows of a cluster move together), or '
            "scheme=trialkit.randomise.declare(protocol, units) with cluster=."
        )


def check_columns(data: pd.DataFrame, names: Sequence[str | None]) -> None:
    """Refuse columns that are not in the data, or rows with missing values in them."""
    missing = [n for n in names if n is not None and n not in data.columns]
    if missing:
        close = difflib.get_close_matches(missing[0], [str(c) for c in data.columns], n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        raise EstimationError(
            f"column(s) {', '.join(map(repr, missing))} are not in the data{hint}. "
            "Fix: pass the names of existing columns."
        )
    used = [n for n in dict.fromkeys(names) if n is not None]
    bad = data[used].isna().any(axis=1).to_numpy()
    if bad.any():
        raise EstimationError(
            f"{int(bad.sum())} row(s) have missing values in {', '.join(used)} (first: row "
            f"{int(np.flatnonzero(bad)[0])}). Fix: drop or impute them as pre-registered."
        )


def numeric_columns(data: pd.DataFrame, names: Sequence[str]) -> FloatArray:
    """The columns as a float matrix ``(rows, len(names))``; an error if one is not numeric."""
    try:
        return data[list(names)].to_numpy(dtype=np.float64).reshape(len(data), len(names))
    except (TypeError, ValueError) as err:
        raise EstimationError(
            f"columns {list(names)} must be numeric. Fix: code them as "
            "numbers (dummies for categories)."
        ) from err

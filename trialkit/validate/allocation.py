"""The allocation as the validate stage needs it: one row per unit, ids as text.

Accepts a :class:`trialkit.randomise.Allocation`, a DataFrame in the allocation CSV's
columns, or the path of an allocation CSV. A CSV with its metadata JSON beside it is read
with :func:`trialkit.randomise.storage.read_allocation`, which also checks its sha256.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from trialkit._core.names import did_you_mean
from trialkit.errors import DataValidationError, Issue, Location

#: Columns every allocation has; ``step`` (stepped wedge) and ``pair`` are optional.
REQUIRED = ("unit_id", "block", "cluster", "arm", "probability")

AllocationLike = Any  # an Allocation, a DataFrame, or a path; see allocation_frame

#: At most this many rows are named in the message about one undeclared arm.
ROWS_SHOWN = 5


def _from_path(path: Path) -> pd.DataFrame:
    if path.with_suffix(".json").is_file():
        from trialkit.randomise.storage import read_allocation

        frame: pd.DataFrame = read_allocation(path).to_frame()
        return frame
    if not path.is_file():
        raise DataValidationError(
            [
                Issue(
                    "the allocation file does not exist.",
                    Location(file=str(path)),
                    fix="give the allocation CSV written by `trialkit randomise`.",
                )
            ]
        )
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def allocation_frame(allocation: AllocationLike) -> pd.DataFrame:
    """One row per allocated unit: ``unit_id, block, cluster, arm, probability`` (+ ``step``).

    Ids, blocks, clusters and arms are text; a missing cluster is the unit itself, so
    every unit belongs to exactly one cluster.

    Parameters
    ----------
    allocation
        An ``Allocation``, a DataFrame with the allocation CSV's columns, or a CSV path.

    Returns
    -------
    pandas.DataFrame
        The allocation, indexed from 0.

    Raises
    ------
    DataValidationError
        If columns are missing or a unit id appears twice.
    """
    if isinstance(allocation, pd.DataFrame):
        frame = allocation.copy()
        source = "allocation"
    elif isinstance(allocation, (str, os.PathLike)):
        frame = _from_path(Path(allocation))
        source = str(allocation)
    elif hasattr(allocation, "to_frame"):
        frame = allocation.to_frame()
        source = "allocation"
    else:
        raise TypeError(
            "The 'allocation' parameter of validate.outcomes must be an Allocation, a "
            f"DataFrame or a path. Got {type(allocation).__name__} instead."
        )
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataValidationError(
            [
                Issue(
                    f"the allocation lacks the column(s) {', '.join(missing)}.",
                    Location(file=source, row=1),
                    fix="give the allocation CSV written by `trialkit randomise`, unedited.",
                )
            ]
        )
    for column in ("unit_id", "block", "cluster", "arm"):
        values = frame[column]
        frame[column] = values.where(values.notna(), "").astype("str").str.strip()
    frame["cluster"] = frame["cluster"].where(frame["cluster"] != "", frame["unit_id"])
    frame["probability"] = pd.to_numeric(frame["probability"], errors="coerce")
    dup = frame["unit_id"].duplicated(keep=False)
    if dup.any():
        raise DataValidationError(
            [
                Issue(
                    f"unit {uid!r} is allocated more than once.",
                    Location(file=source, row=pos + 2, column="unit_id"),
                    fix="restore the allocation written by `trialkit randomise`.",
                    value=uid,
                )
                for pos, uid in zip(
                    dup.to_numpy().nonzero()[0].tolist(), frame.loc[dup, "unit_id"], strict=True
                )
            ]
        )
    return frame.reset_index(drop=True)


def allocation_source(allocation: AllocationLike) -> str:
    """The name messages give the allocation: its path, or ``allocation``."""
    if isinstance(allocation, (str, os.PathLike)):
        return str(allocation)
    return "allocation"


def undeclared_arms(frame: pd.DataFrame, arms: Sequence[str], *, source: str) -> list[Issue]:
    """One error per arm label of the allocation that the protocol does not declare.

    ``Budget``, ``treatment`` or ``enhanced`` where the protocol's arms are ``usual`` and
    ``budget`` would otherwise be analysed as arms of their own. Each message counts the
    rows holding the label, names the first few, and suggests the closest declared arm.

    Examples
    --------
    >>> frame = pd.DataFrame({"arm": ["usual", "Budget", "Budget"]})
    >>> print(undeclared_arms(frame, ["usual", "budget"], source="a.csv")[0])
    ... # doctest: +NORMALIZE_WHITESPACE
    a.csv, row 3, column "arm": the arm `Budget` is not declared in the protocol (its arms:
    usual, budget); 2 rows hold it: 3, 4. Did you mean `budget`? Fix: correct the label to
    one of the protocol's arms, or restore the allocation written by `trialkit randomise`.
    """
    labels = frame["arm"].astype("str")
    bad = ~labels.isin(list(arms))
    if not bad.any():
        return []
    declared = ", ".join(arms)
    issues = []
    for label, rows in labels[bad].groupby(labels[bad], sort=False).groups.items():
        shown = [int(i) + 2 for i in list(rows)[:ROWS_SHOWN]]
        listed = ", ".join(map(str, shown)) + (", …" if len(rows) > ROWS_SHOWN else "")
        count = f"{len(rows)} rows hold it: {listed}" if len(rows) > 1 else "1 row holds it"
        name = f"`{label}`" if label else "(empty)"
        issues.append(
            Issue(
                f"the arm {name} is not declared in the protocol (its arms: {declared}); "
                f"{count}.{did_you_mean(str(label), arms) if label else ''}",
                Location(file=source, row=shown[0], column="arm"),
                fix="correct the label to one of the protocol's arms, or restore the "
                "allocation written by `trialkit randomise`.",
                value=str(label),
                expected=f"one of: {declared}",
            )
        )
    return issues

"""Located checks of a units table against the protocol's design, collected in one pass."""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.errors import Issue, Location

#: Most issues reported per kind of problem, so a broken file gives a readable message.
MAX_PER_KIND = 20


def blank(series: pd.Series) -> pd.Series:
    """True where a cell is missing or only whitespace."""
    return series.isna() | (series.astype(str).str.strip() == "")


def missing_columns(
    frame: pd.DataFrame, needed: Sequence[tuple[str, str]], source: str
) -> list[Issue]:
    """An issue for each needed column (name, protocol field) absent from ``frame``."""
    issues = []
    for column, field in needed:
        if column in frame.columns:
            continue
        close = difflib.get_close_matches(column, [str(c) for c in frame.columns], n=1)
        hint = f" (did you mean `{close[0]}`?)" if close else ""
        issues.append(
            Issue(
                f"column `{column}` named by `{field}` is not in the file{hint}",
                Location(file=source, row=1, column=column),
                fix=f"add the column, or correct `{field}` in the protocol.",
            )
        )
    return issues


def _rows(mask: NDArray[np.bool_]) -> list[int]:
    return [int(i) + 2 for i in np.flatnonzero(mask)[:MAX_PER_KIND]]


def id_issues(ids: pd.Series, column: str, source: str) -> list[Issue]:
    """Empty and duplicated unit ids."""
    issues = [
        Issue(
            "the unit id is empty",
            Location(file=source, row=r, column=column),
            fix="give every unit an id.",
        )
        for r in _rows(blank(ids).to_numpy())
    ]
    text = ids.astype(str).str.strip().to_numpy()
    first: dict[str, int] = {}
    for i, value in enumerate(text):
        if value == "":
            continue
        if value in first:
            if len(issues) < 2 * MAX_PER_KIND:
                issues.append(
                    Issue(
                        f"unit id `{value}` also appears in row {first[value] + 2}",
                        Location(file=source, row=i + 2, column=column),
                        fix="give each unit one row with a unique id.",
                        value=value,
                    )
                )
        else:
            first[value] = i
    return issues


def blank_issues(
    frame: pd.DataFrame, columns: Sequence[str], what: str, source: str
) -> list[Issue]:
    """Missing block or cluster labels."""
    return [
        Issue(
            f"the {what} is missing",
            Location(file=source, row=r, column=c),
            fix=f"give every unit a {what}.",
        )
        for c in columns
        for r in _rows(blank(frame[c]).to_numpy())
    ]


def spread_issues(
    blocks: pd.Series, clusters: pd.Series, block_column: str, source: str
) -> list[Issue]:
    """Clusters whose units lie in more than one block (rows: ``index + 2``)."""
    first_block = blocks.groupby(clusters.to_numpy(), sort=False).transform("first")
    mask = (blocks != first_block).to_numpy()
    issues = []
    for i in np.flatnonzero(mask)[:MAX_PER_KIND]:
        issues.append(
            Issue(
                f"cluster `{clusters.iloc[i]}` is in block `{blocks.iloc[i]}` here but in block "
                f"`{first_block.iloc[i]}` elsewhere; a cluster must lie in one block",
                Location(file=source, row=int(blocks.index[i]) + 2, column=block_column),
                fix="correct the block, or block on a cluster-level column.",
            )
        )
    return issues


def numeric_issues(frame: pd.DataFrame, columns: Sequence[str], source: str) -> list[Issue]:
    """Covariates that are missing or not numbers."""
    issues = []
    for c in columns:
        values = pd.to_numeric(frame[c], errors="coerce")
        empty = blank(frame[c]).to_numpy()
        bad = (~np.isfinite(values.to_numpy(dtype=float))) & ~empty
        issues += [
            Issue(
                "the covariate is missing",
                Location(file=source, row=r, column=c),
                fix="fill it in; schemes that balance on covariates need every value.",
            )
            for r in _rows(empty)
        ]
        issues += [
            Issue(
                f"`{frame[c].iloc[r - 2]}` is not a number",
                Location(file=source, row=r, column=c),
                fix="write the value as a plain number, e.g. 12.5.",
            )
            for r in _rows(bad)
        ]
    return issues


def block_size_issues(
    blocks: pd.Series,
    ru: pd.Series,
    ratios: Sequence[int],
    block_column: str,
    what: str,
    source: str,
) -> list[Issue]:
    """Blocks with fewer randomisation units than the arms need (rows: ``index + 2``)."""
    need = math.ceil(sum(ratios) / min(ratios))
    sizes = ru.groupby(blocks.to_numpy(), sort=True).nunique()
    issues = []
    for label, size in sizes.items():
        if size < need:
            row = int(blocks.index[np.flatnonzero((blocks == label).to_numpy())[0]]) + 2
            issues.append(
                Issue(
                    f"block `{label}` has {size} {what}, but arms with ratios "
                    f"{':'.join(map(str, ratios))} need at least {need} so every arm gets one",
                    Location(file=source, row=row, column=block_column),
                    fix="merge it with a similar block, or block on a coarser column.",
                )
            )
    return issues

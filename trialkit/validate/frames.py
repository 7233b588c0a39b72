"""Code one level's file: outcomes, covariates, subgroups, take-up and dates as numbers.

The result keeps every column of the file (coded columns replaced) and the original row
index, so an issue found later still points at the spreadsheet row the user sees.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.errors import Issue
from trialkit.protocol.model import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.validate.coding import (
    blank_mask,
    code_binary,
    code_labels,
    code_numeric,
    code_ordinal,
    with_value_labels,
)
from trialkit.validate.issues import rows_issues
from trialkit.validate.layout import LevelSpec
from trialkit.validate.readers import RawTable
from trialkit.validate.texts import empty_text

#: What ``pd.factorize`` returns: each value's code (−1: missing) and the distinct values.
Factorized = tuple[np.ndarray, Any]


def _code(
    kind: str, series: pd.Series, levels: tuple[str, ...], *, file: str, column: str, what: str
) -> tuple[pd.Series, list[Issue]]:
    """Code one column by its declared kind (an outcome or covariate type, or a role)."""
    if kind == "binary":
        return code_binary(series, file=file, column=column, what=what)
    if kind == "ordinal":
        return code_ordinal(series, levels, file=file, column=column, what=what)
    if kind == "subgroup":
        return code_labels(series, levels, file=file, column=column, what=what)
    if kind == "date":
        return code_dates(series, file=file, column=column)
    return code_numeric(series, file=file, column=column, what=what)


def is_date_column(name: str, series: pd.Series) -> bool:
    """Dates are checked against the trial window: datetime columns, or names ending ``date``."""
    return pd.api.types.is_datetime64_any_dtype(series.dtype) or name.lower().endswith("date")


def _parse_dates(text: pd.Series) -> pd.Series:
    """Texts as dates: ISO 8601 first, then day/month/year; NaT where neither fits."""
    parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
    retry = parsed.isna() & text.notna()
    if retry.any():
        parsed[retry] = pd.to_datetime(text[retry], errors="coerce", format="%d/%m/%Y")
    # Years such as -1 or 0001 parse, but lie outside what a datetime64[ns] column can hold.
    parsed = parsed.where((parsed >= pd.Timestamp.min) & (parsed <= pd.Timestamp.max))
    return parsed.astype("datetime64[ns]")


#: Distinct values parsed as dates (NaT where not a date) and whether each is blank, each
#: with one more entry (NaT, blank) for a missing cell: what :func:`distinct_dates` gives.
DistinctDates = tuple[NDArray[np.datetime64], NDArray[np.bool_]]


def distinct_dates(uniques: Any) -> DistinctDates:
    """The distinct values of a text column (``pd.factorize``'s uniques) parsed as dates."""
    text = pd.Series(uniques, dtype=object).astype("str")
    parsed = np.append(_parse_dates(text).to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT"))
    blank = np.append(text.str.strip().eq("").to_numpy(dtype=bool), True)
    return parsed, blank


def code_dates(
    series: pd.Series,
    *,
    file: str,
    column: str,
    factorized: Factorized | None = None,
    distinct: DistinctDates | None = None,
) -> tuple[pd.Series, list[Issue]]:
    """Dates as ``datetime64``: ISO 8601 (2027-03-01) or day/month/year (01/03/2027).

    Each distinct text is parsed once: a million rows hold a few hundred days.
    ``factorized``: ``pd.factorize(series, use_na_sentinel=True)``, if already done, and
    ``distinct``: :func:`distinct_dates` of its uniques, if already parsed.
    """
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.astype("datetime64[ns]"), []
    codes, uniques = factorized or pd.factorize(series, use_na_sentinel=True)
    parsed, blank = distinct or distinct_dates(uniques)
    wrong = np.isnat(parsed) & ~blank  # judged once per distinct value
    bad = wrong[codes] if wrong.any() else np.zeros(len(codes), dtype=bool)
    issues = rows_issues(
        bad,
        series,
        file=file,
        column=column,
        message=lambda v: f"'{v}' is not a date.",
        fix="write dates as 2027-03-01 (or 01/03/2027, day first).",
        expected="a date such as 2027-03-01",
    )
    coded = pd.Series(parsed[codes], index=series.index, dtype="datetime64[ns]", copy=False)
    return coded, issues


def code_level(
    table: RawTable, spec: LevelSpec, protocol: Protocol
) -> tuple[pd.DataFrame, list[Issue]]:
    """Code the declared columns of one level's file.

    Returns
    -------
    tuple
        The coded frame (all columns kept, same index) and every coding issue.
    """
    frame = table.frame
    coded = frame.copy(deep=False)
    issues: list[Issue] = []
    file = table.name

    def apply(column: str, kind: str, what: str, levels: tuple[str, ...] = ()) -> None:
        if column not in frame.columns:
            return
        series = with_value_labels(frame[column], table.value_labels.get(column))
        values, found = _code(kind, series, levels, file=file, column=column, what=what)
        coded[column] = values
        issues.extend(found)

    for outcome in spec.outcomes:
        if outcome.survival is not None:  # dates and reasons: read by validate.survival
            continue
        apply(outcome.data_column, outcome.type, f'outcome "{outcome.name}"', outcome.levels)
        if outcome.exposure:
            apply(outcome.exposure, "continuous", f'the exposure of "{outcome.name}"')
            issues += _exposure_issues(coded, frame, outcome, file=file)
        if outcome.baseline:
            apply(
                outcome.baseline, outcome.type, f'the baseline of "{outcome.name}"', outcome.levels
            )
    for cov in protocol.covariates:
        if cov.level == spec.name and cov.type != "categorical":
            apply(cov.data_column, cov.type, f'covariate "{cov.name}"')
    for sub in protocol.subgroups:
        if sub.level == spec.name:
            apply(sub.column, "subgroup", f'subgroup "{sub.name}"', sub.levels)
    if spec.take_up:
        apply(spec.take_up, "binary", "the take-up column")
    for column in frame.columns:
        if column not in spec.own_dates and is_date_column(column, frame[column]):
            apply(column, "date", "a date")
    for column in (spec.id_column, spec.unit_column):
        if column in frame.columns:
            issues += _blank_ids(frame[column], file=file, column=column)
    return coded, issues


def _exposure_issues(
    coded: pd.DataFrame, raw: pd.DataFrame, outcome: Outcome, *, file: str
) -> list[Issue]:
    """A rate needs a positive exposure on every row whose count is given."""
    column = outcome.exposure
    if column is None or column not in coded or outcome.data_column not in coded:
        return []
    exposure = pd.to_numeric(coded[column], errors="coerce")
    blank = blank_mask(raw[column])
    count_given = coded[outcome.data_column].notna().to_numpy()
    issues = rows_issues(
        (exposure <= 0).to_numpy(dtype=bool, na_value=False),
        raw[column],
        file=file,
        column=column,
        message=lambda v: (
            f'{v} is not a positive exposure; outcome "{outcome.name}" is a rate per unit of it.'
        ),
        fix="give the row's exposure (e.g. FTE-years in post) as a number above 0, or leave "
        "its count empty if the person was not in post.",
        expected="a number above 0",
    )
    issues += rows_issues(
        count_given & blank,
        raw[column],
        file=file,
        column=column,
        message=lambda v: (
            f'the exposure is empty, but outcome "{outcome.name}" has a count '
            "on this row: its rate needs both."
        ),
        fix="fill in the exposure, or leave the count empty.",
        expected="a number above 0",
    )
    return issues


def _blank_ids(series: pd.Series, *, file: str, column: str) -> list[Issue]:
    # Readers strip ids, so an empty id is missing or "" (read from Arrow's offsets if there).
    mask = empty_text(series)
    if mask is None:
        mask = np.asarray((series.isna() | series.eq("")).to_numpy(dtype=bool, na_value=True))
    if not mask.any():
        return []
    return rows_issues(
        mask,
        series.fillna(""),
        file=file,
        column=column,
        message=lambda v: "the id is empty.",
        fix="fill in the id, or delete the row if it is not a real record.",
        expected="an id",
    )

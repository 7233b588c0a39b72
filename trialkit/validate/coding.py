"""Turn columns as typed into numbers: binary codes, Likert labels, counts and scores.

Every value is coded through its distinct values (``pandas.factorize``), so a million
rows with a handful of labels cost a handful of look-ups. A value that cannot be coded
becomes an issue naming what was allowed; nothing is guessed or dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from trialkit.errors import Issue
from trialkit.validate.issues import rows_issues

#: Texts read as 1 and 0 in a binary column (compared after trimming and lower-casing).
BINARY_TEXT: Mapping[str, float] = {
    "1": 1.0,
    "yes": 1.0,
    "true": 1.0,
    "y": 1.0,
    "1.0": 1.0,
    "0": 0.0,
    "no": 0.0,
    "false": 0.0,
    "n": 0.0,
    "0.0": 0.0,
}
_SPACES = re.compile(r"\s+")


def normalise(text: object) -> str:
    """Text compared case- and whitespace-insensitively: trimmed, spaces collapsed, casefolded."""
    return _SPACES.sub(" ", str(text).strip()).casefold()


def _map_distinct(series: pd.Series, lookup: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Code each value via its distinct values; returns (codes, bad-mask)."""
    positions, uniques = pd.factorize(series, use_na_sentinel=True)
    keys = [normalise(u) for u in uniques]
    mapped = np.array([lookup.get(k, np.nan) for k in keys] + [np.nan])
    blank = np.array([k == "" for k in keys] + [True])
    codes = mapped[positions]  # the sentinel -1 picks the trailing NaN
    bad = np.isnan(codes) & ~blank[positions]
    return codes, bad


def blank_mask(series: pd.Series) -> np.ndarray:
    """True where a value is missing or only spaces.

    Text columns use vectorised string operations; mixed (object) columns are judged once
    per distinct value.
    """
    if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        return np.asarray(series.isna().to_numpy(), dtype=bool)
    if pd.api.types.is_string_dtype(series.dtype) and series.dtype != object:
        arrow = _arrow_blank(series)
        if arrow is not None:
            return arrow
        empty = series.str.strip().str.len().eq(0)
        return np.asarray(series.isna().to_numpy() | empty.fillna(True).to_numpy(dtype=bool))
    positions, uniques = pd.factorize(series, use_na_sentinel=True)
    blank = np.array([str(u).strip() == "" for u in uniques] + [True])
    return np.asarray(blank[positions], dtype=bool)


def _arrow_blank(series: pd.Series) -> np.ndarray | None:
    """Blank text of an Arrow-backed column without copying its strings (``None``: not
    Arrow-backed): missing, empty, or only whitespace."""
    from trialkit.validate.texts import blank_text

    return blank_text(series)


def with_value_labels(series: pd.Series, labels: Mapping[Any, str] | None) -> pd.Series:
    """Replace Stata/SPSS labelled codes by their labels; unlabelled values are kept."""
    if not labels:
        return series
    mapped = series.map(lambda v: labels.get(v, v) if pd.notna(v) else v)
    return mapped.astype(object)


def code_numeric(
    series: pd.Series, *, file: str, column: str, what: str
) -> tuple[pd.Series, list[Issue]]:
    """Numbers as float; text that is not a number becomes an issue."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64"), []
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.astype("float64"), []
    numbers = pd.to_numeric(series, errors="coerce")
    bad = numbers.isna().to_numpy() & ~blank_mask(series)
    issues = rows_issues(
        bad,
        series,
        file=file,
        column=column,
        message=lambda v: f"'{v}' is not a number; {what} must be numeric.",
        fix="type the number alone (no units or words), or leave the cell empty if missing.",
        expected="a number",
    )
    return numbers.astype("float64"), issues


def code_binary(
    series: pd.Series, *, file: str, column: str, what: str
) -> tuple[pd.Series, list[Issue]]:
    """0/1, yes/no, true/false, y/n (any case) as 0.0/1.0; anything else is an issue."""
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        codes = series.to_numpy(dtype="float64", na_value=np.nan, copy=True)
        bad = ~np.isnan(codes) & (codes != 0.0) & (codes != 1.0)
        codes[bad] = np.nan
    else:
        codes, bad = _map_distinct(series, BINARY_TEXT)
    issues = rows_issues(
        bad,
        series,
        file=file,
        column=column,
        message=lambda v: f"'{v}' is not a yes/no answer; {what} is binary.",
        fix="code it as 1/0, yes/no, true/false or y/n, or leave the cell empty if missing.",
        expected="0 or 1 (yes/no, true/false, y/n)",
    )
    return pd.Series(codes, index=series.index, dtype="float64", copy=False), issues


def code_ordinal(
    series: pd.Series, levels: Sequence[str], *, file: str, column: str, what: str
) -> tuple[pd.Series, list[Issue]]:
    """Likert labels as codes 0..K-1 in the declared order (case/spacing ignored)."""
    lookup = {normalise(label): float(k) for k, label in enumerate(levels)}
    codes, bad = _map_distinct(series, lookup)
    allowed = "; ".join(f"'{label}'" for label in levels)
    issues = rows_issues(
        bad,
        series,
        file=file,
        column=column,
        message=lambda v: f"'{v}' is not one of the labels declared for {what}: {allowed}.",
        fix="use one of the declared labels (spelling as in the protocol), or leave the "
        "cell empty if missing.",
        expected=allowed,
    )
    return pd.Series(codes, index=series.index, dtype="float64", copy=False), issues


def code_labels(
    series: pd.Series, levels: Sequence[str], *, file: str, column: str, what: str
) -> tuple[pd.Series, list[Issue]]:
    """Categories (subgroups) as a categorical of the declared ``levels``, in their order.

    Values outside ``levels`` are issues; without declared levels the values as text.
    """
    positions, uniques = pd.factorize(series, use_na_sentinel=True)
    texts = [_category_text(u) for u in uniques]
    categories = list(levels) if levels else sorted(set(texts))
    lookup = {normalise(label): k for k, label in enumerate(categories)}
    mapped = np.array([lookup.get(normalise(t), -1) for t in texts] + [-1], dtype=np.int64)
    blank = np.array([t == "" for t in texts] + [True])
    codes = mapped[positions]
    out = pd.Series(
        pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories)), index=series.index
    )
    bad = (codes < 0) & ~blank[positions]
    shown = ", ".join(f"'{label}'" for label in levels)
    issues = rows_issues(
        bad,
        series,
        file=file,
        column=column,
        message=lambda v: f"'{v}' is not a level of {what}: {shown}.",
        fix="use one of the declared levels, or leave the cell empty if unknown.",
        expected=shown,
    )
    return out, issues


def _category_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()

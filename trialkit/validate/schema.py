"""The data schema derived from the protocol, checked with pandera (``lazy=True``).

Each level's coded frame is checked for declared ranges, whole non-negative counts,
proportions in [0, 1], unique ids (per period in a stepped wedge), units known to the
allocation and dates inside the trial window. Every check carries its own name, so each
pandera failure case becomes a located :class:`~trialkit.errors.Issue` with a fix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
from numpy.typing import NDArray
from pandera.errors import SchemaErrors

from trialkit.errors import Issue, Location
from trialkit.protocol.model import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.validate.issues import MAX_ROWS_PER_RULE, sheet_row, show
from trialkit.validate.layout import LevelSpec

#: Column holding ``id + period`` while a stepped wedge's ids are checked.
_ID_PERIOD = "__id_period__"


@dataclass(frozen=True, slots=True)
class Rule:
    """How to explain one named check's failures."""

    message: Callable[[str], str]
    fix: str
    expected: str


def _range_rule(outcome: Outcome, low: float, high: float) -> Rule:
    span = f"{show(low)}–{show(high)}"
    declared = outcome.range is not None
    return Rule(
        message=lambda v: (
            f"{v} is outside the range {span} "
            f"{'declared' if declared else 'allowed'} for outcome "
            f'"{outcome.name}".'
        ),
        fix=(
            f"correct the value, or widen `outcomes.{outcome.name}.range` and re-register."
            if declared
            else "give the proportion as a number between 0 and 1."
        ),
        expected=span,
    )


def _outcome_checks(outcome: Outcome, rules: dict[str, Rule]) -> list[pa.Check]:
    checks: list[pa.Check] = []
    bounds = outcome.range or ((0.0, 1.0) if outcome.type == "proportion" else None)
    if bounds is not None:
        low, high = float(bounds[0]), float(bounds[1])
        name = f"range:{outcome.name}"
        rules[name] = _range_rule(outcome, low, high)
        checks.append(pa.Check(lambda s, lo=low, hi=high: (s >= lo) & (s <= hi), name=name))
    if outcome.type == "count":
        name = f"count:{outcome.name}"
        rules[name] = Rule(
            lambda v: f'{v} is not a count; outcome "{outcome.name}" counts whole things.',
            "give a whole number of 0 or more.",
            "a whole number ≥ 0",
        )
        checks.append(pa.Check(lambda s: (s >= 0) & (s == s.round()), name=name))
    return checks


def _date_check(protocol: Protocol, rules: dict[str, Rule]) -> pa.Check | None:
    dates = protocol.dates
    if dates is None:
        return None
    start, end = pd.Timestamp(dates.start), pd.Timestamp(dates.end + dt.timedelta(days=1))
    window = f"{dates.start.isoformat()} to {dates.end.isoformat()}"
    rules["dates"] = Rule(
        lambda v: f"{v} is outside the trial window {window} (`dates.start`–`dates.end`).",
        "correct the date, or record the deviation and amend `dates` before analysis.",
        window,
    )
    return pa.Check(lambda s: (s >= start) & (s < end), name="dates")


def level_schema(
    spec: LevelSpec,
    protocol: Protocol,
    *,
    allocated: Collection[str],
    columns: Collection[str],
    date_columns: Collection[str],
    unit_found: pd.Series | None = None,
    id_duplicated: pd.Series | None = None,
) -> tuple[pa.DataFrameSchema, Mapping[str, Rule]]:
    """The pandera schema of one level's coded frame, and how to explain its checks.

    Only columns present in the file are checked; missing columns are reported earlier.
    ``unit_found`` (indexed like the frame), where given, says which rows' units are in
    ``allocated``, as found when linking rows to units: a million ids are not looked up twice.
    ``id_duplicated`` likewise says which rows' ids are duplicated (found in the background).
    """
    rules: dict[str, Rule] = {}
    unit_name = protocol.units.name
    rules["unique"] = Rule(
        lambda v: (
            f"the id '{v}' appears on more than one row"
            + (" in the same period." if spec.period else ".")
        ),
        f"keep one row per {spec.name}"
        + (" and period" if spec.period else "")
        + ", or correct the mistyped id.",
        "a unique id",
    )
    rules["allocated"] = Rule(
        lambda v: f"{unit_name} '{v}' is not in the allocation (unknown unit).",
        f"correct the {unit_name} id, or remove rows for {unit_name}s that were never randomised.",
        "an allocated unit id",
    )
    known = frozenset(allocated)
    cols: dict[str, pa.Column] = {}
    id_key = _ID_PERIOD if spec.period and spec.period in columns else spec.id_column
    if id_key in columns or id_key == _ID_PERIOD:
        cols[id_key] = pa.Column(
            None,
            nullable=True,
            checks=[pa.Check(lambda s: ~_duplicated(s, id_duplicated), name="unique")],
        )
    if spec.unit_column in columns:
        unit_checks = [pa.Check(lambda s: _allocated(s, known, unit_found), name="allocated")]
        if spec.unit_column in cols:  # unit level: id and unit column are the same
            cols[spec.unit_column].checks.extend(unit_checks)
        else:
            cols[spec.unit_column] = pa.Column(None, nullable=True, checks=unit_checks)
    for outcome in spec.outcomes:
        checks = _outcome_checks(outcome, rules)
        if outcome.data_column in columns and checks:
            cols[outcome.data_column] = pa.Column(None, nullable=True, checks=checks)
    date_check = _date_check(protocol, rules)
    if date_check is not None:
        for column in date_columns:
            cols.setdefault(column, pa.Column(None, nullable=True)).checks.append(date_check)
    return pa.DataFrameSchema(cols, strict=False, coerce=False), rules


def _allocated(values: pd.Series, known: frozenset[str], found: pd.Series | None) -> pd.Series:
    """Which values are allocated units (``found`` if given, for the rows of ``values``)."""
    if found is None:
        return values.isin(known)
    return _rows(found, values)


def _duplicated(values: pd.Series, found: pd.Series | None) -> pd.Series:
    """Which values are duplicated (``found`` if given, for the rows of ``values``)."""
    if found is None:
        return pd.Series(duplicated(values), index=values.index, copy=False)
    return _rows(found, values)


def _rows(found: pd.Series, values: pd.Series) -> pd.Series:
    """``found`` for the rows of ``values`` (pandera leaves missing values out)."""
    if len(found) == len(values) and found.index.equals(values.index):
        return found
    return found.loc[values.index]


def duplicated(values: pd.Series) -> NDArray[np.bool_]:
    """True on every row whose value appears more than once (all copies marked).

    Text is sorted with Arrow and compared with its neighbour, several times faster than
    hashing a million strings; other types use pandas.
    """
    if not pd.api.types.is_string_dtype(values.dtype) or len(values) < 2:
        return np.asarray(values.duplicated(keep=False).to_numpy(), dtype=bool)
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    array = pa.array(values.array)
    if _increasing(array):  # ids numbered in file order: no sort needed
        return np.zeros(len(values), dtype=bool)
    order = pc.sort_indices(array).to_numpy()
    ordered = array.take(order)
    same = pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))
    same_np = same.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)
    in_sorted = np.zeros(len(values), dtype=bool)
    in_sorted[1:] |= same_np
    in_sorted[:-1] |= same_np
    out = np.empty(len(values), dtype=bool)
    out[order] = in_sorted
    return out


def _increasing(array: Any) -> bool:
    """Whether Arrow text without missing values rises strictly, shorter values first and
    then byte by byte (``P9`` < ``P10``): then no value repeats. One pass over neighbours,
    where sorting a million ids takes several."""
    import pyarrow.compute as pc

    if array.null_count:
        return False
    n = len(array)
    size = pc.binary_length(array)
    shorter = pc.less(size.slice(0, n - 1), size.slice(1))
    same_size = pc.equal(size.slice(0, n - 1), size.slice(1))
    before = pc.less(array.slice(0, n - 1), array.slice(1))
    return bool(pc.all(pc.or_(shorter, pc.and_(same_size, before))).as_py())


def check_frame(
    frame: pd.DataFrame,
    schema: pa.DataFrameSchema,
    rules: Mapping[str, Rule],
    *,
    file: str,
    raw: pd.DataFrame,
    id_column: str,
    period: str | None,
) -> list[Issue]:
    """Run ``schema`` lazily and turn every failure case into a located issue.

    Each column is validated as a pandera ``SeriesSchema`` with the column's checks, in
    place: validating the frame would copy every (wide) row first, which costs more than
    all the checks together. ``raw`` is the frame as read, so values are shown as typed.
    """
    cases = []
    for name, column in schema.columns.items():
        if name == _ID_PERIOD:
            values = (
                frame[id_column].astype("str") + " in period " + frame[period or ""].astype("str")
            )
        elif name in frame.columns:
            values = frame[name]
        else:
            continue
        series_schema = pa.SeriesSchema(None, checks=column.checks, nullable=True, name=name)
        try:
            series_schema.validate(values.rename(name), lazy=True, inplace=True)
        except SchemaErrors as exc:
            cases.append(exc.failure_cases.assign(column=name))
    if not cases:
        return []
    return _explain(
        pd.concat(cases, ignore_index=True), rules, file=file, raw=raw, id_column=id_column
    )


def _explain(
    cases: pd.DataFrame,
    rules: Mapping[str, Rule],
    *,
    file: str,
    raw: pd.DataFrame,
    id_column: str,
) -> list[Issue]:
    issues: list[Issue] = []
    cases = cases[cases["index"].notna()]
    for (column, check), group in cases.groupby(["column", "check"], sort=False):
        rule = rules.get(str(check))
        if rule is None:
            continue
        shown_column = id_column if column == _ID_PERIOD else str(column)
        rows = group["index"].astype(int).to_numpy()
        for row, value in zip(rows[:MAX_ROWS_PER_RULE], group["failure_case"], strict=False):
            text = show(raw[shown_column].iloc[row]) if shown_column in raw else show(value)
            if column == _ID_PERIOD:
                text = str(value)
            issues.append(
                Issue(
                    rule.message(text),
                    Location(file=file, row=sheet_row(row), column=shown_column),
                    fix=rule.fix,
                    value=text,
                    expected=rule.expected,
                )
            )
        if len(rows) > MAX_ROWS_PER_RULE:
            issues.append(
                Issue(
                    f"{len(rows) - MAX_ROWS_PER_RULE:,} more rows have the same problem.",
                    Location(file=file, column=shown_column),
                    fix=rule.fix,
                    expected=rule.expected,
                )
            )
    return issues

"""Time-to-event outcomes: read the declared dates and reasons, derive time and event.

Each row of a ``survival`` outcome's level is followed from its start (``start_column``,
or the pilot's ``dates.intervention_start`` when no start column is declared or the start
date is earlier) until its end date, when that falls on or before the end of follow-up
(``survival.follow_up_end``, else ``dates.end``), or else until the end of follow-up,
where it is censored. An end date *after* the end of follow-up is not an error: the row
is censored at the end of follow-up, as if the data had been extracted then.

Two columns are added to the level's frame: the time in days (the outcome's own column)
and ``<column>_event``, coded :data:`CENSORED` (0), :data:`EVENT` (1) or :data:`COMPETING`
(2). A row ends in the event when its reason is one of ``event_reasons`` (or, when none
are declared, whenever it has an end date); in a competing event when its reason is one
of ``competing_reasons``; any other reason is a censoring (and is reported once as a
warning, or as an error when it looks like a misspelt declared reason). A row without a
usable start date has no time and counts as missing; every other row is followed up,
leavers included.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.errors import Issue, Location
from trialkit.protocol.model import Protocol
from trialkit.protocol.outcomes import Outcome, Survival
from trialkit.validate.coding import blank_mask, normalise, with_value_labels
from trialkit.validate.frames import code_dates
from trialkit.validate.issues import rows_issues, sheet_row
from trialkit.validate.layout import LevelSpec, survival_columns
from trialkit.validate.readers import RawTable

#: Codes of ``<outcome>_event``: still at risk at the end of its time, the event, a
#: competing event.
CENSORED, EVENT, COMPETING = 0, 1, 2

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def event_column(outcome: Outcome) -> str:
    """The name of a survival outcome's event-code column: ``<column>_event``."""
    return f"{outcome.data_column}_event"


@dataclass(frozen=True, slots=True)
class FollowUp:
    """The follow-up window of one survival outcome (``start`` is ``None`` without dates)."""

    start: pd.Timestamp | None
    end: pd.Timestamp


def follow_up(protocol: Protocol, outcome: Outcome) -> FollowUp | Issue:
    """The window rows are followed in, or an issue saying which declaration is missing."""
    declared = _declared(outcome)
    dates = protocol.dates
    end = declared.follow_up_end or (dates.end if dates else None)
    start = dates.intervention_start if dates else None
    field = f"outcomes.{outcome.name}.survival"
    if end is None:
        return Issue(
            f'outcome "{outcome.name}" has no end of follow-up.',
            Location(field=f"{field}.follow_up_end"),
            fix="declare `survival.follow_up_end`, or the pilot's `dates`.",
        )
    if start is None and declared.start_column is None:
        return Issue(
            f'outcome "{outcome.name}" has no start of follow-up.',
            Location(field=f"{field}.start_column"),
            fix="declare `survival.start_column`, or the pilot's `dates.intervention_start`.",
        )
    if start is not None and end < start:
        return Issue(
            f'the end of follow-up of outcome "{outcome.name}" ({end.isoformat()}) is before '
            f"the pilot start ({start.isoformat()}).",
            Location(field=f"{field}.follow_up_end"),
            fix="correct `survival.follow_up_end` (or `dates`).",
        )
    return FollowUp(None if start is None else pd.Timestamp(start), pd.Timestamp(end))


def _declared(outcome: Outcome) -> Survival:
    assert outcome.survival is not None, "only survival outcomes are derived"
    return outcome.survival


def add_survival(
    coded: pd.DataFrame, table: RawTable, spec: LevelSpec, protocol: Protocol
) -> tuple[pd.DataFrame, list[Issue]]:
    """Derive the time and event columns of every survival outcome of one level.

    Returns
    -------
    tuple
        The frame with ``<column>`` (days, float; missing without a usable start) and
        ``<column>_event`` (0, 1 or 2; missing likewise) added, and every issue found.
    """
    issues: list[Issue] = []
    for outcome in spec.outcomes:
        if outcome.survival is None:
            continue
        clash = [c for c in (outcome.data_column, event_column(outcome)) if c in table.frame]
        if clash:
            issues += [_clash(outcome, table.name, c) for c in clash]
            continue
        if any(c not in table.frame.columns for c in survival_columns(outcome)):
            continue  # reported as missing columns by the layout check
        window = follow_up(protocol, outcome)
        if isinstance(window, Issue):
            issues.append(window)
            continue
        time, event, found = _derive(outcome, table, window)
        coded[outcome.data_column] = time
        coded[event_column(outcome)] = event
        issues += found
    return coded, issues


def _clash(outcome: Outcome, file: str, column: str) -> Issue:
    return Issue(
        f'the column "{column}" would be replaced: for the time-to-event outcome '
        f'"{outcome.name}" trialkit derives it from the dates in '
        f'"{_declared(outcome).end_column}".',
        Location(file=file, row=1, column=column),
        fix=f'rename or remove the column "{column}", or give the outcome another `column`.',
        expected="no such column",
    )


def _derive(
    outcome: Outcome, table: RawTable, window: FollowUp
) -> tuple[pd.Series, pd.Series, list[Issue]]:
    """Time in days and event code of each row, and the issues of its dates and reasons."""
    declared, raw, file = _declared(outcome), table.frame, table.name
    end, issues = code_dates(raw[declared.end_column], file=file, column=declared.end_column)
    end_bad = end.isna().to_numpy() & ~blank_mask(raw[declared.end_column])
    start, start_issues = _starts(declared, raw, window, file=file)
    issues += start_issues
    ends_before = (end < start).to_numpy()
    issues += _before_start_issues(ends_before, raw, declared, window, file=file)
    ended = (end.notna() & (end <= window.end)).to_numpy()
    has_end = ~blank_mask(raw[declared.end_column])
    codes, reason_issues = _reason_codes(outcome, table, ended & ~ends_before, has_end)
    issues += reason_issues
    stop = end.where(ended, window.end)
    usable = start.notna().to_numpy() & ~end_bad & ~ends_before & (start <= window.end).to_numpy()
    days = (stop - start).dt.days.to_numpy(dtype="float64", na_value=np.nan)
    event = np.where(ended, codes, float(CENSORED))
    index = raw.index
    time = pd.Series(np.where(usable, days, np.nan), index=index, dtype="float64")
    event_codes = pd.Series(np.where(usable, event, np.nan), index=index, dtype="float64")
    return time, event_codes, issues


def _starts(
    declared: Survival, raw: pd.DataFrame, window: FollowUp, *, file: str
) -> tuple[pd.Series, list[Issue]]:
    """Each row's start of follow-up: the later of its start date and the pilot start."""
    pilot = window.start
    if declared.start_column is None:
        return pd.Series(pilot, index=raw.index, dtype="datetime64[ns]"), []
    column = declared.start_column
    start, issues = code_dates(raw[column], file=file, column=column)
    if pilot is not None:
        start = start.where(start.isna() | (start >= pilot), pilot)
    late = (start > window.end).to_numpy()
    end_text = window.end.date().isoformat()
    issues += rows_issues(
        late,
        raw[column],
        file=file,
        column=column,
        message=lambda v: (
            f"{v} is after the end of follow-up ({end_text}): this row was never followed up."
        ),
        fix="correct the date, or remove rows of people who started after follow-up ended.",
        expected=f"on or before {end_text}",
    )
    return start, issues


def _before_start_issues(
    mask: BoolArray, raw: pd.DataFrame, declared: Survival, window: FollowUp, *, file: str
) -> list[Issue]:
    pilot = None if window.start is None else window.start.date().isoformat()
    if declared.start_column and pilot:
        what = f'the later of "{declared.start_column}" and the pilot start {pilot}'
    elif declared.start_column:
        what = f'"{declared.start_column}"'
    else:
        what = f"the pilot start {pilot}"
    return rows_issues(
        mask,
        raw[declared.end_column],
        file=file,
        column=declared.end_column,
        message=lambda v: f"{v} is before the start of follow-up ({what}).",
        fix="correct the date; remove rows of people who left before follow-up started.",
        expected=f"on or after {what}",
    )


def _reason_codes(
    outcome: Outcome, table: RawTable, ended: BoolArray, has_end: BoolArray
) -> tuple[FloatArray, list[Issue]]:
    """The event code each row's reason gives (used where the row ended in follow-up)."""
    declared = _declared(outcome)
    column = declared.reason_column
    if column is None:
        return np.full(len(ended), float(EVENT)), []
    series = with_value_labels(table.frame[column], table.value_labels.get(column))
    lookup = {normalise(r): float(COMPETING) for r in declared.competing_reasons}
    lookup |= {normalise(r): float(EVENT) for r in declared.event_reasons}
    other = float(CENSORED) if declared.event_reasons else float(EVENT)
    positions, uniques = pd.factorize(series, use_na_sentinel=True)
    keys = [normalise(u) for u in uniques]
    blank_code = np.nan if declared.event_reasons else float(EVENT)
    per_key = [lookup.get(k, other) if k else blank_code for k in keys]
    codes = np.asarray([*per_key, blank_code], dtype="float64")[positions]
    blank = blank_mask(series)
    needed = ended & blank & bool(declared.event_reasons)  # else a blank reason is the event
    issues = _missing_reasons(outcome, series, needed, file=table.name)
    issues += _undated_reasons(outcome, series, ~blank & ~has_end, file=table.name)
    if lookup:
        unknown = [k for k in dict.fromkeys(keys) if k and k not in lookup]
        key_codes = np.asarray([*keys, ""], dtype=object)[positions]
        for key in unknown:
            rows = np.asarray(key_codes == key, dtype=bool)
            issues += _undeclared(outcome, series, rows, key, sorted(lookup), file=table.name)
    return codes, issues


def _missing_reasons(
    outcome: Outcome, series: pd.Series, mask: BoolArray, *, file: str
) -> list[Issue]:
    declared = _declared(outcome)
    reasons = ", ".join(f"'{r}'" for r in (*declared.event_reasons, *declared.competing_reasons))
    return rows_issues(
        mask,
        series.astype(object).where(series.notna(), ""),
        file=file,
        column=str(declared.reason_column),
        message=lambda v: (
            f'no reason is given for the end date in "{declared.end_column}"; '
            f'outcome "{outcome.name}" needs it to tell the event from a censoring.'
        ),
        fix=f"fill in the reason ({reasons}, or another reason for a censoring).",
        expected=reasons,
    )


def _undated_reasons(
    outcome: Outcome, series: pd.Series, mask: BoolArray, *, file: str
) -> list[Issue]:
    declared = _declared(outcome)
    return rows_issues(
        mask,
        series,
        file=file,
        column=str(declared.reason_column),
        message=lambda v: (
            f"the reason '{v}' is given but there is no end date in "
            f'"{declared.end_column}"; the row is counted as still at risk at the end of follow-up.'
        ),
        fix=f'fill in the end date in "{declared.end_column}", or clear the reason.',
        expected="an end date with every reason",
        severity="warning",
    )


def _undeclared(
    outcome: Outcome,
    series: pd.Series,
    rows: BoolArray,
    key: str,
    known: list[str],
    *,
    file: str,
) -> list[Issue]:
    """A reason outside the declared ones: an error if it looks misspelt, else one warning."""
    declared = _declared(outcome)
    column = str(declared.reason_column)
    shown = ", ".join(f"'{r}'" for r in (*declared.event_reasons, *declared.competing_reasons))
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
    if close:
        return rows_issues(
            rows,
            series,
            file=file,
            column=column,
            message=lambda v: (
                f"'{v}' is not a declared reason of outcome \"{outcome.name}\"; "
                f"did you mean '{close[0]}'?"
            ),
            fix=f"correct the spelling to '{close[0]}', or declare the reason in `survival`.",
            expected=shown,
        )
    first = int(np.flatnonzero(rows)[0])
    value = str(series.iloc[first]).strip()
    treated = "a censoring" if declared.event_reasons else "the event"
    return [
        Issue(
            f"'{value}' ({int(rows.sum()):,} rows, the first shown) is not a declared reason of "
            f'outcome "{outcome.name}" ({shown}); these rows are treated as {treated}.',
            Location(file=file, row=sheet_row(int(series.index[first])), column=column),
            fix="if this reason is the event or a competing event, add it to "
            "`survival.event_reasons` or `survival.competing_reasons` before registering.",
            severity="warning",
            value=value,
            expected=shown,
        )
    ]

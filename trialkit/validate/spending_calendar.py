"""Budget periods and working days of the spend ledger, for a million dates at once.

A budget period is labelled as people write it: ``2027-03`` (month), ``2027-Q2``
(quarter), ``2027-W09`` (ISO week), ``2027`` (year). Working days exclude weekends and
the public holidays of the protocol's calendar (``spending.calendar``, e.g. ``GB-ENG``),
taken from the maintained ``holidays`` package. Dates are handled through their distinct
days (a pilot has a few hundred), so labels and holidays cost nothing per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.protocol.vocabulary import Period

IntArray = NDArray[np.int64]
#: Distinct days in order, and each date's position among them (−1: missing).
Days = tuple[NDArray[np.datetime64], IntArray]
#: Pairs of distinct days counted in one table, whatever the number of dates (a pilot's
#: spends and justifications fall on a few hundred days each).
PAIRS = 1 << 20

_LABELS: Mapping[Period, Callable[[dt.date], str]] = {
    "week": lambda d: "{}-W{:02d}".format(*d.isocalendar()[:2]),
    "month": lambda d: f"{d.year}-{d.month:02d}",
    "quarter": lambda d: f"{d.year}-Q{(d.month - 1) // 3 + 1}",
    "year": lambda d: str(d.year),
}


def period_label(day: dt.date, period: Period) -> str:
    """The label of the budget period holding ``day``.

    Examples
    --------
    >>> import datetime as dt
    >>> [period_label(dt.date(2027, 3, 1), p) for p in ("week", "month", "quarter", "year")]
    ['2027-W09', '2027-03', '2027-Q1', '2027']
    """
    return _LABELS[period](day)


def distinct_days(days: NDArray[np.datetime64]) -> Days:
    """The distinct days of ``days`` in order, and each day's position among them (−1 where
    the day is missing): a million spends fall on a few hundred days, so what depends on the
    day alone is worked out once per distinct day.

    Examples
    --------
    >>> days = np.array(["2027-03-02", "NaT", "2027-03-01", "2027-03-02"], dtype="datetime64[D]")
    >>> distinct, at = distinct_days(days)
    >>> [str(d) for d in distinct], at.tolist()
    (['2027-03-01', '2027-03-02'], [1, -1, 0, 1])
    """
    days = days.astype("datetime64[D]")
    missing = np.isnat(days)
    some_missing = bool(missing.any())
    ints = days.view(np.int64)
    known = ints[~missing] if some_missing else ints
    if not len(known):
        return np.zeros(0, dtype="datetime64[D]"), np.full(len(days), -1, dtype=np.int64)
    low = int(known.min())
    offset = known - low
    present = np.zeros(int(offset.max()) + 1, dtype=bool)  # within pandas' 584 years
    present[offset] = True
    rank = np.cumsum(present) - 1
    if some_missing:
        at = np.full(len(days), -1, dtype=np.int64)
        at[~missing] = rank[offset]
    else:
        at = np.asarray(rank[offset], dtype=np.int64)
    return (np.flatnonzero(present) + low).astype("datetime64[D]"), at


def period_labels(days: NDArray[np.datetime64], period: Period) -> list[str]:
    """The period label of each day (``datetime64[D]``, none missing)."""
    return [period_label(day, period) for day in days.tolist()]


def public_holidays(calendar: str, years: range) -> NDArray[np.datetime64]:
    """The public holidays of ``calendar`` (``GB-ENG``: country, then subdivision) in ``years``.

    Examples
    --------
    >>> [str(d) for d in public_holidays("GB-ENG", range(2027, 2028))[1:3]]
    ['2027-03-26', '2027-03-29']
    """
    import holidays

    country, _, subdiv = calendar.partition("-")
    found = holidays.country_holidays(country, subdiv=subdiv or None, years=list(years))
    return np.array(sorted(found), dtype="datetime64[D]")


def _span(
    days: NDArray[np.datetime64], at: IntArray, rows: NDArray[np.bool_]
) -> NDArray[np.datetime64]:
    """The first and last of the distinct ``days`` that ``rows`` fall on."""
    used = at[rows]
    return days[[int(used.min()), int(used.max())]]


def working_days(
    start: pd.Series, end: pd.Series, *, calendar: str, days: tuple[Days, Days] | None = None
) -> NDArray[np.float64]:
    """Working days after ``start`` up to and including ``end`` (NaN where either is missing).

    A spend justified the next working day took 1 working day, one justified the same day
    0; weekends and public holidays in between are not counted. ``end`` before ``start``
    gives a negative count. ``days``: :func:`distinct_days` of ``start`` and of ``end``,
    where already found.

    Examples
    --------
    >>> spent = pd.Series(pd.to_datetime(["2027-03-24"]))
    >>> justified = pd.Series(pd.to_datetime(["2027-04-01"]))  # Easter 2027 in between
    >>> working_days(spent, justified, calendar="GB-ENG").tolist()
    [4.0]
    """
    if days is None:
        days = (
            distinct_days(start.to_numpy(dtype="datetime64[D]")),
            distinct_days(end.to_numpy(dtype="datetime64[D]")),
        )
    (begin, begin_at), (stop, stop_at) = days
    known = (begin_at >= 0) & (stop_at >= 0)
    if not known.any():
        return np.full(len(begin_at), np.nan)
    first, last = _span(begin, begin_at, known), _span(stop, stop_at, known)
    low = min(first[0], last[0]).astype(object).year
    high = max(first[1], last[1]).astype(object).year + 1
    holidays = public_holidays(calendar, range(low, high + 1))
    # np.busday_count(a, b) counts the working days from a up to b (b excluded), or minus
    # those from b + 1 up to a + 1 when b is before a. Both are differences of working days
    # counted from one origin to each distinct day (shifted by one or two days).
    origin, one = min(begin.min(), stop.min()), np.timedelta64(1, "D")

    def before(days: NDArray[np.datetime64], shift: int) -> IntArray:
        counted = np.busday_count(origin, days + shift * one, holidays=holidays)
        return np.asarray(counted, dtype=np.int64)

    if len(begin) * len(stop) <= max(len(begin_at), PAIRS):
        # Every pair of distinct days counted once (a row and a column of NaN added for a
        # missing date, which the position −1 picks); each spend then looks its pair up.
        ends_first = stop[np.newaxis, :] < begin[:, np.newaxis]
        forward = before(stop, 1)[np.newaxis, :] - before(begin, 1)[:, np.newaxis]
        backward = before(stop, 2)[np.newaxis, :] - before(begin, 2)[:, np.newaxis]
        pairs = np.full((len(begin) + 1, len(stop) + 1), np.nan)
        pairs[:-1, :-1] = np.where(ends_first, backward, forward)
        return np.asarray(pairs[begin_at, stop_at], dtype=np.float64)
    forward = before(stop, 1)[stop_at] - before(begin, 1)[begin_at]
    backward = before(stop, 2)[stop_at] - before(begin, 2)[begin_at]
    # Garbage where a position is −1 (the last distinct day is taken); masked below.
    ends_first = stop.view(np.int64)[stop_at] < begin.view(np.int64)[begin_at]
    counted = np.where(ends_first, backward, forward)
    return np.where(known, counted, np.nan)

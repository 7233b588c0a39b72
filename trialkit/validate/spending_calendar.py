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


def period_labels(dates: pd.Series, period: Period) -> NDArray[np.object_]:
    """Each date's period label (``None`` where the date is missing)."""
    codes, uniques = pd.factorize(dates, use_na_sentinel=True)
    labels = [period_label(pd.Timestamp(u).date(), period) for u in uniques]
    return np.array([*labels, None], dtype=object)[codes]


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


def working_days(start: pd.Series, end: pd.Series, *, calendar: str) -> NDArray[np.float64]:
    """Working days after ``start`` up to and including ``end`` (NaN where either is missing).

    A spend justified the next working day took 1 working day, one justified the same day
    0; weekends and public holidays in between are not counted. ``end`` before ``start``
    gives a negative count.

    Examples
    --------
    >>> spent = pd.Series(pd.to_datetime(["2027-03-24"]))
    >>> justified = pd.Series(pd.to_datetime(["2027-04-01"]))  # Easter 2027 in between
    >>> working_days(spent, justified, calendar="GB-ENG").tolist()
    [4.0]
    """
    begin = start.to_numpy(dtype="datetime64[D]")
    stop = end.to_numpy(dtype="datetime64[D]")
    out = np.full(len(begin), np.nan)
    known = ~(np.isnat(begin) | np.isnat(stop))
    if not known.any():
        return out
    first, last = begin[known], stop[known]
    low = min(first.min(), last.min()).astype(object).year
    high = max(first.max(), last.max()).astype(object).year + 1
    holidays = public_holidays(calendar, range(low, high + 1))
    one = np.timedelta64(1, "D")
    out[known] = np.busday_count(first + one, last + one, holidays=holidays)
    return out

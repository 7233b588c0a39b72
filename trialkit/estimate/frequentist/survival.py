"""Time to an event (staff leaving) by arm: checked survival data and Kaplan–Meier curves.

Data contract (produced by validation): a time column, days from the start of follow-up to
the event or to censoring (float >= 0), and an event column, by convention
``"<time column>_event"``, coded 0 = censored, 1 = event (e.g. leaving), 2 = competing event
(e.g. a transfer). Every estimator here is **cause-specific**: a competing event is treated
as censoring for the event of interest at the time it happens. The Kaplan–Meier "survival"
is then the probability of not having had the event of interest *had competing events been
removed*, not the probability of still being in post; say so when reporting it.

The estimators are :func:`kaplan_meier` (this module), the restricted-mean difference
:func:`~trialkit.estimate.frequentist.survival_rmst.rmst_difference` (the primary estimand:
pseudo-observations with CR2 / HC2 inference) and the Cox model
:func:`~trialkit.estimate.frequentist.survival_cox.cox_hazard_ratios`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import (
    FloatArray,
    IntArray,
    check_columns,
    numeric_column,
)
from trialkit.estimate.frequentist.result import check_ci_level

#: Event codes of the data contract.
CENSORED, EVENT, COMPETING = 0, 1, 2
#: Default times (days) for the numbers-at-risk table: every quarter of a year.
AT_RISK_TIMES: tuple[float, ...] = (0.0, 91.0, 182.0, 273.0, 365.0)


def event_indicator(frame: pd.DataFrame, time: str, event: str) -> tuple[FloatArray, FloatArray]:
    """Checked follow-up times and the 0/1 indicator of the event of interest.

    Competing events (code 2) become 0: cause-specific censoring.

    Raises
    ------
    EstimationError
        A missing column, missing values, negative or non-numeric times, or event codes
        other than 0, 1 and 2.
    """
    check_columns(frame, {"time": [time], "event": [event]})
    for name in (time, event):
        if frame[name].hasnans:
            count = int(frame[name].isna().sum())
            raise EstimationError(
                f'column "{name}" has {count} missing value(s) (first at index '
                f"{frame.index[frame[name].isna()][0]!r}). trialkit does not drop rows "
                "silently. Fix: complete or drop those rows in validation, and record the rule."
            )
    t = numeric_column(frame, time, "time")
    if np.any(t < 0):
        raise EstimationError(
            f'column "{time}" (the time) has {int(np.sum(t < 0))} negative value(s); follow-up '
            "times are days since the start of follow-up. Fix: check the dates."
        )
    codes = numeric_column(frame, event, "event")
    bad = ~np.isin(codes, (CENSORED, EVENT, COMPETING))
    if np.any(bad):
        raise EstimationError(
            f'column "{event}" (the event) must be coded 0 = censored, 1 = event, '
            f"2 = competing event; found {sorted(set(codes[bad].tolist()))[:5]}. "
            "Fix: recode it (validation writes these codes)."
        )
    return t, np.asarray(codes == EVENT, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class EventTable:
    """Kaplan–Meier building blocks at the distinct follow-up times of one group.

    Attributes
    ----------
    times
        0 and every distinct observed time, ascending.
    at_risk
        Units with follow-up time >= each time.
    events
        Events of interest at each time (competing events count as censored).
    survival
        The Kaplan–Meier estimate just after each time (a right-continuous step function).
    greenwood
        Greenwood's sum ``sum d / (Y (Y - d))`` up to each time (0 where ``Y = d``).
    """

    times: FloatArray
    at_risk: FloatArray
    events: FloatArray
    survival: FloatArray
    greenwood: FloatArray


def event_table(t: FloatArray, d: FloatArray) -> EventTable:
    """The Kaplan–Meier estimate of one group (events before censorings at tied times)."""
    times, inverse = np.unique(np.concatenate([[0.0], t]), return_inverse=True)
    inverse = inverse[1:]
    removed = np.bincount(inverse, minlength=times.size).astype(np.float64)
    events = np.asarray(np.bincount(inverse, weights=d, minlength=times.size), dtype=np.float64)
    at_risk = np.asarray(t.size - np.concatenate([[0.0], np.cumsum(removed)[:-1]]), np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - events / at_risk, 1.0)
        step = np.where(at_risk > events, events / (at_risk * (at_risk - events)), 0.0)
    survival = np.asarray(np.cumprod(factor), dtype=np.float64)
    return EventTable(times, at_risk, events, survival, np.cumsum(step))


@dataclass(frozen=True, slots=True, eq=False)
class KaplanMeierCurve:
    """The Kaplan–Meier curve of one arm, its pointwise interval and numbers at risk.

    The event of interest is code 1; competing events (code 2) are censored
    (cause-specific). The interval is pointwise, from Greenwood's variance on the
    log(-log) scale (the "exponential Greenwood" interval of lifelines and of R's
    ``survfit(conf.type = "log-log")``); it is not a simultaneous band.

    Attributes
    ----------
    arm
        The arm's value in the treatment column.
    times
        Step times: 0 and every distinct follow-up time in the arm (days), ascending.
    survival
        Kaplan–Meier estimate from each time until the next (right-continuous).
    ci_low, ci_high
        Pointwise log(-log) Greenwood interval at ``ci_level``.
    ci_level
        Level of the interval.
    at
        Times (days) of the numbers-at-risk table.
    n_at_risk
        Units still followed just before each of ``at`` (follow-up time >= that time).
    n_obs, n_events, n_competing
        Units in the arm, events of interest, and competing events (censored here).
    """

    arm: Hashable
    times: FloatArray
    survival: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray
    ci_level: float
    at: FloatArray
    n_at_risk: IntArray
    n_obs: int
    n_events: int
    n_competing: int

    def __post_init__(self) -> None:
        for name in ("times", "survival", "ci_low", "ci_high", "at", "n_at_risk"):
            value = np.array(getattr(self, name), copy=True)
            value.setflags(write=False)
            object.__setattr__(self, name, value)

    def to_frame(self) -> pd.DataFrame:
        """The step function: one row per time, columns ``time, survival, ci_low, ci_high``."""
        return pd.DataFrame(
            {
                "time": self.times,
                "survival": self.survival,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
            }
        )


def _loglog_interval(table: EventTable, ci_level: float) -> tuple[FloatArray, FloatArray]:
    z = float(special.ndtri(0.5 + ci_level / 2.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.log(table.survival)
        half = z * np.sqrt(table.greenwood) / v
        low = np.exp(-np.exp(np.log(-v) - half))
        high = np.exp(-np.exp(np.log(-v) + half))
    # S = 1 (before any event) gives 0/0: the interval is the point, as in lifelines.
    return np.where(np.isnan(low), 1.0, low), np.where(np.isnan(high), 1.0, high)


def kaplan_meier(
    data: pd.DataFrame,
    time: str,
    event: str,
    treatment: str,
    *,
    arms: Sequence[Hashable] | None = None,
    at: Sequence[float] = AT_RISK_TIMES,
    ci_level: float = 0.95,
) -> tuple[KaplanMeierCurve, ...]:
    """Kaplan–Meier curves by arm, with pointwise intervals and numbers at risk.

    Cause-specific: competing events (code 2 in ``event``) are treated as censored for the
    event of interest (code 1).

    Parameters
    ----------
    data
        One row per unit (member of staff).
    time
        Column of follow-up time in days (>= 0) to the event or censoring.
    event
        Column coded 0 = censored, 1 = event, 2 = competing event (censored here).
    treatment
        Column of arms.
    arms
        The arms to return, in this order; default every arm in sorted order.
    at
        Times (days) of the numbers-at-risk table; default every quarter of a year.
    ci_level
        Level of the pointwise log(-log) Greenwood interval.

    Returns
    -------
    tuple of KaplanMeierCurve
        One curve per arm, in the order of ``arms``.

    Raises
    ------
    EstimationError
        A missing column or values, bad times or event codes, or an arm not in the data.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"days": [30.0, 200.0, 365.0, 90.0, 365.0, 365.0],
    ...                    "days_event": [1, 2, 0, 1, 1, 0], "arm": [0, 0, 0, 1, 1, 1]})
    >>> control, treated = kaplan_meier(df, "days", "days_event", "arm", at=[0, 100])
    >>> control.survival.round(4).tolist()
    [1.0, 0.6667, 0.6667, 0.6667]
    >>> control.n_at_risk.tolist()
    [3, 2]
    """
    ci_level = check_ci_level(ci_level)
    t, d = event_indicator(data, time, event)
    check_columns(data, {"treatment": [treatment]})
    if data[treatment].hasnans:
        raise EstimationError(
            f'column "{treatment}" (the treatment) has missing values. Fix: every unit has '
            "an arm; check the allocation merge."
        )
    values = data[treatment].to_numpy()
    present = sorted(pd.unique(values).tolist(), key=lambda v: (str(type(v)), v))
    wanted = list(present if arms is None else arms)
    missing = [a for a in wanted if a not in present]
    if missing:
        raise EstimationError(
            f'arm(s) {missing} do not occur in column "{treatment}" (arms found: {present}). '
            "Fix: pass arms= some of those values."
        )
    grid = np.asarray(at, dtype=np.float64)
    codes = data[event].to_numpy()
    curves = []
    for arm in wanted:
        rows = values == arm
        table = event_table(t[rows], d[rows])
        low, high = _loglog_interval(table, ci_level)
        curves.append(
            KaplanMeierCurve(
                arm=arm.item() if isinstance(arm, np.generic) else arm,
                times=table.times,
                survival=table.survival,
                ci_low=low,
                ci_high=high,
                ci_level=ci_level,
                at=grid,
                n_at_risk=np.sum(t[rows][None, :] >= grid[:, None], axis=1).astype(np.intp),
                n_obs=int(rows.sum()),
                n_events=int(d[rows].sum()),
                n_competing=int(np.sum(codes[rows] == COMPETING)),
            )
        )
    return tuple(curves)

"""Time-to-event outcomes in the Bayesian plan: a discrete-time hazard model.

Each member of staff's follow-up up to the outcome's horizon is split into equal intervals
(one row per interval at risk); the outcome is whether the event happened in that interval.
A logistic model with interval effects (the baseline hazard), the arm, the covariates and a
random effect per unit of randomisation is then the discrete-time proportional-odds hazard
model (Singer & Willett 2003, ch. 11), sampled by the plan's own logistic kernel. Its arm
effect is a log hazard-odds ratio, close to the log hazard ratio when the hazard per interval
is small; P(benefit) is the chance of fewer events. Competing events end follow-up without
the event (cause-specific), as in the frequentist analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Intervals the horizon is split into (about a month and a half for a 270-day horizon).
INTERVALS = 6
#: Column of the interval index in the person-period frame.
INTERVAL = "interval"


def person_periods(
    frame: pd.DataFrame,
    *,
    time: str,
    event: str,
    horizon: float,
    outcome: str,
    intervals: int = INTERVALS,
) -> pd.DataFrame:
    """One row per row of ``frame`` and interval at risk before ``horizon``.

    A row is at risk in interval ``k`` (``[k w, (k + 1) w)``, ``w = horizon / intervals``)
    when its follow-up time exceeds ``k w``; ``outcome`` is 1 in the interval where its
    event (code 1) happened, 0 otherwise. Other columns are repeated.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [10.0, 250.0, 300.0], "e": [1, 2, 0], "arm": ["a", "b", "b"]})
    >>> pp = person_periods(df, time="t", event="e", horizon=300.0, outcome="left",
    ...                     intervals=3)
    >>> pp["left"].tolist(), pp["interval"].tolist()
    ([1, 0, 0, 0, 0, 0, 0], [0, 0, 1, 2, 0, 1, 2])
    """
    width = horizon / intervals
    t = frame[time].to_numpy(dtype=float)
    periods = np.minimum(np.ceil(np.minimum(t, horizon) / width), intervals).astype(int)
    periods = np.maximum(periods, 1)  # an event on day 0 counts in the first interval
    rows = np.repeat(np.arange(len(frame)), periods)
    interval = np.concatenate([np.arange(p) for p in periods]) if len(frame) else np.array([])
    out = frame.iloc[rows].reset_index(drop=True)
    last = interval == periods[rows] - 1
    happened = (frame[event].to_numpy()[rows] == 1) & (t[rows] <= horizon)
    return out.assign(**{INTERVAL: interval.astype(int), outcome: (last & happened).astype(int)})


def hazard_odds_ratio(draws: np.ndarray, ci_level: float) -> tuple[float, float, float]:
    """Posterior median and equal-tailed interval of the hazard-odds ratio, from draws of
    its logarithm (quantiles commute with ``exp``, so these are exact)."""
    tail = (1 - ci_level) / 2
    low, median, high = np.exp(np.quantile(np.asarray(draws, dtype=float), [tail, 0.5, 1 - tail]))
    return float(median), float(low), float(high)

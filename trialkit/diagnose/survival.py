"""Fabricate time-to-event data as an HR system exports it: joining and leaving dates, reasons.

The model is exponential (a constant hazard over the follow-up) with a log-normal cluster
frailty: row ``i`` of unit ``j`` leaves at hazard ``λ0 · exp(σ·u_j) · HR^treated``, where
``u_j`` is the unit's standard-normal effect (the one :func:`~trialkit.diagnose.fabricate`
draws for every outcome). ``σ² = icc/(1 − icc) · π²/6`` gives the declared ICC on the scale
of log time, whose within-cluster variance is that of the extreme-value error, ``π²/6``
(as the latent-logistic ICC of a binary outcome uses ``π²/3``). ``λ0`` is solved so that
the *marginal* control share with the event by ``horizon_days`` equals
``assumptions.rate``; the hazard ratio is ``assumptions.hazard_ratio`` (or, when it is not
declared, the exponential HR giving the declared RMST difference ``effect``), raised to
``effect_scale``. A constant hazard of transfers (the first competing reason) takes
:data:`COMPETING_SHARE` of rows by the horizon in every arm, and :data:`JOINER_SHARE` of
rows join after the pilot start. Follow-up ends at ``survival.follow_up_end`` (else
``dates.end``): later leaving dates are not yet known and are left empty, as in an extract
taken that day.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from numpy.typing import NDArray
from scipy import optimize

from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Assumptions, Outcome, Survival

FloatArray = NDArray[np.float64]

#: Share of rows with a competing event (a transfer) by the horizon, in every arm.
COMPETING_SHARE = 0.05
#: Share of rows who join after the pilot start (within the first half of follow-up).
JOINER_SHARE = 0.10
#: How an HR system writes dates: day first, as UK councils export them.
DATE_FORMAT = "%d/%m/%Y"

_NODES, _WEIGHTS = hermegauss(40)
_WEIGHTS = _WEIGHTS / math.sqrt(2 * math.pi)


def frailty_sd(icc: float) -> float:
    """The SD of the log-normal frailty giving ``icc`` on the log-time scale."""
    return math.sqrt(icc / (1 - icc) * math.pi**2 / 6)


def marginal_survival(log_hazard: float, sd: float, days: float) -> float:
    """Share still without the event after ``days``, averaged over the frailty."""
    hazards = np.exp(log_hazard + sd * _NODES)
    return float(np.sum(_WEIGHTS * np.exp(-hazards * days)))


def control_log_hazard(rate: float, sd: float, horizon: float) -> float:
    """The conditional log hazard at which the marginal share with the event is ``rate``."""
    return float(
        optimize.brentq(lambda h: marginal_survival(h, sd, horizon) - (1 - rate), -40.0, 10.0)
    )


def rmst_hazard_ratio(effect: float, hazard: float, horizon: float) -> float:
    """The exponential hazard ratio that changes the RMST over ``horizon`` by ``effect`` days."""

    def rmst(h: float) -> float:
        return -math.expm1(-h * horizon) / h

    target = min(max(rmst(hazard) + effect, 1e-6 * horizon), horizon * (1 - 1e-9))
    log_h = optimize.brentq(lambda x: rmst(math.exp(x)) - target, -40.0, 10.0)
    return math.exp(log_h) / hazard


def _window(protocol: Protocol, declared: Survival) -> tuple[dt.date, dt.date]:
    dates = protocol.dates
    end = declared.follow_up_end or (dates.end if dates else None)
    if dates is not None:
        start = dates.intervention_start
    else:
        start = (end or dt.date(2028, 1, 1)) - dt.timedelta(days=declared.horizon_days)
    return start, end or start + dt.timedelta(days=declared.horizon_days)


def add_survival(
    frame: pd.DataFrame,
    protocol: Protocol,
    outcome: Outcome,
    *,
    frailty: FloatArray,
    treated: NDArray[np.bool_],
    rng: np.random.Generator,
    scale: float = 1.0,
) -> None:
    """Write the start date, end date and reason columns of one survival outcome.

    Parameters
    ----------
    frame
        The level's rows; columns are added in place (existing ones are kept).
    protocol, outcome
        The protocol and its survival outcome (with ``assumptions``).
    frailty
        Each row's unit effect, standard normal.
    treated
        Whether each row's unit is in a treated arm.
    rng
        The random generator.
    scale
        Multiplies the log hazard ratio: 1 the declared HR, 0 none, -1 its reverse.
    """
    assert outcome.survival is not None and outcome.assumptions is not None
    declared, a = outcome.survival, outcome.assumptions
    n, horizon = len(frame), float(declared.horizon_days)
    pilot, end = _window(protocol, declared)
    follow_up = (end - pilot).days
    offset = _start_offsets(n, follow_up, rng) if declared.start_column else np.zeros(n, np.int64)
    days, competing = _times(a, declared, frailty, treated, rng, scale=scale, horizon=horizon)
    leaving = np.maximum(offset, 0) + days  # follow-up starts at the later of joining and pilot
    ended = leaving <= follow_up
    if declared.start_column and declared.start_column not in frame:
        frame[declared.start_column] = _dates(pilot, offset, np.ones(n, bool))
    if declared.end_column not in frame:
        frame[declared.end_column] = _dates(pilot, leaving, ended)
    if declared.reason_column and declared.reason_column not in frame:
        frame[declared.reason_column] = _reasons(declared, ended, competing, rng)


def _start_offsets(n: int, follow_up: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Days from the pilot start to joining: incumbents joined 1 month to 10 years before."""
    joiner = rng.random(n) < JOINER_SHARE
    later = rng.integers(1, max(2, follow_up // 2), size=n)
    earlier = -rng.integers(30, 3650, size=n)
    return np.where(joiner, later, earlier).astype(np.int64)


def _times(
    a: Assumptions,
    declared: Survival,
    frailty: FloatArray,
    treated: NDArray[np.bool_],
    rng: np.random.Generator,
    *,
    scale: float,
    horizon: float,
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Whole days at risk from the start of follow-up, and whether it ends in a competing event."""
    latent = latent_times(a, declared, frailty, treated, rng, scale=scale, horizon=horizon)
    return whole_days(np.minimum(latent.event, latent.rival)), latent.rival < latent.event


@dataclass(frozen=True, slots=True)
class LatentTimes:
    """Continuous days to the event and to a competing event, and the log hazards.

    Attributes
    ----------
    event
        Days to the event of interest, had no competing event happened (the "net" time).
    rival
        Days to a competing event (a transfer); infinite when none are declared.
    log_hazard
        Each row's log hazard of the event under control (its frailty included).
    log_hr
        The log hazard ratio of a treated row (the declared one times ``scale``).
    exponential
        The unit exponential draw of each row: ``event = exponential / hazard``, so the
        row's time under either arm is ``exponential / exp(log_hazard [+ log_hr])``.
    """

    event: FloatArray
    rival: FloatArray
    log_hazard: FloatArray
    log_hr: float
    exponential: FloatArray

    def potential(self, treated: bool) -> FloatArray:
        """Net days to the event had the row been in control (False) or a treated arm."""
        return np.asarray(
            self.exponential / np.exp(self.log_hazard + (self.log_hr if treated else 0.0)),
            dtype=np.float64,
        )


def latent_times(
    a: Assumptions,
    declared: Survival,
    frailty: FloatArray,
    treated: NDArray[np.bool_],
    rng: np.random.Generator,
    *,
    scale: float,
    horizon: float,
) -> LatentTimes:
    """Draw each row's continuous days to the event and to a competing event.

    ``frailty`` and ``treated`` have the same shape (any), and so do the arrays returned.
    """
    sd = frailty_sd(a.icc)
    log_h0 = control_log_hazard(a.rate if a.rate is not None else 0.5, sd, horizon)
    hr = a.hazard_ratio or rmst_hazard_ratio(a.effect, math.exp(log_h0), horizon)
    log_hr = scale * math.log(hr)
    log_hazard = log_h0 + sd * np.asarray(frailty, dtype=np.float64)
    exponential = rng.exponential(1.0, np.shape(frailty))
    event = exponential / np.exp(log_hazard + np.where(treated, log_hr, 0.0))
    rival = np.full(np.shape(frailty), np.inf)
    if declared.reason_column and declared.competing_reasons:
        rival = rng.exponential(horizon / -math.log(1 - COMPETING_SHARE), np.shape(frailty))
    return LatentTimes(event, rival, log_hazard, log_hr, exponential)


def whole_days(time: FloatArray) -> NDArray[np.int64]:
    """Continuous times as whole days: leaving on the k-th day after the start is k (never 0)."""
    days = np.ceil(np.minimum(time, 1e6)).astype(np.int64)
    return np.maximum(days, 1)


def _dates(
    origin: dt.date, offsets: NDArray[np.int64], keep: NDArray[np.bool_]
) -> NDArray[np.object_]:
    stamps = pd.Timestamp(origin) + pd.to_timedelta(offsets, unit="D")
    text: NDArray[np.object_] = np.asarray(stamps.strftime(DATE_FORMAT), dtype=object)
    text[~keep] = None  # an empty cell
    return text


def _reasons(
    declared: Survival,
    ended: NDArray[np.bool_],
    competing: NDArray[np.bool_],
    rng: np.random.Generator,
) -> NDArray[np.object_]:
    """Leaving reasons as an HR system writes them (capitalised); empty while in post."""
    events = [_as_exported(r) for r in declared.event_reasons] or ["Left"]
    weights = 0.5 ** np.arange(len(events))  # the first reason is the commonest
    drawn = rng.choice(np.asarray(events, dtype=object), size=len(ended), p=weights / weights.sum())
    rivals = [_as_exported(r) for r in declared.competing_reasons] or ["Transferred"]
    rival = rng.choice(np.asarray(rivals, dtype=object), size=len(ended))
    reasons: NDArray[np.object_] = np.where(competing, rival, drawn).astype(object)
    reasons[~ended] = None  # still in post: no reason
    return reasons


def _as_exported(reason: str) -> str:
    return reason[:1].upper() + reason[1:]

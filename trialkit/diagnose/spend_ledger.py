"""Fabricate a spend ledger tied to the allocation: who spent what, on whom, when, and the verdict.

Used by :func:`~trialkit.diagnose.fabricate` for protocols that declare ``spending:``. The
ledger links to the other fabricated frames: every worker and client id is one of the same
unit's rows in the staff and client frames. Spending is drawn independently of the outcomes
(effects apply by arm); only clients of spending units receive spends.

- **Who.** Units of an arm with a budget spend when they took the budget up (the take-up
  column, where one is declared); control units only when ``control_may_spend``, at
  :data:`CONTROL_RECEIPT`. Each client has one allocated worker of the unit; a client receives
  any spend with probability :data:`RECEIPT` on average (logit-normal team and worker effects,
  and :data:`EQUITY_SHIFT` on the logit for the non-reference levels of the client level's
  equity subgroups), and receivers get ``1 + Poisson(λ)`` spends, ``λ`` giving the spend
  level's declared ``per_unit.mean`` spends per unit.
- **When.** Working days (public holidays of ``spending.calendar`` excluded) between
  ``dates.intervention_start`` (plus a team start lag) and ``dates.intervention_end``, while
  the worker is in post (where the staff frame has joining and leaving dates).
- **What.** Amount, category, justification and verdict as
  :mod:`trialkit.diagnose.spend_details` draws them: skewed amounts within the caps but for a
  few breaches, rare excluded categories, a few late or missing justifications, and misuse
  from each worker's propensity, a Beta with mean :data:`MISUSE_MEAN` and concentration
  :data:`MISUSE_CONCENTRATION`, so that a few workers do most of it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.polynomial.hermite_e import hermegauss
from numpy.typing import NDArray
from scipy import optimize, special

from trialkit.diagnose import spend_details as details
from trialkit.diagnose.survival import DATE_FORMAT
from trialkit.protocol import Protocol
from trialkit.protocol.arms import DiscretionaryBudget
from trialkit.validate.spending_calendar import public_holidays

IntArray = NDArray[np.int64]
Days = NDArray[np.datetime64]
Ids = NDArray[np.object_]
Pool = tuple[IntArray, Ids | None]

RECEIPT = 0.6  #: expected share of a spending unit's clients who receive any spend
CONTROL_RECEIPT = 0.05  #: the same in control units, where ``control_may_spend``
EQUITY_SHIFT = -0.25  #: logit shift in receipt for non-reference levels of equity subgroups
TEAM_SD, WORKER_SD = 0.5, 0.5  #: SDs of the team and worker effects on the logit of receipt
START_LAG_DAYS = 10  #: mean working days before a team's first possible spend
EPISODE_DAYS = 40  #: working days over which one client's spends fall
MISUSE_MEAN, MISUSE_CONCENTRATION = 0.02, 1.0  #: Beta(mean·c, (1 - mean)·c) per worker
FALLBACK_START = dt.date(2027, 3, 1)  #: the window's start when the protocol has no dates

_NODES, _WEIGHTS = hermegauss(40)
_WEIGHTS = _WEIGHTS / np.sqrt(2 * np.pi)


class _Spends(NamedTuple):
    """Who spent on whom and when: codes into the client, worker and unit pools."""

    client: IntArray
    worker: IntArray
    unit: IntArray
    day: Days

    def take(self, rows: NDArray[np.int64] | NDArray[np.bool_]) -> _Spends:
        return _Spends(self.client[rows], self.worker[rows], self.unit[rows], self.day[rows])


def fabricate_ledger(
    protocol: Protocol,
    frames: Mapping[str, pd.DataFrame],
    unit_ids: Ids,
    unit_arm: Ids,
    *,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One row per spend, in date order, with the columns of ``protocol.spending``.

    Parameters
    ----------
    protocol
        A protocol that declares ``spending:``.
    frames
        The fabricated frames so far: the unit's own level, and the worker and client levels.
    unit_ids, unit_arm
        Each unit's id and arm, in the same order.
    rng
        The random generator; the same state gives the same ledger.

    Returns
    -------
    pandas.DataFrame
        The ledger, ready to be written as ``data/<spending.level>.csv``; text columns are
        categorical.
    """
    if protocol.spending is None or protocol.level(protocol.spending.level) is None:
        raise ValueError("fabricate_ledger needs a protocol with `spending:` and its level.")
    spending = protocol.spending
    clients = _pool(protocol, frames, spending.client_level, unit_ids, size=_mean(protocol))
    workers = _pool(protocol, frames, spending.worker_level, unit_ids, size=1)
    budgets, unit_budget = _budgets(protocol, frames, unit_ids, unit_arm)
    start, end = _window(protocol)
    calendar = public_holidays(spending.calendar, range(start.year, end.year + 2))
    spends = _who_and_when(
        protocol, frames, (clients, workers), unit_budget, unit_arm, (start, end, calendar), rng
    )
    money, excluded = details.amounts(
        budgets, unit_budget[spends.unit], spends[:3], spends.day, rng
    )
    made = money["amount"].to_numpy() > 0
    spends, money, excluded = spends.take(made), money[made].reset_index(drop=True), excluded[made]
    which = unit_budget[spends.unit]
    text, justified = details.justifications(
        budgets, which, money["category"].array, spends.day, calendar, rng
    )
    propensity = rng.beta(
        MISUSE_MEAN * MISUSE_CONCENTRATION,
        (1 - MISUSE_MEAN) * MISUSE_CONCENTRATION,
        len(workers[0]),
    )
    verdict, loss = details.verdicts(
        money["amount"].to_numpy(), excluded, propensity[spends.worker], rng
    )
    columns = spending.columns
    money[columns.justification], money[columns.justified_on] = text, _day_text(justified)
    money[columns.verdict], money[columns.loss] = verdict, loss
    return _assemble(protocol, spends, money, unit_ids, clients[1], workers[1])


def _who_and_when(
    protocol: Protocol,
    frames: Mapping[str, pd.DataFrame],
    pools: tuple[Pool, Pool],
    unit_budget: IntArray,
    unit_arm: Ids,
    window: tuple[dt.date, dt.date, Days],
    rng: np.random.Generator,
) -> _Spends:
    """Receivers, their allocated worker and their spends' working days, in date order."""
    clients, workers = pools
    level = protocol.level(protocol.spending.level) if protocol.spending else None
    assert level is not None
    rate = np.where(
        unit_budget < 0, 0.0, np.where(unit_arm == protocol.control.id, CONTROL_RECEIPT, RECEIPT)
    )
    lam = min(10.0, max(0.0, level.per_unit.mean / (RECEIPT * _mean(protocol)) - 1))
    client, worker, count = _receivers(protocol, frames, clients, workers, rate, lam, rng)
    start, end, calendar = window
    lo, hi = _windows(protocol, frames, workers, len(unit_arm), (start, end), calendar, rng)
    allocated = worker[client]
    who, day = _dates(client, count, lo[allocated], hi[allocated], calendar, rng)
    spends = _Spends(who, worker[who], clients[0][who], day)
    return spends.take(np.lexsort((who, day)))


def _mean(protocol: Protocol) -> float:
    """Declared clients per unit (the spend level's size without a client level)."""
    spending = protocol.spending
    assert spending is not None
    level = protocol.level(spending.client_level or spending.level)
    assert level is not None
    return level.per_unit.mean


def _pool(
    protocol: Protocol,
    frames: Mapping[str, pd.DataFrame],
    name: str | None,
    unit_ids: NDArray[np.object_],
    *,
    size: float,
) -> Pool:
    """Each member's unit index and id; without the level, ``size`` anonymous ones per unit."""
    level = protocol.level(name) if name is not None else None
    if level is None or name not in frames:
        count = np.full(len(unit_ids), max(1, round(size)), dtype=np.int64)
        return np.repeat(np.arange(len(unit_ids), dtype=np.int64), count), None
    frame = frames[level.name]
    unit = pd.Index(unit_ids).get_indexer(pd.Index(frame[level.unit_column].astype(str)))
    return unit.astype(np.int64), frame[level.id_column].astype(str).to_numpy(dtype=object)


def _budgets(
    protocol: Protocol,
    frames: Mapping[str, pd.DataFrame],
    unit_ids: NDArray[np.object_],
    unit_arm: NDArray[np.object_],
) -> tuple[list[DiscretionaryBudget], IntArray]:
    """The declared budgets and, per unit, the index of the one it spends under (-1: none)."""
    spending = protocol.spending
    assert spending is not None
    found = [
        (a.id, a.intervention.discretionary_budget)
        for a in protocol.arms
        if a.intervention.discretionary_budget is not None and not a.control
    ]
    budgets = [b for _, b in found]
    index = {arm: i for i, (arm, _) in enumerate(found)}
    if spending.control_may_spend and budgets:  # contamination: the first budget's rules
        index[protocol.control.id] = 0
    unit_budget = np.array([index.get(arm, -1) for arm in unit_arm], dtype=np.int64)
    unit_frame = frames[protocol.units.name]
    for estimand in protocol.estimands:  # a treated unit that did not take the budget up
        column = estimand.take_up_column
        if column and column in unit_frame:
            took = unit_frame.set_index(protocol.units.id_column)[column].reindex(unit_ids)
            unit_budget[(unit_arm != protocol.control.id) & (took.to_numpy() == 0)] = -1
    return budgets, unit_budget


def _window(protocol: Protocol) -> tuple[dt.date, dt.date]:
    dates = protocol.dates
    if dates is None:
        return FALLBACK_START, FALLBACK_START + dt.timedelta(days=183)
    return dates.intervention_start, dates.intervention_end


def _receivers(
    protocol: Protocol,
    frames: Mapping[str, pd.DataFrame],
    clients: Pool,
    workers: Pool,
    rate: NDArray[np.float64],
    lam: float,
    rng: np.random.Generator,
) -> tuple[IntArray, IntArray, IntArray]:
    """Clients who receive any spend, their allocated worker, and their number of spends."""
    unit, n_units = clients[0], len(rate)
    staff = np.argsort(workers[0], kind="stable")
    counts = np.bincount(workers[0][workers[0] >= 0], minlength=n_units)
    first = np.cumsum(counts) - counts
    pick = np.floor(rng.random(len(unit)) * counts[unit]).astype(np.int64)
    worker = staff[np.minimum(first[unit] + pick, len(staff) - 1)]
    shift = _equity(protocol, frames, len(unit))
    base = np.zeros(n_units)
    for share in np.unique(rate[rate > 0]):
        base[rate == share] = _intercept(float(share), shift[rate[unit] == share])
    logit = (base + TEAM_SD * rng.standard_normal(n_units))[unit] + shift
    logit = logit + WORKER_SD * rng.standard_normal(len(workers[0]))[worker]
    receives = (rng.random(len(unit)) < special.expit(logit)) & (rate[unit] > 0)
    receives &= counts[unit] > 0
    spends = 1 + rng.poisson(lam, len(unit))
    chosen = np.flatnonzero(receives)
    return chosen, worker, spends[chosen]


def _intercept(share: float, shift: NDArray[np.float64]) -> float:
    """The logit intercept at which the expected share of receivers is ``share``, averaged
    over the team and worker effects (Gauss-Hermite) and the clients' equity shifts."""
    values, counts = np.unique(shift, return_counts=True)
    weights = counts / max(1, counts.sum())
    sd = np.hypot(TEAM_SD, WORKER_SD)

    def expected(a: float) -> float:
        inner = special.expit(a + values[:, None] + sd * _NODES[None, :]) @ _WEIGHTS
        return float(weights @ inner)

    return float(optimize.brentq(lambda a: expected(a) - share, -40.0, 40.0))


def _equity(
    protocol: Protocol,
    frames: Mapping[str, pd.DataFrame],
    n: int,
) -> NDArray[np.float64]:
    spending = protocol.spending
    assert spending is not None
    frame = frames.get(spending.client_level or "")
    shift = np.zeros(n)
    if frame is None:
        return shift
    for sub in protocol.subgroups:
        if sub.equity and sub.level == spending.client_level and sub.column in frame:
            reference = (list(sub.levels) or ["0"])[0]
            shift += EQUITY_SHIFT * (frame[sub.column].astype(str).to_numpy() != reference)
    return shift


def _windows(
    protocol: Protocol,
    frames: Mapping[str, pd.DataFrame],
    workers: Pool,
    n_units: int,
    window: tuple[dt.date, dt.date],
    calendar: Days,
    rng: np.random.Generator,
) -> tuple[Days, Days]:
    """Each worker's spending window: from the team's start (or joining) to leaving or the end."""
    start, end = window
    lag = rng.geometric(1 / (START_LAG_DAYS + 1), n_units) - 1
    team_start = np.busday_offset(np.datetime64(start, "D"), lag, roll="forward", holidays=calendar)
    lo, hi = team_start[workers[0]], np.full(len(workers[0]), np.datetime64(end, "D"))
    spending = protocol.spending
    assert spending is not None
    frame = frames.get(spending.worker_level or "")
    for outcome in protocol.outcomes:
        if frame is None or outcome.level != spending.worker_level or not outcome.survival:
            continue
        joined = _parsed(frame, outcome.survival.start_column)
        left = _parsed(frame, outcome.survival.end_column)
        lo = np.where(np.isnat(joined), lo, np.maximum(lo, joined))
        hi = np.where(np.isnat(left), hi, np.minimum(hi, left))
        break
    return lo, hi


def _parsed(frame: pd.DataFrame, column: str | None) -> Days:
    if column is None or column not in frame:
        return np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    stamps = pd.to_datetime(frame[column], format=DATE_FORMAT, errors="coerce")
    return stamps.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")


def _dates(
    client: IntArray, count: IntArray, lo: Days, hi: Days, calendar: Days, rng: np.random.Generator
) -> tuple[IntArray, Days]:
    """Each spend's client and working day.

    A client's spends fall within an episode of :data:`EPISODE_DAYS` working days that
    starts on a uniform day of the worker's window and wraps round its end, so spends are
    grouped by client yet spread evenly over the window.
    """
    lo = np.busday_offset(lo, 0, roll="forward", holidays=calendar)
    days = np.busday_count(lo, hi + np.timedelta64(1, "D"), holidays=calendar)
    open_ = days > 0  # the worker is in post on some working day of the pilot
    client, count, lo, days = client[open_], count[open_], lo[open_], days[open_]
    start = np.floor(rng.random(len(client)) * days).astype(np.int64)
    rows = np.repeat(np.arange(len(client)), count)
    episode = np.minimum(EPISODE_DAYS, days)[rows]
    step = np.floor(rng.random(len(rows)) * episode).astype(np.int64)
    offset = (start[rows] + step) % days[rows]
    return client[rows], np.busday_offset(lo[rows], offset, roll="forward", holidays=calendar)


def _assemble(
    protocol: Protocol,
    spends: _Spends,
    money: pd.DataFrame,
    unit_ids: Ids,
    client_ids: Ids | None,
    worker_ids: Ids | None,
) -> pd.DataFrame:
    """The ledger with the protocol's column names and order, spend ids in date order."""
    spending = protocol.spending
    level = protocol.level(spending.level) if spending is not None else None
    assert spending is not None and level is not None
    c = spending.columns
    width = max(5, len(str(len(spends.day))))
    prefix = level.name[:2].upper()
    ids = np.array([f"{prefix}{i:0{width}d}" for i in range(1, len(spends.day) + 1)], dtype=object)
    out = pd.DataFrame(
        {
            level.id_column: pd.Series(ids, dtype=object),
            level.unit_column: _coded(spends.unit, unit_ids),
        }
    )
    if worker_ids is not None:
        out[c.worker] = _coded(spends.worker, worker_ids)
    if client_ids is not None:
        out[c.client] = _coded(spends.client, client_ids)
    out[c.date] = _day_text(spends.day)
    out[c.amount], out[c.currency], out[c.category] = (
        money[k] for k in ("amount", "currency", "category")
    )
    for column in (c.justification, c.justified_on, c.verdict, c.loss):
        out[column] = money[column]
    return out


def _coded(codes: IntArray, ids: Ids) -> pd.Categorical[str]:
    """``ids[codes]`` as a categorical of the used ids (ids are unique within their level)."""
    used, inverse = np.unique(codes, return_inverse=True)
    return details.categorical(inverse.reshape(-1), list(ids[used]))


def _day_text(days: Days) -> pd.Categorical[str]:
    """ISO dates as a categorical; ``NaT`` becomes an empty cell."""
    known = ~np.isnat(days)
    used, inverse = np.unique(days[known], return_inverse=True)
    codes = np.full(len(days), -1, np.int64)
    codes[known] = inverse.reshape(-1)
    return details.categorical(codes, list(np.datetime_as_string(used, unit="D")))

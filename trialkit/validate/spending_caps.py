"""Caps on spending: running totals per client, worker and unit, all spends at once.

Spends are taken in date order (file order within a day) and summed per client over the
pilot, per client per period, per worker per period and per unit per period, each against
the cap of its own arm's budget. The spend that takes a total over its cap is a finding,
and so is every later spend on the same total: each of them was spent beyond the cap.
Spends in arms without the cap add nothing to any total.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.protocol.vocabulary import SpendRule
from trialkit.validate.spending_ledger import FloatArray, Hits, IntArray, LedgerArrays, days

#: Money compared with a cap: a total counts as over only by more than this (float noise).
TOLERANCE = 1e-6

#: Each cap rule, the budget's field holding its cap, and what its totals are kept by.
CAPS: tuple[tuple[SpendRule, str, str], ...] = (
    ("cap_per_client", "cap_per_client", "client"),
    ("cap_per_client_per_period", "cap_per_client_per_period", "client"),
    ("cap_per_worker_per_period", "cap_per_period", "worker"),
    ("cap_per_unit_per_period", "cap_per_unit_per_period", "unit"),
)


def _dense(key: IntArray) -> IntArray:
    """The same groups numbered from 0, without gaps wider than the number of spends.

    Keys of a narrow range (codes, positions, periods) are only shifted to start at 0
    (kept as they are when they start there: no copy of a million numbers); others are
    renumbered by hashing.
    """
    if not len(key):
        return key
    low, high = int(key.min()), int(key.max())
    if high - low < 4 * len(key):
        return key if low == 0 and key.dtype == np.int64 else np.asarray(key - low, np.int64)
    return np.asarray(pd.factorize(key)[0], dtype=np.int64)


def _compact(key: IntArray) -> IntArray:
    """A narrow key renumbered 0, 1, 2, … over the values present (periods of a pilot)."""
    key = _dense(key)
    present = np.zeros(int(key.max()) + 1 if len(key) else 0, dtype=bool)
    present[key] = True
    if present.all():  # numbered without gaps already
        return key
    return np.asarray((np.cumsum(present) - 1)[key], dtype=np.int64)


def _combined(first: IntArray, second: IntArray) -> IntArray:
    """One key per pair of keys (both from 0)."""
    width = int(second.max()) + 1 if len(second) else 1
    key = first * width
    key += second  # in place: one array of a million numbers, not two
    return _dense(key)


def over_cap(
    amount: FloatArray,
    key: IntArray,
    cap: FloatArray,
    spent: NDArray[np.datetime64],
    *,
    counted: FloatArray | None = None,
) -> tuple[IntArray, FloatArray]:
    """Spends whose running total (in date order, file order within a day, within
    ``key``) is over their cap, and the running totals (NaN outside groups that go over).

    Only groups whose whole total is over a cap can hold such a spend, so running totals
    are taken within those groups only: a handful of a million spends. ``counted``, if
    given, is ``amount`` with 0 where ``cap`` is NaN (shared by caps of the same arms).

    Examples
    --------
    >>> days = np.array(["2027-03-02", "2027-03-01", "2027-03-03"], dtype="datetime64[D]")
    >>> over, total = over_cap(np.array([5.0, 4.0, 2.0]), np.array([0, 0, 0]),
    ...                        np.full(3, 8.0), days)
    >>> over.tolist(), total.tolist()
    ([0, 2], [9.0, 4.0, 11.0])
    """
    if counted is None:
        counted = np.where(np.isnan(cap), 0.0, amount)
    amount = counted  # spends without this cap add nothing
    totals = np.bincount(key, weights=amount)
    total = np.full(len(amount), np.nan)
    # Groups over the lowest cap, as a table of bytes (smaller than the totals' table, so
    # looked up faster): no total over it, no total over any cap.
    lowest = np.nanmin(cap) if len(cap) and not np.isnan(cap).all() else np.inf
    hot = totals > lowest + TOLERANCE
    if not hot.any():
        return np.zeros(0, dtype=np.int64), total
    candidates = np.flatnonzero(hot[key])
    suspects = candidates[totals[key[candidates]] > cap[candidates] + TOLERANCE]
    if suspects.size:
        order = suspects[np.argsort(days(spent[suspects]), kind="stable")]
        total[order] = pd.Series(amount[order]).groupby(key[order], sort=False).cumsum().to_numpy()
    over = suspects[total[suspects] > cap[suspects] + TOLERANCE]  # in file order
    return over.astype(np.int64), total


def caps(ledger: LedgerArrays) -> list[Hits]:
    """The spends over each cap the budgets declare."""
    given = ledger.keys.periods
    period = _compact(ledger.period_key() if given is None else given)

    def codes(given: IntArray | None, column: str) -> IntArray:
        return ledger.codes(column) if given is None else given

    groups: dict[str, Callable[[], IntArray]] = {
        "client": lambda: codes(ledger.keys.clients, ledger.column("client")),
        "worker": lambda: ledger.workers.codes,
        "unit": lambda: codes(ledger.keys.units, ledger.unit_column),
    }
    keys: dict[str, IntArray] = {}
    # The amounts that count towards a cap, by the arms that have it (the same for most;
    # a cap given is a positive number, never NaN).
    counted: dict[tuple[bool, ...], FloatArray] = {}
    hits = []
    for rule, field, by in CAPS:
        cap = ledger.limit(field)
        if np.isnan(cap).all():
            continue
        having = tuple(b is not None and getattr(b, field) is not None for b in ledger.budgets)
        if having not in counted:
            counted[having] = np.where(np.isnan(cap), 0.0, ledger.amount)
        if by not in keys:
            keys[by] = _dense(groups[by]())
        per_period = rule != "cap_per_client"
        key = _combined(keys[by], period) if per_period else keys[by]
        over, total = over_cap(ledger.amount, key, cap, ledger.spent, counted=counted[having])
        message = _message(ledger, rule, by, total, cap)
        hits.append(
            Hits(rule, over, ledger.column("amount"), message, cap, total, period=per_period)
        )
    return hits


def _message(
    ledger: LedgerArrays, rule: SpendRule, by: str, total: FloatArray, cap: FloatArray
) -> Callable[[IntArray], list[str]]:
    who = {"client": "on client", "worker": "by worker", "unit": f"by {ledger.unit_name}"}[by]
    column = {"client": ledger.column("client"), "unit": ledger.unit_column}.get(by)
    noun = ledger.unit_name if by == "unit" else by

    def messages(rows: IntArray) -> list[str]:
        names = ledger.worker_labels(rows) if column is None else ledger.texts(column, rows)
        if rule == "cap_per_client":
            whens = [f"by {day}" for day in ledger.spent_on(rows)]
            pers = ["for the pilot"] * len(rows)
        else:
            whens = [f"in {period}" for period in ledger.texts("period", rows)]
            pers = [f"per {period}" for period in ledger.budget_periods(rows)]
        return [
            f"this {spend} spend takes the total spent {who} {name} {when} to {reached}, "
            f"over the {limit} cap per {noun} {per}."
            for spend, name, when, reached, limit, per in zip(
                ledger.spend_money(rows),
                names,
                whens,
                ledger.money(total[rows], rows),
                ledger.money(cap[rows], rows),
                pers,
                strict=True,
            )
        ]

    return messages

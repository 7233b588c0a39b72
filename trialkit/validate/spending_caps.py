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

from trialkit.protocol.vocabulary import SpendRule
from trialkit.validate.spending_ledger import FloatArray, Hits, IntArray, LedgerArrays

#: Money compared with a cap: a total counts as over only by more than this (float noise).
TOLERANCE = 1e-6

#: Each cap rule, the budget's field holding its cap, and what its totals are kept by.
CAPS: tuple[tuple[SpendRule, str, str], ...] = (
    ("cap_per_client", "cap_per_client", "client"),
    ("cap_per_client_per_period", "cap_per_client_per_period", "client"),
    ("cap_per_worker_per_period", "cap_per_period", "worker"),
    ("cap_per_unit_per_period", "cap_per_unit_per_period", "unit"),
)


def running_total(amount: FloatArray, keys: IntArray, order: IntArray) -> FloatArray:
    """Running total of ``amount`` within each key, taken in ``order``.

    Examples
    --------
    >>> running_total(np.array([5.0, 1.0, 2.0]), np.array([0, 1, 0]), np.array([2, 0, 1]))
    array([7., 1., 2.])
    """
    running = pd.Series(amount[order]).groupby(keys[order], sort=False).cumsum().to_numpy()
    out = np.empty(len(amount))
    out[order] = running
    return out


def _combined(first: IntArray, second: IntArray) -> IntArray:
    """One key per pair of keys."""
    low = int(second.min()) if len(second) else 0
    width = int(second.max()) - low + 1 if len(second) else 1
    return np.asarray(first * width + (second - low), dtype=np.int64)


def caps(ledger: LedgerArrays) -> list[Hits]:
    """The spends over each cap the budgets declare."""
    order = np.argsort(ledger.spent, kind="stable").astype(np.int64)
    period = ledger.period_key()
    groups: dict[str, Callable[[], IntArray]] = {
        "client": lambda: ledger.codes(ledger.column("client")),
        "worker": lambda: np.asarray(pd.factorize(ledger.workers)[0], dtype=np.int64),
        "unit": lambda: ledger.codes(ledger.unit_column),
    }
    keys: dict[str, IntArray] = {}
    hits = []
    for rule, field, by in CAPS:
        cap = ledger.limit(field)
        if np.isnan(cap).all():
            continue
        if by not in keys:
            keys[by] = groups[by]()
        per_period = rule != "cap_per_client"
        key = _combined(keys[by], period) if per_period else keys[by]
        total = running_total(np.where(np.isnan(cap), 0.0, ledger.amount), key, order)
        over = np.flatnonzero(total > cap + TOLERANCE).astype(np.int64)
        message = _message(ledger, rule, by, total, cap)
        hits.append(
            Hits(rule, over, ledger.column("amount"), message, cap, total, period=per_period)
        )
    return hits


def _message(
    ledger: LedgerArrays, rule: SpendRule, by: str, total: FloatArray, cap: FloatArray
) -> Callable[[int], str]:
    who = {"client": "on client", "worker": "by worker", "unit": f"by {ledger.unit_name}"}[by]
    column = {"client": ledger.column("client"), "unit": ledger.unit_column}.get(by)
    noun = ledger.unit_name if by == "unit" else by

    def message(i: int) -> str:
        name = ledger.workers[i] if column is None else ledger.text(column, i)
        if rule == "cap_per_client":
            when, per = f"by {ledger.day(ledger.spent, i)}", "for the pilot"
        else:
            when, per = f"in {ledger.text('period', i)}", f"per {ledger.budget(i).period}"
        return (
            f"this {ledger.money(ledger.amount[i], i)} spend takes the total spent {who} "
            f"{name} {when} to {ledger.money(total[i], i)}, over the "
            f"{ledger.money(cap[i], i)} cap per {noun} {per}."
        )

    return message

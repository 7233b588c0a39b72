"""The coded spend ledger as arrays: each spend's budget, amounts, dates and period key.

Compliance rules (:mod:`trialkit.validate.spending_rules`, :mod:`~trialkit.validate.
spending_caps`) work on whole columns at once; only the spends that break a rule are
looked at one by one, to write their messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.protocol.arms import DiscretionaryBudget
from trialkit.protocol.model import Protocol
from trialkit.protocol.spending import Spending
from trialkit.protocol.vocabulary import Period, SpendRule
from trialkit.validate.spending import LedgerKeys, Workers

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Signs written before an amount; other currencies are written after it ("120 CHF").
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}

#: Budget periods, numbered to keep the period keys of different arms apart.
PERIODS: tuple[Period, ...] = ("week", "month", "quarter", "year")


def money(value: float, currency: str) -> str:
    """An amount as a council writes it: ``£1,620``, ``£12.50``, ``120 CHF``.

    Examples
    --------
    >>> money(1620.0, "GBP"), money(12.5, "GBP"), money(120, "CHF")
    ('£1,620', '£12.50', '120 CHF')
    """
    value = float(value)
    text = f"{value:,.0f}" if round(value, 2).is_integer() else f"{value:,.2f}"
    sign = SYMBOLS.get(currency)
    return f"{sign}{text}" if sign else f"{text} {currency}"


def period_keys(days: NDArray[np.datetime64], period: Period) -> IntArray:
    """A number per budget period (equal within a period), from dates at day precision."""
    if period == "week":  # ISO weeks start on Monday; 1970-01-01 was a Thursday
        return np.asarray((days.astype(np.int64) + 3) // 7, dtype=np.int64)
    months = days.astype("datetime64[M]").astype(np.int64)
    return np.asarray(months // {"month": 1, "quarter": 3, "year": 12}[period], dtype=np.int64)


@dataclass(frozen=True, slots=True)
class Hits:
    """The spends (positions) breaking one rule, and how to describe each of them."""

    rule: SpendRule
    rows: IntArray
    column: str | Callable[[int], str]  # one column, or the column of each spend
    message: Callable[[int], str]
    limit: FloatArray | None = None
    value: FloatArray | None = None
    period: bool = False


class LedgerArrays:
    """The coded, allocated ledger as arrays, with each spend's budget.

    Text of single spends (ids, units, clients) is read only for the spends set by
    :meth:`look_at`, so a million rows are never turned into Python strings.
    """

    def __init__(self, protocol: Protocol, frame: pd.DataFrame, workers: Workers, keys: LedgerKeys):
        spending = protocol.spending
        assert spending is not None
        level = protocol.level(spending.level)
        self.spending: Spending = spending
        self.id_column = level.id_column if level is not None else protocol.units.id_column
        self.unit_column = level.unit_column if level is not None else protocol.units.id_column
        self.unit_name = protocol.units.name
        self.frame, self.workers, self.keys = frame, workers, keys
        self.budget_of = protocol.budget
        arm = frame["arm"]
        self.arm_code = np.asarray(arm.cat.codes.to_numpy(), dtype=np.int64)
        self.arm_names = tuple(str(a) for a in arm.cat.categories)
        budgets = [protocol.budget(a) for a in self.arm_names]
        self.budgets: tuple[DiscretionaryBudget | None, ...] = (*budgets, None)
        #: Each spend's row in ``budgets`` (the last, ``None``, for an unknown unit).
        self.arm_index = np.where(self.arm_code < 0, len(budgets), self.arm_code)
        self.has_budget = self.per_arm(lambda b: b is not None, bool)
        currency = protocol.costs.currency
        self.currency = self.per_arm(lambda b: b.currency if b else currency, object)
        cols = spending.columns
        self.amount = frame[cols.amount].to_numpy(dtype="float64")
        self.spent = frame[cols.date].to_numpy(dtype="datetime64[D]")
        self.justified = frame[cols.justified_on].to_numpy(dtype="datetime64[D]")
        self.look_at(np.zeros(0, dtype=np.int64))

    def per_arm(self, value: Callable[[DiscretionaryBudget | None], Any], dtype: Any) -> Any:
        """``value(budget)`` for each spend, by its arm's budget (``None``: no budget)."""
        table = np.array([value(b) for b in self.budgets], dtype=dtype)
        return table[self.arm_index]

    def limit(self, field: str) -> FloatArray:
        """The budget's ``field`` for each spend (NaN where there is none)."""
        return np.asarray(
            self.per_arm(
                lambda b: (
                    np.nan if b is None or getattr(b, field) is None else float(getattr(b, field))
                ),
                np.float64,
            ),
            dtype=np.float64,
        )

    def budget(self, i: int) -> DiscretionaryBudget:
        """The budget of spend ``i`` (which has one)."""
        found: DiscretionaryBudget | None = self.budgets[int(self.arm_code[i])]
        assert found is not None
        return found

    def period_key(self) -> IntArray:
        """A number per budget period of each spend's arm (distinct across arms' periods)."""
        default = next((b.period for b in self.budgets if b is not None), "month")
        kinds = self.per_arm(lambda b: PERIODS.index(b.period if b else default), np.int64)
        keys = np.zeros(len(self.spent), dtype=np.int64)
        for kind in np.unique(kinds):
            rows = kinds == kind
            keys[rows] = period_keys(self.spent[rows], PERIODS[kind]) * len(PERIODS) + kind
        return keys

    def column(self, key: str) -> str:
        """The ledger's column of ``key`` (``amount``, ``client``, …)."""
        name: str = getattr(self.spending.columns, key)
        return name

    def codes(self, column: str) -> IntArray:
        """Codes of a column's values (equal values, equal codes)."""
        codes = pd.factorize(self.frame[column], use_na_sentinel=True)[0]
        return np.asarray(codes, dtype=np.int64)

    def look_at(self, rows: IntArray) -> None:
        """Prepare the text of these spends (the ones with findings)."""
        self._texts: dict[str, list[str]] = {}
        self._seen = seen = np.unique(rows).astype(np.int64)
        self._where = {int(i): k for k, i in enumerate(seen.tolist())}
        amounts, currency = self.amount[seen].tolist(), self.currency[seen].tolist()
        self._spend_money = [money(a, c) for a, c in zip(amounts, currency, strict=True)]
        self._days: dict[str, list[str]] = {
            "spent": np.datetime_as_string(self.spent[seen]).tolist(),
            "justified": np.datetime_as_string(self.justified[seen]).tolist(),
        }

    def spend_money(self, i: int) -> str:
        """The amount of spend ``i``, with its currency (``£40``)."""
        return self._spend_money[self._where[i]]

    def spent_on(self, i: int) -> str:
        """The date of spend ``i`` (``2027-03-01``)."""
        return self._days["spent"][self._where[i]]

    def justified_on(self, i: int) -> str:
        """The date spend ``i`` was justified."""
        return self._days["justified"][self._where[i]]

    def text(self, column: str, i: int) -> str:
        """The text of ``column`` for spend ``i`` (one of those set by :meth:`look_at`)."""
        if column not in self._texts:
            values = self.frame[column].iloc[self._seen]
            self._texts[column] = [str(v) for v in values.tolist()]
        return self._texts[column][self._where[i]]

    def money(self, value: float, i: int) -> str:
        """``value`` in the currency of spend ``i``'s budget."""
        return money(value, str(self.currency[i]))

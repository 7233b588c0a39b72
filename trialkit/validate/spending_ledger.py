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
from trialkit.validate.spending import PERIODS, LedgerKeys, Workers

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Signs written before an amount; other currencies are written after it ("120 CHF").
SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}


def money(value: float, currency: str) -> str:
    """An amount as a council writes it: ``£1,620``, ``£12.50``, ``120 CHF``.

    Examples
    --------
    >>> money(1620.0, "GBP"), money(12.5, "GBP"), money(120, "CHF")
    ('£1,620', '£12.50', '120 CHF')
    """
    text = f"{float(value):,.2f}"
    if text.endswith(".00"):  # a whole amount once rounded to pence: no pence shown
        text = text[:-3]
    sign = SYMBOLS.get(currency)
    return f"{sign}{text}" if sign else f"{text} {currency}"


def moneys(values: FloatArray, currencies: list[str]) -> list[str]:
    """:func:`money` of each value in its currency.

    Examples
    --------
    >>> moneys(np.array([1620.0, 12.5]), ["GBP", "CHF"])
    ['£1,620', '12.50 CHF']
    """
    texts = [f"{v:,.2f}" for v in values.tolist()]
    texts = [t[:-3] if t.endswith(".00") else t for t in texts]
    return [
        f"{SYMBOLS[c]}{t}" if c in SYMBOLS else f"{t} {c}"
        for t, c in zip(texts, currencies, strict=True)
    ]


def period_keys(days: NDArray[np.datetime64], period: Period) -> IntArray:
    """A number per budget period (equal within a period), from dates at day precision."""
    if period == "week":  # ISO weeks start on Monday; 1970-01-01 was a Thursday
        return np.asarray((days.astype(np.int64) + 3) // 7, dtype=np.int64)
    months = days.astype("datetime64[M]").astype(np.int64)
    return np.asarray(months // {"month": 1, "quarter": 3, "year": 12}[period], dtype=np.int64)


def days(dates: NDArray[np.datetime64]) -> NDArray[np.datetime64]:
    """Dates at day precision (``datetime64[D]``), as ``to_numpy(dtype="datetime64[D]")``
    gives them."""
    return dates.astype("datetime64[D]")


def _dates(column: pd.Series) -> NDArray[np.datetime64]:
    """A column of dates as stored, without a copy where it holds datetimes."""
    values = column.to_numpy()
    return values if values.dtype.kind == "M" else column.to_numpy(dtype="datetime64[D]")


@dataclass(frozen=True, slots=True)
class Hits:
    """The spends (positions) breaking one rule, and how to describe them."""

    rule: SpendRule
    rows: IntArray
    column: str | Callable[[IntArray], list[str]]  # one column, or the column of each spend
    messages: Callable[[IntArray], list[str]]  # the message of each spend of ``rows``
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
        #: Each arm's budget currency (the last: no budget); see :meth:`money`.
        self.currencies = [b.currency if b else currency for b in self.budgets]
        cols = spending.columns
        self.amount = frame[cols.amount].to_numpy(dtype="float64")
        #: Each spend's date and date justified as stored (``datetime64[ns]`` as coded:
        #: a million dates are not converted to days; :func:`days` converts those needed).
        self.spent = _dates(frame[cols.date])
        self.justified = _dates(frame[cols.justified_on])
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

    def period_key(self) -> IntArray:
        """A number per budget period of each spend's arm (distinct across arms' periods)."""
        default = next((b.period for b in self.budgets if b is not None), "month")
        kinds = self.per_arm(lambda b: PERIODS.index(b.period if b else default), np.int64)
        keys = np.zeros(len(self.spent), dtype=np.int64)
        for kind in np.unique(kinds):
            rows = kinds == kind
            keys[rows] = period_keys(days(self.spent[rows]), PERIODS[kind]) * len(PERIODS) + kind
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
        self._seen = np.unique(rows).astype(np.int64)
        self._values: dict[str, pd.Series] = {}
        self._texts: dict[str, NDArray[np.object_]] = {}

    def _at(self, rows: IntArray) -> IntArray:
        """Positions of ``rows`` among the spends set by :meth:`look_at`."""
        return np.asarray(np.searchsorted(self._seen, rows), dtype=np.int64)

    def _cached(self, key: str, make: Callable[[IntArray], list[str]]) -> NDArray[np.object_]:
        if key not in self._texts:
            self._texts[key] = np.array(make(self._seen), dtype=object)
        return self._texts[key]

    def values(self, column: str, rows: IntArray) -> pd.Series:
        """The cells of ``column`` for ``rows`` (spends set by :meth:`look_at`), as stored."""
        if column not in self._values:
            self._values[column] = self.frame[column].iloc[self._seen]
        return self._values[column].iloc[self._at(rows)]

    def shown(self, column: str, rows: IntArray) -> NDArray[np.object_]:
        """``column`` of ``rows`` (spends set by :meth:`look_at`) as ``astype("str")``
        gives it."""
        found = self._cached(
            f"shown:{column}", lambda seen: self.values(column, seen).astype("str").tolist()
        )
        return np.asarray(found[self._at(rows)], dtype=object)

    def texts(self, column: str, rows: IntArray) -> list[str]:
        """The text of ``column`` for each of ``rows`` (spends set by :meth:`look_at`)."""
        found = self._cached(
            f"text:{column}", lambda seen: list(map(str, self.values(column, seen).tolist()))
        )
        return list(found[self._at(rows)].tolist())

    def spend_money(self, rows: IntArray) -> list[str]:
        """The amount of each spend of ``rows``, with its currency (``£40``)."""
        found = self._cached("money", lambda seen: self.money(self.amount[seen], seen))
        return list(found[self._at(rows)].tolist())

    def spent_on(self, rows: IntArray) -> list[str]:
        """The date of each spend of ``rows`` (``2027-03-01``)."""
        found = self._cached(
            "spent", lambda seen: np.datetime_as_string(days(self.spent[seen])).tolist()
        )
        return list(found[self._at(rows)].tolist())

    def justified_on(self, rows: IntArray) -> list[str]:
        """The date each spend of ``rows`` was justified."""
        found = self._cached(
            "justified", lambda seen: np.datetime_as_string(days(self.justified[seen])).tolist()
        )
        return list(found[self._at(rows)].tolist())

    def worker_labels(self, rows: IntArray) -> list[str | None]:
        """The pseudonym of each spend's worker (``None``: no worker)."""
        table = np.array([*self.workers.labels, None], dtype=object)
        codes = self.workers.codes[rows]
        return list(table[np.where(codes < 0, len(self.workers.labels), codes)].tolist())

    def budget_periods(self, rows: IntArray) -> list[str]:
        """The budget period (``month``, …) of each spend's budget (spends with one)."""
        table = np.array([b.period if b else "" for b in self.budgets], dtype=object)
        return list(table[self.arm_index[rows]].tolist())

    def money(self, values: FloatArray, rows: IntArray) -> list[str]:
        """Each of ``values`` in the currency of the matching spend's budget."""
        currency = np.array(self.currencies, dtype=object)[self.arm_index[rows]]
        return moneys(np.asarray(values, dtype=np.float64), currency.tolist())

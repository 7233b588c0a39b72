"""Data errors of the spend ledger, and its coded columns.

Every problem here stops the run with a located issue (file, spreadsheet row, column and
a fix): the ledger's rules cannot be judged on amounts that are not numbers or dates that
are not dates. The checks of single columns are in :mod:`trialkit.validate.spending_values`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.errors import Issue, Location
from trialkit.protocol.model import Protocol
from trialkit.protocol.spending import SpendColumns
from trialkit.protocol.vocabulary import SPEND_VERDICTS, Period
from trialkit.validate.coding import blank_mask
from trialkit.validate.frames import DistinctDates, Factorized, code_dates, distinct_dates
from trialkit.validate.spending import PERIODS, LedgerKeys, category_names
from trialkit.validate.spending_calendar import (
    Days,
    distinct_days,
    period_labels,
    working_days,
)
from trialkit.validate.spending_values import (
    People,
    amounts,
    currencies,
    located,
    losses,
    names,
    people_ids,
    spent_on,
)
from trialkit.validate.texts import factorize_text

__all__ = ["LEDGER_COLUMNS", "LedgerSource", "People", "code_ledger", "per_arm"]

T = TypeVar("T")
IntArray = NDArray[np.int64]

#: What each ledger column holds; every one but ``currency`` must be in the file.
LEDGER_COLUMNS: Mapping[str, str] = {
    "worker": "who spent",
    "client": "the client spent on",
    "date": "the date of the spend",
    "amount": "the amount spent",
    "currency": "the currency of the amount",
    "category": "the category of the spend",
    "justification": "the justification written",
    "justified_on": "the date it was justified",
    "verdict": "the reviewer's verdict",
    "loss": "the reviewer's estimate of money lost",
}
#: Ledger columns the file may leave out (every amount is then in the budget's currency).
OPTIONAL_COLUMNS = frozenset({"currency"})


@dataclass(frozen=True, slots=True, eq=False)
class LedgerSource:
    """The ledger file as read, and what its rows are checked against.

    Attributes
    ----------
    file
        The file name, for locations.
    raw
        The rows as read (values are shown as typed).
    unit
        Each row's unit as its position in the allocation (−1: unknown unit).
    arm
        Each row's allocated arm as a code into ``arm_names`` (−1: unknown unit).
    arm_names
        The allocation's arms.
    workers, clients
        The ids of the worker and client levels, or ``None`` where the protocol names no
        such level.
    distinct, blank
        By column: ``pd.factorize`` of a column, and where it is blank, queued for the
        background (take one by calling it).
    """

    file: str
    raw: pd.DataFrame
    unit: NDArray[np.int64]
    arm: NDArray[np.int64]
    arm_names: tuple[str, ...]
    workers: People | None
    clients: People | None
    distinct: Mapping[str, Callable[[], Factorized]] = field(default_factory=dict)
    blank: Mapping[str, Callable[[], NDArray[np.bool_]]] = field(default_factory=dict)
    _dates: dict[str, DistinctDates] = field(default_factory=dict)

    def factorized(self, column: str) -> Factorized:
        """``pd.factorize`` of a column of the file (queued early, or done now)."""
        take = self.distinct.get(column)
        return take() if take is not None else factorize_text(self.raw[column])

    def dates(self, column: str) -> DistinctDates | None:
        """:func:`~trialkit.validate.frames.distinct_dates` of a column read as text, parsed
        once however often asked for (``None`` for a column read as dates)."""
        if pd.api.types.is_datetime64_any_dtype(self.raw[column].dtype):
            return None
        if column not in self._dates:
            self._dates[column] = distinct_dates(self.factorized(column)[1])
        return self._dates[column]

    def blank_values(self, column: str) -> NDArray[np.bool_]:
        """Where a column of few distinct values is blank: :func:`~trialkit.validate.coding.
        blank_mask` of each distinct value of :meth:`factorized` (a missing cell is blank)."""
        codes, uniques = self.factorized(column)
        blank = np.append(np.asarray(blank_mask(pd.Series(uniques)), dtype=bool), True)
        return np.asarray(blank[codes], dtype=bool)

    def blanks(self, column: str) -> NDArray[np.bool_]:
        """Where a column of the file is blank (queued early, or found now)."""
        take = self.blank.get(column)
        return take() if take is not None else np.asarray(blank_mask(self.raw[column]), dtype=bool)


def per_arm(
    codes: NDArray[np.integer], names: tuple[str, ...], values: Callable[[str], T], default: T
) -> NDArray[np.object_]:
    """``values(arm)`` for each row's arm code; ``default`` where the code is −1."""
    table = np.array([*(values(n) for n in names), default], dtype=object)
    return table[np.where(codes < 0, len(names), codes)]


def _missing_columns(raw: pd.DataFrame, columns: SpendColumns, *, file: str) -> list[Issue]:
    return [
        Issue(
            f'the column "{name}" is missing; the spend ledger needs {what}.',
            Location(file=file, row=1, column=name),
            fix=f'add a column headed "{name}", or name the column that holds it under '
            f"`spending.columns.{key}`.",
            expected=name,
        )
        for key, what in LEDGER_COLUMNS.items()
        if key not in OPTIONAL_COLUMNS and (name := getattr(columns, key)) not in raw.columns
    ]


def _days(source: LedgerSource, column: str, coded: pd.Series) -> Days:
    """:func:`~trialkit.validate.spending_calendar.distinct_days` of a coded date column,
    found through the file's distinct texts (a few hundred) where it was read as text."""
    raw = source.raw[column]
    if pd.api.types.is_datetime64_any_dtype(raw.dtype):
        return distinct_days(coded.to_numpy(dtype="datetime64[D]"))
    codes, _ = source.factorized(column)
    distinct = source.dates(column)
    assert distinct is not None  # read as text
    # The same parse of the same texts as the column's own.
    days, at = distinct_days(distinct[0][:-1].astype("datetime64[D]"))
    return days, np.append(at, -1)[codes]


def _periods(
    source: LedgerSource, protocol: Protocol, spent: Days, index: pd.Index
) -> tuple[pd.Series, IntArray]:
    """Each spend's budget period label, by its arm's budget (the first budget's elsewhere),
    and a code per label (negative where the date is missing), for the caps per period."""
    budgets = [a.intervention.discretionary_budget for a in protocol.arms]
    default: Period = next((b.period for b in budgets if b is not None), "month")
    kinds: list[Period] = [
        b.period if (b := protocol.budget(a)) is not None else default for a in source.arm_names
    ]
    kinds.append(default)  # spends in units outside the allocation
    days, at = spent
    labels: dict[str, int] = {}
    # codes[arm, day]: the label's code; the last column (no date) is −1 − the period's place.
    codes = np.empty((len(kinds), len(days) + 1), dtype=np.int64)
    for row, kind in enumerate(kinds):
        found = period_labels(days, kind)
        codes[row, :-1] = [labels.setdefault(label, len(labels)) for label in found]
        codes[row, -1] = -1 - PERIODS.index(kind)
    if (codes == codes[0]).all():  # every arm's budget has the same period: no arm needed
        code = codes[0][at]
    else:
        code = codes[np.where(source.arm < 0, len(kinds) - 1, source.arm), at]
    table = pd.Series([*labels, None], dtype=object if not labels else None)
    dated = not len(code) or int(code.min()) >= 0  # then no spend lacks its period
    text = table.take(code if dated else np.where(code < 0, len(labels), code)).set_axis(index)
    return text, code


def _money(
    out: pd.DataFrame, source: LedgerSource, protocol: Protocol, cols: SpendColumns
) -> list[Issue]:
    raw, file, issues = source.raw, source.file, []
    if cols.amount in raw.columns:
        out[cols.amount], found = amounts(raw[cols.amount], file=file, column=cols.amount)
        issues += found
    if cols.currency in raw.columns:
        expected = [
            b.currency if (b := protocol.budget(a)) else protocol.costs.currency
            for a in source.arm_names
        ]
        issues += currencies(
            raw[cols.currency],
            source.arm,
            expected,
            file=file,
            column=cols.currency,
            factorized=source.factorized(cols.currency),
        )
    return issues


def _people(source: LedgerSource, cols: SpendColumns, keys: dict[str, IntArray]) -> list[Issue]:
    raw, file, issues = source.raw, source.file, []
    for column, people in ((cols.worker, source.workers), (cols.client, source.clients)):
        if people is not None and column in raw.columns:
            found, positions = people_ids(raw[column], people, file=file, column=column)
            issues += found
            if positions is not None:
                keys["clients" if column == cols.client else "workers"] = positions
    return issues


def _codes(
    out: pd.DataFrame,
    source: LedgerSource,
    protocol: Protocol,
    cols: SpendColumns,
    keys: dict[str, IntArray],
) -> list[Issue]:
    raw, file, issues = source.raw, source.file, []
    categories = category_names(protocol)
    if categories and cols.category in raw.columns:
        out[cols.category], keys["categories"], found = names(
            raw[cols.category],
            categories,
            file=file,
            column=cols.category,
            what="declared category",
            required=True,
            fix="use a category declared under the budget's `categories:`, or declare it.",
            factorized=source.factorized(cols.category),
        )
        issues += found
    if cols.verdict in raw.columns:
        out[cols.verdict], keys["verdicts"], found = names(
            raw[cols.verdict],
            SPEND_VERDICTS,
            file=file,
            column=cols.verdict,
            what="review verdict",
            required=False,
            fix="use one of the verdicts, or leave the cell empty until the spend is reviewed.",
            factorized=source.factorized(cols.verdict),
        )
        issues += found
    if cols.loss in raw.columns and cols.amount in raw.columns:
        reviewed = (
            ~source.blank_values(cols.verdict)
            if cols.verdict in raw.columns
            else np.ones(len(out), dtype=bool)
        )
        out[cols.loss], found = losses(
            raw[cols.loss],
            out[cols.amount].to_numpy(),
            reviewed,
            file=file,
            column=cols.loss,
            verdict=cols.verdict,
        )
        issues += found
    return issues


def _dates(
    out: pd.DataFrame, source: LedgerSource, protocol: Protocol, cols: SpendColumns
) -> list[Issue]:
    raw, file, issues = source.raw, source.file, []
    if cols.date in raw.columns:
        out[cols.date], found = spent_on(
            raw[cols.date],
            protocol,
            file=file,
            column=cols.date,
            factorized=source.factorized(cols.date),
            distinct=source.dates(cols.date),
        )
        issues += found
    if cols.justified_on not in raw.columns:
        return issues
    out[cols.justified_on], found = code_dates(
        raw[cols.justified_on],
        file=file,
        column=cols.justified_on,
        factorized=source.factorized(cols.justified_on),
        distinct=source.dates(cols.justified_on),
    )
    issues += found
    if cols.date in raw.columns:
        spent = out[cols.date]
        issues += located(
            (out[cols.justified_on] < spent).to_numpy(),
            raw[cols.justified_on],
            file=file,
            column=cols.justified_on,
            fix="correct either date.",
            message=lambda i, v: (
                f"justified on {v}, before the spend itself ({spent.iloc[i]:%Y-%m-%d})."
            ),
            expected="on or after the date of the spend",
        )
    return issues


def code_ledger(
    coded: pd.DataFrame, source: LedgerSource, protocol: Protocol
) -> tuple[pd.DataFrame, list[Issue], LedgerKeys]:
    """Code the ledger's columns and find every data error in it.

    Parameters
    ----------
    coded
        The ledger's frame as :func:`~trialkit.validate.frames.code_level` codes it.
    source
        The file as read, each row's arm, and the worker and client ids.
    protocol
        The protocol; it declares ``spending:``.

    Returns
    -------
    tuple
        The coded ledger (columns as in :mod:`trialkit.validate.spending`), its issues,
        and the client and unit codes found on the way (for :func:`~trialkit.validate.
        spending.spend_check`).
    """
    spending = protocol.spending
    assert spending is not None, "code_ledger needs a protocol with `spending:`"
    cols = spending.columns
    out = coded.copy(deep=False)
    keys: dict[str, IntArray] = {"units": source.unit}
    # Ids and blank justifications first: the background has found the ids by now and
    # is coding the other columns, so those are taken last. Issues in column order.
    people = _people(source, cols, keys)
    unwritten = None
    if cols.justification in source.raw.columns:
        unwritten = source.blanks(cols.justification)
    money = _money(out, source, protocol, cols)
    codes = _codes(out, source, protocol, cols, keys)
    dates = _dates(out, source, protocol, cols)
    if cols.date in source.raw.columns:
        spent = _days(source, cols.date, out[cols.date])
        out["period"], keys["periods"] = _periods(source, protocol, spent, out.index)
        if cols.justified_on in source.raw.columns:
            waited = working_days(
                out[cols.date],
                out[cols.justified_on],
                calendar=spending.calendar,
                days=(spent, _days(source, cols.justified_on, out[cols.justified_on])),
            )
            out["working_days_to_justify"] = pd.Series(waited, index=out.index, copy=False)
    issues = _missing_columns(source.raw, cols, file=source.file)
    found = LedgerKeys(**keys, unwritten=unwritten)
    return out, issues + money + people + codes + dates, found

"""Work on the largest files queued for a second core while the others are checked.

Telling whether a million ids are unique (Arrow sorts them), coding the ledger's columns
through their distinct values and finding its workers and clients in their files (hash
tables) hold no Python lock, so a background thread does them while the main thread checks.
The checks take each result where they need it: one the thread has not started yet is
computed there and then instead (so neither thread waits on work the other has not begun),
and either way it is exactly what the check would have computed itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.protocol.model import Protocol
from trialkit.validate.coding import blank_mask
from trialkit.validate.frames import Factorized
from trialkit.validate.layout import LevelSpec
from trialkit.validate.linking import unit_positions
from trialkit.validate.readers import RawTable
from trialkit.validate.schema import duplicated
from trialkit.validate.spending_values import People, positions_in
from trialkit.validate.texts import factorize_text

T = TypeVar("T")

#: Files with fewer rows are checked where they are needed: a thread would not pay.
EARLY_ROWS = 100_000


def queued(pool: Executor, work: Callable[..., T], *args: Any) -> Callable[[], T]:
    """``work(*args)`` queued on ``pool``; calling the result gives its value, computed
    right away by the caller if the pool has not started it yet."""
    future = pool.submit(work, *args)

    def take() -> T:
        return work(*args) if future.cancel() else future.result()

    return take


@dataclass(frozen=True, slots=True, eq=False)
class Early:
    """Results queued for the background, each taken by calling it.

    Attributes
    ----------
    duplicated
        By level: the rows whose id appears more than once in its file.
    people
        By role (``worker``, ``client``): the spend ledger's ids of that level, with each
        spend's position in the level's file.
    distinct
        By column: ``pd.factorize`` of the spend ledger's columns coded through their
        distinct values (currency, category, verdict, dates).
    blank
        By column: where the spend ledger's justification is blank.
    units
        By level (the spend ledger's): each row's unit's position in the allocation.
    """

    duplicated: Mapping[str, Callable[[], NDArray[np.bool_]]] = field(default_factory=dict)
    people: Mapping[str, Callable[[], People]] = field(default_factory=dict)
    distinct: Mapping[str, Callable[[], Factorized]] = field(default_factory=dict)
    blank: Mapping[str, Callable[[], NDArray[np.bool_]]] = field(default_factory=dict)
    units: Mapping[str, Callable[[], NDArray[np.int64]]] = field(default_factory=dict)

    def duplicated_ids(self, level: str, index: pd.Index) -> pd.Series | None:
        """The rows of ``level`` whose id is duplicated, indexed like its frame, if queued."""
        take = self.duplicated.get(level)
        return None if take is None else pd.Series(take(), index=index, copy=False)


def ledger_people(
    found: Mapping[str, RawTable], protocol: Protocol, name: str | None, role: str
) -> People | None:
    """The ids of the level ``name`` that the spend ledger points to (as ``role``); ``None``
    when the protocol names no such level."""
    level = protocol.level(name) if name else None
    if name is None or level is None:
        return None
    other = found.get(name)
    if other is None or level.id_column not in other.frame.columns:
        return People(name, role, None, pd.Index([]))
    return People(name, role, other.name, pd.Index(other.frame[level.id_column].dropna()))


def _located(people: People, ids: pd.Series) -> People:
    found = positions_in(ids, people.ids)
    return People(people.level, people.role, people.file, people.ids, found, blank_mask(ids))


def _factorized(values: pd.Series) -> Factorized:
    return factorize_text(values)


def start_early(
    found: Mapping[str, RawTable],
    specs: Sequence[LevelSpec],
    protocol: Protocol,
    pool: Executor,
    allocation: pd.DataFrame,
) -> Early:
    """Queue the uniqueness of each large file's ids, the spend ledger's workers and
    clients and its spends' units, then its currencies, categories, verdicts, dates and
    blank justifications: the order the checks need them in (the blank justifications,
    last, are mostly taken by the checks themselves while the thread codes the columns).
    The ledger's people and units come before the uniqueness of its own ids, so that the
    thread has found them when the checks get to them (the checks would otherwise look
    them up themselves, on the busier core)."""
    spending = protocol.spending
    ledger = found.get(spending.level) if spending is not None else None
    large = ledger is not None and len(ledger.frame) >= EARLY_ROWS
    last = spending.level if spending is not None and large else None
    duplicates = {
        spec.name: (spec, table)
        for spec in specs
        if (table := found.get(spec.name)) is not None
        and len(table.frame) >= EARLY_ROWS
        and spec.period is None
        and spec.id_column in table.frame.columns
    }

    def queue_duplicates(ledger_level: bool) -> dict[str, Callable[[], NDArray[np.bool_]]]:
        return {
            name: queued(pool, duplicated, table.frame[spec.id_column])
            for name, (spec, table) in duplicates.items()
            if (name == last) == ledger_level
        }

    ids = queue_duplicates(False)
    if spending is None or ledger is None or not large:
        return Early(ids)
    cols, raw = spending.columns, ledger.frame
    people = {}
    for role, name, column in (
        ("worker", spending.worker_level, cols.worker),
        ("client", spending.client_level, cols.client),
    ):
        given = ledger_people(found, protocol, name, role)
        if given is not None and given.file is not None and column in raw.columns:
            people[role] = queued(pool, _located, given, raw[column])
    units = {
        spec.name: queued(pool, unit_positions, raw[spec.unit_column], allocation)
        for spec in specs
        if spec.name == spending.level and spec.unit_column in raw.columns
    }
    ids |= queue_duplicates(True)
    # Each pair in the reverse of the order the checks take it: while the thread codes the
    # second, the checks code the first themselves instead of waiting for both in turn.
    distinct = {
        column: queued(pool, _factorized, raw[column])
        for column in (cols.currency, cols.verdict, cols.category, cols.justified_on, cols.date)
        if column in raw.columns
    }
    blank = {
        column: queued(pool, blank_mask, raw[column])
        for column in (cols.justification,)  # the verdict's, from its distinct values
        if column in raw.columns
    }
    return Early(ids, people, distinct, blank, units)

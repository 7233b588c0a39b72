"""The spend ledger coded, given its allocation and checked on a thread of its own.

A large ledger's own work (coding its columns, attaching each spend's arm, judging its
compliance rules) takes about as long as checking every other level, and much of it runs
in numpy, pandas and Arrow code that releases Python's lock. So, for a ledger of
:data:`~trialkit.validate.early.EARLY_ROWS` spends or more, a thread does it while the main
thread checks the other levels; a smaller ledger's work is done where it is first needed.
Either way each step computes exactly what it computes in turn, and the stage lists the
issues in the same order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.errors import Issue
from trialkit.protocol.model import Protocol
from trialkit.validate.early import EARLY_ROWS, Early, ledger_people
from trialkit.validate.layout import LevelSpec
from trialkit.validate.linking import attach_allocation
from trialkit.validate.readers import RawTable
from trialkit.validate.spending import LedgerKeys, SpendCheck, spend_check
from trialkit.validate.spending_data import LedgerSource, People, code_ledger

T = TypeVar("T")

#: Ledgers with fewer spends are worked on where each result is needed: a thread would
#: not pay.
THREAD_ROWS = EARLY_ROWS

#: The coded ledger, its data errors and the codes found on the way.
CodedLedger = tuple[pd.DataFrame, list[Issue], LedgerKeys]


@dataclass(frozen=True, slots=True, eq=False)
class LedgerWork:
    """The ledger's results, each taken by calling it (waiting for the thread if need be).

    Attributes
    ----------
    coded
        :func:`~trialkit.validate.spending_data.code_ledger` of the ledger.
    attached
        The coded ledger with the allocation's columns
        (:func:`~trialkit.validate.linking.attach_allocation`).
    checked
        Its compliance findings (:func:`~trialkit.validate.spending.spend_check`, ids as
        read); ``None`` when the ledger has data errors or ids are to be pseudonymised first.
    """

    coded: Callable[[], CodedLedger]
    attached: Callable[[], pd.DataFrame]
    checked: Callable[[], SpendCheck | None]


def ledger_source(
    found: Mapping[str, RawTable],
    spec: LevelSpec,
    protocol: Protocol,
    allocation: pd.DataFrame,
    positions: NDArray[np.int64],
    early: Early,
) -> LedgerSource:
    """The spend ledger's file, each spend's arm, and the worker and client ids it names
    (with each spend's position among them, where found early)."""
    codes, arms = pd.factorize(allocation["arm"])
    table = found[spec.name]

    def people(name: str | None, role: str) -> People | None:
        located = early.people.get(role)
        return located() if located else ledger_people(found, protocol, name, role)

    spending = protocol.spending
    assert spending is not None
    return LedgerSource(
        file=table.name,
        raw=table.frame,
        unit=positions,
        arm=np.append(codes, -1).astype(np.int64)[positions],
        arm_names=tuple(str(a) for a in arms),
        workers=people(spending.worker_level, "worker"),
        clients=people(spending.client_level, "client"),
        distinct=early.distinct,
        blank=early.blank,
    )


def start_ledger(
    source: Callable[[], LedgerSource],
    coded: pd.DataFrame,
    spec: LevelSpec,
    protocol: Protocol,
    allocation: pd.DataFrame,
    *,
    pool: Executor,
    compliance: bool,
) -> LedgerWork:
    """Queue the ledger's work on ``pool`` (a ledger of :data:`THREAD_ROWS` spends or more;
    a smaller one's steps are done when first asked for).

    ``coded`` is the ledger as :func:`~trialkit.validate.frames.code_level` codes it;
    ``compliance`` says whether its findings are judged on the ids as read (not when they
    are to be pseudonymised first).
    """
    source = cache(source)  # every step runs on one thread: the pool's, or the caller's
    thread = pool if len(coded) >= THREAD_ROWS else None

    def code() -> CodedLedger:
        return code_ledger(coded, source(), protocol)

    def attach() -> pd.DataFrame:
        return attach_allocation(take_coded()[0], spec, allocation, source().unit)

    def check() -> SpendCheck | None:
        _, issues, keys = take_coded()
        if not compliance or any(i.severity == "error" for i in issues):
            return None  # never judged on data with errors
        return spend_check(protocol, take_attached(), file=source().file, keys=keys)

    take_coded, take_attached = _queued(thread, code), _queued(thread, attach)
    return LedgerWork(take_coded, take_attached, _queued(thread, check))


def _queued(pool: Executor | None, work: Callable[[], T]) -> Callable[[], T]:
    """``work`` queued on ``pool``, or done once where first asked for."""
    return pool.submit(work).result if pool is not None else cache(work)

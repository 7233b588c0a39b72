"""The coded spend ledger with the populations it is spent on: units, workers, clients.

:class:`Ledger` gathers what every spending statistic needs from validated data (the
spend frame as ``validate`` codes it, and the unit, staff and client frames with their
``arm``), so the statistics themselves take plain frames and column names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trialkit.estimate.frequentist._design import positions
from trialkit.estimate.frequentist.analysis_frame import arm_mask
from trialkit.protocol import Protocol
from trialkit.protocol.arms import DiscretionaryBudget
from trialkit.protocol.spending import SpendColumns
from trialkit.protocol.vocabulary import MISUSE_VERDICTS
from trialkit.validate import TrialData

#: Column of :meth:`Ledger.client_spend` holding each client's total spend.
SPEND = "spend"


@dataclass(frozen=True, slots=True, eq=False)
class Ledger:
    """The spend ledger of a pilot, ready for its statistics.

    Attributes
    ----------
    spends
        One row per spend (every row of the file, findings included), with ``arm``; the
        justification texts are left out (validation checks them; no statistic reads them).
    columns
        The ledger's column names.
    unit
        The unit id column (in ``spends``, ``units``, ``workers`` and ``clients``).
    units
        One row per randomised unit: ``unit`` and ``arm``.
    workers
        One row per worker (``columns.worker`` and ``arm``), or ``None`` without staff data.
    clients
        One row per client (``columns.client``, ``arm``, ``cluster`` and the client-level
        columns), or ``None`` without client data.
    budgets
        Each arm's discretionary budget (``None``: no budget), in protocol order.
    start
        The intervention start (days to first spend count from it), if the protocol
        gives dates.
    """

    spends: pd.DataFrame
    columns: SpendColumns
    unit: str
    units: pd.DataFrame
    workers: pd.DataFrame | None
    clients: pd.DataFrame | None
    budgets: Mapping[str, DiscretionaryBudget | None]
    start: dt.date | None
    _by_arm: dict[str, pd.DataFrame] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _totals: list[pd.Series] = field(default_factory=list, init=False, repr=False, compare=False)
    _looked_up: list[tuple[pd.Series, np.ndarray]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )
    _client_codes: list[tuple[np.ndarray, pd.Index]] = field(
        default_factory=list, init=False, repr=False, compare=False
    )

    @classmethod
    def from_data(cls, protocol: Protocol, data: TrialData) -> Ledger | None:
        """The ledger of validated ``data``; ``None`` without a spending section or file."""
        spending = protocol.spending
        if spending is None or spending.level not in data.frames:
            return None
        level = protocol.level(spending.level)
        unit = level.unit_column if level is not None else protocol.units.id_column
        # The justification texts are checked by validation, never analysed: leaving them
        # out keeps every selection of spends from copying the ledger's largest column.
        spends = data.frame(spending.level).drop(
            columns=[spending.columns.justification], errors="ignore"
        )
        return cls(
            spends=spends,
            columns=spending.columns,
            unit=unit,
            units=_units(protocol, data, unit),
            workers=_people(data, spending.worker_level, spending.columns.worker),
            clients=_people(data, spending.client_level, spending.columns.client),
            budgets={arm.id: arm.intervention.discretionary_budget for arm in protocol.arms},
            start=None if protocol.dates is None else protocol.dates.intervention_start,
        )

    def spends_in(self, arm: str) -> pd.DataFrame:
        """The spends recorded in units of ``arm`` (selected once per arm; do not modify)."""
        if arm not in self._by_arm:
            self._by_arm[arm] = self.spends[arm_mask(self.spends["arm"], {arm})]
        return self._by_arm[arm]

    def arms(self) -> tuple[str, ...]:
        """Arms with a budget, and any other arm with spends, in protocol order."""
        spent = {str(arm) for arm in self.spends["arm"].unique()}
        return tuple(a for a, budget in self.budgets.items() if budget is not None or a in spent)

    def treated(self) -> tuple[str, ...]:
        """Arms with a budget, in protocol order."""
        return tuple(a for a, budget in self.budgets.items() if budget is not None)

    def client_codes(self) -> tuple[np.ndarray, pd.Index]:
        """Each spend's client as a code into the distinct clients (-1: none), coded once.

        Raises
        ------
        KeyError
            Without a client column in the ledger.
        """
        if not self._client_codes:
            codes, uniques = pd.factorize(self.spends[self.columns.client])
            self._client_codes.append((np.asarray(codes, dtype=np.intp), pd.Index(uniques)))
        return self._client_codes[0]

    def client_spend(self) -> pd.DataFrame:
        """The client frame with :data:`SPEND`: each client's total spend (0 for none).

        Raises
        ------
        KeyError
            Without client data or a client column in the ledger.
        """
        client = self.columns.client
        if self.clients is None or client not in self.spends:
            raise KeyError("the ledger is not linked to a client frame")
        return self.clients.assign(**{SPEND: self.spend_of(self.clients[client])})

    def spend_of(self, clients: pd.Series) -> np.ndarray:
        """Each client id's total spend in the ledger (0 for none), as float64."""
        if not self._totals:  # summed once per ledger, grouped by the clients' codes
            codes, uniques = self.client_codes()
            named = codes >= 0
            amounts = pd.to_numeric(self.spends[self.columns.amount], errors="coerce")
            # pandas' grouped sum (compensated, in row order) over integer codes: the very
            # totals of grouping by the ids themselves, without hashing them again
            sums = amounts[named].groupby(codes[named], sort=True).sum().astype(float)
            self._totals.append(pd.Series(sums.to_numpy(), index=uniques[sums.index]))
        # The client frame and the client level's analysis frame hold the same ids (the
        # same Arrow buffers, so comparing them is immediate): looked up once.
        for seen, spent in self._looked_up:
            if len(seen) == len(clients) and seen.array.equals(clients.array):
                return spent.copy()
        totals = self._totals[0]
        found = positions(clients, totals.index)
        spent = totals.to_numpy(dtype=np.float64, na_value=np.nan)[np.maximum(found, 0)]
        spent = np.where((found >= 0) & ~np.isnan(spent), spent, 0.0)
        self._looked_up[:] = [(clients, spent)]
        return spent.copy()


def _units(protocol: Protocol, data: TrialData, unit: str) -> pd.DataFrame:
    """One row per unit with its arm: the unit file, else every unit seen in any frame."""
    name = protocol.units.name
    if name in data.frames:
        frame = data.frames[name].rename(columns={protocol.units.id_column: unit})
    else:
        frame = pd.concat([f[[unit, "arm"]] for f in data.frames.values() if unit in f])
    frame = frame[[unit, "arm"]].drop_duplicates(unit)
    return frame.assign(arm=frame["arm"].astype(str)).reset_index(drop=True)


def _people(data: TrialData, level: str | None, column: str) -> pd.DataFrame | None:
    """The frame of a level of people (workers, clients) with one row each, or ``None``."""
    if level is None or level not in data.frames or column not in data.frames[level]:
        return None
    frame = data.frames[level]
    if frame[column].is_unique:  # the level's own id (validated): nothing to drop or copy
        return frame.reset_index(drop=True)
    return frame.drop_duplicates(column).reset_index(drop=True)


def _treated_spends(ledger: Ledger, *columns: str) -> pd.DataFrame:
    """``columns`` (those present) of the spends in arms with a budget: only the columns
    counted are copied, not the ledger's text."""
    keep = arm_mask(ledger.spends["arm"], set(ledger.treated()))
    return ledger.spends.loc[keep, [c for c in dict.fromkeys(columns) if c in ledger.spends]]


@dataclass(frozen=True, slots=True)
class ReviewCounts:
    """Reviews of the spends in arms with a budget (all arms pooled).

    Attributes
    ----------
    spends
        Spends in arms with a budget.
    reviewed
        Those with a review verdict.
    cases
        Those whose verdict is misuse (:data:`~trialkit.protocol.vocabulary.MISUSE_VERDICTS`).
    mean_loss
        Mean recorded loss of a misuse case; ``None`` without cases or recorded losses.
    """

    spends: int
    reviewed: int
    cases: int
    mean_loss: float | None


def review_counts(ledger: Ledger) -> ReviewCounts:
    """How many spends in arms with a budget were reviewed and judged misuse."""
    spends = _treated_spends(ledger, ledger.columns.verdict, ledger.columns.loss)
    # each distinct verdict read once as text, not one string per spend (-1: none)
    codes, uniques = pd.factorize(spends[ledger.columns.verdict])
    texts = [str(u) for u in uniques]
    reviewed = np.append([t.strip() != "" for t in texts], False)[codes]
    misuse = reviewed & np.append([t in MISUSE_VERDICTS for t in texts], False)[codes]
    loss = (
        pd.to_numeric(spends.loc[misuse, ledger.columns.loss], errors="coerce")
        if ledger.columns.loss in spends
        else pd.Series(dtype=float)
    )
    mean_loss = float(loss.mean()) if loss.notna().any() else None
    return ReviewCounts(
        spends=len(spends),
        reviewed=int(reviewed.sum()),
        cases=int(misuse.sum()),
        mean_loss=mean_loss,
    )


@dataclass(frozen=True, slots=True)
class GroupCounts:
    """Reviewed spends and misuse cases of each worker or unit in arms with a budget.

    Attributes
    ----------
    groups
        The groups' ids (every worker or unit of those arms, spending or not).
    reviewed, cases
        Per group: spends with a review verdict, and those judged misuse.
    spends
        All spends of these groups, reviewed or not.
    losses
        The recorded loss of every misuse case (missing ones left out).
    """

    groups: tuple[str, ...]
    reviewed: tuple[int, ...]
    cases: tuple[int, ...]
    spends: int
    losses: tuple[float, ...]


def group_counts(ledger: Ledger, level: str) -> GroupCounts:
    """Per-group review counts at ``level`` (``"worker"`` or ``"unit"``)."""
    treated = ledger.treated()
    column = ledger.columns.worker if level == "worker" else ledger.unit
    spends = _treated_spends(ledger, column, ledger.columns.verdict, ledger.columns.loss)
    people = ledger.workers if level == "worker" else ledger.units
    key = spends[column].astype(str)
    known = [] if people is None else [people.loc[arm_mask(people["arm"], set(treated)), column]]
    # every group once, in order of first appearance (known people first, then spenders)
    ids = list(pd.concat([*(k.astype(str) for k in known), key]).unique().tolist())
    verdict = spends[ledger.columns.verdict]
    reviewed = verdict.notna() & (verdict.astype(str).str.strip() != "")
    misuse = reviewed & verdict.astype(str).isin(MISUSE_VERDICTS)
    per_reviewed = reviewed.groupby(key).sum()
    per_cases = misuse.groupby(key).sum()
    loss = (
        pd.to_numeric(spends.loc[misuse, ledger.columns.loss], errors="coerce").dropna()
        if ledger.columns.loss in spends
        else pd.Series(dtype=float)
    )
    return GroupCounts(
        groups=tuple(ids),
        reviewed=tuple(int(per_reviewed.get(g, 0)) for g in ids),
        cases=tuple(int(per_cases.get(g, 0)) for g in ids),
        spends=len(spends),
        losses=tuple(float(v) for v in loss),
    )

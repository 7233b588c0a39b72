"""Fidelity and take-up of a discretionary budget: who spent it, how much, how soon, on what.

Per arm with a budget (and any other arm with spends, e.g. a contaminated control):
units, workers and clients reached, the distribution of spend per client receiving any,
days from the intervention start to each worker's first spend, how much of the per-client
cap was used, and spending by category and by budget period. Every spend in the ledger
counts, compliance findings included (they are reported, never dropped).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from trialkit.estimate.frequentist.analysis_frame import arm_mask
from trialkit.estimate.spending.ledger import Ledger
from trialkit.protocol.arms import DiscretionaryBudget, SpendCategory

#: The percentiles of spend per client receiving any (``TakeUp.per_client_quantiles``).
QUANTILES = (0.10, 0.25, 0.50, 0.75, 0.90)
#: A client whose total is within this much of the cap has reached it (float sums).
CAP_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class TakeUp:
    """Take-up in one arm (see :class:`~trialkit.analyse.spending_rows.TakeUpRow`).

    Counts of workers and clients are ``None`` without their frame or ledger column;
    statistics of an empty set (no spend) are ``None``.
    """

    arm: str
    units: int
    units_spending: int
    workers: int | None
    workers_spending: int | None
    clients: int | None
    clients_receiving: int | None
    spends: int
    total: float
    mean_spend: float | None
    per_client_mean: float | None
    per_client_quantiles: tuple[float, float, float, float, float] | None
    days_to_first_spend: float | None
    cap_used_median: float | None
    clients_at_cap: int | None


@dataclass(frozen=True, slots=True)
class CategorySpend:
    """Spending in one category and arm; ``share_of_total`` of the arm's total."""

    arm: str
    category: str
    label: str
    allowed: bool
    spends: int
    total: float
    share_of_total: float


@dataclass(frozen=True, slots=True)
class PeriodSpend:
    """Spending in one budget period (the ledger's ``period`` label) and arm."""

    arm: str
    period: str
    spends: int
    total: float
    workers_spending: int


def take_up(ledger: Ledger) -> tuple[TakeUp, ...]:
    """Take-up in every arm with a budget or a spend, in protocol order.

    Examples
    --------
    A ledger comes from validated data: ``take_up(Ledger.from_data(protocol, data))``.
    """
    return tuple(_take_up(ledger, arm) for arm in ledger.arms())


def _take_up(ledger: Ledger, arm: str) -> TakeUp:
    cols = ledger.columns
    spends = ledger.spends_in(arm)
    amounts = spends[cols.amount].astype(float)
    per_client = _per_client(ledger, arm)
    budget = ledger.budgets.get(arm)
    units = ledger.units[ledger.units["arm"] == arm]
    return TakeUp(
        arm=arm,
        units=len(units),
        units_spending=int(spends[ledger.unit].nunique()),
        workers=_count(ledger.workers, arm),
        workers_spending=_distinct(spends, cols.worker),
        clients=_count(ledger.clients, arm),
        clients_receiving=None if per_client is None else int((per_client > 0).sum()),
        spends=len(spends),
        total=float(amounts.sum()),
        mean_spend=float(amounts.mean()) if len(amounts) else None,
        per_client_mean=_mean(per_client),
        per_client_quantiles=_quantiles(per_client),
        days_to_first_spend=_days_to_first(ledger, spends),
        cap_used_median=_cap_used(per_client, budget),
        clients_at_cap=_at_cap(per_client, budget),
    )


def _count(people: pd.DataFrame | None, arm: str) -> int | None:
    return None if people is None else int(arm_mask(people["arm"], {arm}).sum())


def _distinct(spends: pd.DataFrame, column: str) -> int | None:
    return int(spends[column].nunique()) if column in spends else None


def _per_client(ledger: Ledger, arm: str) -> pd.Series | None:
    """Total spend on each client who received any in ``arm`` (``None`` without a client
    column); missing amounts count 0, as a groupby sum skips them.

    Summed by ``bincount`` over the ledger's client codes (coded once for every arm).
    """
    cols = ledger.columns
    if cols.client not in ledger.spends:
        return None
    codes, clients = ledger.client_codes()
    inside = arm_mask(ledger.spends["arm"], {arm}) & (codes >= 0)
    amounts = ledger.spends[cols.amount].to_numpy(dtype=np.float64, na_value=np.nan)[inside]
    picked = codes[inside]
    sums = np.bincount(picked, weights=np.nan_to_num(amounts, nan=0.0), minlength=len(clients))
    seen = np.bincount(picked, minlength=len(clients)) > 0
    totals = pd.Series(sums[seen], index=clients[seen], dtype=np.float64)
    return totals[totals > 0]


def _mean(values: pd.Series | None) -> float | None:
    return float(values.mean()) if values is not None and len(values) else None


def _quantiles(values: pd.Series | None) -> tuple[float, float, float, float, float] | None:
    if values is None or not len(values):
        return None
    q = np.quantile(values.to_numpy(float), QUANTILES)
    return float(q[0]), float(q[1]), float(q[2]), float(q[3]), float(q[4])


def _days_to_first(ledger: Ledger, spends: pd.DataFrame) -> float | None:
    """Median over workers who spent of days from the intervention start to their first."""
    cols = ledger.columns
    dated = spends.dropna(subset=[cols.date])
    if ledger.start is None or cols.worker not in dated or dated.empty:
        return None
    first = dated.groupby(cols.worker, sort=False)[cols.date].min()
    days = (first - pd.Timestamp(ledger.start)).dt.days
    return float(days.median())


def _cap_used(per_client: pd.Series | None, budget: DiscretionaryBudget | None) -> float | None:
    if per_client is None or budget is None or not len(per_client):
        return None
    return float((per_client / budget.cap_per_client).median())


def _at_cap(per_client: pd.Series | None, budget: DiscretionaryBudget | None) -> int | None:
    if per_client is None or budget is None:
        return None
    return int((per_client >= budget.cap_per_client - CAP_TOLERANCE).sum())


def _declared(ledger: Ledger) -> dict[str, SpendCategory]:
    """Every category a budget declares (the first declaration of a name wins)."""
    found: dict[str, SpendCategory] = {}
    for budget in ledger.budgets.values():
        for category in budget.categories if budget is not None else ():
            found.setdefault(category.name, category)
    return found


def categories(ledger: Ledger) -> tuple[CategorySpend, ...]:
    """Spending by category in each arm: declared categories first, in declared order.

    A category no budget declares (allowed when a budget lists none) keeps its code as
    its label and counts as allowed.
    """
    declared = _declared(ledger)
    column = ledger.columns.category
    rows: list[CategorySpend] = []
    for arm in ledger.arms():
        spends = ledger.spends_in(arm)
        amounts = spends[ledger.columns.amount].astype(float)
        total = float(amounts.sum())
        sums, sizes = _by_code(spends[column].astype(str), amounts)
        order = [c for c in declared if c in sums.index]
        order += [str(c) for c in sums.index if c not in declared]
        for code in order:
            category = declared.get(code)
            spent = float(sums[code])
            rows.append(
                CategorySpend(
                    arm=arm,
                    category=code,
                    label=code if category is None else category.label,
                    allowed=True if category is None else category.allowed,
                    spends=int(sizes[code]),
                    total=spent,
                    share_of_total=spent / total if total else 0.0,
                )
            )
    return tuple(rows)


def _by_code(codes: pd.Series, amounts: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Each distinct code's total amount and number of rows, in sorted order: a groupby's
    sum and size (the same compensated sums), with the codes hashed once, not twice."""
    found, distinct = pd.factorize(codes, sort=True)
    present = found >= 0  # a missing code belongs to no group, as in a groupby
    grouped = amounts[present].groupby(found[present], sort=True)
    index = pd.Index(distinct)
    sums, sizes = grouped.sum(), grouped.size()
    return pd.Series(sums.to_numpy(), index=index[sums.index]), pd.Series(
        sizes.to_numpy(), index=index[sizes.index]
    )


def periods(ledger: Ledger) -> tuple[PeriodSpend, ...]:
    """Spending by budget period in each arm, periods in time order."""
    cols = ledger.columns
    rows: list[PeriodSpend] = []
    for arm in ledger.arms():
        spends = ledger.spends_in(arm).dropna(subset=["period"])
        key = spends["period"].astype(str)
        amounts = spends[cols.amount].astype(float).to_numpy()
        workers: dict[str, int] = {}
        if cols.worker in spends:
            counted = spends.groupby(key, sort=True)[cols.worker].nunique()
            workers = {str(p): int(n) for p, n in counted.items()}
        # each period's rows in ledger order, summed as Series.sum sums them
        for period, where in sorted(key.groupby(key, sort=True).indices.items()):
            rows.append(
                PeriodSpend(
                    arm=arm,
                    period=str(period),
                    spends=len(where),
                    total=float(np.nansum(amounts[where])),
                    workers_spending=workers.get(str(period), 0),
                )
            )
    return tuple(rows)

"""What each fabricated spend is: amount, category, justification and the reviewer's verdict.

The draws :mod:`trialkit.diagnose.spend_ledger` makes once it knows who spent on whom and
when. Text columns are built as categoricals (codes into a small table), so a ledger of a
million rows is built and written in seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.protocol.arms import DiscretionaryBudget
from trialkit.protocol.vocabulary import SPEND_VERDICTS

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
Days = NDArray[np.datetime64]

MEDIAN_AMOUNT, AMOUNT_SIGMA = 52.0, 0.7  #: log-normal amounts before caps, in currency
CATEGORY_SD = 0.15  #: SD of the categories' log median amounts around MEDIAN_AMOUNT
EXCLUDED_RATE = 0.01  #: share of spends in an excluded category (when one is declared)
BREACH_RATE = 0.005  #: share of spends above the per-client-per-period (else per-client) cap
LATE_RATE, MISSING_RATE = 0.03, 0.005  #: justified after the deadline, and never
POOR_VALUE_RATE = 0.06  #: share of spends judged poor value
FRAUD_SHARE = 0.1  #: share of misuse judged fraud
EXCLUDED_MISUSE, EXCLUDED_POOR = 0.4, 0.3  #: verdicts on spends in an excluded category
DEFAULT_CATEGORIES = ("transport", "equipment", "social", "other")

_TEMPLATES = (
    "{label}: meets the assessed need of {need}.",
    "The client named {need} as an outcome; {lower} was the quickest way to meet it.",
    "Agreed with the client at the review visit; {lower} supports {need}.",
)
_NEEDS = (
    "getting to GP and hospital appointments",
    "staying in touch with family",
    "living safely and independently at home",
    "getting out of the house more",
    "joining a local group",
    "managing money and bills",
)


def amounts(
    budgets: list[DiscretionaryBudget],
    which: IntArray,
    groups: tuple[IntArray, ...],
    spent: Days,
    rng: np.random.Generator,
) -> tuple[pd.DataFrame, BoolArray]:
    """Amount, currency and category of each spend, and whether its category is excluded.

    Parameters
    ----------
    budgets
        The budgets spends are made under; ``which`` indexes them, per spend.
    groups
        Per spend: client, worker and unit codes (the groups each cap applies to).
    spent
        Spend dates, ascending (caps are cumulative in date order).
    rng
        The random generator.

    Returns
    -------
    tuple
        The frame (``amount`` in currency, 0 for a spend a cap stopped; ``currency`` and
        ``category`` categorical) and each spend's excluded flag.
    """
    n = len(which)
    pence, excluded = np.zeros(n, np.int64), np.zeros(n, bool)
    names = _category_names(budgets)
    category, currency = np.full(n, -1, np.int64), np.full(n, -1, np.int64)
    currencies = sorted({b.currency for b in budgets})
    for b, budget in enumerate(budgets):
        rows = np.flatnonzero(which == b)
        code, scale, excluded[rows] = _categories(budget, len(rows), rng)
        category[rows] = np.searchsorted(names, _own_names(budget))[code]
        currency[rows] = currencies.index(budget.currency)
        log_pence = np.log(MEDIAN_AMOUNT * 100) + scale
        raw = np.round(np.exp(log_pence + AMOUNT_SIGMA * rng.standard_normal(len(rows))))
        capped = _capped(raw.astype(np.int64), budget, [g[rows] for g in groups], spent[rows], rng)
        pence[rows] = _breach(capped, budget, rng)
    pence[pence < 100] = 0  # a cap would leave less than one pound: the spend is not made
    frame = pd.DataFrame(
        {
            "amount": pence / 100,
            "currency": categorical(currency, currencies),
            "category": categorical(category, names),
        }
    )
    return frame, excluded


def categorical(codes: NDArray[np.integer[Any]], categories: Sequence[str]) -> pd.Categorical[str]:
    """``categories[codes]`` as a categorical column (code -1: an empty cell)."""
    index: pd.Index[str] = pd.Index(list(categories), dtype=object)
    return pd.Categorical.from_codes(codes, categories=index)


def _category_names(budgets: list[DiscretionaryBudget]) -> list[str]:
    return sorted({name for b in budgets for name in _own_names(b)})


def _own_names(budget: DiscretionaryBudget) -> list[str]:
    """The budget's allowed categories, then its excluded ones."""
    allowed = [c.name for c in budget.categories if c.allowed] or list(DEFAULT_CATEGORIES)
    return allowed + [c.name for c in budget.categories if not c.allowed]


def _categories(
    budget: DiscretionaryBudget,
    n: int,
    rng: np.random.Generator,
) -> tuple[IntArray, FloatArray, BoolArray]:
    """Each spend's category (index into :func:`_own_names`), log scale and excluded flag."""
    names = _own_names(budget)
    allowed = len([c for c in budget.categories if c.allowed]) or len(DEFAULT_CATEGORIES)
    banned = len(names) - allowed
    weights = rng.dirichlet(np.full(allowed, 5.0))
    scale = rng.normal(0.0, CATEGORY_SD, len(names))
    code = rng.choice(allowed, size=n, p=weights)
    excluded = np.zeros(n, bool)
    if banned:
        excluded = rng.random(n) < EXCLUDED_RATE
        code = np.where(excluded, allowed + rng.integers(0, banned, n), code)
    return code.astype(np.int64), scale[code], excluded


def _capped(
    pence: IntArray,
    budget: DiscretionaryBudget,
    groups: list[IntArray],
    spent: Days,
    rng: np.random.Generator,
) -> IntArray:
    """Amounts after workers keep to each cumulative cap (in the budget's order of caps)."""
    client, worker, unit = groups
    period = _period(spent, budget.period)
    slot = period - (period.min() if len(period) else 0)
    width = int(slot.max() + 1) if len(slot) else 1
    for key, cap in (
        (client, budget.cap_per_client),
        (client * width + slot, budget.cap_per_client_per_period),
        (worker * width + slot, budget.cap_per_period),
        (unit * width + slot, budget.cap_per_unit_per_period),
    ):
        pence = _within(pence, key, cap, rng)
    return pence


def _within(
    pence: IntArray, key: IntArray, cap: float | None, rng: np.random.Generator
) -> IntArray:
    """Cut the spend that would take its group past ``cap`` below the headroom it leaves.

    Rows are in date order; spends after the cut one have no headroom left and become 0, so
    every group stays strictly below the cap.
    """
    if cap is None:
        return pence
    before = pd.Series(pence).groupby(key, sort=False).cumsum().to_numpy() - pence
    headroom = np.maximum(int(np.floor(cap * 100)) - before, 0)
    cut = np.floor(headroom * rng.uniform(0.7, 0.97, len(pence))).astype(np.int64)
    return np.where(pence > headroom, cut, pence)


def _breach(
    pence: IntArray,
    budget: DiscretionaryBudget,
    rng: np.random.Generator,
) -> IntArray:
    """A few spends above the per-client-per-period cap (the per-client one without it)."""
    limit = budget.cap_per_client_per_period or budget.cap_per_client
    breach = (pence >= 100) & (rng.random(len(pence)) < BREACH_RATE)
    over = np.floor(limit * 100 * rng.uniform(1.05, 1.5, len(pence))).astype(np.int64)
    return np.where(breach, over, pence)


def _period(days: Days, period: str) -> IntArray:
    """An integer code of each day's budget period (ISO weeks start on Monday)."""
    if period == "week":
        return (days.astype(np.int64) + 3) // 7  # 1970-01-01 was a Thursday
    months = days.astype("datetime64[M]").astype(np.int64)
    return {"month": months, "quarter": months // 3, "year": months // 12}[period]


def justifications(
    budgets: list[DiscretionaryBudget],
    which: IntArray,
    category: pd.Categorical[str],
    spent: Days,
    calendar: Days,
    rng: np.random.Generator,
) -> tuple[pd.Categorical[str], Days]:
    """Justification text and date: a few working days later, some late, a very few never.

    ``calendar`` holds the public holidays; on time is 1 to the budget's
    ``justification_days`` working days after the spend, late is after that.
    """
    n = len(which)
    deadline = np.array([b.justification_days or 5 for b in budgets], np.int64)[which]
    late = rng.random(n) < LATE_RATE
    missing = rng.random(n) < MISSING_RATE
    on_time = 1 + rng.binomial(np.maximum(deadline - 1, 0), 0.35)
    days = np.where(late, deadline + rng.geometric(0.25, n), on_time)
    justified = np.busday_offset(spent, days, roll="forward", holidays=calendar)
    justified[missing] = np.datetime64("NaT")
    labels = {c.name: c.label for b in budgets for c in b.categories}
    names = list(category.categories)
    table = [
        template.format(
            label=labels.get(name, name.capitalize()),
            lower=labels.get(name, name).lower(),
            need=need,
        )
        for template in _TEMPLATES
        for need in _NEEDS
        for name in names
    ]
    pick = (
        rng.integers(0, len(_TEMPLATES), n) * len(_NEEDS) + rng.integers(0, len(_NEEDS), n)
    ) * len(names) + category.codes
    pick[missing] = -1
    return categorical(pick, table), justified


def verdicts(
    amount: FloatArray, excluded: BoolArray, propensity: FloatArray, rng: np.random.Generator
) -> tuple[pd.Categorical[str], FloatArray]:
    """The reviewer's verdict on every spend, and the money lost.

    ``propensity`` is each spend's worker's misuse probability; excluded categories are
    judged more harshly. Loss: 0 for appropriate, part of the amount for poor value, all of
    it for misuse and fraud.
    """
    n = len(amount)
    misuse_p = np.where(excluded, EXCLUDED_MISUSE, propensity)
    poor_p = np.where(excluded, EXCLUDED_POOR, POOR_VALUE_RATE)
    u = rng.random(n)
    misuse = u < misuse_p
    poor = ~misuse & (u < misuse_p + poor_p)
    fraud = misuse & (rng.random(n) < FRAUD_SHARE)
    code = np.select([fraud, misuse, poor], [3, 2, 1], 0)  # SPEND_VERDICTS order
    pence = np.round(amount * 100)
    part = np.floor(pence * rng.uniform(0.2, 0.6, n))
    loss = np.where(misuse, pence, np.where(poor, part, 0.0)) / 100
    return categorical(code, SPEND_VERDICTS), loss

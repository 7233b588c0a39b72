"""Compliance findings: each rule of the budget, checked on every spend at once.

A spend is judged by the rules of the budget of its unit's allocated arm: caps
(:mod:`trialkit.validate.spending_caps`), excluded categories, and the justification
deadline in working days. A spend in a unit of an arm without a budget breaks only
``control_arm_spend`` (unless ``spending.control_may_spend``). A missing justification
(no text, or no date justified) is one finding, never also a late one. With
``review.coverage: all``, a spend without a verdict is ``not_reviewed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from trialkit.protocol.model import Protocol
from trialkit.protocol.vocabulary import SpendRule
from trialkit.validate.coding import blank_mask
from trialkit.validate.spending import (
    RULE_ORDER,
    LedgerKeys,
    SpendFinding,
    Workers,
    category_names,
)
from trialkit.validate.spending_caps import CAPS, caps
from trialkit.validate.spending_ledger import FloatArray, Hits, IntArray, LedgerArrays


def checked_rules(protocol: Protocol) -> tuple[SpendRule, ...]:
    """The rules the protocol gives limits for, in :data:`RULE_ORDER`."""
    spending = protocol.spending
    assert spending is not None
    budgets = [a.intervention.discretionary_budget for a in protocol.arms]
    given = [b for b in budgets if b is not None]
    checked: set[str] = {"cap_per_client", "missing_justification"}
    checked |= {rule for rule, cap, _ in CAPS if any(getattr(b, cap) for b in given)}
    if any(not c.allowed for b in given for c in b.categories):
        checked.add("excluded_category")
    if any(b.justification_days for b in given):
        checked.add("late_justification")
    if None in budgets and not spending.control_may_spend:
        checked.add("control_arm_spend")
    if spending.review.coverage == "all":
        checked.add("not_reviewed")
    return tuple(r for r in RULE_ORDER if r in checked)


def _excluded(ledger: LedgerArrays, protocol: Protocol) -> Hits:
    column = ledger.column("category")
    names = list(category_names(protocol))
    codes = ledger.keys.categories
    if codes is None:  # not coded by validation: code the column's names here
        lookup = {n: k for k, n in enumerate(names)}
        found, uniques = pd.factorize(ledger.frame[column], use_na_sentinel=True)
        codes = np.array([lookup.get(str(u), -1) for u in uniques] + [-1])[found]
    labels = {c.name: c.label for b in ledger.budgets if b is not None for c in b.categories}
    # excluded[arm, category]; the last row (unknown arm) and column (unknown) stay False.
    excluded = np.zeros((len(ledger.budgets), len(names) + 1), dtype=bool)
    for a, budget in enumerate(ledger.budgets):
        banned = {c.name for c in budget.categories if not c.allowed} if budget else set()
        excluded[a, : len(names)] = [n in banned for n in names]
    rows = np.flatnonzero(excluded[ledger.arm_index, np.where(codes < 0, len(names), codes)])

    def messages(rows: IntArray) -> list[str]:
        return [
            f"{spend} spent on {day} in category `{name}` ({labels.get(name, name)}), which "
            "the budget excludes."
            for spend, day, name in zip(
                ledger.spend_money(rows),
                ledger.spent_on(rows),
                ledger.texts(column, rows),
                strict=True,
            )
        ]

    return Hits("excluded_category", rows.astype(np.int64), column, messages)


def _justification(ledger: LedgerArrays) -> list[Hits]:
    text_column, date_column = ledger.column("justification"), ledger.column("justified_on")
    no_text = ledger.keys.unwritten
    if no_text is None:
        no_text = blank_mask(ledger.frame[text_column])
    no_date = np.isnat(ledger.justified)
    days = ledger.limit("justification_days")
    waited = ledger.frame["working_days_to_justify"].to_numpy(dtype="float64")
    missing = np.flatnonzero(ledger.has_budget & (no_text | no_date)).astype(np.int64)
    late = np.flatnonzero(ledger.has_budget & ~no_text & ~no_date & (waited > days))
    calendar = ledger.spending.calendar

    def why_missing(rows: IntArray) -> list[str]:
        spends = [
            f"this {spend} spend of {day}"
            for spend, day in zip(ledger.spend_money(rows), ledger.spent_on(rows), strict=True)
        ]
        return [
            (
                f"no justification is recorded for {spend}."
                if text and date
                else f"{spend} has a date justified ({justified}) but no justification written."
                if text
                else f"{spend} has a justification but no date justified, so its deadline is "
                "unknown."
            )
            for spend, text, date, justified in zip(
                spends,
                no_text[rows].tolist(),
                no_date[rows].tolist(),
                ledger.justified_on(rows),
                strict=True,
            )
        ]

    def why_late(rows: IntArray) -> list[str]:
        return [
            f"justified {took:.0f} working days after the spend ({spent} to {justified}), "
            f"later than the {limit:.0f} allowed (weekends and {calendar} public holidays "
            "not counted)."
            for took, spent, justified, limit in zip(
                waited[rows].tolist(),
                ledger.spent_on(rows),
                ledger.justified_on(rows),
                days[rows].tolist(),
                strict=True,
            )
        ]

    def column(rows: IntArray) -> list[str]:
        return [text_column if blank else date_column for blank in no_text[rows].tolist()]

    return [
        Hits("missing_justification", missing, column, why_missing, limit=days),
        Hits("late_justification", late.astype(np.int64), date_column, why_late, days, waited),
    ]


def _control(ledger: LedgerArrays) -> Hits:
    rows = np.flatnonzero(~ledger.has_budget & (ledger.arm_code >= 0))

    def messages(rows: IntArray) -> list[str]:
        return [
            f"{spend} spent on {day} in {ledger.unit_name} {unit} of arm "
            f"`{ledger.arm_names[arm]}`, which has no discretionary budget "
            "(`spending.control_may_spend` is false)."
            for spend, day, unit, arm in zip(
                ledger.spend_money(rows),
                ledger.spent_on(rows),
                ledger.texts(ledger.unit_column, rows),
                ledger.arm_code[rows].tolist(),
                strict=True,
            )
        ]

    return Hits("control_arm_spend", rows.astype(np.int64), ledger.unit_column, messages)


def _not_reviewed(ledger: LedgerArrays) -> Hits:
    column = ledger.column("verdict")
    codes = ledger.keys.verdicts  # −1 where the coded verdict is missing
    missing = ledger.frame[column].isna().to_numpy() if codes is None else codes < 0
    rows = np.flatnonzero(missing)

    def messages(rows: IntArray) -> list[str]:
        return [
            f"this {spend} spend of {day} has no review verdict, though every spend is to "
            "be reviewed (`spending.review.coverage: all`)."
            for spend, day in zip(ledger.spend_money(rows), ledger.spent_on(rows), strict=True)
        ]

    return Hits("not_reviewed", rows.astype(np.int64), column, messages)


def _numbers(values: FloatArray | None, rows: IntArray) -> list[float | None]:
    if values is None:
        return [None] * len(rows)
    return [None if v != v else v for v in values[rows].tolist()]  # NaN: none


def _lines(ledger: LedgerArrays, rows: IntArray) -> IntArray:
    """The spreadsheet rows of ``rows`` (header = row 1)."""
    return np.asarray(ledger.frame.index.to_numpy()[rows] + 2, dtype=np.int64)


def _fields(ledger: LedgerArrays, hits: Hits, file: str) -> list[list[object]]:
    """The fields of :class:`SpendFinding` (in order) for every spend of ``hits``."""
    rows, n = hits.rows, len(hits.rows)
    arms = [ledger.arm_names[a] if a >= 0 else "" for a in ledger.arm_code[rows].tolist()]
    texts = {
        c: ledger.values(c, rows).astype("str").tolist()
        for c in (ledger.id_column, ledger.unit_column, "period")
    }
    return [
        [hits.rule] * n,
        texts[ledger.id_column],
        [file] * n,
        _lines(ledger, rows).tolist(),
        [hits.column] * n if isinstance(hits.column, str) else hits.column(rows),
        texts[ledger.unit_column],
        arms,
        ledger.worker_labels(rows),
        ledger.amount[rows].tolist(),
        _numbers(hits.limit, rows),
        _numbers(hits.value, rows),
        texts["period"] if hits.period else [None] * n,
        hits.messages(rows),
    ]


def _findings(ledger: LedgerArrays, hits: list[Hits], file: str) -> list[SpendFinding]:
    """One finding per spend of each of ``hits``, ordered by row, then rule.

    Each field is gathered for all the spends of a rule at once; the findings are then
    put in order by one sort of their rows and rules.
    """
    made: list[SpendFinding] = []
    for h in hits:
        made.extend(map(SpendFinding, *_fields(ledger, h, file)))
    rank = {rule: k for k, rule in enumerate(RULE_ORDER)}
    ranks = np.concatenate([np.full(len(h.rows), rank[h.rule]) for h in hits])
    lines = np.concatenate([_lines(ledger, h.rows) for h in hits])
    return [made[k] for k in np.lexsort((ranks, lines)).tolist()]  # by row, then by rule


def compliance(
    protocol: Protocol,
    frame: pd.DataFrame,
    *,
    file: str,
    workers: Workers,
    keys: LedgerKeys,
) -> list[SpendFinding]:
    """Every compliance finding of the coded, allocated ledger, in file order.

    Parameters
    ----------
    protocol
        The protocol (its ``spending:`` and each arm's budget).
    frame
        The coded ledger with ``arm`` (a categorical) from the allocation.
    file
        The ledger's file name.
    workers
        Each spend's worker pseudonym.
    keys
        Client and unit codes, where validation found them.

    Returns
    -------
    list of SpendFinding
        Ordered by row, then by rule.
    """
    ledger = LedgerArrays(protocol, frame, workers, keys)
    checked = checked_rules(protocol)
    every = [*caps(ledger), _excluded(ledger, protocol), *_justification(ledger)]
    every += [_control(ledger), _not_reviewed(ledger)]
    hits = [h for h in every if h.rule in checked and len(h.rows)]
    if not hits:
        return []
    ledger.look_at(np.concatenate([h.rows for h in hits]))
    return _findings(ledger, hits, file)

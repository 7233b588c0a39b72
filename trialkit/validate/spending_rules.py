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

    def message(i: int) -> str:
        name = ledger.text(column, i)
        return (
            f"{ledger.spend_money(i)} spent on {ledger.spent_on(i)} "
            f"in category `{name}` ({labels.get(name, name)}), which the budget excludes."
        )

    return Hits("excluded_category", rows.astype(np.int64), column, message)


def _justification(ledger: LedgerArrays) -> list[Hits]:
    text_column, date_column = ledger.column("justification"), ledger.column("justified_on")
    no_text = blank_mask(ledger.frame[text_column])
    no_date = np.isnat(ledger.justified)
    days = ledger.limit("justification_days")
    waited = ledger.frame["working_days_to_justify"].to_numpy(dtype="float64")
    missing = np.flatnonzero(ledger.has_budget & (no_text | no_date)).astype(np.int64)
    late = np.flatnonzero(ledger.has_budget & ~no_text & ~no_date & (waited > days))
    calendar = ledger.spending.calendar

    def why_missing(i: int) -> str:
        spend = f"this {ledger.spend_money(i)} spend of {ledger.spent_on(i)}"
        if no_text[i] and no_date[i]:
            return f"no justification is recorded for {spend}."
        if no_text[i]:
            return (
                f"{spend} has a date justified ({ledger.justified_on(i)}) but no "
                "justification written."
            )
        return f"{spend} has a justification but no date justified, so its deadline is unknown."

    def why_late(i: int) -> str:
        return (
            f"justified {waited[i]:.0f} working days after the spend "
            f"({ledger.spent_on(i)} to {ledger.justified_on(i)}), later "
            f"than the {days[i]:.0f} allowed (weekends and {calendar} public holidays "
            "not counted)."
        )

    def column(i: int) -> str:
        return text_column if no_text[i] else date_column

    return [
        Hits("missing_justification", missing, column, why_missing, limit=days),
        Hits("late_justification", late.astype(np.int64), date_column, why_late, days, waited),
    ]


def _control(ledger: LedgerArrays) -> Hits:
    rows = np.flatnonzero(~ledger.has_budget & (ledger.arm_code >= 0))

    def message(i: int) -> str:
        unit = ledger.text(ledger.unit_column, i)
        return (
            f"{ledger.spend_money(i)} spent on {ledger.spent_on(i)} in "
            f"{ledger.unit_name} {unit} of arm `{ledger.arm_names[ledger.arm_code[i]]}`, "
            "which has no discretionary budget (`spending.control_may_spend` is false)."
        )

    return Hits("control_arm_spend", rows.astype(np.int64), ledger.unit_column, message)


def _not_reviewed(ledger: LedgerArrays) -> Hits:
    column = ledger.column("verdict")
    rows = np.flatnonzero(ledger.frame[column].isna().to_numpy())

    def message(i: int) -> str:
        return (
            f"this {ledger.spend_money(i)} spend of "
            f"{ledger.spent_on(i)} has no review verdict, though every spend is "
            "to be reviewed (`spending.review.coverage: all`)."
        )

    return Hits("not_reviewed", rows.astype(np.int64), column, message)


def _numbers(values: FloatArray | None, rows: IntArray) -> list[float | None]:
    if values is None:
        return [None] * len(rows)
    return [None if v != v else v for v in values[rows].tolist()]  # NaN: none


def _findings(ledger: LedgerArrays, hits: Hits, file: str) -> list[SpendFinding]:
    """One finding per spend of ``hits``; columns are gathered for all of them at once."""
    rows = hits.rows
    positions = rows.tolist()
    lines = (ledger.frame.index.to_numpy()[rows] + 2).tolist()  # spreadsheet rows
    arms = [ledger.arm_names[a] if a >= 0 else "" for a in ledger.arm_code[rows].tolist()]
    texts = {
        c: ledger.frame[c].iloc[rows].astype("str").tolist()
        for c in (ledger.id_column, ledger.unit_column, "period")
    }
    periods = texts["period"] if hits.period else [None] * len(rows)
    columns = (
        [hits.column] * len(rows)
        if isinstance(hits.column, str)
        else [hits.column(i) for i in positions]
    )
    return [
        SpendFinding(
            hits.rule,
            spend_id,
            file,
            line,
            column,
            unit,
            arm,
            ledger.workers.label(i),
            amount,
            limit,
            value,
            period,
            hits.message(i),
        )
        for i, spend_id, line, column, unit, arm, amount, limit, value, period in zip(
            positions,
            texts[ledger.id_column],
            lines,
            columns,
            texts[ledger.unit_column],
            arms,
            ledger.amount[rows].tolist(),
            _numbers(hits.limit, rows),
            _numbers(hits.value, rows),
            periods,
            strict=True,
        )
    ]


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
    hits = [h for h in every if h.rule in checked]
    ledger.look_at(np.concatenate([h.rows for h in hits]) if hits else np.zeros(0, np.int64))
    rank = {rule: k for k, rule in enumerate(RULE_ORDER)}
    found = [(f.row, rank[f.rule], f) for h in hits for f in _findings(ledger, h, file)]
    found.sort(key=lambda item: (item[0], item[1]))
    return [finding for _, _, finding in found]

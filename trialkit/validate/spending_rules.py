"""Compliance findings: each rule of the budget, checked on every spend at once.

A spend is judged by the rules of the budget of its unit's allocated arm: caps
(:mod:`trialkit.validate.spending_caps`), excluded categories, and the justification
deadline in working days. A spend in a unit of an arm without a budget breaks only
``control_arm_spend`` (unless ``spending.control_may_spend``). A missing justification
(no text, or no date justified) is one finding, never also a late one. With
``review.coverage: all``, a spend without a verdict is ``not_reviewed``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from itertools import chain, repeat

import numpy as np
import pandas as pd
from numpy.typing import NDArray

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

ObjectArray = NDArray[np.object_]
#: The fields of :class:`SpendFinding`, in order.
_FIELDS = tuple(f.name for f in fields(SpendFinding))


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


def _objects(values: Iterable[object], n: int) -> ObjectArray:
    return np.fromiter(values, dtype=object, count=n)


def _per_rule(ledger: LedgerArrays, hits: list[Hits]) -> list[ObjectArray]:
    """The fields that depend on the rule (rule, column, limit, value, whether the period
    is shown, message) of every spend of ``hits``, one rule after another."""
    n = sum(len(h.rows) for h in hits)

    def gathered(field: Callable[[Hits], Iterable[object]]) -> ObjectArray:
        return _objects(chain.from_iterable(field(h) for h in hits), n)

    return [
        gathered(lambda h: repeat(h.rule, len(h.rows))),
        gathered(
            lambda h: (
                repeat(h.column, len(h.rows)) if isinstance(h.column, str) else h.column(h.rows)
            )
        ),
        gathered(lambda h: _numbers(h.limit, h.rows)),
        gathered(lambda h: _numbers(h.value, h.rows)),
        gathered(lambda h: repeat(h.period, len(h.rows))),
        gathered(lambda h: h.messages(h.rows)),
    ]


def _made(columns: Sequence[Sequence[object]]) -> list[SpendFinding]:
    """Findings from their fields, one list per field in :class:`SpendFinding`'s order.

    The fields are set through the dataclass's slots, a field at a time for every finding:
    its generated ``__init__`` (which checks nothing) sets them one by one through
    ``object.__setattr__``, which is most of the cost of ten thousand findings.
    """
    made = list(map(object.__new__, repeat(SpendFinding, len(columns[0]))))
    for name, values in zip(_FIELDS, columns, strict=True):
        deque(map(getattr(SpendFinding, name).__set__, made, values), maxlen=0)
    return made


def _findings(ledger: LedgerArrays, hits: list[Hits], file: str) -> list[SpendFinding]:
    """One finding per spend of each of ``hits``, ordered by row, then rule.

    Each field is gathered for all the spends at once, in the findings' order (one sort
    of their rows and rules); only the fields that depend on the rule are made rule by
    rule.
    """
    rank = {rule: k for k, rule in enumerate(RULE_ORDER)}
    rows = np.concatenate([h.rows for h in hits])
    ranks = np.concatenate([np.full(len(h.rows), rank[h.rule]) for h in hits])
    lines = _lines(ledger, rows)
    order = np.lexsort((ranks, lines))  # by row, then by rule
    rule, column, limit, value, show_period, message = (f[order] for f in _per_rule(ledger, hits))
    rows, n = rows[order], len(rows)
    period = ledger.shown("period", rows)
    period[~show_period.astype(bool)] = None
    arms = np.array([*ledger.arm_names, ""], dtype=object)
    arm = arms[np.where(ledger.arm_code[rows] < 0, len(ledger.arm_names), ledger.arm_code[rows])]
    return _made(
        [
            rule.tolist(),
            ledger.shown(ledger.id_column, rows).tolist(),
            [file] * n,
            lines[order].tolist(),
            column.tolist(),
            ledger.shown(ledger.unit_column, rows).tolist(),
            arm.tolist(),
            ledger.worker_labels(rows),
            ledger.amount[rows].tolist(),
            limit.tolist(),
            value.tolist(),
            period.tolist(),
            message.tolist(),
        ]
    )


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

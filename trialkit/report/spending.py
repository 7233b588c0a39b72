"""The "How the budget was used" section: the spend ledger in words a councillor reads.

Pure, like :mod:`trialkit.report.staff`: it reads the typed rows of
:class:`~trialkit.analyse.spending_rows.SpendingSection` and formats them; it computes no
statistic. Take-up, what the money went on and the rules are here; who it reached and what
a pound did in :mod:`trialkit.report.spending_effects`; waste, misuse and the green tape in
:mod:`trialkit.report.spending_misuse`. Counts of workers and clients below 5 are shown as
"fewer than 5" (:func:`~trialkit.report.words.few`); ``results.json`` keeps them exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trialkit.analyse.document import ResultsDocument
from trialkit.analyse.spending_rows import (
    CategoryRow,
    SpendFindingRow,
    SpendingSection,
    TakeUpRow,
)
from trialkit.protocol.arms import DiscretionaryBudget
from trialkit.protocol.vocabulary import SpendRule
from trialkit.report import spending_effects, spending_misuse, tables
from trialkit.report.phrases import Arms
from trialkit.report.words import (
    capitalise,
    few,
    lower_first,
    money,
    number,
    percent,
    period_label,
    plural,
)

#: Each compliance rule as a table label; ``{period}`` and ``{unit}`` are filled in.
RULE_LABELS: dict[SpendRule, str] = {
    "cap_per_client": "Over the cap per client",
    "cap_per_client_per_period": "Over the cap per client per {period}",
    "cap_per_worker_per_period": "Over a worker's cap per {period}",
    "cap_per_unit_per_period": "Over the {unit}'s cap per {period}",
    "excluded_category": "In an excluded category",
    "late_justification": "Justified late",
    "missing_justification": "Never justified",
    "control_arm_spend": "Spent in a control {unit}",
    "not_reviewed": "Not reviewed",
}


def budget_of(doc: ResultsDocument, arm: str) -> DiscretionaryBudget | None:
    """The declared budget (caps, categories) of ``arm``, if it has one."""
    return next(
        (a.intervention.discretionary_budget for a in doc.protocol.arms if a.id == arm), None
    )


def rule_label(rule: SpendRule, section: SpendingSection, unit: str) -> str:
    """A rule as a table label: "Over the cap per client per month"."""
    return RULE_LABELS[rule].format(period=section.period, unit=unit)


def _money(section: SpendingSection) -> Any:
    return lambda value: money(value, section.currency)


def take_up_sentences(doc: ResultsDocument, arms: Arms) -> list[str]:
    """Who used the budget, how much a client received, how soon, and the cap's headroom."""
    section = doc.spending
    if section is None:
        return []
    cash = _money(section)
    units = plural(doc.protocol.units.name)
    out = []
    for row in section.take_up:
        if row.arm not in arms.treated:
            continue
        where = f"{units} given {arms.treatment(row.arm)}"
        if row.workers is not None and row.workers_spending is not None:
            lead = (
                f"{capitalise(few(row.workers_spending))} of {few(row.workers)} workers in "
                f"{where} used the budget ({row.units_spending} of {row.units} {units} "
                f"spent from it)."
            )
        else:
            lead = f"{row.units_spending} of {row.units} {where} spent from the budget."
        lead += f" They made {row.spends:,} spends, {cash(row.total)} in all."
        if row.clients is not None and row.clients_receiving is not None:
            lead += (
                f" {capitalise(few(row.clients_receiving))} of their {few(row.clients)} "
                "clients received at least one spend."
            )
        out.append(lead)
        out.extend(_distribution(row, cash))
        out.extend(_headroom(row, budget_of(doc, row.arm), cash))
    return out


def _distribution(row: TakeUpRow, cash: Any) -> list[str]:
    q = row.per_client_quantiles
    out = []
    if q is not None:
        text = (
            f"A typical (median) client who received support had {cash(q[2])} spent on "
            f"them; half had between {cash(q[1])} and {cash(q[3])}, and the largest "
            f"10% more than {cash(q[4])}."
        )
        if row.per_client_mean is not None:
            text += f" The mean was {cash(row.per_client_mean)}."
        out.append(text)
    if row.days_to_first_spend is not None:
        out.append(
            f"Workers who used the budget made their first spend a median of "
            f"{number(row.days_to_first_spend)} days after it started."
        )
    return out


def _headroom(row: TakeUpRow, budget: DiscretionaryBudget | None, cash: Any) -> list[str]:
    if row.cap_used_median is None or budget is None:
        return []
    text = (
        f"A typical client who received support used {percent(row.cap_used_median)} of "
        f"the {cash(budget.cap_per_client)} cap per client"
    )
    if row.clients_at_cap is not None:
        reached = (
            "no client"
            if row.clients_at_cap == 0
            else (
                f"{few(row.clients_at_cap)} client{'' if few(row.clients_at_cap) == '1' else 's'}"
            )
        )
        text += f"; {reached} reached it"
    return [text + "."]


def control_sentence(doc: ResultsDocument, arms: Arms) -> str | None:
    """Spending recorded in the control arm (contamination), if any."""
    section = doc.spending
    if section is None:
        return None
    rows = [r for r in section.take_up if r.arm == doc.protocol.control.id and r.spends]
    if not rows:
        return None
    row = rows[0]
    allowed = doc.protocol.spending is not None and doc.protocol.spending.control_may_spend
    rule = (
        "The protocol allows this (declared contamination)."
        if allowed
        else "The protocol does not allow it, so each such spend is a finding below."
    )
    return (
        f"In {arms.control_phrase}, {row.spends:,} spend{'s' if row.spends != 1 else ''} "
        f"({money(row.total, section.currency)}) "
        f"{'were' if row.spends != 1 else 'was'} recorded. {rule}"
    )


def take_up_rows(doc: ResultsDocument, arms: Arms) -> list[dict[str, str]]:
    """One table row per arm with spends: counts, the spread per client, the cap used."""
    section = doc.spending
    if section is None:
        return []
    cash = _money(section)
    rows = []
    for r in section.take_up:
        q = r.per_client_quantiles
        rows.append(
            {
                "arm": arms.label(r.arm),
                "units": f"{r.units_spending} of {r.units}",
                "workers": tables.DASH
                if r.workers is None or r.workers_spending is None
                else f"{few(r.workers_spending)} of {few(r.workers)}",
                "clients": tables.DASH
                if r.clients is None or r.clients_receiving is None
                else f"{few(r.clients_receiving)} of {few(r.clients)}",
                "spends": f"{r.spends:,}",
                "total": cash(r.total),
                "median": tables.DASH if q is None else cash(q[2]),
                "spread": tables.DASH if q is None else f"{cash(q[0])} to {cash(q[4])}",
                "days": tables.fmt(r.days_to_first_spend, 0),
                "cap": tables.DASH if r.cap_used_median is None else percent(r.cap_used_median),
            }
        )
    return rows


def category_sentences(doc: ResultsDocument, arms: Arms) -> list[str]:
    """What the money went on, largest first, and any spend in an excluded category."""
    section = doc.spending
    if section is None:
        return []
    out = []
    for arm in arms.treated:
        rows = sorted((c for c in section.categories if c.arm == arm), key=lambda c: -c.total)
        if not rows:
            continue
        who = f" under {arms.treatment(arm)}" if len(arms.treated) > 1 else ""
        top = [
            f"{lower_first(c.label)} ({percent(c.share_of_total)})" for c in rows[:3] if c.allowed
        ]
        if top:
            out.append(f"Most of the money{who} went on {_and(top)}.")
        out.extend(_excluded(rows, section))
    return out


def _excluded(rows: Sequence[CategoryRow], section: SpendingSection) -> list[str]:
    bad = [c for c in rows if not c.allowed and c.spends]
    if not bad:
        return []
    spends = sum(c.spends for c in bad)
    what = _and(
        [
            f"{lower_first(c.label)} ({c.spends:,} spend{'s' if c.spends != 1 else ''}, "
            f"{money(c.total, section.currency)})"
            for c in bad
        ]
    )
    return [f"{spends:,} spend{'s' if spends != 1 else ''} went on what the rules exclude: {what}."]


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def category_rows(doc: ResultsDocument, arms: Arms) -> list[dict[str, Any]]:
    """One table row per category and arm, largest first within each arm."""
    section = doc.spending
    if section is None:
        return []
    order = {a.id: i for i, a in enumerate(doc.protocol.arms)}
    rows = sorted(section.categories, key=lambda c: (order.get(c.arm, 99), -c.total))
    return [
        {
            "label": c.label,
            "arm": arms.label(c.arm),
            "allowed": c.allowed,
            "spends": f"{c.spends:,}",
            "total": money(c.total, section.currency),
            "share": percent(c.share_of_total),
        }
        for c in rows
    ]


def period_sentence(doc: ResultsDocument, arms: Arms) -> str | None:
    """When the money was spent: the first and last period, and the busiest."""
    section = doc.spending
    if section is None or not section.periods:
        return None
    rows = [p for p in section.periods if p.arm in arms.treated]
    if not rows:
        return None
    busiest = max(rows, key=lambda p: p.total)
    periods = sorted({p.period for p in rows})
    return (
        f"Spending ran from {period_label(periods[0])} to {period_label(periods[-1])}; "
        f"the most was spent in {period_label(busiest.period)}: "
        f"{money(busiest.total, section.currency)} in {busiest.spends:,} spends."
    )


def rule_sentences(doc: ResultsDocument) -> list[str]:
    """The compliance findings counted by rule, and what they are (results, not errors)."""
    section = doc.spending
    if section is None:
        return []
    unit = doc.protocol.units.name
    if not section.findings:
        return ["No spend broke a declared rule."]
    counts: dict[SpendRule, int] = {}
    for row in section.rule_counts:
        counts[row.rule] = counts.get(row.rule, 0) + row.spends
    parts = [
        f"{n:,} {rule_label(rule, section, unit)[:1].lower()}{rule_label(rule, section, unit)[1:]}"
        for rule, n in counts.items()
        if n
    ]
    total = len(section.findings)
    return [
        f"The ledger has {total:,} compliance finding{'s' if total != 1 else ''}: {_and(parts)}.",
        "These are results of the pilot, not errors in the data: each spend stays in "
        "the ledger and in every number in this section. Each finding is listed below "
        "with its spend id and row, so it can be checked.",
    ]


def rule_rows(doc: ResultsDocument, arms: Arms) -> list[dict[str, str]]:
    """Findings counted by rule and arm: spends, money involved and share of spends."""
    section = doc.spending
    if section is None:
        return []
    unit = doc.protocol.units.name
    return [
        {
            "rule": rule_label(r.rule, section, unit),
            "arm": arms.label(r.arm),
            "spends": f"{r.spends:,}",
            "amount": money(r.amount, section.currency),
            "share": percent(r.share_of_spends, places=1),
        }
        for r in section.rule_counts
    ]


def finding_rows(doc: ResultsDocument, arms: Arms) -> list[dict[str, str]]:
    """Every finding, located: the spend id, file and row, unit, what was broken."""
    section = doc.spending
    if section is None:
        return []
    unit = doc.protocol.units.name
    return [
        {
            "rule": rule_label(f.rule, section, unit),
            "spend_id": f.spend_id,
            "where": f"{f.file}, row {f.row}",
            "unit": f.unit,
            "arm": arms.label(f.arm),
            "amount": money(f.amount, section.currency),
            "detail": _detail(f, section),
        }
        for f in section.findings
    ]


def _detail(finding: SpendFindingRow, section: SpendingSection) -> str:
    limit, value = finding.limit, finding.value
    if finding.rule == "late_justification" and limit is not None and value is not None:
        return f"{number(value)} working days (deadline {number(limit)})"
    if finding.rule == "missing_justification" and limit is not None:
        return f"no justification (deadline {number(limit)} working days)"
    if finding.rule.startswith("cap_") and limit is not None and value is not None:
        when = f" in {period_label(finding.period)}" if finding.period else ""
        return (
            f"{money(value, section.currency)}{when} against a cap of "
            f"{money(limit, section.currency)}"
        )
    return finding.message.replace("`", "")


def spending_context(doc: ResultsDocument, arms: Arms) -> dict[str, Any] | None:
    """Everything ``report/spending.html.j2`` shows; ``None`` without a spend ledger."""
    section = doc.spending
    if section is None:
        return None
    return {
        "currency": section.currency,
        "files": ", ".join(section.files),
        "take_up": take_up_sentences(doc, arms),
        "control": control_sentence(doc, arms),
        "take_up_rows": take_up_rows(doc, arms),
        "categories": category_sentences(doc, arms),
        "category_rows": category_rows(doc, arms),
        "periods": period_sentence(doc, arms),
        "rules": rule_sentences(doc),
        "rule_rows": rule_rows(doc, arms),
        "findings": finding_rows(doc, arms),
        "equity": spending_effects.equity_sentences(doc, arms),
        "equity_rows": spending_effects.equity_rows(doc, arms),
        "dose": spending_effects.dose_sentences(doc, arms),
        "dose_rows": spending_effects.dose_rows(doc, arms),
        "review": spending_misuse.review_sentence(doc),
        "severity": spending_misuse.severity_sentences(doc),
        "severity_rows": spending_misuse.severity_rows(doc),
        "model": spending_misuse.model_sentences(doc),
        "net": spending_misuse.net_sentences(doc, arms),
        "notes": [n.replace("`", "") for n in section.notes],
    }

"""The numbers behind the spending section's figures, picked from typed spending rows.

Pure, like :mod:`trialkit.report.figdata`: no plotting and no statistics.
:mod:`trialkit.report.figures.spending` draws each entry. Dose bins of fewer than 5
clients are left out of the plot (small-cell suppression) and counted in ``suppressed``.
"""

from __future__ import annotations

from typing import Any

from trialkit.analyse.document import ResultsDocument
from trialkit.analyse.spending_rows import SpendingSection
from trialkit.report.phrases import Arms
from trialkit.report.spending_misuse import VERDICT_WORDS
from trialkit.report.words import SMALL_CELL, capitalise, period_label, short_label


def _per_client(section: SpendingSection, arms: Arms) -> dict[str, Any] | None:
    rows = [
        {"label": arms.label(r.arm), "q": list(r.per_client_quantiles), "mean": r.per_client_mean}
        for r in section.take_up
        if r.per_client_quantiles is not None
    ]
    return {"currency": section.currency, "rows": rows} if rows else None


def _categories(section: SpendingSection, arms: Arms) -> dict[str, Any] | None:
    arm_ids = list(dict.fromkeys(c.arm for c in section.categories))
    if not arm_ids:
        return None
    first = {c.category: c.total for c in section.categories if c.arm == arm_ids[0]}
    names = sorted(
        dict.fromkeys(c.category for c in section.categories), key=lambda n: -first.get(n, 0.0)
    )
    rows = []
    for name in names:
        cells = {c.arm: c for c in section.categories if c.category == name}
        some = next(iter(cells.values()))
        rows.append(
            {
                "label": some.label,
                "allowed": some.allowed,
                "totals": [cells[a].total if a in cells else 0.0 for a in arm_ids],
                "shares": [cells[a].share_of_total if a in cells else 0.0 for a in arm_ids],
                "spends": [cells[a].spends if a in cells else 0 for a in arm_ids],
            }
        )
    return {"currency": section.currency, "arms": [arms.label(a) for a in arm_ids], "rows": rows}


def _periods(section: SpendingSection, arms: Arms) -> dict[str, Any] | None:
    periods = sorted({p.period for p in section.periods})
    arm_ids = list(dict.fromkeys(p.arm for p in section.periods))
    if not periods:
        return None
    lines = []
    for arm in arm_ids:
        cells = {p.period: p for p in section.periods if p.arm == arm}
        lines.append(
            {
                "label": arms.label(arm),
                "totals": [cells[p].total if p in cells else 0.0 for p in periods],
                "spends": [cells[p].spends if p in cells else 0 for p in periods],
            }
        )
    return {
        "currency": section.currency,
        "period": section.period,
        "periods": [period_label(p) for p in periods],
        "arms": lines,
    }


def _severity(section: SpendingSection) -> dict[str, Any] | None:
    rows = [
        {
            "label": capitalise(VERDICT_WORDS[r.verdict]),
            "spends": r.spends,
            "rate": r.rate,
            "rate_ci": list(r.rate_ci),
            "loss": r.loss,
            "loss_ci": list(r.loss_ci),
        }
        for r in section.severity
        if r.verdict != "appropriate" and r.spends
    ]
    level = section.severity[0].ci_level if section.severity else 0.95
    return {"currency": section.currency, "ci_level": level, "rows": rows} if rows else None


def _net(doc: ResultsDocument, section: SpendingSection, arms: Arms) -> dict[str, Any] | None:
    if not section.green_tape:
        return None
    several = len(arms.treated) > 1
    rows = []
    for g in section.green_tape:
        prefix = f"{arms.label(g.arm)}: " if several else ""
        rows += [
            {
                "label": f"{prefix}Approval time saved",
                "estimate": g.saved,
                "low": None,
                "high": None,
                "kind": "saved",
            },
            {
                "label": f"{prefix}Lost to misuse and fraud",
                "estimate": g.misuse_loss,
                "low": g.misuse_loss_ci[0],
                "high": g.misuse_loss_ci[1],
                "kind": "loss",
            },
            {
                "label": f"{prefix}Approval time saved less misuse",
                "estimate": g.net,
                "low": g.net_ci[0],
                "high": g.net_ci[1],
                "kind": "net",
            },
        ]
    units = sum(g.units for g in section.green_tape)
    return {
        "currency": section.currency,
        "rows": rows,
        "units": units,
        "unit": doc.protocol.units.name,
    }


def _dose(doc: ResultsDocument, section: SpendingSection) -> dict[str, Any] | None:
    if not section.dose_bins:
        return None
    names = list(dict.fromkeys(b.outcome for b in section.dose_bins))
    primary = [n for n in names if doc.protocol.outcome(n).role == "primary"]
    name = (primary or names)[0]
    rows = [b for b in section.dose_bins if b.outcome == name]
    arm = rows[0].arm
    rows = [b for b in rows if b.arm == arm]
    shown = [b for b in rows if b.clients >= SMALL_CELL and b.outcome_mean is not None]
    outcome = doc.protocol.outcome(name)
    return (
        {
            "currency": section.currency,
            "outcome": short_label(outcome.label),
            "unit": outcome.unit,
            "binary": outcome.type == "binary",
            "bins": [
                {
                    "low": b.spend_low,
                    "high": b.spend_high,
                    "clients": b.clients,
                    "mean": b.outcome_mean,
                }
                for b in shown
            ],
            "suppressed": len(rows) - len(shown),
        }
        if shown
        else None
    )


def spending_figures(doc: ResultsDocument, arms: Arms) -> dict[str, Any]:
    """Data for every spending figure the rows support; absent figures are left out."""
    section = doc.spending
    if section is None:
        return {}
    found = {
        "spend_per_client": _per_client(section, arms),
        "spend_categories": _categories(section, arms),
        "spend_periods": _periods(section, arms),
        "spend_severity": _severity(section),
        "spend_net": _net(doc, section, arms),
        "spend_dose": _dose(doc, section),
    }
    return {key: value for key, value in found.items() if value}

"""Who the budget reached (equity of discretion) and what a pound of it did (dose), in words.

Direction words ("more likely", "lowered") appear only when the interval excludes zero;
otherwise the sentence says the pilot could not tell. The dose sentences carry the
instrumental-variable assumption in plain words. Numbers come from typed rows only.
"""

from __future__ import annotations

from typing import Any

from trialkit.analyse.document import ResultsDocument
from trialkit.analyse.spending_rows import DoseRow, EquityGapRow, EquityRow
from trialkit.report import tables
from trialkit.report.phrases import Arms
from trialkit.report.scale import Scale
from trialkit.report.words import (
    amount,
    capitalise,
    estimated_share,
    few,
    lower_first,
    money,
    number,
    percent,
    short_label,
)

_YES_NO = {"1": "Yes", "0": "No", "True": "Yes", "False": "No", "true": "Yes", "false": "No"}
#: Below this first-stage F the instrument is weak (Staiger and Stock's rule of thumb).
WEAK_F = 10.0


def clear(low: float, high: float) -> bool:
    """Whether an interval excludes zero, so a direction may be named."""
    return low > 0 or high < 0


def _binary(level: str, reference: str) -> bool:
    return {_YES_NO.get(level), _YES_NO.get(reference)} == {"Yes", "No"}


def _groups(gap: EquityGapRow) -> tuple[str, str]:
    """The compared clients in words: ("clients aged 75 or over", "other clients")."""
    label = short_label(gap.label)
    if _binary(gap.level, gap.reference):
        if _YES_NO[gap.level] == "Yes":
            return label, "other clients"
        return "other clients", label
    return f"{label}: {gap.level}", f"{label}: {gap.reference}"


def _share(doc: ResultsDocument, gap: EquityGapRow, level: str) -> EquityRow | None:
    section = doc.spending
    rows = section.equity if section is not None else ()
    return next(
        (r for r in rows if (r.subgroup, r.arm, r.level) == (gap.subgroup, gap.arm, level)), None
    )


def _pair(doc: ResultsDocument, gap: EquityGapRow, money_of: Any) -> str:
    """ "71% against 58%" (or per-client money) of the two compared levels, when known."""
    this, other = _share(doc, gap, gap.level), _share(doc, gap, gap.reference)
    if this is None or other is None:
        return ""
    if gap.statistic == "share_receiving":
        return (
            f"{estimated_share(this.share_receiving)} against "
            f"{estimated_share(other.share_receiving)}, "
        )
    return f"{money_of(this.per_client)} against {money_of(other.per_client)} per client, "


def _sign(value: float, shown: str) -> str:
    """The sign of ``value`` as shown: none when it rounds to zero ("0", not "−0")."""
    if not any(ch in "123456789" for ch in shown):
        return ""
    return "−" if value < 0 else "+"


def gap_sentence(doc: ResultsDocument, gap: EquityGapRow, arms: Arms) -> str:
    """One equity gap in words: a direction only when the interval excludes zero."""
    currency = doc.spending.currency if doc.spending is not None else "GBP"

    def cash(value: float) -> str:
        return amount(value, currency, 0)

    def signed(value: float) -> str:  # the word joiner keeps the sign on the amount's line
        return _sign(value, cash(value)) + "\u2060" + cash(value)

    group, others = _groups(gap)
    share = gap.statistic == "share_receiving"
    points = Scale("", 100.0, 0)

    def pp(value: float) -> str:
        return _sign(value, points.amount(value)) + points.amount(value)

    if share:
        size, est = (
            f"{points.amount(gap.estimate)} percentage points",
            f"{pp(gap.estimate)} percentage points",
        )
        ends = f"{pp(gap.ci_low)} to {pp(gap.ci_high)} percentage points"
    else:
        size, est = cash(gap.estimate), signed(gap.estimate)
        ends = f"{signed(gap.ci_low)} to {signed(gap.ci_high)}"
    ci = f"{percent(gap.ci_level)} CI {ends}"
    who = f" under {arms.treatment(gap.arm)}" if len(arms.treated) > 1 else ""
    pair = _pair(doc, gap, cash)
    if not clear(gap.ci_low, gap.ci_high):
        what = (
            "were more or less likely to receive a spend"
            if share
            else "had more or less spent on them"
        )
        return (
            f"We could not tell whether {group}{who} {what} than {others}: "
            f"{pair}a difference of {est} ({ci})."
        )
    more = "more" if gap.estimate > 0 else "less"
    what = f"were {more} likely to receive a spend" if share else f"had {more} spent on them"
    # The named group (level "yes") receiving less is what equity monitoring looks for.
    unfair = gap.estimate < 0 and _binary(gap.level, gap.reference) and _YES_NO[gap.level] == "Yes"
    return (
        f"{capitalise(group)}{who} {what} than {others}: {pair}a difference of "
        f"{size} ({ci}).{' Check that this is fair.' if unfair else ''}"
    )


def equity_sentences(doc: ResultsDocument, arms: Arms) -> list[str]:
    """Did discretion reach the clients it should? One sentence per equity gap."""
    section = doc.spending
    if section is None:
        return []
    return [gap_sentence(doc, gap, arms) for gap in section.equity_gaps]


def equity_rows(doc: ResultsDocument, arms: Arms) -> list[dict[str, str]]:
    """One table row per equity group level and arm: clients, share receiving, spend each."""
    section = doc.spending
    if section is None:
        return []
    cash = section.currency
    return [
        {
            "group": r.label,
            "level": _YES_NO.get(r.level, r.level),
            "arm": arms.label(r.arm),
            "clients": few(r.clients),
            "share": estimated_share(r.share_receiving),
            "share_ci": f"{estimated_share(r.share_ci[0])} to {estimated_share(r.share_ci[1])}",
            "per_client": money(r.per_client, cash),
            "per_client_ci": f"{money(r.per_client_ci[0], cash, signed=True)} to "
            f"{money(r.per_client_ci[1], cash, signed=True)}",
        }
        for r in section.equity
    ]


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _dose_scale(doc: ResultsDocument, row: DoseRow) -> Scale:
    outcome = doc.protocol.outcome(row.outcome)
    binary = outcome.type == "binary"
    factor = 100.0 if binary else 1.0
    unit = "percentage points" if binary else outcome.unit
    return Scale(
        unit,
        factor,
        tables.digits_for([factor * v for v in (row.estimate, row.ci_low, row.ci_high)]),
    )


def dose_sentence(doc: ResultsDocument, row: DoseRow, arms: Arms) -> str:
    """What each ``per`` spent on a client did to one outcome (IV), direction only if clear."""
    outcome = doc.protocol.outcome(row.outcome)
    scale = _dose_scale(doc, row)
    per = money(row.per, doc.spending.currency if doc.spending is not None else "GBP")
    label = short_label(outcome.label)
    who = f" under {arms.treatment(row.arm)}" if len(arms.treated) > 1 else ""
    if not clear(row.ci_low, row.ci_high):
        text = (
            f"We could not tell whether money spent on a client{who} changed {label}: "
            f"the estimate per {per} is {scale.signed(row.estimate)} "
            f"({percent(row.ci_level)} CI {scale.signed(row.ci_low)} to "
            f"{scale.signed(row.ci_high)})."
        )
    else:
        word = "lowered" if row.estimate < 0 else "raised"
        good = (row.estimate < 0) == (outcome.direction == "lower_is_better")
        text = (
            f"Each {per} spent on a client{who} {word} {label} by "
            f"{scale.amount(row.estimate)} ({percent(row.ci_level)} CI between "
            f"{scale.end(row.ci_low)} and {scale.end(row.ci_high)}); this is "
            f"{'an improvement' if good else 'a change for the worse'}."
        )
    if row.first_stage_f is not None and row.first_stage_f < WEAK_F:
        text += (
            f" The allocation predicts spending only weakly here (first-stage F = "
            f"{number(row.first_stage_f)}, below {WEAK_F:g}), so this estimate is "
            "unreliable."
        )
    return text


def dose_sentences(doc: ResultsDocument, arms: Arms) -> list[str]:
    """Every dose estimate in words, then the assumption it rests on."""
    section = doc.spending
    if section is None or not section.dose:
        return []
    out = [dose_sentence(doc, row, arms) for row in section.dose]
    adjusted = {c for r in section.dose for c in r.adjusted_for}
    named = {c.name: lower_first(c.label) for c in doc.protocol.covariates}
    named |= {
        o.baseline: f"{short_label(o.label)} at baseline"
        for o in doc.protocol.outcomes
        if o.baseline and o.baseline not in named
    }
    labels = [named[n] for n in named if n in adjusted] + sorted(adjusted - set(named))
    also = f", adjusted like the main analysis for {_and(labels)}" if labels else ""
    out.append(
        "How to read this: the random allocation of teams is used as an instrument "
        f"for the money spent on each client (instrumental variables{also}). It is "
        "the effect of the money only if the budget changed clients' outcomes "
        "through the money spent on them and in no other way, not, for example, "
        "through workers' freedom or time; if it also worked in other ways, this "
        "overstates what the money itself did."
    )
    return out


def dose_rows(doc: ResultsDocument, arms: Arms) -> list[dict[str, str]]:
    """One table row per dose estimate: per-``per`` effect, interval, p, first-stage F."""
    section = doc.spending
    if section is None:
        return []
    rows = []
    for r in section.dose:
        scale = _dose_scale(doc, r)
        outcome = doc.protocol.outcome(r.outcome)
        rows.append(
            {
                "label": outcome.label,
                "unit": scale.unit,
                "arm": arms.label(r.arm),
                "per": money(r.per, section.currency),
                "estimate": tables.fmt(scale.factor * r.estimate, scale.digits),
                "ci": tables.fmt_ci(
                    scale.factor * r.ci_low, scale.factor * r.ci_high, scale.digits
                ),
                "p": tables.fmt_p(r.p_value),
                "f": tables.fmt(r.first_stage_f, 1),
                "n": f"{r.n_obs:,}" + (f" ({r.n_clusters} clusters)" if r.n_clusters else ""),
            }
        )
    return rows

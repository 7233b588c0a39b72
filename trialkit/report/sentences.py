"""Summary sentences beyond the headline: cost, misuse, fairness, targets and decisions.

Each function reads typed rows of the results document and returns short sentences in
GOV.UK style; probabilities from posterior draws are never printed as 0% or 100%.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trialkit.analyse.document import ResultsDocument
from trialkit.analyse.rows import DecisionRow, IndexRow, NetBenefitRow, SubgroupRow
from trialkit.analyse.trial_rows import MisuseRow
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.report import tables
from trialkit.report.phrases import Arms, condition_words
from trialkit.report.words import (
    capitalise,
    chance,
    chance_words,
    listed,
    money,
    percent,
    plural,
    short_label,
)


def _gain(amount: float, currency: str) -> str:
    return f"a {'gain' if amount >= 0 else 'loss'} of {money(abs(amount), currency)}"


def cost_sentences(rows: Sequence[NetBenefitRow], arms: Arms) -> list[str]:
    """Extra cost and posterior net benefit of each arm per randomised unit."""
    protocol = arms.protocol
    unit = protocol.units.name
    out = []
    for arm_id in arms.treated:
        arm = next(a for a in protocol.arms if a.id == arm_id)
        extra = arm.cost_per_unit - protocol.control.cost_per_unit
        name = capitalise(arms.treatment(arm_id))
        if extra:
            out.append(f"{name} cost {money(extra, protocol.costs.currency)} extra per {unit}.")
        row = next((r for r in rows if r.arm == arm_id), None)
        if row is None:
            continue
        names = [short_label(protocol.outcome(p.outcome).label) for p in row.parts]
        valued = listed(names)
        out.append(
            f"Counting the money value of the changes in {valued}, the net result of "
            f"{arms.treatment(arm_id)} was {_gain(row.per_unit_mean, row.currency)} per {unit} "
            f"(probably between {_gain(row.per_unit_ci_low, row.currency)} and "
            f"{_gain(row.per_unit_ci_high, row.currency)}). The chance that its benefits "
            f"outweighed its costs is {chance(row.p_positive)}."
        )
    return out


def misuse_sentences(
    misuse: MisuseRow | None, protocol: Protocol, *, ledger: bool = False
) -> list[str]:
    """Misuse observed against its tolerance, and the chance the true rate is above it.

    With a spend ledger (``ledger``) misuse is a review verdict of ``misuse`` or
    ``fraud``; otherwise it is the monitoring outcome's "unjustified".
    """
    if misuse is None:
        return []
    what = plural(misuse.level)
    judged = "misuse or fraud on review" if ledger else "unjustified"
    out = []
    if misuse.observed_rate is not None:
        share = percent(misuse.observed_rate, places=1)
        out.append(
            f"{misuse.cases} of {misuse.reviewed} {what} ({share}) were judged "
            f"{judged}; the tolerance was {percent(misuse.tolerance)}."
        )
    out.append(
        f"The chance that the true rate of misuse is above {percent(misuse.tolerance)} "
        f"is {chance(misuse.p_above_tolerance)} "
        f"({chance_words(misuse.p_above_tolerance)})."
    )
    return out


def equity_sentences(
    rows: Sequence[SubgroupRow], outcome: Outcome, arms: Arms, alpha: float
) -> list[str]:
    """Whether the effect of each arm on ``outcome`` differed across equity groups."""
    label = short_label(outcome.label)
    groups: dict[tuple[str, str], list[SubgroupRow]] = {}
    for row in rows:
        if row.equity and row.outcome == outcome.name:
            groups.setdefault((row.arm, row.subgroup), []).append(row)
    out = []
    for (arm, _), members in groups.items():
        het = members[0].heterogeneity_p
        name = short_label(members[0].label)
        who = f"for {arms.treatment(arm)}" if len(arms.treated) > 1 else ""
        if het is None:
            verdict = f"For {name}, we could not test whether the effect {who} differed"
        elif het >= alpha:
            verdict = (
                f"For {name}, the effect on {label} {who} was not clearly different "
                f"(heterogeneity {tables.p_is(het)})"
            )
        else:
            verdict = (
                f"For {name}, the effect on {label} {who} was different "
                f"(heterogeneity {tables.p_is(het)}); check that this is fair"
            )
        out.append(" ".join(verdict.split()) + ".")
    return out


def goodhart(
    indices: Sequence[IndexRow], labels: Mapping[str, str], arms: Arms
) -> list[dict[str, Any]]:
    """Per arm: say plainly when the targets moved but what they stand for did not.

    Indices are oriented so that positive means benefit; a family "moved" when its
    interval lies above zero.
    """
    out = []
    for arm in arms.treated:
        rows = [r for r in indices if r.arm == arm]
        targets = [r for r in rows if r.kind == "target"]
        shadows = [r for r in rows if r.kind == "shadow"]
        if not targets or not shadows:
            continue
        t_names = " and ".join(short_label(labels.get(r.family, r.family)) for r in targets)
        s_names = " and ".join(short_label(labels.get(r.family, r.family)) for r in shadows)
        t_moved = any(r.ci_low > 0 for r in targets)
        s_moved = all(r.ci_low > 0 for r in shadows)
        prefix = f"{capitalise(arms.treatment(arm))}: " if len(arms.treated) > 1 else ""
        if any(r.ci_high < 0 for r in shadows):
            text = (
                f"Warning: {s_names} got worse"
                + (f" while the targets ({t_names}) improved" if t_moved else "")
                + ". Check whether work on the targets crowded out what they serve."
            )
            tone = "warn"
        elif t_moved and not s_moved:
            text = (
                f"Warning: the targets ({t_names}) improved, but {s_names} did not clearly "
                f"improve. {capitalise(s_names)} is what the targets are meant to serve, "
                "so the targets may have been hit without the benefit they stand for."
            )
            tone = "warn"
        elif t_moved:
            text = f"The targets ({t_names}) improved, and so did {s_names}, what they serve."
            tone = "good"
        else:
            text = f"The targets ({t_names}) did not clearly move."
            tone = "neutral"
        out.append({"warning": tone == "warn", "tone": tone, "text": prefix + text})
    return out


def decisions(rows: Sequence[DecisionRow], protocol: Protocol) -> list[dict[str, Any]]:
    """Each decision rule's verdict with its conditions, per arm, in plain words."""
    several = len(Arms(protocol).treated) > 1
    out = []
    for rule in rows:
        conditions = [
            {
                "text": condition_words(protocol, c, c.arm if several else None),
                "observed": chance(c.probability),
                "verdict": tables.verdict("met" if c.met else "not met"),
            }
            for c in rule.conditions
        ]
        out.append(
            {
                "name": rule.rule.replace("_", " "),
                "verdict": tables.verdict("met" if rule.met else "not met")
                | {"text": "Met" if rule.met else "Not met"},
                "met": rule.met,
                "action": rule.action if rule.met else rule.otherwise,
                "conditions": conditions,
            }
        )
    return out


def shirking(doc: ResultsDocument, arms: Arms) -> list[dict[str, Any]]:
    """The shirking check: did effort proxies (visits, cases closed) fall under the reform?

    Reads the registered verdicts of the outcomes in ``shirking`` families: a harm is a
    warning; otherwise the sentence says no clear sign of shirking was found.
    """
    out = []
    for verdict in doc.shirking:
        outcome = doc.protocol.outcome(verdict.outcome)
        label = short_label(outcome.label)
        who = f" under {arms.treatment(verdict.arm)}" if len(arms.treated) > 1 else ""
        p_text = tables.p_is(verdict.p_value)
        if verdict.frequentist == "harm":
            text = (
                f"Warning: {label} got worse{who} ({p_text}), a sign that staff may have "
                "done less of what this measures. Look at it beside the outcomes."
            )
            tone = "warn"
        elif verdict.frequentist == "benefit":
            text = f"No sign of shirking: {label} improved{who} ({p_text})."
            tone = "good"
        else:
            text = (
                f"No clear sign of shirking: the pilot could not tell whether {label} "
                f"changed{who} ({p_text})."
            )
            tone = "neutral"
        out.append({"warning": tone == "warn", "tone": tone, "text": text})
    return out

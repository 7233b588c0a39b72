"""Decision rules and arms in plain words, shared by the plan and the report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trialkit.protocol import Protocol
from trialkit.protocol.analysis import Condition
from trialkit.report.words import percent, plural, quantity, short_label


def arm_phrases(protocol: Protocol) -> dict[str, str]:
    """Mid-sentence phrases for each arm: "teams given the discretionary budget"."""
    units = plural(protocol.units.name)
    return {
        arm.id: (
            f"{units} that kept {short_label(arm.label)}"
            if arm.control
            else f"{units} given the {short_label(arm.label)}"
        )
        for arm in protocol.arms
    }


def treatment_name(protocol: Protocol) -> str:
    """The first non-control arm, as "the discretionary budget"."""
    arm = next(a for a in protocol.arms if not a.control)
    return f"the {short_label(arm.label)}"


def condition_words(protocol: Protocol, condition: Condition | Mapping[str, Any]) -> str:
    """A decision-rule condition in plain words.

    Examples
    --------
    "We are at least 90% sure the discretionary budget improved loneliness."
    """
    get = condition.get if isinstance(condition, Mapping) else condition.__getattribute__
    name = str(get("outcome"))
    try:
        outcome = protocol.outcome(name)
    except KeyError:
        return f"A condition on `{name}`, which the protocol no longer lists."
    label = short_label(outcome.label)
    at_least, at_most = get("at_least"), get("at_most")
    threshold = at_least if at_least is not None else at_most
    if threshold is None and isinstance(condition, Mapping):
        threshold = condition.get("threshold")
        at_least = threshold if condition.get("comparison") == "at_least" else None
    bound = "at least" if at_least is not None else "at most"
    change = "reduced" if outcome.direction == "lower_is_better" else "increased"
    worse = "rose" if outcome.direction == "lower_is_better" else "fell"
    event, margin = get("event"), get("margin")
    if event == "benefit":
        what = f"{treatment_name(protocol)} {change} {label}"
    elif event == "at_least_mid":
        size = margin if margin is not None else outcome.mid
        amount = quantity(float(size), outcome.unit) if size is not None else "the MID"
        what = f"{treatment_name(protocol)} {change} {label} by at least {amount}"
    else:
        subject, unit, scale = label, outcome.unit, 1.0
        if outcome.type == "binary":
            subject = f"the share of {plural(outcome.level)} with {label[:1].lower() + label[1:]}"
            unit, scale = "percentage points", 100.0
        amount = quantity(float(margin) * scale, unit) if margin else ""
        what = f"{subject} {worse} by more than {amount}" if amount else f"{subject} got worse"
    return f"The chance that {what} is {bound} {percent(float(threshold or 0))}."


def rules_words(protocol: Protocol) -> list[dict[str, Any]]:
    """Every registered decision rule with its conditions in plain words."""
    return [
        {
            "name": rule.name.replace("_", " "),
            "action": rule.action,
            "otherwise": rule.otherwise,
            "conditions": [condition_words(protocol, c) for c in rule.conditions],
        }
        for rule in protocol.analysis.decision_rules
    ]

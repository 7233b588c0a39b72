"""Arms and decision rules in plain words, shared by the plan and the report."""

from __future__ import annotations

from dataclasses import dataclass

from trialkit.analyse.rows import ConditionRow
from trialkit.protocol import Protocol
from trialkit.protocol.analysis import Condition
from trialkit.protocol.outcomes import Outcome
from trialkit.report.words import percent, plural, quantity, short_label


@dataclass(frozen=True, slots=True)
class Arms:
    """How a protocol's arms are named mid-sentence, for any number of arms.

    In a stepped wedge every unit crosses over, so the comparison is between periods
    before and after a unit's switch, not between groups of units.
    """

    protocol: Protocol

    @property
    def wedge(self) -> bool:
        """Whether the design is a stepped wedge."""
        return self.protocol.design.stepped_wedge is not None

    @property
    def treated(self) -> list[str]:
        """The treated arms' ids, in protocol order."""
        return [a.id for a in self.protocol.arms if not a.control]

    def label(self, arm: str) -> str:
        """The arm's label as declared."""
        return next((a.label for a in self.protocol.arms if a.id == arm), arm)

    def treatment(self, arm: str) -> str:
        """The arm as a noun phrase: "the discretionary budget"."""
        return f"the {short_label(self.label(arm))}"

    def phrase(self, arm: str) -> str:
        """Where the treated are: "teams given the discretionary budget"."""
        units = plural(self.protocol.units.name)
        if self.wedge:
            return (
                f"periods after their {self.protocol.units.name} switched to {self.treatment(arm)}"
            )
        return f"{units} given {self.treatment(arm)}"

    @property
    def control_phrase(self) -> str:
        """Where the controls are: "teams that kept usual practice"."""
        control = short_label(self.protocol.control.label)
        if self.wedge:
            return "periods before the switch"
        return f"{plural(self.protocol.units.name)} that kept {control}"

    def people(self, outcome: Outcome) -> str:
        """Who an outcome is measured on, plural: "clients"."""
        return plural(outcome.level)


def condition_words(
    protocol: Protocol, condition: Condition | ConditionRow, arm: str | None = None
) -> str:
    """A decision-rule condition in plain words, for one arm or (``None``) every arm.

    Examples
    --------
    "The chance that the discretionary budget reduced loneliness is at least 90%."
    """
    try:
        outcome = protocol.outcome(condition.outcome)
    except KeyError:
        return f"A condition on `{condition.outcome}`, which the protocol no longer lists."
    arms = Arms(protocol)
    treatment = (
        arms.treatment(arm)
        if arm
        else (
            arms.treatment(arms.treated[0]) if len(arms.treated) == 1 else "each new way of working"
        )
    )
    label = short_label(outcome.label)
    if isinstance(condition, ConditionRow):
        bound, threshold = condition.bound, condition.threshold
    else:
        bound = "at_least" if condition.at_least is not None else "at_most"
        threshold = (
            condition.at_least if condition.at_least is not None else condition.at_most or 0.0
        )
    change = "reduced" if outcome.direction == "lower_is_better" else "increased"
    worse = "rose" if outcome.direction == "lower_is_better" else "fell"
    margin = condition.margin
    if condition.event == "benefit":
        what = f"{treatment} {change} {label}"
    elif condition.event == "at_least_mid":
        size = margin if margin is not None else outcome.mid
        amount = quantity(float(size), outcome.unit) if size is not None else "the MID"
        what = f"{treatment} {change} {label} by at least {amount}"
    else:
        subject, unit, scale = label, outcome.unit, 1.0
        if outcome.type == "binary":
            subject = f"the share of {plural(outcome.level)} with {label}"
            unit, scale = "percentage points", 100.0
        amount = quantity(float(margin) * scale, unit) if margin else ""
        what = f"{subject} {worse} by more than {amount}" if amount else f"{subject} got worse"
        what += f" under {treatment}"
    words = "at least" if bound == "at_least" else "at most"
    return f"The chance that {what} is {words} {percent(threshold)}."


def rules_words(protocol: Protocol) -> list[dict[str, object]]:
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

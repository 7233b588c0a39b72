"""Arms and the interventions they deliver, in replicable detail (CONSORT 13, TIDieR)."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from trialkit.protocol.base import Name, StrictModel, Text
from trialkit.protocol.vocabulary import Justification, Mechanism, Period


class DiscretionaryBudget(StrictModel):
    """Money front-line staff may spend on their own judgement, justified as declared."""

    cap_per_client: float = Field(gt=0, description="Most that may be spent on one client.")
    cap_per_period: float | None = Field(
        None, gt=0, description="Most per staff member per period."
    )
    period: Period = "month"
    currency: str = Field("GBP", pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")
    allowed_uses: tuple[Text, ...] = Field(min_length=1)
    excluded_uses: tuple[Text, ...] = ()
    justification: Justification = "after_the_fact"
    justification_detail: Text
    review: Text = Field(description="How spending is reviewed, and who judges misuse.")


class RuleOverride(StrictModel):
    """A named rule that staff may set aside, with how they justify doing so."""

    rule: Text
    description: Text
    justification: Justification = "after_the_fact"


class Intervention(StrictModel):
    """What an arm receives."""

    summary: Text
    description: Text
    delivered_by: Text = "Front-line staff"
    mechanisms: tuple[Mechanism, ...] = ()
    discretionary_budget: DiscretionaryBudget | None = None
    rule_overrides: tuple[RuleOverride, ...] = ()
    materials: str | None = None


class Arm(StrictModel):
    """One arm of the pilot."""

    id: Name
    label: Text
    ratio: PositiveInt = Field(1, description="Relative share of units, e.g. 1 for 1:1.")
    control: bool = False
    intervention: Intervention
    cost_per_unit: float = Field(
        0.0, ge=0, description="Extra cost of this arm per randomised unit over the pilot."
    )

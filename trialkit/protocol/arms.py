"""Arms and the interventions they deliver, in replicable detail (CONSORT 13, TIDieR)."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from trialkit.protocol.base import Name, StrictModel, Text
from trialkit.protocol.vocabulary import Justification, Mechanism, Period


class SpendCategory(StrictModel):
    """A category of spend as the ledger codes it; excluded ones break the rules."""

    name: Name
    label: Text
    allowed: bool = True


class DiscretionaryBudget(StrictModel):
    """Money front-line staff may spend on their own judgement, justified as declared.

    Each cap is checked against the spend ledger (:class:`~trialkit.protocol.spending.
    Spending`); a spend that breaks one is a compliance finding, reported, never dropped.
    """

    cap_per_client: float = Field(
        gt=0, description="Most that may be spent on one client over the pilot."
    )
    cap_per_client_per_period: float | None = Field(
        None, gt=0, description="Most that may be spent on one client per period."
    )
    cap_per_period: float | None = Field(
        None, gt=0, description="Most per staff member per period."
    )
    cap_per_unit_per_period: float | None = Field(
        None, gt=0, description="Most per randomised unit (e.g. team) per period."
    )
    period: Period = "month"
    categories: tuple[SpendCategory, ...] = Field(
        (),
        description="The ledger's category codes; a spend in a category with "
        "`allowed: false` (e.g. cash to clients) is a finding, one in an undeclared "
        "category a data error. Empty: categories are not checked.",
    )
    justification_days: PositiveInt | None = Field(
        None,
        description="Working days after the spend by which it must be justified "
        "(public holidays of `spending.calendar` excluded).",
    )
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

"""Planning assumptions, costs, value and misuse monitoring."""

from __future__ import annotations

from pydantic import Field

from trialkit.protocol.base import Name, Probability, StrictModel, Text
from trialkit.protocol.spending import GreenTape


class PowerPlan(StrictModel):
    """Design-wide power assumptions (per-outcome ones live in ``Outcome.assumptions``)."""

    target: Probability = 0.8
    attrition: float = Field(0.1, ge=0, lt=1, description="Share of measurements expected lost.")
    unit_attrition: float = Field(0.0, ge=0, lt=1, description="Share of units expected lost.")
    compliance: float = Field(1.0, gt=0, le=1, description="Share of treated units taking it up.")
    variants: tuple[int, ...] = Field((), description="Other numbers of units to compare.")


class Misuse(StrictModel):
    """How misuse of new freedom is monitored and what rate is tolerable.

    With a spend ledger (``spending:``) misuse is read from each spend's review verdict
    (``misuse`` or ``fraud``) and ``outcome`` is left out; otherwise ``outcome`` names a
    binary monitoring outcome (1 = misused).
    """

    outcome: Name | None = None
    description: Text
    tolerance: Probability
    cost_per_case: float = Field(0.0, ge=0, description="Money lost in a typical misuse case.")


class Costs(StrictModel):
    """Budget and currency; arm costs live on arms, outcome values on outcomes."""

    currency: str = Field("GBP", pattern=r"^[A-Z]{3}$")
    budget: float | None = Field(None, gt=0)
    horizon: Text = "the pilot period"
    misuse: Misuse | None = None
    green_tape: GreenTape | None = Field(
        None,
        description="What the approval rules the reform replaces cost each control "
        "unit, so misuse is reported net of the green tape saved.",
    )

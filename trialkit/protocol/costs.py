"""Planning assumptions, costs, value and misuse monitoring."""

from __future__ import annotations

from pydantic import Field

from trialkit.protocol.base import Name, Probability, StrictModel, Text


class PowerPlan(StrictModel):
    """Design-wide power assumptions (per-outcome ones live in ``Outcome.assumptions``)."""

    target: Probability = 0.8
    attrition: float = Field(0.1, ge=0, lt=1, description="Share of measurements expected lost.")
    unit_attrition: float = Field(0.0, ge=0, lt=1, description="Share of units expected lost.")
    compliance: float = Field(1.0, gt=0, le=1, description="Share of treated units taking it up.")
    variants: tuple[int, ...] = Field((), description="Other numbers of units to compare.")


class Misuse(StrictModel):
    """How misuse of new freedom is monitored and what rate is tolerable."""

    outcome: Name
    description: Text
    tolerance: Probability
    cost_per_case: float = Field(0.0, ge=0, description="Money lost in a typical misuse case.")


class Costs(StrictModel):
    """Budget and currency; arm costs live on arms, outcome values on outcomes."""

    currency: str = Field("GBP", pattern=r"^[A-Z]{3}$")
    budget: float | None = Field(None, gt=0)
    horizon: Text = "the pilot period"
    misuse: Misuse | None = None

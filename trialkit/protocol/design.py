"""How units are assigned to arms."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from trialkit.protocol.base import Column, StrictModel
from trialkit.protocol.vocabulary import DesignType, Framework, SchemeName


class Rerandomisation(StrictModel):
    """Morgan–Rubin rerandomisation: redraw until Mahalanobis balance passes a threshold."""

    covariates: tuple[Column, ...] = Field(min_length=1)
    acceptance: float = Field(
        0.05, gt=0, le=1, description="Share of draws accepted (sets the Mahalanobis threshold)."
    )
    max_draws: PositiveInt = 1_000_000


class SteppedWedge(StrictModel):
    """Clusters cross from control to the intervention at staggered steps."""

    steps: int = Field(description="Number of crossover steps (sequences); at least 2.")
    periods: int = Field(description="Measurement periods; at least steps + 1.")
    period_column: Column = "period"
    period_length: str = "3 months"


class Design(StrictModel):
    """The trial design and its randomisation scheme."""

    type: DesignType
    framework: Framework = "superiority"
    scheme: SchemeName
    cluster_column: Column | None = None
    block_columns: tuple[Column, ...] = ()
    pair_on: tuple[Column, ...] = ()
    rerandomisation: Rerandomisation | None = None
    stepped_wedge: SteppedWedge | None = None
    seed: int = Field(ge=0, lt=2**63, description="Seed of the allocation's random stream.")

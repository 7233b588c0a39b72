"""The spend ledger: how discretionary spending is recorded, reviewed and audited.

The rules a spend must keep (caps, categories, the justification deadline) belong to the
arm that has the budget (:class:`~trialkit.protocol.arms.DiscretionaryBudget`); this
section says where the ledger lives and how to read it: which level holds one row per
spend, its columns, the calendar of working days, who reviews spends and whether every
spend or a sample is reviewed.
"""

from __future__ import annotations

from pydantic import Field, PositiveInt

from trialkit.protocol.base import Column, Name, StrictModel, Text
from trialkit.protocol.vocabulary import AuditStratum, ReviewCoverage


class SpendColumns(StrictModel):
    """Column names of the spend ledger (the level's own id and unit columns aside).

    Dates are ISO (``2027-03-14``) or spreadsheet dates; ``amount`` and ``loss`` are in
    the budget's currency; ``verdict`` holds one of ``appropriate``, ``poor_value``,
    ``misuse``, ``fraud`` (empty while not reviewed); ``loss`` is the reviewer's estimate
    of money lost (0 for an appropriate spend).
    """

    worker: Column = "staff_id"
    client: Column = "client_id"
    date: Column = "spent_on"
    amount: Column = "amount"
    currency: Column = "currency"
    category: Column = "category"
    justification: Column = "justification"
    justified_on: Column = "justified_on"
    verdict: Column = "review_verdict"
    loss: Column = "loss"


class SpendReview(StrictModel):
    """Who reviews spends, and whether all of them or an audit sample."""

    reviewer: Text = Field(description="Who judges each spend, e.g. a peer panel.")
    coverage: ReviewCoverage = Field(
        "all",
        description="`all`: every spend is reviewed; `sample`: only the spends "
        "`trialkit audit-sample` drew (estimates then carry inclusion weights).",
    )
    sample_size: PositiveInt | None = Field(
        None, description="Spends to review when `coverage: sample`."
    )
    strata: tuple[AuditStratum, ...] = Field(
        ("amount", "category"), description="What the audit sample is stratified by."
    )
    amount_bands: tuple[float, ...] = Field(
        (50.0, 150.0), description="Amount boundaries of the size strata, ascending."
    )
    large_spend_share: float = Field(
        1.0,
        gt=0,
        le=1,
        description="Sampling rate of the top size band (1: review every "
        "spend above the last boundary); the other bands share the rest of the sample.",
    )


class Spending(StrictModel):
    """The spend ledger: one row per discretionary spend, a first-class data level."""

    level: Name = Field(
        "spend", description="The level declared under `levels:` whose rows are spends."
    )
    worker_level: Name | None = Field(
        "staff", description="The level of the staff who spend (its id column is `columns.worker`)."
    )
    client_level: Name | None = Field(
        "client",
        description="The level of the clients spent on (its id column is `columns.client`).",
    )
    columns: SpendColumns = SpendColumns()
    calendar: str = Field(
        "GB-ENG",
        pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$",
        description="Country and subdivision whose public holidays are not working days "
        "(ISO 3166, e.g. `GB-ENG`, `GB-SCT`, `IE`), from the `holidays` package.",
    )
    control_may_spend: bool = Field(
        False,
        description="Whether control units may spend at all (declared "
        "contamination); otherwise each control spend is a compliance finding.",
    )
    review: SpendReview
    dose_per: float = Field(
        100.0,
        gt=0,
        description="Money per unit of dose in the dose analysis (CACE per £100 spent).",
    )


class GreenTape(StrictModel):
    """The cost of the rules a discretionary budget replaces (prior approval)."""

    description: Text
    requests_per_unit: float = Field(
        ge=0, description="Approval requests one control unit makes over the horizon."
    )
    hours_per_request: float = Field(
        ge=0, description="Staff hours per request, all people involved."
    )
    cost_per_hour: float = Field(ge=0, description="Cost of an hour of that time.")
    source: Text | None = None

    @property
    def cost_per_unit(self) -> float:
        """What prior approval costs one unit over the horizon."""
        return self.requests_per_unit * self.hours_per_request * self.cost_per_hour

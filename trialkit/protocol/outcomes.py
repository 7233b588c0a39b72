"""Outcomes, their families, covariates and pre-specified subgroups (CONSORT 14, SPIRIT 16)."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from trialkit.protocol.base import Column, Name, StrictModel, Text
from trialkit.protocol.vocabulary import (
    CovariateType,
    Direction,
    FamilyKind,
    IndexMethod,
    MultiplicityMethod,
    OutcomeRole,
    OutcomeType,
)


class Assumptions(StrictModel):
    """What the power calculation and the simulated data assume about an outcome.

    ``mean``/``sd`` describe the control arm of a continuous, count or ordinal score; ``rate``
    the control proportion of a binary outcome; ``effect`` the hoped-for effect in outcome
    units (signed). ``icc`` is the intra-cluster correlation; ``r2`` and ``r2_cluster`` the
    share of variance explained by covariates at the individual and cluster level.
    ``distribution`` gives control-arm probabilities of each level of an ordinal outcome.
    For a survival outcome, ``rate`` is the control share with the event by the horizon,
    ``hazard_ratio`` the hoped-for hazard ratio, and ``effect`` the implied difference in
    restricted mean time (days).
    """

    mean: float | None = None
    sd: float | None = Field(None, gt=0)
    rate: float | None = Field(None, gt=0, lt=1)
    effect: float
    icc: float = Field(0.0, ge=0, lt=1)
    r2: float = Field(0.0, ge=0, lt=1)
    r2_cluster: float = Field(0.0, ge=0, lt=1)
    distribution: tuple[float, ...] = ()
    hazard_ratio: float | None = Field(
        None, gt=0, description="Survival outcomes: the hoped-for hazard ratio (treated/control)."
    )
    source: str = "Not stated"


class Survival(StrictModel):
    """How a time-to-event outcome (``type: survival``) is read from the data.

    Each row is followed from ``start_column`` (e.g. the date a worker joined; the pilot's
    ``dates.intervention_start`` when absent, or when joining was earlier) until
    ``end_column`` (the date follow-up ended early, e.g. the leaving date; empty while still
    at risk), or else until ``follow_up_end`` (``dates.end`` when absent), where it is
    censored. ``reason_column`` says why follow-up ended: a reason in ``event_reasons`` is
    the event (every end date is the event when none are listed), one in
    ``competing_reasons`` a competing event (e.g. a transfer within the council), any other
    a censoring. Validation derives the time in days (the outcome's own column name) and
    ``<name>_event`` (0 censored, 1 event, 2 competing event). ``horizon_days`` is the
    horizon of the restricted mean survival time (RMST) and of the decision about it.
    """

    end_column: Column
    start_column: Column | None = None
    reason_column: Column | None = None
    event_reasons: tuple[Text, ...] = ()
    competing_reasons: tuple[Text, ...] = ()
    follow_up_end: dt.date | None = None
    horizon_days: int = Field(gt=0)


class Outcome(StrictModel):
    """A pre-registered outcome.

    A ``survival`` outcome is time to an event in days, with ``survival`` saying how it is
    read from the data; its ``effect``, ``mid`` and ``rope`` are differences in restricted
    mean time (days) up to ``survival.horizon_days``.

    A ``count`` outcome with ``exposure`` is a rate: each row's count over its exposure
    (e.g. days lost to sickness over FTE-years in post). Its ``unit``, ``mean``, ``sd``,
    ``effect``, ``mid`` and ``rope`` are per unit of exposure; ``range`` bounds the count.
    Each arm's rate is its total count over its total exposure.
    """

    name: Name
    label: Text
    role: OutcomeRole
    family: Name | None = None
    level: Name = Field(description="The unit or level name at which it is measured.")
    column: Column | None = Field(None, description="Column in the data; defaults to `name`.")
    type: OutcomeType
    range: tuple[float, float] | None = None
    levels: tuple[Text, ...] = Field(
        (), description="Ordinal (Likert) labels from lowest to highest."
    )
    unit: str = ""
    direction: Direction
    mid: float | None = Field(None, gt=0, description="Minimum important difference (units).")
    rope: float | None = Field(
        None, gt=0, description="Half-width of the region of practical equivalence (units)."
    )
    timing: Text
    measurement: Text
    baseline: Column | None = Field(None, description="Column with the baseline measure.")
    value_per_unit: float | None = Field(
        None, description="Money value of a one-unit change in the direction of benefit."
    )
    assumptions: Assumptions | None = None
    survival: Survival | None = None
    exposure: Column | None = Field(
        None,
        description="Count outcomes: the column with each row's exposure (e.g. FTE-years in "
        "post during the period); the outcome is then analysed as a rate per unit of it.",
    )

    @property
    def data_column(self) -> str:
        """The column holding this outcome in the data."""
        return self.column or self.name


class Family(StrictModel):
    """Outcomes analysed together: one multiplicity correction and one summary index.

    ``kind`` marks a family holding the targets the reform is managed by (``target``) or
    the broader goods a target could crowd out (``shadow``), so reports can say plainly when
    the target moved but what it stands for did not.
    """

    name: Name
    label: Text
    kind: FamilyKind = "general"
    multiplicity: MultiplicityMethod = "holm"
    index: IndexMethod = "anderson"


class Covariate(StrictModel):
    """A baseline covariate used for balance checks and, if ``adjust``, for adjustment."""

    name: Name
    label: Text
    column: Column | None = None
    level: Name
    type: CovariateType = "continuous"
    adjust: bool = True
    mean: float | None = Field(None, description="Expected mean (used to simulate data).")
    sd: float | None = Field(None, gt=0, description="Expected SD (used to simulate data).")
    rate: float | None = Field(
        None, gt=0, lt=1, description="Expected share of 1s for a binary covariate."
    )

    @property
    def data_column(self) -> str:
        """The column holding this covariate."""
        return self.column or self.name


class Subgroup(StrictModel):
    """A pre-specified subgroup; ``equity`` marks groups of citizens whose fairness is at stake."""

    name: Name
    label: Text
    column: Column
    level: Name
    equity: bool = False
    levels: tuple[Text, ...] = ()
    shares: tuple[float, ...] = Field(
        (), description="Expected share of each level (for power checks and simulated data)."
    )

"""Rows of the results document about the trial itself: provenance, registration,
deviations, participant flow, attrition, balance, power, misuse and the design schematic.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trialkit.analyse.rows import Number, Row


class DocumentProvenance(Row):
    """What produced the results: trialkit version, protocol hash, seed, inputs, libraries."""

    trialkit_version: str
    protocol_hash: str
    seed: int
    created_utc: str
    inputs: dict[str, str] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)


class RegistrationInfo(Row):
    """The registration the analysis was compared with, if any."""

    registered: bool
    protocol_hash: str | None = None
    registered_utc: str | None = None
    trialkit_version: str | None = None


class DeviationRow(Row):
    """One field that differs from the registered protocol.

    ``kind`` is ``amendment`` for a change made before outcome data were first validated,
    ``deviation`` after it (or when that cannot be told).
    """

    field: str
    registered: str
    current: str
    severity: Literal["major", "minor"]
    kind: Literal["amendment", "deviation"] = "deviation"
    reason: str = ""


class FlowArm(Row):
    """CONSORT flow counts of one arm for the primary outcome."""

    arm: str
    label: str
    clusters_allocated: int | None
    individuals_allocated: int
    clusters_received: int | None
    individuals_received: int | None
    clusters_lost: int | None
    individuals_lost: int
    clusters_analysed: int | None
    individuals_analysed: int
    clusters_excluded: int | None
    individuals_excluded: int
    mean_cluster_size: Number = None
    min_cluster_size: int | None = None
    max_cluster_size: int | None = None
    lost_reasons: tuple[tuple[str, int], ...] = ()


class Flow(Row):
    """The CONSORT flow of the first primary outcome with data."""

    outcome: str
    level: str
    arms: tuple[FlowArm, ...]


class AttritionRow(Row):
    """Attrition of one outcome in one arm, counted as clusters or individuals.

    ``measured`` is false when the outcome's level does not exist in this arm by design
    (e.g. spending records in the control arm): such an arm is not attrition.
    """

    outcome: str
    level: Literal["cluster", "individual"]
    arm: str
    assigned: int
    followed_up: int
    analysed: int
    attrition: Number
    measured: bool = True
    note: str = ""


class AttritionCheckRow(Row):
    """Overall and differential attrition of one arm against control, with WWC verdicts."""

    outcome: str
    level: Literal["cluster", "individual"]
    arm: str
    control: str
    overall: float
    differential: float
    cautious_limit: Number
    cautious: str
    optimistic_limit: Number
    optimistic: str


class BalanceRow(Row):
    """Baseline balance of one covariate: each group's mean and N, and one comparison.

    ``groups`` are arms, or the sequences of a stepped wedge; ``group`` is the one
    compared with ``reference`` (control, or the first sequence).
    """

    covariate: str
    label: str
    level: str
    kind: Literal["binary", "continuous"]
    group: str
    reference: str
    means: dict[str, Number]
    n: dict[str, int]
    std_diff: Number
    verdict: str


class PowerRow(Row):
    """Design power and MDE of one outcome and comparison (``trialkit power`` columns).

    ``alpha`` is the two-sided alpha, ``effect_unit`` the unit of ``effect`` and ``mde``, and
    ``under_powered`` says the MDE exceeds the hoped-for effect.
    """

    outcome: str
    role: str
    comparison: str
    model: str
    n_units: Number
    n_clusters: Number
    cluster_size: Number
    icc: Number
    effect: Number
    power: Number
    target_power: Number
    mde: Number
    mde_standardised: Number
    mde_cace: Number
    design_effect: Number
    effective_n: Number
    df: Number
    alpha_per_comparison: Number
    test: str | None
    note: str | None
    alpha: Number = None
    effect_unit: str | None = None
    under_powered: bool | None = None


class MisuseRow(Row):
    """The misuse rate among units given the new freedom: Beta posterior, tolerance, cost."""

    outcome: str
    label: str
    description: str
    level: str
    cases: int
    reviewed: int
    observed_rate: Number
    tolerance: float
    currency: str
    alpha: float
    beta: float
    mean: float
    median: float
    ci_low: float
    ci_high: float
    p_above_tolerance: float
    population: int
    expected_events: float
    events_ci: tuple[float, float]
    expected_cost: Number
    cost_ci: tuple[Number, Number]


class SequenceRow(Row):
    """One stepped-wedge sequence: its clusters and its exposure in each period."""

    label: str
    clusters: int
    exposed: tuple[bool, ...]


class SteppedWedgeSchematic(Row):
    """The stepped-wedge design as sequences × periods."""

    periods: tuple[str, ...]
    sequences: tuple[SequenceRow, ...]

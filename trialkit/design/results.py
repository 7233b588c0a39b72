"""Results of power calculations: one solved design, and a table of them for power curves."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Literal

import pandas as pd

from trialkit.design._engine import Adjustment, MdeMethod
from trialkit.design.outcomes import BinaryMethod, OutcomeKind
from trialkit.protocol.vocabulary import DesignType

SolveFor = Literal["power", "effect", "n", "clusters", "cluster_size"]


@dataclass(frozen=True, slots=True)
class PowerResult:
    """A power calculation, complete: every input, the solved quantity, and its by-products.

    Attributes
    ----------
    design
        ``"individual"``, ``"cluster"`` or ``"stepped_wedge"``.
    outcome
        ``"continuous"``, ``"binary"`` or ``"survival"`` (time to event).
    solved_for
        Which quantity was solved for: ``"power"``, ``"effect"`` (the MDE), ``"n"``,
        ``"clusters"`` or ``"cluster_size"``.
    power
        Power at ``effect`` with the (rounded-up) sizes shown.
    effect
        The effect to detect, or the MDE when ``solved_for == "effect"``: a difference in
        outcome units (continuous), a risk difference (binary) or a hazard ratio, treated
        over control (survival). It is the effect of receiving treatment; the ITT effect is
        ``compliance * effect``.
    standardised_effect
        ``effect / sd`` (continuous), Cohen's h (binary) or the log hazard ratio (survival).
    p_control, p_treatment
        Control and treated proportions (binary outcomes), or shares with the event by the
        horizon (survival); ``None`` otherwise.
    sd
        Outcome standard deviation (continuous; ``None`` for binary outcomes).
    binary_method
        ``"arcsine"``, ``"unpooled"`` or ``"pooled"`` for binary outcomes, ``None`` otherwise.
    alpha, alpha_per_comparison, adjustment
        Family-wise two-sided level, the level each treatment-versus-control test uses,
        and the adjustment that links them (``"bonferroni"``, ``"dunnett"``, ``"none"``).
    n_arms, treated_share, control_share
        Number of arms and the shares of all units (clusters) in each treatment arm and in
        control. For a stepped wedge, the share of cluster-periods treated and not.
    n_units
        Units to recruit, all arms together (before attrition).
    n_analysed
        Units expected in the analysis, ``n_units * (1 - attrition)``.
    n_clusters, cluster_size
        Clusters (all arms) and mean units recruited per cluster (per cluster-period for a
        stepped wedge); ``None`` for individual designs.
    steps, periods
        Stepped-wedge sequences and measurement periods; ``None`` otherwise.
    icc, cv, r2_individual, r2_cluster, covariates
        Intra-cluster correlation, coefficient of variation of cluster sizes, variance
        shares explained by covariates at each level, and covariates counted in the df.
    attrition, cluster_attrition, compliance
        Expected shares of units and of whole clusters lost, and the share of the treated
        arm taking up treatment.
    design_effect
        Variance inflation from clustering, ``1 + ((cv² + 1) m̄ − 1) ICC`` (Eldridge et al.
        2006) for cluster designs, the stepped wedge's variance over that of an individually
        randomised trial of the same size, and 1 for individual designs. Covariates are not
        included.
    effective_n
        ``n_analysed / design_effect``.
    df
        Degrees of freedom of the test; ``None`` for a normal (z) reference.
    std_error
        Standard error of the ITT estimate on the test scale at the shown sizes.
    test
        The test and power method in words.
    mde_method
        ``"exact"`` (noncentral-t inversion) or ``"multiplier"`` (Bloom/PowerUp! ``M·SE``).
    size_exact
        The unrounded solution when a size was solved for, ``None`` otherwise.
    events
        Expected events in the comparison (survival outcomes), ``None`` otherwise.
    """

    design: DesignType
    outcome: OutcomeKind
    solved_for: SolveFor
    power: float
    effect: float
    standardised_effect: float
    p_control: float | None
    p_treatment: float | None
    sd: float | None
    binary_method: BinaryMethod | None
    alpha: float
    alpha_per_comparison: float
    adjustment: Adjustment
    n_arms: int
    treated_share: float
    control_share: float
    n_units: int
    n_analysed: float
    n_clusters: int | None
    cluster_size: float | None
    steps: int | None
    periods: int | None
    icc: float
    cv: float
    r2_individual: float
    r2_cluster: float
    covariates: int
    attrition: float
    cluster_attrition: float
    compliance: float
    design_effect: float
    effective_n: float
    df: float | None
    std_error: float
    test: str
    mde_method: MdeMethod
    size_exact: float | None
    events: float | None = None

    @property
    def mde(self) -> float:
        """The effect; the minimum detectable effect when ``solved_for == "effect"``."""
        return self.effect

    def to_frame(self) -> pd.DataFrame:
        """One row with every attribute as a column."""
        return pd.DataFrame([asdict(self)], columns=[f.name for f in fields(self)])

    def summary(self) -> str:
        """A fixed-width text summary: the solved quantity first, then the assumptions."""
        rows = [(name, _fmt(value)) for name, value in asdict(self).items() if value is not None]
        width = max(len(name) for name, _ in rows)
        header = f"Power calculation ({self.design}, {self.outcome}), solved for {self.solved_for}"
        return "\n".join([header, *(f"  {name:<{width}}  {value}" for name, value in rows)])

    def __str__(self) -> str:
        return self.summary()


@dataclass(frozen=True, slots=True)
class PowerCurve:
    """Power calculations over a grid of sizes and effects, for tables and figures.

    Attributes
    ----------
    rows
        One :class:`PowerResult` per grid point, in grid order.
    varied
        Names of the parameters varied over the grid.
    grid
        The grid point of each row, in the order of ``varied``.
    """

    rows: tuple[PowerResult, ...]
    varied: tuple[str, ...]
    grid: tuple[tuple[float, ...], ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per grid point: ``grid_<name>`` columns first, then every result column."""
        frame = pd.DataFrame.from_records(
            [asdict(row) for row in self.rows], columns=[f.name for f in fields(PowerResult)]
        )
        grid = pd.DataFrame.from_records(
            list(self.grid), columns=[f"grid_{name}" for name in self.varied]
        )
        return pd.concat([grid, frame], axis=1)

    def summary(self) -> str:
        """A fixed-width table of the grid with power, effect and sizes."""
        shown = [f"grid_{name}" for name in self.varied] + [
            "power",
            "effect",
            "n_units",
            "n_clusters",
            "cluster_size",
        ]
        return (
            self.to_frame().loc[:, shown].to_string(index=False, float_format=lambda v: f"{v:.4g}")
        )

    def __str__(self) -> str:
        return self.summary()


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)

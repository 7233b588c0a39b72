"""Power for a protocol: every outcome with declared assumptions, at the planned size.

How each outcome is treated:

- **Model.** An outcome measured on the randomised unit is analysed as an individually
  randomised trial of ``units.planned`` units (a stepped wedge: one measurement per
  cluster-period). An outcome measured at a level below the unit (clients of a team, claims
  of a caseworker) is clustered in the unit: ``per_unit.mean`` units per cluster with
  ``per_unit.cv``, the outcome's ICC and R² at both levels. In a stepped wedge
  ``per_unit.mean`` is read as the number measured per cluster per period.
- **Outcome scale.** Binary outcomes use ``rate`` and Cohen's h (arcsine); continuous,
  count and proportion outcomes use ``sd``; ordinal outcomes use the SD of the level scores
  (1, 2, ...) under ``distribution``. Effects are in outcome units (risk differences).
- **Survival.** A time-to-event outcome is modelled ``"survival"``: Schoenfeld's events
  formula with the cluster design effect (:mod:`.survival`), from ``rate`` (control share
  with the event by ``survival.horizon_days``), ``hazard_ratio`` and ``icc``. Its effect and
  MDE are hazard ratios, and its note gives the expected events; it has no complier MDE.
  Stepped wedges do not assess it.
- **Arms.** Each treatment arm is compared with control, with shares from the arms'
  ratios and, with more than two arms, Bonferroni-adjusted alpha.
- **Attrition.** ``power.attrition`` removes measurements, ``power.unit_attrition`` whole
  units (clusters); a stepped wedge ignores unit attrition.
- **Compliance.** The effect and MDE are ITT. When a CACE estimand is declared, the
  complier MDE ``mde / compliance`` is reported too.
- Covariates counted in the df are those marked ``adjust`` at the unit's level. Blocking
  and family-wise multiplicity across outcomes are not credited or charged, and the
  stepped-wedge variance (Hussey & Hughes 2007) takes no credit for R².
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from trialkit._core.provenance import Provenance
from trialkit.design._checks import NoSolutionError
from trialkit.design.cluster import solve_cluster
from trialkit.design.individual import solve_individual
from trialkit.design.outcomes import BinaryOutcome, ContinuousOutcome, EffectDirection, Outcome
from trialkit.design.results import PowerResult
from trialkit.design.stepped_wedge import solve_stepped_wedge
from trialkit.design.survival import SurvivalOutcome, solve_survival

if TYPE_CHECKING:
    from trialkit.protocol import Protocol
    from trialkit.protocol.arms import Arm
    from trialkit.protocol.outcomes import Outcome as ProtocolOutcome

PowerModel = Literal["individual", "cluster", "stepped_wedge", "survival"]
Spec = Outcome | SurvivalOutcome

#: Columns of :meth:`PowerTable.to_frame`, in order.
POWER_COLUMNS: tuple[str, ...] = (
    "outcome", "role", "comparison", "model", "n_units", "n_clusters", "cluster_size",
    "icc", "effect", "power", "target_power", "mde", "mde_standardised", "mde_cace",
    "design_effect", "effective_n", "df", "alpha_per_comparison", "test", "note",
    "alpha", "effect_unit", "under_powered",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PowerRow:
    """Power and MDE of one outcome for one treatment-versus-control comparison.

    Attributes
    ----------
    outcome, role, comparison
        The outcome's name and role, and ``"<arm> vs <control>"``.
    model
        How the outcome is modelled: ``"individual"``, ``"cluster"``, ``"stepped_wedge"``
        or ``"survival"`` (``at_planned.design`` says whether its units are clustered).
    effect
        The hoped-for ITT effect in outcome units (``assumptions.effect``); for a survival
        outcome the hoped-for hazard ratio (``assumptions.hazard_ratio``).
    power
        Power to detect ``effect`` at the planned size.
    target_power
        The protocol's target power.
    mde
        ITT minimum detectable effect at the target power, in outcome units, signed in the
        hoped-for direction (the harmful direction when no effect is hoped for); NaN when
        none exists (see ``note``). For a survival outcome, the minimum detectable hazard
        ratio on the same side of 1 (the note gives the other side).
    mde_cace
        ``mde / compliance`` when a CACE estimand is declared, else ``None``.
    at_planned, at_target
        The full calculations behind ``power`` and ``mde`` (``at_target`` is ``None`` when
        no MDE exists).
    note
        Anything a reader should know about this row.
    alpha
        The protocol's two-sided alpha (``at_planned.alpha_per_comparison`` is what each
        comparison is tested at after any Bonferroni split across arms).
    effect_unit
        The unit of ``effect`` and ``mde``: the outcome's ``unit``, ``"proportion"`` for a
        binary outcome (a risk difference), ``"hazard ratio"`` for a survival outcome, and
        ``"scale points"`` for an ordinal outcome without a unit.
    under_powered
        True when an effect is hoped for and the MDE exceeds it (or no MDE exists): the pilot
        is unlikely to detect the effect it hopes for (power below the target).
    """

    outcome: str
    role: str
    comparison: str
    model: PowerModel
    effect: float
    power: float
    target_power: float
    mde: float
    mde_cace: float | None
    at_planned: PowerResult
    at_target: PowerResult | None
    note: str
    alpha: float = 0.05
    effect_unit: str = ""
    under_powered: bool = False


@dataclass(frozen=True, slots=True)
class PowerTable:
    """Power at the planned size and MDE at the target power for every assessable outcome.

    Attributes
    ----------
    rows
        One row per outcome × treatment arm, in protocol order.
    skipped
        ``(outcome, reason)`` for outcomes with assumptions that cannot be assessed.
    provenance
        Protocol hash and versions.
    """

    rows: tuple[PowerRow, ...]
    skipped: tuple[tuple[str, str], ...]
    provenance: Provenance

    def to_frame(self) -> pd.DataFrame:
        """One tidy row per outcome × comparison, columns as :data:`POWER_COLUMNS`."""
        return pd.DataFrame.from_records(
            [_record(row) for row in self.rows], columns=list(POWER_COLUMNS)
        )

    def summary(self) -> str:
        """A fixed-width text table of the main columns."""
        shown = [
            "outcome",
            "comparison",
            "model",
            "n_units",
            "effect",
            "effect_unit",
            "power",
            "mde",
            "under_powered",
        ]
        frame = self.to_frame()
        text = frame.loc[:, shown].to_string(index=False, float_format=lambda v: f"{v:.4g}")
        if self.rows:
            text += (
                f"\nTwo-sided alpha {self.rows[0].alpha:g}. under_powered: the MDE exceeds "
                "the hoped-for effect (power below the target)."
            )
        skipped = [f"  {name}: {reason}" for name, reason in self.skipped]
        return "\n".join([text, "Not assessed:", *skipped]) if skipped else text

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return str(self.to_frame().to_html(index=False, float_format=lambda v: f"{v:.4g}"))


def power_table(protocol: Protocol, *, units: int | None = None) -> PowerTable:
    """Power at the planned size and the MDE at the target power, for every outcome.

    Parameters
    ----------
    protocol
        A validated protocol.
    units
        Number of randomised units to assess instead of ``units.planned``.

    Returns
    -------
    PowerTable
        One row per outcome with assumptions × treatment arm; outcomes whose assumptions
        cannot be turned into a calculation are listed in ``skipped``.
    """
    planned = protocol.units.planned if units is None else units
    rows: list[PowerRow] = []
    skipped: list[tuple[str, str]] = []
    for outcome in protocol.outcomes:
        if outcome.assumptions is None:
            continue
        spec, reason = _outcome_spec(protocol, outcome)
        level = protocol.level(outcome.level)
        if spec is None or (level is not None and level.arms):
            skipped.append((outcome.name, reason or "measured only in some arms"))
            continue
        for arm in (a for a in protocol.arms if not a.control):
            rows.append(_row(protocol, outcome, arm, spec, planned))
    return PowerTable(
        rows=tuple(rows),
        skipped=tuple(skipped),
        provenance=Provenance(protocol_hash=protocol.content_hash()),
    )


def power_by_units(protocol: Protocol) -> PowerTable:
    """:func:`power_table` at the planned number of units and at every ``power.variants``."""
    sizes = [protocol.units.planned, *protocol.power.variants]
    tables = [power_table(protocol, units=size) for size in sizes]
    return PowerTable(
        rows=tuple(row for table in tables for row in table.rows),
        skipped=tables[0].skipped,
        provenance=tables[0].provenance,
    )


def _outcome_spec(protocol: Protocol, outcome: ProtocolOutcome) -> tuple[Spec | None, str]:
    a = outcome.assumptions
    assert a is not None
    if outcome.type == "survival":
        if a.rate is None or a.hazard_ratio is None:
            return None, "a survival outcome needs `assumptions.rate` and `hazard_ratio`"
        if protocol.design.type == "stepped_wedge":
            return None, "survival outcomes are not assessed in a stepped wedge"
        return SurvivalOutcome(a.rate, direction=_direction(outcome)), ""
    if outcome.type == "binary":
        if a.rate is None:
            return None, "a binary outcome needs `assumptions.rate`"
        return BinaryOutcome(a.rate, direction=_direction(outcome)), ""
    if outcome.type == "ordinal":
        shares = a.distribution
        if not shares:
            return None, "an ordinal outcome needs `assumptions.distribution` (or `sd`)"
        mean = sum((k + 1) * p for k, p in enumerate(shares)) / sum(shares)
        variance = sum(p * (k + 1 - mean) ** 2 for k, p in enumerate(shares)) / sum(shares)
        return ContinuousOutcome(sd=a.sd or math.sqrt(variance)), ""
    if a.sd is None:
        return None, f"a {outcome.type} outcome needs `assumptions.sd`"
    return ContinuousOutcome(sd=a.sd), ""


def _direction(outcome: ProtocolOutcome) -> EffectDirection:
    """The direction an MDE is sought in: the hoped-for one, else the harmful one.

    A survival outcome's scale is the hazard ratio: more hazard means less time to the event,
    so the harm to a ``higher_is_better`` time is an increase.
    """
    effect, null = _effect(outcome)
    if effect != null:
        return "increase" if effect > null else "decrease"
    harm_up = outcome.direction == ("higher_is_better" if null else "lower_is_better")
    return "increase" if harm_up else "decrease"


def _effect(outcome: ProtocolOutcome) -> tuple[float, float]:
    """The hoped-for effect on the calculation's scale and its null value."""
    a = outcome.assumptions
    assert a is not None
    if outcome.type == "survival":
        assert a.hazard_ratio is not None
        return a.hazard_ratio, 1.0
    return a.effect, 0.0


def _row(
    protocol: Protocol, outcome: ProtocolOutcome, arm: Arm, spec: Spec, planned: int
) -> PowerRow:
    effect, null = _effect(outcome)
    model, solve = _solver(protocol, outcome, arm, spec, planned)
    at_planned = solve(effect=effect)
    target = protocol.power.target
    note = "No effect assumed: power equals alpha; the MDE is for harm. " if effect == null else ""
    try:
        at_target: PowerResult | None = solve(power=target)
    except NoSolutionError as error:
        at_target, note = None, note + str(error)
    sign = 1.0 if _direction(outcome) == "increase" else -1.0
    mde = math.nan if at_target is None else math.copysign(abs(at_target.effect), sign)
    cace = any(e.type == "CACE" for e in protocol.estimands) and model != "survival"
    if isinstance(spec, SurvivalOutcome):
        mde = math.nan if at_target is None else at_target.effect
        note += _events_note(outcome, spec, solve, at_planned, target)
    return PowerRow(
        outcome=outcome.name,
        role=outcome.role,
        comparison=f"{arm.id} vs {protocol.control.id}",
        model=model,
        effect=effect,
        power=at_planned.power,
        target_power=target,
        mde=mde,
        mde_cace=mde / protocol.power.compliance if cace else None,
        at_planned=at_planned,
        at_target=at_target,
        note=note.strip(),
        alpha=protocol.analysis.frequentist.alpha,
        effect_unit=_effect_unit(outcome),
        under_powered=_under_powered(effect, mde, null=null),
    )


def _effect_unit(outcome: ProtocolOutcome) -> str:
    """The unit the power table's effect and MDE of ``outcome`` are in."""
    if outcome.type == "survival":
        return "hazard ratio"
    if outcome.type == "binary":
        return "proportion"
    return outcome.unit or ("scale points" if outcome.type == "ordinal" else "")


def _under_powered(effect: float, mde: float, *, null: float) -> bool:
    """An effect is hoped for and the MDE lies beyond it (or there is no MDE).

    Distances from the null are compared on the log scale for a ratio (null 1).
    """
    if effect == null:
        return False
    if math.isnan(mde):
        return True
    if null == 1.0:
        return abs(math.log(mde)) > abs(math.log(effect))
    return abs(mde) > abs(effect)


def _events_note(
    outcome: ProtocolOutcome,
    spec: SurvivalOutcome,
    solve: Callable[..., PowerResult],
    planned: PowerResult,
    target: float,
) -> str:
    """Expected events at the planned size, and the MDE on the other side of 1."""
    assert outcome.survival is not None and planned.events is not None
    flip: EffectDirection = "increase" if spec.direction == "decrease" else "decrease"
    try:
        other = f"{solve(power=target, outcome=replace(spec, direction=flip)).effect:.3g}"
    except NoSolutionError:
        other = "none"
    return (
        f" Effect and MDE are hazard ratios (treated/control); MDE on the other side of 1: "
        f"{other}. Expected events: {planned.events:.0f} ({planned.p_treatment:.1%} of "
        f"treated and {planned.p_control:.1%} of control units by day "
        f"{outcome.survival.horizon_days}; design effect {planned.design_effect:.3g})."
    )


def _solve_survival(effect: float | None = None, **fixed: Any) -> PowerResult:
    """:func:`solve_survival` called as the other solvers are, with ``effect`` the HR."""
    return solve_survival(effect, **fixed)


def _solver(
    protocol: Protocol, outcome: ProtocolOutcome, arm: Arm, spec: Spec, planned: int
) -> tuple[PowerModel, Callable[..., PowerResult]]:
    a = outcome.assumptions
    assert a is not None
    plan = protocol.power
    alpha = protocol.analysis.frequentist.alpha
    level = protocol.level(outcome.level)
    size = 1.0 if level is None else level.per_unit.mean
    if protocol.design.type == "stepped_wedge":
        sw = protocol.design.stepped_wedge
        assert sw is not None
        fixed_sw: dict[str, Any] = dict(
            clusters=planned, cluster_size=size, steps=sw.steps, periods=sw.periods,
            icc=a.icc, outcome=spec, alpha=alpha, attrition=plan.attrition,
        )  # fmt: skip
        return "stepped_wedge", partial(solve_stepped_wedge, **fixed_sw)
    total = sum(arm_.ratio for arm_ in protocol.arms)
    shares: dict[str, Any] = dict(
        treated_share=arm.ratio / total, control_share=protocol.control.ratio / total,
        n_arms=len(protocol.arms), alpha=alpha, outcome=spec,
    )  # fmt: skip
    if isinstance(spec, SurvivalOutcome):
        lost = dict(attrition=plan.attrition, cluster_attrition=plan.unit_attrition)
        if level is None:  # units randomised and followed: one attrition for both
            lost = dict(attrition=1 - (1 - plan.attrition) * (1 - plan.unit_attrition))
        clustered = dict(cluster_size=size, icc=a.icc, cv=level.per_unit.cv) if level else {}
        return "survival", partial(_solve_survival, n=planned, **lost, **clustered, **shares)
    covariates = sum(1 for c in protocol.covariates if c.adjust and c.level == protocol.units.name)
    if level is None:
        keep = (1 - plan.attrition) * (1 - plan.unit_attrition)
        fixed: dict[str, Any] = dict(
            n=planned, r2=a.r2, covariates=covariates, attrition=1 - keep, **shares
        )
        return "individual", partial(solve_individual, **fixed)
    fixed = dict(
        clusters=planned, cluster_size=size, cv=level.per_unit.cv, icc=a.icc,
        r2_individual=a.r2, r2_cluster=a.r2_cluster, covariates=covariates,
        attrition=plan.attrition, cluster_attrition=plan.unit_attrition, **shares,
    )  # fmt: skip
    return "cluster", partial(solve_cluster, **fixed)


def _record(row: PowerRow) -> dict[str, object]:
    planned = row.at_planned
    target = row.at_target
    return {
        "outcome": row.outcome,
        "role": row.role,
        "comparison": row.comparison,
        "model": row.model,
        "n_units": planned.n_clusters if planned.n_clusters is not None else planned.n_units,
        "n_clusters": planned.n_clusters,
        "cluster_size": planned.cluster_size,
        "icc": planned.icc,
        "effect": row.effect,
        "power": row.power,
        "target_power": row.target_power,
        "mde": row.mde,
        "mde_standardised": math.nan if target is None else target.standardised_effect,
        "mde_cace": row.mde_cace,
        "design_effect": planned.design_effect,
        "effective_n": planned.effective_n,
        "df": planned.df,
        "alpha_per_comparison": planned.alpha_per_comparison,
        "test": planned.test,
        "note": row.note,
        "alpha": row.alpha,
        "effect_unit": row.effect_unit,
        "under_powered": row.under_powered,
    }

"""Attrition per outcome and arm, at cluster and individual level, with WWC verdicts.

For each outcome and arm: *assigned* (allocated clusters; individuals in the level's file),
*received* (took up the arm, where the protocol declares a take-up column), *followed up*
(non-missing outcome) and *analysed* (followed up; everyone assigned when the plan is
multiple imputation). Attrition is ``1 − followed up / assigned``; overall and
differential attrition of each arm against control are judged against the WWC boundary
(:mod:`trialkit.validate.wwc`) under both the cautious and the optimistic assumption.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Literal

import pandas as pd

from trialkit.protocol.model import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.validate.counting import ArmTable, Counter
from trialkit.validate.wwc import AttritionVerdict, attrition_verdict, max_differential

CountLevel = Literal["cluster", "individual"]


@dataclass(frozen=True, slots=True)
class ArmCounts:
    """Counts of one arm for one outcome at one level (clusters or individuals)."""

    outcome: str
    level: CountLevel
    arm: str
    assigned: int
    received: int | None
    followed_up: int
    analysed: int

    @property
    def attrition(self) -> float:
        """Share of the assigned with no outcome (0 when none were assigned)."""
        return 1.0 - self.followed_up / self.assigned if self.assigned else 0.0


@dataclass(frozen=True, slots=True)
class AttritionCheck:
    """Overall and differential attrition of one arm against control, with WWC verdicts."""

    outcome: str
    level: CountLevel
    arm: str
    control: str
    overall: float
    differential: float
    cautious_limit: float | None
    cautious: AttritionVerdict
    optimistic_limit: float | None
    optimistic: AttritionVerdict


@dataclass(frozen=True, slots=True)
class Attrition:
    """Attrition of every outcome: counts per arm and WWC checks per arm against control."""

    counts: tuple[ArmCounts, ...]
    checks: tuple[AttritionCheck, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per outcome × level × arm, with an ``attrition`` column."""
        rows = [{**asdict(c), "attrition": c.attrition} for c in self.counts]
        return pd.DataFrame(rows)

    def checks_frame(self) -> pd.DataFrame:
        """One row per outcome × level × compared arm, with both WWC verdicts."""
        return pd.DataFrame([asdict(c) for c in self.checks])

    def summary(self) -> str:
        """A fixed-width text table of the WWC checks."""
        lines = [
            f"{'outcome':<24}{'level':<12}{'arm':<14}{'overall':>9}{'diff':>8}"
            f"  cautious  optimistic"
        ]
        for c in self.checks:
            lines.append(
                f"{c.outcome:<24}{c.level:<12}{c.arm:<14}{c.overall:>9.1%}"
                f"{c.differential:>8.1%}  {c.cautious:<9} {c.optimistic}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _analysed(protocol: Protocol, assigned: int, followed: int) -> int:
    plan = protocol.analysis.frequentist.missing_data
    return assigned if plan == "multiple_imputation" else followed


def arm_counts(outcome: Outcome, protocol: Protocol, table: ArmTable) -> list[ArmCounts]:
    """Counts per arm at cluster level (cluster designs) and individual level."""
    individual = protocol.design.type == "individual"
    at_unit = outcome.level == protocol.units.name
    levels: list[CountLevel] = (
        ["individual"] if individual else ["cluster"] if at_unit else ["cluster", "individual"]
    )
    out: list[ArmCounts] = []
    for a, arm in enumerate(table.arms):
        for level in levels:
            if level == "cluster":
                assigned, followed = int(table.clusters[a]), int(table.clusters_seen[a])
                got = table.clusters_received
            else:
                assigned, followed = int(table.individuals[a]), int(table.individuals_seen[a])
                got = table.individuals_received
            out.append(
                ArmCounts(
                    outcome.name,
                    level,
                    arm,
                    assigned,
                    None if got is None else int(got[a]),
                    followed,
                    _analysed(protocol, assigned, followed),
                )
            )
    return out


def wwc_checks(counts: list[ArmCounts], control: str) -> list[AttritionCheck]:
    """Each non-control arm against control: overall and differential attrition, verdicts."""
    checks = []
    by_key = {(c.level, c.arm): c for c in counts}
    for c in counts:
        base = by_key.get((c.level, control))
        if c.arm == control or base is None or not (c.assigned and base.assigned):
            continue
        overall = 1 - (c.followed_up + base.followed_up) / (c.assigned + base.assigned)
        diff = abs(c.attrition - base.attrition)
        checks.append(
            AttritionCheck(
                c.outcome,
                c.level,
                c.arm,
                control,
                overall,
                diff,
                max_differential(overall, "cautious"),
                attrition_verdict(overall, diff, "cautious"),
                max_differential(overall, "optimistic"),
                attrition_verdict(overall, diff, "optimistic"),
            )
        )
    return checks


def attrition_table(
    protocol: Protocol,
    frames: Mapping[str, pd.DataFrame],
    allocation: pd.DataFrame,
    received: frozenset[str] | None = None,
) -> Attrition:
    """Attrition of every outcome of the protocol.

    Parameters
    ----------
    protocol
        The protocol.
    frames
        Coded frames by level.
    allocation
        The allocation frame (``unit_id, block, cluster, arm, probability``).
    received
        Ids of units that received their allocated arm, or ``None`` when no take-up is
        declared.

    Returns
    -------
    Attrition
        Counts per arm and WWC checks.
    """
    return attrition_from(protocol, Counter(protocol, frames, allocation, received))


def attrition_from(protocol: Protocol, counter: Counter) -> Attrition:
    """Attrition of every outcome with data, from a :class:`Counter`."""
    counts: list[ArmCounts] = []
    checks: list[AttritionCheck] = []
    for outcome in protocol.outcomes:
        if outcome.level != protocol.units.name and outcome.level not in counter.frames:
            continue
        found = arm_counts(outcome, protocol, counter.table(outcome))
        counts += found
        checks += wwc_checks(found, protocol.control.id)
    return Attrition(tuple(counts), tuple(checks))

"""CONSORT 2025 flow counts (items 22a–22b), with the cluster extension's cluster columns.

Per arm and outcome: clusters and individuals allocated, received the allocated arm, lost
to follow-up (with reasons where a ``missing_reason`` column gives them), analysed and
excluded from analysis, plus the average and range of cluster sizes at allocation and
analysis. The report draws its flow diagram from these numbers. For a time-to-event
outcome a leaver is followed up (to the event), not lost: only rows without usable dates
count as lost (:mod:`trialkit.validate.survival`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from trialkit.protocol.model import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.validate.counting import ArmTable, Counter


@dataclass(frozen=True, slots=True)
class ClusterSizes:
    """Individuals per cluster: mean, smallest and largest."""

    mean: float
    min: int
    max: int


@dataclass(frozen=True, slots=True)
class ArmFlow:
    """One arm's box in the flow diagram.

    Cluster counts are ``None`` for individually randomised trials; ``received`` counts are
    ``None`` when the protocol declares no take-up column.
    """

    arm: str
    label: str
    clusters_allocated: int | None
    individuals_allocated: int
    clusters_received: int | None
    individuals_received: int | None
    clusters_lost: int | None
    individuals_lost: int
    lost_reasons: tuple[tuple[str, int], ...]
    clusters_analysed: int | None
    individuals_analysed: int
    clusters_excluded: int | None
    individuals_excluded: int
    sizes_allocated: ClusterSizes | None
    sizes_analysed: ClusterSizes | None


@dataclass(frozen=True, slots=True)
class ConsortFlow:
    """The flow of one outcome, arm by arm."""

    outcome: str
    level: str
    arms: tuple[ArmFlow, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per arm (reasons and sizes flattened to text)."""
        return pd.DataFrame(
            [
                {
                    "outcome": self.outcome,
                    "level": self.level,
                    **{k: getattr(a, k) for k in ArmFlow.__slots__},
                }
                for a in self.arms
            ]
        )


def _size(value: tuple[float, int, int] | None) -> ClusterSizes | None:
    return None if value is None else ClusterSizes(*value)


def outcome_flow(protocol: Protocol, outcome: Outcome, table: ArmTable) -> ConsortFlow:
    """The flow of one outcome from its counts per arm."""
    clustered = protocol.design.type != "individual"
    imputed = protocol.analysis.frequentist.missing_data == "multiple_imputation"
    labels = {a.id: a.label for a in protocol.arms}

    def cl(value: int) -> int | None:
        return value if clustered else None

    arms = []
    for a, arm in enumerate(table.arms):
        n_c, n_i = int(table.clusters[a]), int(table.individuals[a])
        seen_c, seen_i = int(table.clusters_seen[a]), int(table.individuals_seen[a])
        got_c, got_i = table.clusters_received, table.individuals_received
        arms.append(
            ArmFlow(
                arm=arm,
                label=labels.get(arm, arm),
                clusters_allocated=cl(n_c),
                individuals_allocated=n_i,
                clusters_received=cl(int(got_c[a])) if got_c is not None else None,
                individuals_received=int(got_i[a]) if got_i is not None else None,
                clusters_lost=cl(n_c - seen_c),
                individuals_lost=n_i - seen_i,
                lost_reasons=table.reasons[a],
                clusters_analysed=cl(n_c if imputed else seen_c),
                individuals_analysed=n_i if imputed else seen_i,
                clusters_excluded=cl(0),
                individuals_excluded=0,
                sizes_allocated=_size(table.sizes[a]) if clustered else None,
                sizes_analysed=_size(table.sizes_seen[a]) if clustered else None,
            )
        )
    return ConsortFlow(outcome.name, outcome.level, tuple(arms))


def consort_flows(
    protocol: Protocol,
    frames: Mapping[str, pd.DataFrame],
    allocation: pd.DataFrame,
    received: frozenset[str] | None = None,
) -> tuple[ConsortFlow, ...]:
    """The CONSORT flow of every outcome with data, primary outcomes first.

    Parameters
    ----------
    protocol
        The protocol.
    frames
        Coded frames by level.
    allocation
        The allocation frame.
    received
        Ids of units that received their allocated arm, or ``None`` when no take-up is
        declared.
    """
    return flows_from(protocol, Counter(protocol, frames, allocation, received))


def flows_from(protocol: Protocol, counter: Counter) -> tuple[ConsortFlow, ...]:
    """The CONSORT flows of every outcome with data, from a :class:`Counter`."""
    imputed = protocol.analysis.frequentist.missing_data == "multiple_imputation"
    ordered = sorted(protocol.outcomes, key=lambda o: o.role != "primary")
    return tuple(
        outcome_flow(protocol, o, counter.table(o, imputed=imputed))
        for o in ordered
        if o.level == protocol.units.name or o.level in counter.frames
    )

"""CONSORT 2025 flow counts (items 22a–22b), with the cluster extension's cluster columns.

Per arm and outcome: clusters and individuals allocated, received the allocated arm, lost
to follow-up (with reasons where a ``missing_reason`` column gives them), analysed and
excluded from analysis, plus the average and range of cluster sizes at allocation and
analysis. The report draws its flow diagram from these numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from trialkit.protocol.model import Protocol
from trialkit.validate.attrition import outcome_rows


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
        return pd.DataFrame([{
            "outcome": self.outcome, "level": self.level, **{
                k: getattr(a, k) for k in ArmFlow.__slots__
            }} for a in self.arms])


def _sizes(rows: pd.DataFrame) -> ClusterSizes | None:
    if rows.empty:
        return None
    sizes = rows.groupby("cluster").size()
    return ClusterSizes(float(sizes.mean()), int(sizes.min()), int(sizes.max()))


def _reasons(lost: pd.DataFrame) -> tuple[tuple[str, int], ...]:
    if "reason" not in lost.columns:
        return ()
    text = lost["reason"].where(lost["reason"].notna(), "not given").astype(str).str.strip()
    counts = text.replace("", "not given").value_counts()
    return tuple((str(k), int(v)) for k, v in counts.items())


def arm_flow(protocol: Protocol, arm: str, rows: pd.DataFrame, allocation: pd.DataFrame,
             took_up: frozenset[str] | None) -> ArmFlow:
    """The flow of one arm from one outcome's rows (see ``outcome_rows``)."""
    clustered = protocol.design.type != "individual"
    mine = rows[rows["arm"] == arm]
    seen = mine[mine["y"].notna()]
    lost = mine[mine["y"].isna()]
    clusters = allocation.loc[allocation["arm"] == arm, "cluster"]
    n_clusters, n_seen = int(clusters.nunique()), int(seen["cluster"].nunique())
    received = mine[mine["unit"].isin(took_up)] if took_up is not None else None
    imputed = protocol.analysis.frequentist.missing_data == "multiple_imputation"
    analysed = mine if imputed else seen
    label = next((a.label for a in protocol.arms if a.id == arm), arm)
    return ArmFlow(
        arm=arm, label=label,
        clusters_allocated=n_clusters if clustered else None,
        individuals_allocated=len(mine),
        clusters_received=(int(received["cluster"].nunique())
                           if clustered and received is not None else None),
        individuals_received=len(received) if received is not None else None,
        clusters_lost=n_clusters - n_seen if clustered else None,
        individuals_lost=len(lost),
        lost_reasons=_reasons(lost),
        clusters_analysed=(int(analysed["cluster"].nunique()) if clustered else None),
        individuals_analysed=len(analysed),
        clusters_excluded=0 if clustered else None,
        individuals_excluded=0,
        sizes_allocated=_sizes(mine) if clustered else None,
        sizes_analysed=_sizes(analysed) if clustered else None,
    )


def consort_flows(protocol: Protocol, frames: Mapping[str, pd.DataFrame],
                  allocation: pd.DataFrame,
                  took_up: frozenset[str] | None = None) -> tuple[ConsortFlow, ...]:
    """The CONSORT flow of every outcome with data, primary outcomes first.

    Parameters
    ----------
    protocol
        The protocol.
    frames
        Coded frames by level with ``arm`` and ``cluster`` attached.
    allocation
        The allocation frame.
    took_up
        Ids of units that received their allocated arm, or ``None`` when no take-up is declared.
    """
    ordered = sorted(protocol.outcomes, key=lambda o: o.role != "primary")
    flows = []
    for outcome in ordered:
        if outcome.level != protocol.units.name and outcome.level not in frames:
            continue
        rows = outcome_rows(outcome, protocol, frames, allocation)
        arms = tuple(arm_flow(protocol, str(arm), rows, allocation, took_up)
                     for arm in dict.fromkeys(allocation["arm"]))
        flows.append(ConsortFlow(outcome.name, outcome.level, arms))
    return tuple(flows)

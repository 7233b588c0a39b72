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
from trialkit.protocol.outcomes import Outcome
from trialkit.validate.attrition import outcome_rows, per_arm


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


def _sizes(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean, smallest and largest cluster size per arm."""
    sizes = rows.groupby(["arm", "cluster"], sort=False).size()
    return sizes.groupby(level="arm", sort=False).agg(["mean", "min", "max"])


def _size(table: pd.DataFrame, arm: str) -> ClusterSizes | None:
    if arm not in table.index:
        return None
    mean, low, high = table.loc[arm, ["mean", "min", "max"]].to_numpy(dtype=float)
    return ClusterSizes(float(mean), int(low), int(high))


def _reasons(lost: pd.DataFrame) -> tuple[tuple[str, int], ...]:
    if "reason" not in lost.columns or lost.empty:
        return ()
    text = lost["reason"].where(lost["reason"].notna(), "not given").astype(str).str.strip()
    counts = text.replace("", "not given").value_counts()
    return tuple((str(k), int(v)) for k, v in counts.items())


def outcome_flow(protocol: Protocol, outcome: Outcome, rows: pd.DataFrame,
                 allocation: pd.DataFrame, received: frozenset[str] | None) -> ConsortFlow:
    """The flow of one outcome from its rows (see ``outcome_rows``)."""
    clustered = protocol.design.type != "individual"
    imputed = protocol.analysis.frequentist.missing_data == "multiple_imputation"
    table = per_arm(rows, allocation, received)
    seen = rows[rows["y"].notna()]
    lost = rows[rows["y"].isna()]
    sizes_all, sizes_seen = _sizes(rows), _sizes(rows if imputed else seen)
    labels = {a.id: a.label for a in protocol.arms}
    arms = []
    for arm, row in table.iterrows():
        n_c, n_i = int(row["clusters"]), int(row["individuals"])
        seen_c, seen_i = int(row["clusters_seen"]), int(row["individuals_seen"])
        got = received is not None

        def cl(value: int) -> int | None:
            return value if clustered else None

        arms.append(ArmFlow(
            arm=str(arm), label=labels.get(str(arm), str(arm)),
            clusters_allocated=cl(n_c), individuals_allocated=n_i,
            clusters_received=cl(int(row["clusters_received"])) if got else None,
            individuals_received=int(row["individuals_received"]) if got else None,
            clusters_lost=cl(n_c - seen_c), individuals_lost=n_i - seen_i,
            lost_reasons=_reasons(lost[lost["arm"] == arm]),
            clusters_analysed=cl(n_c if imputed else seen_c),
            individuals_analysed=n_i if imputed else seen_i,
            clusters_excluded=cl(0), individuals_excluded=0,
            sizes_allocated=_size(sizes_all, str(arm)) if clustered else None,
            sizes_analysed=_size(sizes_seen, str(arm)) if clustered else None,
        ))
    return ConsortFlow(outcome.name, outcome.level, tuple(arms))


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
        flows.append(outcome_flow(protocol, outcome, rows, allocation, took_up))
    return tuple(flows)

"""Counts per arm for each outcome, with integer codes and ``bincount`` (no group-bys).

Each level's rows are linked once to the allocation (arm, cluster and receipt as integer
codes); every outcome then needs only its missing-value mask. This keeps attrition and
CONSORT counts linear in the rows and cheap for a million of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.protocol.model import Protocol
from trialkit.protocol.outcomes import Outcome

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Optional columns giving why an outcome is missing: ``<outcome>_missing_reason`` first.
REASON_COLUMN = "missing_reason"


@dataclass(frozen=True, slots=True, eq=False)
class ArmTable:
    """Counts of one outcome per arm (arrays in the order of ``arms``)."""

    arms: tuple[str, ...]
    clusters: IntArray
    individuals: IntArray
    clusters_seen: IntArray
    individuals_seen: IntArray
    clusters_received: IntArray | None
    individuals_received: IntArray | None
    sizes: tuple[tuple[float, int, int] | None, ...]
    sizes_seen: tuple[tuple[float, int, int] | None, ...]
    reasons: tuple[tuple[tuple[str, int], ...], ...]


@dataclass(frozen=True, slots=True, eq=False)
class Linked:
    """One level's rows as codes into the allocation's arms and clusters."""

    arm: IntArray
    cluster: IntArray
    received: BoolArray | None
    flat: IntArray  # arm × number of clusters + cluster: one code per (arm, cluster)


class Counter:
    """Link levels to the allocation once; count any outcome per arm quickly."""

    def __init__(
        self,
        protocol: Protocol,
        frames: Mapping[str, pd.DataFrame],
        allocation: pd.DataFrame,
        received: frozenset[str] | None,
        positions: Mapping[str, IntArray] | None = None,
    ) -> None:
        self.protocol = protocol
        self.frames = frames
        self.units = pd.Index(allocation["unit_id"])
        arm_codes, arms = pd.factorize(allocation["arm"])
        self.arms = tuple(str(a) for a in arms)
        self.unit_arm = arm_codes.astype(np.int64)
        self.unit_cluster = pd.factorize(allocation["cluster"])[0].astype(np.int64)
        self.n_clusters = int(self.unit_cluster.max()) + 1 if len(self.unit_cluster) else 0
        self.unit_received = (
            None if received is None else self.units.isin(list(received)).astype(bool)
        )
        self._linked: dict[str, Linked] = {}
        self._positions = dict(positions or {})
        self._pairs_cache: dict[tuple[str, str], IntArray] = {}
        self._tables: dict[tuple[str, bool], ArmTable] = {}

    def _link(self, level: str, unit_ids: pd.Series) -> Linked:
        if level not in self._linked:
            given = self._positions.get(level)
            index = given if given is not None else self.units.get_indexer(unit_ids)
            index = np.where(index < 0, 0, index)  # unknown units were errors already
            arm, cluster = self.unit_arm[index], self.unit_cluster[index]
            self._linked[level] = Linked(
                arm,
                cluster,
                None if self.unit_received is None else self.unit_received[index],
                arm * max(self.n_clusters, 1) + cluster,
            )
        return self._linked[level]

    def rows(self, outcome: Outcome) -> tuple[Linked, BoolArray, pd.Series | None]:
        """Linked rows, the non-missing mask and the reason column of one outcome."""
        protocol, frame = self.protocol, self.frames.get(outcome.level)
        if outcome.level == protocol.units.name:
            values = pd.Series(np.nan, index=self.units)
            if frame is not None:
                values = frame.set_index(protocol.units.id_column)[outcome.data_column]
                values = values[~values.index.duplicated()].reindex(self.units)
            linked = self._link(f"{outcome.level}:allocation", pd.Series(self.units))
            return linked, values.notna().to_numpy(), None
        assert frame is not None, "level files are checked to exist before counting"
        level = protocol.level(outcome.level)
        unit_column = level.unit_column if level else protocol.units.id_column
        linked = self._link(outcome.level, frame[unit_column])
        reason = next(
            (
                frame[c]
                for c in (f"{outcome.data_column}_{REASON_COLUMN}", REASON_COLUMN)
                if c in frame.columns
            ),
            None,
        )
        return linked, frame[outcome.data_column].notna().to_numpy(), reason

    def table(self, outcome: Outcome, *, imputed: bool = False) -> ArmTable:
        """Counts per arm of one outcome (computed once, then remembered)."""
        key = (outcome.name, imputed)
        if key not in self._tables:
            self._tables[key] = self._table(outcome, imputed)
        return self._tables[key]

    def _cached_pairs(
        self, level: str, what: str, linked: Linked, mask: BoolArray | None
    ) -> IntArray:
        key = (level, what)
        if key not in self._pairs_cache:
            self._pairs_cache[key] = self._pairs(linked, mask)
        return self._pairs_cache[key]

    def _table(self, outcome: Outcome, imputed: bool) -> ArmTable:
        linked, seen, reason = self.rows(outcome)
        k = len(self.arms)
        # Every count derives from rows per (arm, cluster): one bincount per mask.
        pairs = self._cached_pairs(outcome.level, "all", linked, None)
        pairs_seen = self._pairs(linked, seen)
        received = linked.received
        got = (
            None
            if received is None
            else self._cached_pairs(outcome.level, "received", linked, received)
        )
        return ArmTable(
            arms=self.arms,
            clusters=np.bincount(self.unit_arm[self._first_units()], minlength=k),
            individuals=pairs.sum(axis=1),
            clusters_seen=(pairs_seen > 0).sum(axis=1),
            individuals_seen=pairs_seen.sum(axis=1),
            clusters_received=None if got is None else (got > 0).sum(axis=1),
            individuals_received=None if got is None else got.sum(axis=1),
            sizes=_sizes(pairs),
            sizes_seen=_sizes(pairs if imputed else pairs_seen),
            reasons=_reasons(reason, linked.arm, seen, k),
        )

    def _first_units(self) -> IntArray:
        """One allocation row per cluster, so clusters are counted once per arm."""
        _, first = np.unique(self.unit_cluster, return_index=True)
        return first.astype(np.int64)

    def _pairs(self, linked: Linked, mask: BoolArray | None) -> IntArray:
        """Rows per (arm, cluster), counting only rows where ``mask``."""
        k = len(self.arms)
        flat = linked.flat if mask is None else linked.flat[mask]
        counts = np.bincount(flat, minlength=k * max(self.n_clusters, 1))
        return counts.reshape(k, max(self.n_clusters, 1)).astype(np.int64)


def _sizes(pairs: IntArray) -> tuple[tuple[float, int, int] | None, ...]:
    out: list[tuple[float, int, int] | None] = []
    for row in pairs:
        present = row[row > 0]
        out.append(
            None
            if present.size == 0
            else (float(present.mean()), int(present.min()), int(present.max()))
        )
    return tuple(out)


def _reasons(
    reason: pd.Series | None, arm: IntArray, seen: BoolArray, k: int
) -> tuple[tuple[tuple[str, int], ...], ...]:
    if reason is None:
        return tuple(() for _ in range(k))
    lost = ~seen
    text = reason[lost].astype(object).where(reason[lost].notna(), "not given")
    text = text.astype(str).str.strip().replace("", "not given")
    out = []
    for a in range(k):
        counts = text[arm[lost] == a].value_counts()
        out.append(tuple((str(key), int(n)) for key, n in counts.items()))
    return tuple(out)

"""The allocation: which arm each unit got, with its probability, as a frozen result."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit._core.provenance import Provenance
from trialkit._core.rng import ALGORITHM_VERSION
from trialkit.protocol.vocabulary import SchemeName
from trialkit.randomise.schemes import MatchedPairs, Scheme, SteppedWedge

#: Version of the scheme algorithms built on the raw stream; recorded with each allocation.
SCHEMES_VERSION = "schemes-1"

#: Columns of the allocation CSV, in order; ``step`` and ``pair`` appear only when used.
COLUMNS = ("unit_id", "block", "cluster", "arm", "probability")

Labels = NDArray[np.object_]


def _frozen(values: NDArray[Any]) -> NDArray[Any]:
    values = np.array(values, copy=True)
    values.flags.writeable = False
    return values


@dataclass(frozen=True, slots=True, eq=False)
class Allocation:
    """Which arm each unit got, sorted by unit id.

    Attributes
    ----------
    unit_id
        Unit ids (text), sorted.
    block, cluster
        Each unit's block and cluster label, or ``None`` when the design has none.
    arm
        The id of the arm each unit got (for a stepped wedge, the intervention arm).
    probability
        Each unit's probability of the arm it got (of its step, for a stepped wedge).
    step
        Crossover step 1, 2, … of each unit (stepped wedge only), else ``None``.
    pair
        Pair number of each unit (matched pairs only), else ``None``.
    arms
        Arm ids in the scheme's order (for a stepped wedge, ``step 1`` …).
    scheme
        Name of the scheme.
    parameters
        The scheme's parameters, as recorded beside the CSV.
    algorithm_version
        Versions of the raw-stream transformations and scheme algorithms.
    provenance
        Trialkit version, protocol hash, seed and time.
    """

    unit_id: Labels
    block: Labels | None
    cluster: Labels | None
    arm: Labels
    probability: NDArray[np.float64]
    step: NDArray[np.int64] | None
    pair: NDArray[np.int64] | None
    arms: tuple[str, ...]
    scheme: SchemeName
    parameters: Mapping[str, Any]
    algorithm_version: str
    provenance: Provenance = field(default_factory=Provenance)

    @property
    def seed(self) -> int | None:
        """The seed of the random stream."""
        return self.provenance.seed

    @property
    def n_units(self) -> int:
        """Number of units allocated."""
        return len(self.unit_id)

    def to_frame(self) -> pd.DataFrame:
        """One row per unit: ``unit_id, block, cluster, arm, probability`` (+ ``step``/``pair``)."""
        data: dict[str, Any] = {
            "unit_id": self.unit_id,
            "block": self.block,
            "cluster": self.cluster,
            "arm": self.arm,
            "probability": self.probability,
        }
        if self.step is not None:
            data["step"] = self.step
        if self.pair is not None:
            data["pair"] = self.pair
        return pd.DataFrame(data)

    def counts(self) -> pd.Series:
        """Number of units in each arm (each step, for a stepped wedge)."""
        if self.step is not None:
            return pd.Series([f"step {s}" for s in self.step]).value_counts().sort_index()
        return pd.Series(self.arm).value_counts().sort_index()

    def to_csv_text(self) -> str:
        """The allocation as CSV text, byte-for-byte reproducible (``\\n`` line ends)."""
        extra = [c for c, v in (("step", self.step), ("pair", self.pair)) if v is not None]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow([*COLUMNS, *extra])
        n = self.n_units
        empty = np.full(n, "", dtype=object)
        probs = {float(p): repr(float(p)) for p in np.unique(self.probability)}
        columns = [
            self.unit_id,
            self.block if self.block is not None else empty,
            self.cluster if self.cluster is not None else empty,
            self.arm,
            [probs[float(p)] for p in self.probability],
        ]
        columns += [v for v in (self.step, self.pair) if v is not None]
        writer.writerows(zip(*columns, strict=True))
        return buffer.getvalue()

    def summary(self) -> str:
        """A short text table: units per arm and the scheme."""
        lines = [f"Allocation by scheme `{self.scheme}` (seed {self.seed}): {self.n_units} units"]
        for label, count in self.counts().items():
            lines.append(f"  {label!s:<24} {count:>8}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        return f"<pre>{self.summary()}</pre>"


def build_allocation(
    scheme: Scheme,
    assignment: NDArray[np.int64],
    *,
    arm_ids: tuple[str, ...],
    seed: int,
    protocol_hash: str | None = None,
) -> Allocation:
    """Turn a scheme's draw into an :class:`Allocation`, sorted by unit id.

    For a stepped wedge, ``arm_ids`` holds the one intervention arm every cluster receives.
    """
    units = scheme.units
    ids = np.asarray(units.ids).astype(str)
    order = np.argsort(ids, kind="stable")
    probs = scheme.probabilities()[np.arange(units.n_units), assignment]
    step = pair = None
    if isinstance(scheme, SteppedWedge):
        arm = np.full(units.n_units, arm_ids[0], dtype=object)
        step = _frozen((assignment + 1)[order])
        arms = tuple(f"step {k + 1}" for k in range(scheme.steps))
    else:
        arm = np.asarray(arm_ids, dtype=object)[assignment]
        arms = arm_ids
    if isinstance(scheme, MatchedPairs):
        pair = _frozen(scheme.pairs()[order])

    def text(values: NDArray[Any] | None) -> Labels | None:
        return (
            None
            if values is None
            else _frozen(np.asarray(values).astype(str)[order].astype(object))
        )

    return Allocation(
        unit_id=_frozen(ids[order].astype(object)),
        block=text(units.blocks),
        cluster=text(units.clusters),
        arm=_frozen(arm[order]),
        probability=_frozen(probs[order]),
        step=step,
        pair=pair,
        arms=arms,
        scheme=scheme.name,
        parameters=MappingProxyType(dict(scheme.parameters())),
        algorithm_version=f"{ALGORITHM_VERSION}/{SCHEMES_VERSION}",
        provenance=Provenance(protocol_hash=protocol_hash, seed=seed),
    )

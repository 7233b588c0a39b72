"""Golden allocations: the same units and seed give these exact bytes, in any row order.

If one of these hashes changes, allocations already made can no longer be reproduced:
bump the algorithm version (``ALGORITHM_VERSION`` or ``SCHEMES_VERSION``) and say so in
the changelog, never just update the hash.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from trialkit._core.rng import ALGORITHM_VERSION, RawStream
from trialkit.randomise.allocation import SCHEMES_VERSION, build_allocation
from trialkit.randomise.schemes import (
    BlockedRandomisation,
    CompleteRandomisation,
    Scheme,
    SteppedWedge,
)
from trialkit.randomise.units import Units

SEED = 20261123


def golden_units(order: np.ndarray | None = None) -> Units:
    """40 units in 3 blocks and 10 clusters of 4 (in the given row order)."""
    ids = np.array([f"U{i:03d}" for i in range(40)], dtype=object)
    blocks = np.array([["north", "south", "east"][i // 4 % 3] for i in range(40)], dtype=object)
    clusters = np.array([f"C{i // 4:02d}" for i in range(40)], dtype=object)
    if order is not None:
        ids, blocks, clusters = ids[order], blocks[order], clusters[order]
    return Units(ids=ids, blocks=blocks, clusters=clusters)


def _unclustered(u: Units) -> Units:
    return Units(ids=u.ids, blocks=u.blocks)


def _scheme(name: str, units: Units) -> tuple[Scheme, tuple[str, ...]]:
    if name == "blocked":
        return BlockedRandomisation(_unclustered(units)), ("control", "treatment")
    if name == "complete_2_1_1":
        return (
            CompleteRandomisation(_unclustered(units), ratios=(2, 1, 1)),
            ("control", "coaching", "budget"),
        )
    return SteppedWedge(units, steps=3), ("reform",)


GOLDEN = {
    "blocked": "1db5382d17d941417f8035f80ef7a86f269709403b283c72e74bf422a5dde5b2",
    "complete_2_1_1": "d1e238229c5b025c876d8a95f160b64f6654206bc8f43bfa51649d869cae1138",
    "stepped_wedge": "4f356249b8d6f6b1fbb39f4a985ac97e328de7e05be262c484b65cce6f920b53",
}
GOLDEN_HEAD = ["U000,north,,treatment,0.5", "U001,north,,treatment,0.5", "U002,north,,control,0.5"]


def _csv(name: str, order: np.ndarray | None = None) -> str:
    scheme, arm_ids = _scheme(name, golden_units(order))
    allocation = build_allocation(scheme, scheme.draw(RawStream(SEED)), arm_ids=arm_ids, seed=SEED)
    return allocation.to_csv_text()


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_allocation_bytes(name: str) -> None:
    assert hashlib.sha256(_csv(name).encode("utf-8")).hexdigest() == GOLDEN[name]


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_allocation_ignores_row_order(name: str) -> None:
    order = np.random.default_rng(5).permutation(40)
    assert _csv(name, order) == _csv(name)


def test_golden_head_is_readable() -> None:
    lines = _csv("blocked").splitlines()
    assert lines[0] == "unit_id,block,cluster,arm,probability"
    assert lines[1:4] == GOLDEN_HEAD


def test_algorithm_version_is_recorded() -> None:
    scheme, arm_ids = _scheme("blocked", golden_units())
    allocation = build_allocation(scheme, scheme.draw(RawStream(SEED)), arm_ids=arm_ids, seed=SEED)
    assert allocation.algorithm_version == f"{ALGORITHM_VERSION}/{SCHEMES_VERSION}"
    assert ALGORITHM_VERSION == "pcg64-raw-1" and SCHEMES_VERSION == "schemes-1"

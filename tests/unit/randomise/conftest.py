"""Small designs for the randomise tests: one declared scheme of each kind."""

from __future__ import annotations

import numpy as np
import pytest

from trialkit.randomise.schemes import (
    BlockedClusterRandomisation,
    BlockedRandomisation,
    ClusterRandomisation,
    CompleteRandomisation,
    MatchedPairs,
    Rerandomisation,
    Scheme,
    SimpleRandomisation,
    SteppedWedge,
)
from trialkit.randomise.units import Units


def make_units(
    n: int,
    *,
    blocks: list[int] | None = None,
    cluster_size: int = 0,
    covariates: int = 0,
    seed: int = 0,
) -> Units:
    """``n`` units with ids ``u00…``, blocks of the given sizes, and equal-size clusters."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"u{i:03d}" for i in range(n)], dtype=object)
    block = None
    if blocks is not None:
        assert sum(blocks) == n
        block = np.repeat([f"b{j}" for j in range(len(blocks))], blocks).astype(object)
    cluster = None
    if cluster_size:
        cluster = np.array([f"c{i // cluster_size:03d}" for i in range(n)], dtype=object)
    x = rng.normal(size=(n, covariates)) if covariates else None
    return Units(
        ids=ids,
        blocks=block,
        clusters=cluster,
        covariates=x,
        covariate_names=tuple(f"x{j}" for j in range(covariates)),
    )


def small_schemes() -> dict[str, Scheme]:
    """One small declaration of every scheme, small enough to enumerate."""
    return {
        "simple": SimpleRandomisation(make_units(8), ratios=(1, 2)),
        "complete": CompleteRandomisation(make_units(7), ratios=(1, 2)),
        "blocked": BlockedRandomisation(make_units(9, blocks=[4, 5]), ratios=(1, 1, 1)),
        "cluster": ClusterRandomisation(make_units(10, cluster_size=2)),
        "blocked_cluster": BlockedClusterRandomisation(
            make_units(12, blocks=[6, 6], cluster_size=2), ratios=(2, 1)
        ),
        "matched_pairs": MatchedPairs(make_units(9, blocks=[4, 5], covariates=2)),
        "rerandomisation": Rerandomisation(make_units(10, covariates=2), acceptance=0.3),
        "stepped_wedge": SteppedWedge(make_units(12, blocks=[6, 6], cluster_size=2), steps=3),
    }


@pytest.fixture(params=sorted(small_schemes()))
def scheme(request: pytest.FixtureRequest) -> Scheme:
    """Each small scheme in turn (a fresh declaration per test)."""
    return small_schemes()[request.param]

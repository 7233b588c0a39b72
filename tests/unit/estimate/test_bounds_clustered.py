"""Lee bounds with clusters: the bounds are unchanged; their SEs come from a bootstrap that
resamples whole clusters within arms; the analytic formula (independent units) is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.bounds import _groups, cluster_resample, lee_bounds


def _clustered(seed: int, clusters: int = 24, size: int = 15, icc: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(clusters), size)
    t = (np.arange(clusters) % 2)[g]
    y = np.sqrt(icc) * rng.normal(size=clusters)[g] + np.sqrt(1 - icc) * rng.normal(size=g.size)
    # Attrition shared within a cluster, and higher in control.
    stay = rng.uniform(0.5, 1.0, clusters)[g] * np.where(t == 1, 1.0, 0.85)
    observed = rng.uniform(size=g.size) < stay
    return pd.DataFrame(
        {"y": np.where(observed, y + 0.3 * t, np.nan), "t": t, "team": [f"team-{c:02d}" for c in g]}
    )


def test_bounds_are_those_without_clusters() -> None:
    df = _clustered(1)
    plain = lee_bounds(df, outcome="y", treatment="t")
    clustered = lee_bounds(
        df, outcome="y", treatment="t", cluster="team", rng=np.random.default_rng(0), n_bootstrap=50
    )
    assert (clustered.lower, clustered.upper) == (plain.lower, plain.upper)
    assert clustered.se_type == "cluster bootstrap" and clustered.n_clusters == 24


def test_singleton_clusters_reproduce_the_unit_bootstrap() -> None:
    df = _clustered(2).assign(unit=lambda f: np.arange(len(f)))
    units = lee_bounds(
        df,
        outcome="y",
        treatment="t",
        se_type="bootstrap",
        rng=np.random.default_rng(7),
        n_bootstrap=60,
    )
    singletons = lee_bounds(
        df, outcome="y", treatment="t", cluster="unit", rng=np.random.default_rng(7), n_bootstrap=60
    )
    assert singletons.se_lower == pytest.approx(units.se_lower, rel=1e-13)
    assert singletons.se_upper == pytest.approx(units.se_upper, rel=1e-13)


def test_a_resample_keeps_clusters_whole_and_their_number_per_arm() -> None:
    codes = np.repeat(np.arange(6), [3, 1, 4, 2, 2, 5])
    t = np.isin(codes, [0, 2, 4])
    groups = _groups(t, codes.astype(np.intp))
    idx = cluster_resample(groups, np.random.default_rng(3))
    drawn = pd.Series(codes[idx])
    # Each drawn cluster appears a whole number of times its size.
    sizes = np.bincount(codes)
    assert all(drawn.value_counts()[c] % sizes[c] == 0 for c in drawn.unique())
    per_arm = [
        sum(drawn.value_counts()[c] // sizes[c] for c in drawn.unique() if t[codes == c][0] == arm)
        for arm in (True, False)
    ]
    assert per_arm == [3, 3]


def test_clustered_bounds_refuse_what_they_cannot_do() -> None:
    df = _clustered(3)
    with pytest.raises(EstimationError, match="assume independent units"):
        lee_bounds(df, outcome="y", treatment="t", cluster="team", se_type="analytic")
    mixed = df.assign(team=np.where(np.arange(len(df)) % 2 == 0, "one", "two"))
    with pytest.raises(EstimationError, match="has units in both arms"):
        lee_bounds(mixed, outcome="y", treatment="t", cluster="team", rng=np.random.default_rng(1))
    with pytest.raises(EstimationError, match="has missing values"):
        lee_bounds(
            df.assign(team=df.team.where(df.index > 3)),
            outcome="y",
            treatment="t",
            cluster="team",
            rng=np.random.default_rng(1),
        )
    with pytest.raises(EstimationError, match="needs rng"):
        lee_bounds(df, outcome="y", treatment="t", cluster="team")

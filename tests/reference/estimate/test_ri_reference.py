"""Randomisation inference against brute-force enumeration and a published example.

The brute force below knows nothing of trialkit's count rule or kernels: it lists every
assignment with ``itertools``, gives it the probability the design implies (worked out by
hand: equal arm sizes, or floor/ceiling with probability ½ each for an odd stratum with
ratios 1:1), refits OLS with ``numpy.linalg.lstsq`` on the rows and applies ri2's
two-sided rule. Tolerance 1e-12 on every p-value.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.frequentist.ri import randomisation_test
from trialkit.randomise.schemes import (
    BlockedClusterRandomisation,
    BlockedRandomisation,
    ClusterRandomisation,
    Rerandomisation,
    SteppedWedge,
)
from trialkit.randomise.units import Units

TOL = 1e-12


def _half_splits(n: int) -> Iterator[tuple[tuple[int, ...], float]]:
    """Treated sets of a 1:1 stratum of ``n``, with their probabilities."""
    sizes = [n // 2] if n % 2 == 0 else [n // 2, n // 2 + 1]
    for m in sizes:
        combos = list(itertools.combinations(range(n), m))
        for c in combos:
            yield c, 1.0 / len(sizes) / len(combos)


def _strata_assignments(strata: list[list[int]], n: int) -> Iterator[tuple[np.ndarray, float]]:
    """Every 0/1 assignment of ``n`` randomisation units, blocked 1:1 within ``strata``."""
    per = [list(_half_splits(len(s))) for s in strata]
    for choice in itertools.product(*per):
        z = np.zeros(n, dtype=np.int64)
        prob = 1.0
        for members, (treated, p) in zip(strata, choice, strict=True):
            z[[members[i] for i in treated]] = 1
            prob *= p
        yield z, prob


def _coef(y: np.ndarray, d: np.ndarray, x: np.ndarray | None) -> np.ndarray:
    cols = [np.ones_like(y), *d.T] + ([] if x is None else list(x.T))
    beta: np.ndarray = np.linalg.lstsq(np.column_stack(cols), y, rcond=None)[0]
    return beta[1 : 1 + d.shape[1]]


def _brute_p(
    y: np.ndarray,
    t_obs: np.ndarray,
    assignments: list[tuple[np.ndarray, float]],
    x: np.ndarray | None = None,
    tau: float = 0.0,
) -> tuple[float, float]:
    """Exact two-sided p of the OLS coefficient under the sharp null ``tau``."""
    obs = float(_coef(y, t_obs[:, None], x)[0])
    y0 = y - tau * t_obs
    p = 0.0
    for t_sim, prob in assignments:
        stat = float(_coef(y0 + tau * t_sim, t_sim[:, None], x)[0])
        if abs(stat - tau) >= abs(obs - tau) - 1e-9:
            p += prob
    return obs, p


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


@pytest.mark.parametrize("n", [8, 9])
@pytest.mark.parametrize("with_covariate", [False, True])
def test_complete_matches_brute_force(
    rng: np.random.Generator, n: int, with_covariate: bool
) -> None:
    t = np.zeros(n, dtype=np.int64)
    t[rng.choice(n, n // 2, replace=False)] = 1
    x = rng.normal(size=(n, 1))
    y = rng.normal(size=n) + 0.8 * t + x[:, 0]
    df = pd.DataFrame({"y": y, "t": t, "x": x[:, 0]})
    res = randomisation_test(
        df, outcome="y", treatment="t", covariates=["x"] if with_covariate else []
    )
    # Without a scheme the observed arm sizes are fixed (no floor/ceiling choice).
    combos = list(itertools.combinations(range(n), int(t.sum())))
    table = [(np.isin(np.arange(n), c).astype(np.int64), 1 / len(combos)) for c in combos]
    obs, p = _brute_p(y, t, table, x if with_covariate else None)
    assert res.exact and res.draws == len(combos)
    assert res.observed == pytest.approx(obs, abs=TOL), "observed coefficient"
    assert res.p_value == pytest.approx(p, abs=TOL), "exact p-value"


def test_blocked_matches_brute_force_with_odd_blocks(rng: np.random.Generator) -> None:
    blocks = np.array(list("aaaabbbbbccc"))
    ids = np.array([f"u{i:02d}" for i in range(12)])
    scheme = BlockedRandomisation(Units(ids=ids, blocks=blocks))
    from trialkit._core.rng import RawStream

    t = scheme.draw(RawStream(3))
    y = rng.normal(size=12) + 0.5 * t + (blocks == "b")
    df = pd.DataFrame({"id": ids, "y": y, "t": t}).sample(frac=1.0, random_state=1)
    res = randomisation_test(df, outcome="y", treatment="t", scheme=scheme, cluster="id")
    strata = [np.flatnonzero(blocks == b).tolist() for b in "abc"]
    table = list(_strata_assignments(strata, 12))
    assert sum(p for _, p in table) == pytest.approx(1.0, abs=TOL)
    obs, p = _brute_p(y, t, table)
    assert res.exact and res.draws == len(table)
    assert res.p_value == pytest.approx(p, abs=TOL), "blocked exact p-value"
    assert res.observed == pytest.approx(obs, abs=TOL)


def _clustered_rows(
    rng: np.random.Generator, clusters: list[str], sizes: list[int], z: np.ndarray
) -> pd.DataFrame:
    rows = np.repeat(np.arange(len(clusters)), sizes)
    effect = rng.normal(size=len(clusters))[rows]
    y = effect + rng.normal(size=rows.size) + 0.7 * z[rows]
    return pd.DataFrame(
        {"team": np.asarray(clusters)[rows], "y": y, "t": z[rows], "x": rng.normal(size=rows.size)}
    )


def test_cluster_matches_brute_force_on_rows(rng: np.random.Generator) -> None:
    clusters = ["k1", "k2", "k3", "k4", "k5", "k6", "k7"]
    sizes = [3, 1, 4, 2, 5, 2, 3]
    units = Units(ids=np.array(clusters), clusters=np.array(clusters))
    scheme = ClusterRandomisation(units)
    z = np.array([1, 0, 1, 0, 0, 1, 0])
    df = _clustered_rows(rng, clusters, sizes, z)
    res = randomisation_test(
        df, outcome="y", treatment="t", scheme=scheme, cluster="team", covariates=["x"]
    )
    rows = np.repeat(np.arange(7), sizes)
    table = [(zz[rows], p) for zz, p in _strata_assignments([list(range(7))], 7)]
    obs, p = _brute_p(df["y"].to_numpy(), df["t"].to_numpy(), table, df[["x"]].to_numpy())
    assert res.p_value == pytest.approx(p, abs=TOL), "cluster exact p-value"
    assert res.observed == pytest.approx(obs, abs=TOL)


def test_blocked_cluster_matches_brute_force(rng: np.random.Generator) -> None:
    clusters = [f"c{i}" for i in range(9)]
    blocks = ["n"] * 4 + ["s"] * 5
    scheme = BlockedClusterRandomisation(
        Units(ids=np.array(clusters), blocks=np.array(blocks), clusters=np.array(clusters))
    )
    z = np.array([0, 1, 1, 0, 1, 0, 0, 1, 0])
    sizes = [2, 3, 1, 2, 4, 2, 3, 1, 2]
    df = _clustered_rows(rng, clusters, sizes, z)
    res = randomisation_test(df, outcome="y", treatment="t", scheme=scheme, cluster="team")
    rows = np.repeat(np.arange(9), sizes)
    table = [(zz[rows], p) for zz, p in _strata_assignments([[0, 1, 2, 3], [4, 5, 6, 7, 8]], 9)]
    obs, p = _brute_p(df["y"].to_numpy(), df["t"].to_numpy(), table)
    assert res.draws == len(table)
    assert res.observed == pytest.approx(obs, abs=TOL)
    assert res.p_value == pytest.approx(p, abs=TOL), "blocked-cluster exact p-value"


@pytest.mark.parametrize("tau", [-1.5, 0.4, 2.0])
def test_sharp_null_matches_brute_force(rng: np.random.Generator, tau: float) -> None:
    n = 10
    t = np.array([1, 0] * 5)
    y = rng.normal(size=n) + 1.0 * t
    df = pd.DataFrame({"y": y, "t": t})
    res = randomisation_test(df, outcome="y", treatment="t", sharp_null=tau)
    combos = list(itertools.combinations(range(n), 5))
    table = [(np.isin(np.arange(n), c).astype(np.int64), 1 / len(combos)) for c in combos]
    _, p = _brute_p(y, t, table, tau=tau)
    assert res.p_value == pytest.approx(p, abs=TOL), f"p-value under tau0 = {tau}"


def test_multi_arm_matches_brute_force(rng: np.random.Generator) -> None:
    labels = np.array(["a", "b", "c"] * 3)
    y = rng.normal(size=9) + (labels == "b") * 1.0
    df = pd.DataFrame({"y": y, "arm": labels})
    res = randomisation_test(df, outcome="y", treatment="arm", control="a")
    perms = set(itertools.permutations(labels.tolist()))

    def dummies(lab: np.ndarray) -> np.ndarray:
        return np.column_stack([lab == "b", lab == "c"]).astype(float)

    obs = _coef(y, dummies(labels), None)
    stats = np.array([_coef(y, dummies(np.array(p)), None) for p in perms])
    assert res.draws == len(perms) == 1680
    for j, test in enumerate(res.tests):
        p = np.mean(np.abs(stats[:, j]) >= abs(obs[j]) - 1e-9)
        assert test.p_value == pytest.approx(p, abs=TOL), f"p-value of arm {test.arm}"


def test_stepped_wedge_matches_brute_force(rng: np.random.Generator) -> None:
    clusters = [f"t{i}" for i in range(6)]
    scheme = SteppedWedge(Units(ids=np.array(clusters), clusters=np.array(clusters)), steps=3)
    step = np.array([1, 2, 3, 1, 2, 3])  # crossover period of each cluster
    rows = np.repeat(np.arange(6), 4 * 2)  # 4 periods x 2 staff
    period = np.tile(np.repeat(np.arange(4), 2), 6)
    exposed = (period >= step[rows]).astype(np.int64)
    y = rng.normal(size=rows.size) + 0.3 * period + 0.6 * exposed + rng.normal(size=6)[rows]
    df = pd.DataFrame({"team": np.asarray(clusters)[rows], "period": period, "y": y, "t": exposed})
    res = randomisation_test(
        df, outcome="y", treatment="t", scheme=scheme, cluster="team", period="period"
    )
    pdum = np.column_stack([period == k for k in (1, 2, 3)]).astype(float)
    arrangements = set(itertools.permutations([1, 1, 2, 2, 3, 3]))
    table = [
        ((period >= np.array(a)[rows]).astype(np.int64), 1 / len(arrangements))
        for a in arrangements
    ]
    obs, p = _brute_p(y, exposed, table, pdum)
    assert res.exact and res.draws == 90
    assert res.observed == pytest.approx(obs, abs=TOL), "exposure coefficient"
    assert res.p_value == pytest.approx(p, abs=TOL), "stepped-wedge exact p-value"


def test_rerandomisation_matches_filtered_brute_force(rng: np.random.Generator) -> None:
    n = 10
    x = rng.normal(size=(n, 1))
    ids = np.arange(n)
    scheme = Rerandomisation(Units(ids=ids, covariates=x, covariate_names=("x",)), acceptance=0.3)
    allowed = []
    for c in itertools.combinations(range(n), 5):
        z = np.isin(ids, c).astype(np.int64)
        if scheme.criterion(z[None, :])[0] <= scheme.threshold:
            allowed.append(z)
    t = allowed[7]
    y = x[:, 0] + rng.normal(size=n) + 0.9 * t
    df = pd.DataFrame({"id": ids, "y": y, "t": t})
    res = randomisation_test(df, outcome="y", treatment="t", scheme=scheme, cluster="id")
    obs, p = _brute_p(y, t, [(z, 1 / len(allowed)) for z in allowed])
    assert res.draws == len(allowed) < 252
    assert res.observed == pytest.approx(obs, abs=TOL)
    assert res.p_value == pytest.approx(p, abs=TOL), "rerandomisation exact p-value"


def test_lady_tasting_tea() -> None:
    """Fisher (1935, *The Design of Experiments*, ch. II): 8 cups, 4 with milk first.

    If the lady names all four correctly, the exact one-sided p-value is 1/C(8,4) = 1/70
    (see also Hemerik & Goeman 2021, arXiv:1912.02633). The difference in the share of
    cups she calls "milk first" is symmetric under the 70 equally likely splits, so ri2's
    two-sided p-value is 2/70.
    """
    milk_first = np.array([1, 0, 0, 1, 1, 0, 1, 0])
    df = pd.DataFrame({"says_milk_first": milk_first.astype(float), "milk_first": milk_first})
    res = randomisation_test(df, outcome="says_milk_first", treatment="milk_first")
    assert res.exact and res.draws == 70
    assert res.observed == pytest.approx(1.0, abs=TOL)
    assert res.p_value == pytest.approx(2 / 70, abs=TOL)
    assert res.p_value / 2 == pytest.approx(1 / 70, abs=TOL), "Fisher's one-sided 1/70"

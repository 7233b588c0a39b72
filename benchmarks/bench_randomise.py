"""Benchmark the randomise stage against plain NumPy / pandas references, in one run.

Run ``python benchmarks/bench_randomise.py``. Each case prints trialkit's time, the
reference's time (best of several repeats, measured in the same run) and their ratio,
against the target ratio:

* blocked randomisation of 1,000,000 units in 1,000 blocks, within 5× a plain NumPy draw
  (random keys, ``np.lexsort`` by block, first half of each block treated);
* cluster randomisation of 1,000,000 units in 10,000 string-id clusters, within 1.3× a
  pandas reference (``pd.unique`` of the clusters, half drawn, ``isin``);
* rerandomisation of 1,000 units × 5 covariates at 1 % acceptance, within 1.5× a
  vectorised NumPy reference evaluating candidate draws in batches of 1,000.

trialkit's times include declaring the scheme on the units (canonical order, factorising
labels) as well as the draw; the references get integer codes or arrays ready to use.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import stats

from trialkit._core.rng import RawStream
from trialkit.randomise.schemes import BlockedRandomisation, ClusterRandomisation, Rerandomisation
from trialkit.randomise.schemes.matched_pairs import whiten
from trialkit.randomise.units import Units

SEED = 20261123


def best_of(ours: Callable[[], object], reference: Callable[[], object],
            repeats: int) -> tuple[float, float]:
    """The fastest of ``repeats`` timed calls of each, alternating so both see the same load."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, bucket in ((ours, times[0]), (reference, times[1])):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return min(times[0]), min(times[1])


def report(name: str, timings: tuple[float, float], target: float) -> bool:
    """Print one case's times and ratio; whether the ratio is within ``target``."""
    ours, reference = timings
    ratio = ours / reference
    ok = ratio <= target
    print(f"{name:<34} trialkit {ours * 1e3:8.1f} ms   reference {reference * 1e3:8.1f} ms   "
          f"ratio {ratio:5.2f}  (target ≤ {target})  {'PASS' if ok else 'FAIL'}")
    return ok


# ------------------------------------------------------------------ blocked
def blocked_case(repeats: int = 5) -> bool:
    n, n_blocks = 1_000_000, 1_000
    rng = np.random.default_rng(1)
    ids = rng.permutation(n)
    blocks = rng.integers(0, n_blocks, n)

    def reference() -> np.ndarray:
        r = np.random.default_rng(SEED)
        order = np.lexsort((r.random(n), blocks))
        sizes = np.bincount(blocks, minlength=n_blocks)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        rank = np.arange(n) - np.repeat(starts, sizes)
        treat = np.empty(n, dtype=np.int64)
        treat[order] = rank < np.repeat(sizes // 2, sizes)
        return treat

    def ours() -> np.ndarray:
        scheme = BlockedRandomisation(Units(ids=ids, blocks=blocks))
        return scheme.draw(RawStream(SEED))

    return report("blocked: 1e6 units, 1e3 blocks", best_of(ours, reference, repeats), 5.0)


# ------------------------------------------------------------------ cluster
def cluster_case(repeats: int = 7) -> bool:
    n, n_clusters = 1_000_000, 10_000
    rng = np.random.default_rng(2)
    labels = np.array([f"cluster-{i:05d}" for i in rng.permutation(n_clusters)], dtype=object)
    clusters = labels[rng.integers(0, n_clusters, n)]
    ids = np.arange(n)

    def reference() -> np.ndarray:
        r = np.random.default_rng(SEED)
        unique = pd.unique(clusters)
        chosen = unique[r.permutation(len(unique))[: len(unique) // 2]]
        return np.asarray(pd.Series(clusters, dtype=object).isin(chosen))

    def ours() -> np.ndarray:
        scheme = ClusterRandomisation(Units(ids=ids, clusters=clusters))
        return scheme.draw(RawStream(SEED))

    return report("cluster: 1e6 units, 1e4 clusters", best_of(ours, reference, repeats), 1.3)


# ------------------------------------------------------------------ rerandomisation
def rerandomisation_case(repeats: int = 5, accepted: int = 20) -> bool:
    n, p, acceptance, batch = 1_000, 5, 0.01, 1_000
    x = np.random.default_rng(3).normal(size=(n, p))
    threshold = float(stats.chi2.ppf(acceptance, p))

    def reference() -> np.ndarray:
        r = np.random.default_rng(SEED)
        z = whiten(x)
        scale = 1 / (n // 2) + 1 / (n - n // 2)
        kept: list[np.ndarray] = []
        while len(kept) < accepted:
            order = np.argsort(r.random((batch, n)), axis=1)
            sums = z[order[:, : n // 2]].sum(axis=1)
            m = (sums**2).sum(axis=1) * scale
            for row in np.flatnonzero(m <= threshold)[: accepted - len(kept)]:
                treat = np.zeros(n, dtype=np.int64)
                treat[order[row, : n // 2]] = 1
                kept.append(treat)
        return np.stack(kept)

    def ours() -> np.ndarray:
        scheme = Rerandomisation(Units(ids=np.arange(n), covariates=x), threshold=threshold)
        return np.concatenate(list(scheme.draw_many(RawStream(SEED), accepted)))

    return report(f"rerandomisation: {accepted} draws at 1%", best_of(ours, reference, repeats),
                  1.5)


def main() -> None:
    results = [blocked_case(), cluster_case(), rerandomisation_case()]
    print("all within target" if all(results) else "some cases missed their target")


if __name__ == "__main__":
    main()

"""Benchmark the randomise stage against compiled and NumPy / pandas bounds, in one run.

Run ``python benchmarks/bench_randomise.py [--cpu] [--only-blocked]``. Each case prints
trialkit's time, the bound's time (best of several repeats, alternating, measured in the
same run) and their ratio, against the target ratio (``--cpu`` times this process's CPU
seconds instead of wall seconds: steadier on a shared machine, and the same on a quiet one,
as every timed call runs on one thread):

* blocked randomisation of 1,000,000 units (integer ids) in 1,000 blocks, and
  blocked-cluster randomisation of 1,000,000 units in 100,000 clusters in 1,000 blocks,
  within 3× a minimal numba kernel doing the same job (issue 19, item 2);
* cluster randomisation of 1,000,000 units in 10,000 string-id clusters, within 1.3× a
  pandas reference (``pd.unique`` of the clusters, half drawn, ``isin``);
* rerandomisation of 1,000 units × 5 covariates at 1 % acceptance, within 1.5× a
  vectorised NumPy reference evaluating candidate draws in batches of 1,000.

The numba bounds draw one random 64-bit key per randomisation unit (``random_raw``, as
trialkit's stream) and give the first half of each block by key (``np.partition``) arm 1,
in one compiled pass; for blocked-cluster designs each unit then takes its cluster's arm.

* ``numba bound (codes)`` gets integer codes ready to use (block of each unit, or cluster
  of each unit and block of each cluster, codes ``0 … n−1``, units in any order) and also
  groups the units by block (counting sort);
* ``numba bound (grouped)`` gets the units already grouped by block (the block
  boundaries), so it is only keys, selection and arms: the tighter bound.

Both skip what trialkit also does: arm counts from ratios with remainders drawn at random,
ties of keys broken by position, arms for any number of arms, and results in the order the
units were given (a gather through the canonical order).

trialkit is timed two ways:

* ``declare + draw``: building the scheme on the units (coding block and cluster labels,
  ordering ids, canonical order, the count rule) and one draw;
* ``draw``: one draw of a scheme already declared (what randomisation inference,
  diagnosis and balance checks repeat for every draw).

The ≤ 3× target of issue 19 is about ``draw``, against both bounds; ``declare + draw`` is
printed beside the codes bound without a target (it is about 1.3-1.8× for blocked and
about 3× for blocked-cluster on a shared 2-core machine).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import pandas as pd
from scipy import stats

from trialkit._core.rng import RawStream
from trialkit.randomise.schemes import (
    BlockedClusterRandomisation,
    BlockedRandomisation,
    ClusterRandomisation,
    Rerandomisation,
)
from trialkit.randomise.schemes.matched_pairs import whiten
from trialkit.randomise.units import Units

SEED = 20261123
#: The clock: wall time, or with ``--cpu`` this process's CPU time (less disturbed by
#: other work on a shared machine; every timed call here runs on one thread).
CLOCK: Callable[[], float] = time.perf_counter


def best_of(
    ours: Callable[[], object], reference: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """The fastest of ``repeats`` timed calls of each, alternating so both see the same load."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, bucket in ((ours, times[0]), (reference, times[1])):
            start = CLOCK()
            fn()
            bucket.append(CLOCK() - start)
    return min(times[0]), min(times[1])


def report(
    name: str, timings: tuple[float, float], target: float | None, reference: str = "reference"
) -> bool:
    """Print one case's times and ratio; whether the ratio is within ``target`` (if any)."""
    ours, bound = timings
    ratio = ours / bound
    ok = target is None or ratio <= target
    verdict = (
        "(no target)" if target is None else f"(target ≤ {target})  " + ("PASS" if ok else "FAIL")
    )
    print(
        f"{name:<36} trialkit {ours * 1e3:7.1f} ms   {reference:<20} {bound * 1e3:7.1f} ms   "
        f"ratio {ratio:5.2f}  {verdict}"
    )
    return ok


# ------------------------------------------------------------------ blocked (numba bounds)
def _bound_impl(block: Any, n_blocks: Any, keys: Any) -> Any:
    n = block.shape[0]
    starts = np.zeros(n_blocks + 1, dtype=np.int64)
    for j in range(n):
        starts[block[j] + 1] += 1
    for b in range(n_blocks):
        starts[b + 1] += starts[b]
    fill = starts[:-1].copy()
    grouped = np.empty(n, dtype=np.uint64)
    member = np.empty(n, dtype=np.int64)
    for j in range(n):
        c = block[j]
        grouped[fill[c]] = keys[j]
        member[fill[c]] = j
        fill[c] += 1
    treat = np.zeros(n, dtype=np.int64)
    for b in range(n_blocks):
        lo, hi = starts[b], starts[b + 1]
        half = (hi - lo) // 2
        if half == 0:
            continue
        kth = np.partition(grouped[lo:hi], half - 1)[half - 1]
        for j in range(lo, hi):
            if grouped[j] <= kth:
                treat[member[j]] = 1
    return treat


def _grouped_bound_impl(starts: Any, keys: Any) -> Any:
    treat = np.zeros(keys.shape[0], dtype=np.int64)
    for b in range(starts.shape[0] - 1):
        lo, hi = starts[b], starts[b + 1]
        half = (hi - lo) // 2
        if half == 0:
            continue
        kth = np.partition(keys[lo:hi], half - 1)[half - 1]
        for j in range(lo, hi):
            if keys[j] <= kth:
                treat[j] = 1
    return treat


_bound_kernel: Any = numba.njit(cache=True, nogil=True)(_bound_impl)
_grouped_bound_kernel: Any = numba.njit(cache=True, nogil=True)(_grouped_bound_impl)


def numba_bound(block: np.ndarray, n_blocks: int) -> np.ndarray:
    """Treatment (first half of each block by a random key) of each unit, given block codes."""
    keys = np.random.PCG64(SEED).random_raw(len(block))
    return _bound_kernel(block, n_blocks, keys)  # type: ignore[no-any-return]


def grouped_bound(starts: np.ndarray) -> np.ndarray:
    """The same for units already grouped by block (block ``b`` is ``starts[b]:starts[b+1]``)."""
    keys = np.random.PCG64(SEED).random_raw(int(starts[-1]))
    return _grouped_bound_kernel(starts, keys)  # type: ignore[no-any-return]


def _bound_rows(
    name: str,
    declare_and_draw: Callable[[], object],
    draw: Callable[[], object],
    block: np.ndarray,
    n_blocks: int,
    repeats: int,
    expand: np.ndarray | None = None,
) -> list[bool]:
    """The three rows of a case; ``expand`` maps each unit to its randomisation unit."""
    starts = np.concatenate([[0], np.cumsum(np.bincount(block, minlength=n_blocks))])

    def codes() -> np.ndarray:
        treat = numba_bound(block, n_blocks)
        return treat if expand is None else treat[expand]

    def grouped() -> np.ndarray:
        treat = grouped_bound(starts)
        return treat if expand is None else treat[expand]

    codes()
    grouped()
    return [
        report(
            f"{name}: declare + draw",
            best_of(declare_and_draw, codes, repeats),
            None,
            "numba bound (codes)",
        ),
        report(f"{name}: draw", best_of(draw, codes, repeats), 3.0, "numba bound (codes)"),
        report(f"{name}: draw", best_of(draw, grouped, repeats), 3.0, "numba bound (grouped)"),
    ]


def blocked_cases(repeats: int = 7) -> list[bool]:
    n, n_blocks = 1_000_000, 1_000
    rng = np.random.default_rng(1)
    ids = rng.permutation(n)
    blocks = rng.integers(0, n_blocks, n)
    declared = BlockedRandomisation(Units(ids=ids, blocks=blocks))
    declared.draw(RawStream(SEED))

    def declare_and_draw() -> np.ndarray:
        scheme = BlockedRandomisation(Units(ids=ids, blocks=blocks))
        return scheme.draw(RawStream(SEED))

    return _bound_rows(
        "blocked 1e6 / 1e3 blocks",
        declare_and_draw,
        lambda: declared.draw(RawStream(SEED)),
        blocks,
        n_blocks,
        repeats,
    )


def blocked_cluster_cases(repeats: int = 7) -> list[bool]:
    n, n_clusters, n_blocks = 1_000_000, 100_000, 1_000
    rng = np.random.default_rng(4)
    cluster = rng.integers(0, n_clusters, n)
    cluster_block = rng.integers(0, n_blocks, n_clusters)
    blocks = cluster_block[cluster]
    ids = rng.permutation(n)
    declared = BlockedClusterRandomisation(Units(ids=ids, blocks=blocks, clusters=cluster))
    declared.draw(RawStream(SEED))

    def declare_and_draw() -> np.ndarray:
        scheme = BlockedClusterRandomisation(Units(ids=ids, blocks=blocks, clusters=cluster))
        return scheme.draw(RawStream(SEED))

    return _bound_rows(
        "blocked cluster 1e6 / 1e5 / 1e3",
        declare_and_draw,
        lambda: declared.draw(RawStream(SEED)),
        cluster_block,
        n_blocks,
        repeats,
        expand=cluster,
    )


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

    return report(
        f"rerandomisation: {accepted} draws at 1%", best_of(ours, reference, repeats), 1.5
    )


def main() -> None:
    global CLOCK
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu", action="store_true", help="time CPU, not wall, seconds")
    parser.add_argument(
        "--only-blocked", action="store_true", help="only the blocked and blocked-cluster cases"
    )
    args = parser.parse_args()
    if args.cpu:
        CLOCK = time.process_time
    print(f"clock: {'CPU' if args.cpu else 'wall'} time, best of repeated alternating runs")
    results = [*blocked_cases(), *blocked_cluster_cases()]
    if not args.only_blocked:
        results += [cluster_case(), rerandomisation_case()]
    print("all within target" if all(results) else "some cases missed their target")


if __name__ == "__main__":
    main()

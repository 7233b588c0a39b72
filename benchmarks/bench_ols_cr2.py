"""Benchmark: OLS + HC2 and OLS + CR2 (Bell-McCaffrey df) from a DataFrame, against their bounds.

A script, not a test. k = 12 (intercept, arm, 10 covariates). Every time is the minimum of
``--repeat`` rounds (20x as many at N = 1e4, 4x at 1e5), interleaved so that load from other
processes hits every contender alike; each ratio is trialkit's time over its bound's time
measured in the same run (issue 19):

* **HC2 via the DataFrame API** at N = 1e4 and 1e6 (targets 2x and 1.5x): ``ols(frame, ...)``
  against a bare numpy fit of the same arithmetic from the same frame: the design written
  column by column into one column-major array, CholeskyQR2 (the factorisation trialkit uses
  for well-conditioned designs; LAPACK ``potrf``/``trtri`` called directly, as trialkit
  does), residuals, leverages ``|q_i|^2`` and the HC2 sandwich. No input checks, no result.
* **CR2 + Bell-McCaffrey df** at G = 50, 500, 5,000 and N = 1e5, 1e6 (target 2x), clusters
  assigned at random so that rows are *not* stored in cluster order: ``ols(frame, ...,
  cluster=...)`` against numpy on a copy of the frame **pre-sorted by cluster** (the sort
  is not timed): the design as for HC2, CholeskyQR2, per-cluster Gram matrices
  ``Q_g'Q_g`` and scores ``Q_g'e_g`` on contiguous rows (the fastest of three routes, each
  timed: a ``reduceat`` per column, a BLAS product per cluster, one batched BLAS product
  over zero-padded clusters), batched ``eigh``, and the low-rank CR2 meat and
  Bell-McCaffrey traces by batched products. Its results are checked against trialkit's.

Each row shows the wall-clock ratio (which decides "ok") and the ratio of CPU times, which
leaves out time spent waiting for a core and so estimates the quiet-machine ratio when the
machine is shared. ``--peers`` adds HC2 at N = 1e6 by Householder QR in numpy, statsmodels
and pyfixest (when installed), for scale. Run from the repository root (BLAS pinned to one
thread so that shared machines give stable ratios)::

    PYTHONPATH=. OPENBLAS_NUM_THREADS=1 python benchmarks/bench_ols_cr2.py [--repeat 5] [--quick]
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from functools import partial
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from scipy.linalg.lapack import dpotrf, dtrtri

from trialkit.estimate import ols

N_COVARIATES = 10  # + intercept + arm = k = 12
COVARIATES = [f"x{j}" for j in range(N_COVARIATES)]
HC2_TARGETS = {10_000: 2.0, 1_000_000: 1.5}
CR2_TARGET = 2.0
CR2_SIZES = (100_000, 1_000_000)
CR2_CLUSTERS = (50, 500, 5_000)


def make_data(n: int, n_clusters: int = 0, seed: int = 1) -> pd.DataFrame:
    """Outcome, 0/1 arm, covariates; clusters (labels 7g + 3) assigned at random."""
    rng = np.random.default_rng(seed)
    cols = {f"x{j}": rng.normal(size=n) for j in range(N_COVARIATES)}
    frame = pd.DataFrame({"arm": rng.integers(0, 2, n), **cols})
    frame["y"] = 0.2 * frame["arm"] + frame["x0"] + rng.normal(size=n) * (1 + frame["arm"])
    if n_clusters:
        frame["team"] = 7 * rng.integers(0, n_clusters, n) + 3
    return frame


def design(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The design, column by column into one column-major array (the fastest way found)."""
    x = np.empty((len(frame), N_COVARIATES + 2), order="F")
    x[:, 0] = 1.0
    for j, name in enumerate(["arm", *COVARIATES], start=1):
        x[:, j] = frame[name].to_numpy(dtype=float)
    return x, frame["y"].to_numpy(dtype=float)


def cholesky_qr2(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``Q`` and ``R^{-1}`` of ``x`` by CholeskyQR2 (column scaling folded in, as trialkit).

    LAPACK is called directly (``potrf``, ``trtri``), as trialkit does.
    """
    gram = x.T @ x
    scale = np.sqrt(np.diag(gram))
    t1 = dtrtri(dpotrf(gram / np.outer(scale, scale))[0])[0] / scale[:, None]
    q = x @ t1
    t2 = dtrtri(dpotrf(q.T @ q)[0])[0]
    np.matmul(x, t1 @ t2, out=q)
    return q, t1 @ t2


def bound_hc2(frame: pd.DataFrame) -> np.ndarray:
    """HC2 SEs: one ``to_numpy``, CholeskyQR2, leverages, sandwich."""
    x, y = design(frame)
    q, r_inv = cholesky_qr2(x)
    e = y - q @ (q.T @ y)
    u = e * e / (1.0 - np.einsum("ij,ij->i", q, q))
    meat = (q * u[:, None]).T @ q
    return np.sqrt(np.diag(r_inv @ meat @ r_inv.T))


def grams_reduceat(qs: np.ndarray, es: np.ndarray, starts: np.ndarray) -> tuple[Any, Any]:
    qe = np.add.reduceat(qs * es[:, None], starts, axis=0)
    grams = np.empty((starts.size, qs.shape[1], qs.shape[1]))
    for a in range(qs.shape[1]):  # one column block at a time
        grams[:, a, :] = np.add.reduceat(qs * qs[:, [a]], starts, axis=0)
    return grams, qe


def grams_blas(qs: np.ndarray, es: np.ndarray, starts: np.ndarray) -> tuple[Any, Any]:
    bounds = np.r_[starts, qs.shape[0]]
    grams = np.empty((starts.size, qs.shape[1], qs.shape[1]))
    qe = np.empty((starts.size, qs.shape[1]))
    for g in range(starts.size):  # a loop over clusters, not rows
        block = qs[bounds[g] : bounds[g + 1]]
        grams[g] = block.T @ block
        qe[g] = es[bounds[g] : bounds[g + 1]] @ block
    return grams, qe


def grams_padded(qs: np.ndarray, es: np.ndarray, starts: np.ndarray) -> tuple[Any, Any]:
    sizes = np.diff(np.r_[starts, qs.shape[0]])
    cluster = np.repeat(np.arange(starts.size), sizes)
    slot = np.arange(qs.shape[0]) - starts[cluster]
    padded = np.zeros((starts.size, sizes.max(), qs.shape[1]))
    padded[cluster, slot] = qs
    epad = np.zeros((starts.size, 1, sizes.max()))
    epad[cluster, 0, slot] = es
    return np.swapaxes(padded, 1, 2) @ padded, (epad @ padded)[:, 0]  # batched BLAS


GRAMS: dict[str, Callable[..., tuple[Any, Any]]] = {
    "reduceat": grams_reduceat,
    "BLAS per cluster": grams_blas,
    "padded batch": grams_padded,
}


def bound_cr2(frame: pd.DataFrame, grams_fn: Callable[..., Any]) -> np.ndarray:
    """CR2 SEs and BM df on rows pre-sorted by cluster: low-rank, numpy."""
    x, y = design(frame)
    team = frame["team"].to_numpy()
    starts = np.r_[0, np.flatnonzero(team[1:] != team[:-1]) + 1]
    q, r_inv = cholesky_qr2(x)
    e = y - q @ (q.T @ y)
    grams, qe = grams_fn(q, e, starts)
    lam, vec = np.linalg.eigh(grams)
    lam = np.clip(lam, 0.0, 1.0)
    isq = np.where(1 - lam > 1e-10, 1 / np.sqrt(np.maximum(1 - lam, 1e-300)), 0.0)
    s = (vec @ (isq * (qe[:, None, :] @ vec)[:, 0])[:, :, None])[:, :, 0]  # adjusted scores
    vcov = r_inv @ (s.T @ s) @ r_inv.T
    t = r_inv @ vec  # g, p, j
    d = ((t * t) @ (lam * isq**2)[:, :, None])[:, :, 0]
    u = (vec * (lam * isq)[:, None, :]) @ np.swapaxes(t, 1, 2)  # g, a, p
    nu = np.square(u).sum(axis=1)
    ut = np.ascontiguousarray(u.transpose(2, 0, 1))
    cross = np.square(np.swapaxes(ut, 1, 2) @ ut).sum(axis=(1, 2))
    tr1 = d.sum(0) - nu.sum(0)
    tr2 = (d**2).sum(0) - 2 * (d * nu).sum(0) + cross
    return np.concatenate([np.sqrt(np.diag(vcov)), tr1**2 / tr2])


def trialkit_fit(frame: pd.DataFrame, cluster: str | None = None) -> np.ndarray:
    res = ols(frame, "y", "arm", covariates=COVARIATES, cluster=cluster)
    out = np.sqrt(np.diag(res.vcov))
    return np.concatenate([out, res.df]) if cluster else out


def householder_hc2(frame: pd.DataFrame) -> np.ndarray:
    x, y = design(frame)
    q, r = np.linalg.qr(x)
    e = y - q @ (q.T @ y)
    u = e * e / (1.0 - np.einsum("ij,ij->i", q, q))
    r_inv = np.linalg.inv(r)
    return np.sqrt(np.diag(r_inv @ ((q * u[:, None]).T @ q) @ r_inv.T))


def statsmodels_hc2(frame: pd.DataFrame) -> np.ndarray:
    import statsmodels.api as sm

    return np.asarray(sm.OLS(*design(frame)[::-1]).fit(cov_type="HC2").bse)


def pyfixest_hc2(frame: pd.DataFrame) -> np.ndarray:
    import pyfixest as pf  # its HC2 has a (N-1)/(N-k) factor: only its speed is compared

    return np.asarray(pf.feols(f"y ~ {' + '.join(['arm', *COVARIATES])}", frame, vcov="HC2").se())


Times = dict[str, tuple[float, float]]


def best_times(contenders: dict[str, Callable[[], Any]], repeat: int) -> Times:
    """Minimum wall-clock and minimum CPU time of each contender over interleaved rounds.

    Each timed call follows an untimed call of the same contender, so that every one meets
    the memory allocator as it left it, not as the previous contender did (at 10^6 rows the
    page faults of memory another contender gave back otherwise land on whoever comes next).
    CPU time (this process) leaves out the time the process waits for a core, so on a
    shared machine its ratio is the better estimate of the ratio on a quiet one.
    """
    wall = dict.fromkeys(contenders, float("inf"))
    cpu = dict.fromkeys(contenders, float("inf"))
    for _ in range(repeat):
        for name, fn in contenders.items():
            fn()
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall[name] = min(wall[name], time.perf_counter() - t0)
            cpu[name] = min(cpu[name], time.process_time() - c0)
    return {name: (wall[name], cpu[name]) for name in contenders}


def _row(task: str, ours: tuple[float, float], bound: tuple[float, float], target: float) -> bool:
    wall, cpu = ours[0] / bound[0], ours[1] / bound[1]
    ok = wall <= target
    print(
        f"  {task:34s} {ours[0] * 1e3:9.2f} {bound[0] * 1e3:9.2f} {wall:7.2f}x {cpu:7.2f}x "
        f"{target:6.1f}x  {'ok' if ok else 'MISSED'}{'' if cpu <= target else ' (cpu: MISSED)'}"
    )
    return ok


def hc2_rows(repeat: int) -> list[bool]:
    oks = []
    for n, target in HC2_TARGETS.items():
        frame = make_data(n)
        ours = trialkit_fit(frame)
        assert np.allclose(ours, bound_hc2(frame), rtol=1e-8), f"HC2 SEs disagree at N={n}"
        tt = best_times(
            {"trialkit": partial(trialkit_fit, frame), "bound": partial(bound_hc2, frame)},
            repeat if n > 10_000 else 20 * repeat,
        )
        oks.append(_row(f"HC2 via DataFrame, N={n:.0e}", tt["trialkit"], tt["bound"], target))
    return oks


def cr2_rows(repeat: int, sizes: tuple[int, ...], notes: list[str]) -> list[bool]:
    oks = []
    for n in sizes:
        for g in CR2_CLUSTERS:
            frame = make_data(n, g)
            presorted = frame.sort_values("team", kind="stable", ignore_index=True)
            ours = trialkit_fit(frame, "team")
            for name, fn in GRAMS.items():
                ref = bound_cr2(presorted, fn)
                assert np.allclose(ours, ref, rtol=1e-7), f"CR2 ({name}) disagrees: N={n}, G={g}"
            contenders: dict[str, Callable[[], Any]] = {
                "trialkit": partial(trialkit_fit, frame, "team")
            }
            for name, fn in GRAMS.items():
                contenders[name] = partial(bound_cr2, presorted, fn)
            tt = best_times(contenders, repeat if n > 100_000 else 4 * repeat)
            best = min(GRAMS, key=lambda name: tt[name][0])
            bound = (tt[best][0], min(tt[name][1] for name in GRAMS))
            oks.append(_row(f"CR2 + BM df, N={n:.0e}, G={g:,}", tt["trialkit"], bound, CR2_TARGET))
            notes.append(f"G={g:,} at N={n:.0e}: {best}")
    return oks


def peer_rows(repeat: int) -> None:
    frame = make_data(1_000_000)
    peers: dict[str, Callable[[], Any]] = {
        "trialkit ols HC2": lambda: trialkit_fit(frame),
        "bound (CholeskyQR2)": lambda: bound_hc2(frame),
        "numpy Householder QR": lambda: householder_hc2(frame),
        "statsmodels OLS HC2": lambda: statsmodels_hc2(frame),
    }
    try:
        pyfixest_hc2(frame.iloc[:1000])
        peers["pyfixest feols HC2"] = lambda: pyfixest_hc2(frame)
    except ImportError:
        print("  pyfixest is not installed: skipped")
    times = best_times(peers, repeat)
    print("\nHC2 at N = 1e6, peers (for scale)")
    for name, (t, _) in times.items():
        ratio = times["trialkit ols HC2"][0] / t
        print(f"  {name:26s} {t * 1e3:9.1f} ms   trialkit / this = {ratio:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds (minimum)")
    parser.add_argument("--quick", action="store_true", help="CR2 at N = 1e5 only")
    parser.add_argument("--peers", action="store_true", help="also time HC2 peers at 1e6")
    args = parser.parse_args()
    small = make_data(5_000, 50)
    trialkit_fit(small, "team")  # load the numba kernels before timing
    trialkit_fit(small)
    print(
        f"k = 12, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}, "
        f"minimum of {args.repeat} interleaved rounds (more at N <= 1e5), "
        f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    print(
        f"  {'task':34s} {'trialkit':>9s} {'bound':>9s} {'ratio':>8s} {'(cpu)':>8s} {'target':>7s}"
        "   (times: ms, wall-clock)"
    )
    notes: list[str] = []
    oks = hc2_rows(args.repeat)
    oks += cr2_rows(args.repeat, CR2_SIZES[:1] if args.quick else CR2_SIZES, notes)
    print(
        f"{sum(oks)} of {len(oks)} targets hold (wall-clock); load average after: "
        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}"
    )
    print("fastest CR2 bound route: " + "; ".join(notes))
    if args.peers:
        peer_rows(args.repeat)


if __name__ == "__main__":
    main()

"""Benchmark: randomisation inference at N = 100,000 with 10,000 draws.

Compares ``trialkit.estimate.randomisation_test`` (complete and blocked designs) with

* a compiled reference kernel written here: a plain numba loop that, for each draw,
  Fisher–Yates shuffles the treatment vector and takes the difference in means (the same
  PCG64 streams, bounded integers and chunking, and the same number of threads);
* pyfixest's ``Feols.ritest`` when pyfixest is installed, run with fewer repetitions and
  scaled linearly to 10,000 (said in the output).

All ratios are measured in the same run. Run with::

    python benchmarks/bench_ri.py [--n 100000] [--draws 10000] [--pyfixest-reps 200]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numba
import numpy as np
import pandas as pd
from numba import prange

from trialkit._core.rng import RawStream
from trialkit.estimate.frequentist import ri_kernels as rk
from trialkit.estimate.frequentist.ri import randomisation_test
from trialkit.randomise.schemes import BlockedRandomisation
from trialkit.randomise.units import Units


def _reference_chunk_impl(out: Any, d0: Any, d1: Any, state: Any, y: Any, t: Any) -> None:
    hi, lo, ihi, ilo = state[0], state[1], state[2], state[3]
    buf, full = np.uint64(0), False
    work = t.copy()
    n = y.shape[0]
    for d in range(d0, d1):
        for i in range(n - 1):  # Fisher-Yates shuffle of the treatment vector
            hi, lo, buf, full, j = rk._bounded32(hi, lo, ihi, ilo, buf, full, np.uint64(n - i))
            k = i + np.int64(j)
            work[i], work[k] = work[k], work[i]
        s1, s, n1 = 0.0, 0.0, 0
        for i in range(n):  # difference in means
            s += y[i]
            if work[i]:
                s1 += y[i]
                n1 += 1
        out[d] = s1 / n1 - (s - s1) / (n - n1)


_reference_chunk: Any = numba.njit(cache=True, nogil=True)(_reference_chunk_impl)


def _reference_impl(states: Any, n_draws: Any, y: Any, t: Any) -> Any:
    out = np.empty(n_draws)
    for c in prange(states.shape[0]):
        _reference_chunk(out, c * rk.CHUNK, min((c + 1) * rk.CHUNK, n_draws), states[c], y, t)
    return out


reference_kernel: Any = numba.njit(cache=True, nogil=True, parallel=True)(_reference_impl)


def _time(fn: Any, repeat: int = 3) -> float:
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return float(best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--pyfixest-reps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, draws = args.n, args.draws
    rng = np.random.default_rng(1)
    blocks = np.repeat(np.arange(n // 100), 100)[:n].astype(str)
    blocked = BlockedRandomisation(Units(ids=np.arange(n), blocks=blocks))
    t = blocked.draw(RawStream(1)).astype(np.int8)  # blocked is also complete
    y = rng.normal(size=n) + 0.01 * t
    df = pd.DataFrame({"id": np.arange(n), "y": y, "t": t, "block": blocks})
    # Warm up (compile or load from cache) on a small problem.
    randomisation_test(df.head(1000), outcome="y", treatment="t", draws=200)
    reference_kernel(rk.chunk_states(0, 64), 64, y[:1000], t[:1000])

    print(f"N = {n:,}, draws = {draws:,}, numba threads = {numba.get_num_threads()}")
    states = rk.chunk_states(0, draws)
    t_ref = _time(lambda: reference_kernel(states, draws, y, t), args.repeat)
    t_complete = _time(lambda: randomisation_test(df, outcome="y", treatment="t",
                                                  draws=draws), args.repeat)
    t_blocked = _time(lambda: randomisation_test(df, outcome="y", treatment="t",
                                                 scheme=blocked, unit="id", draws=draws),
                      args.repeat)
    print(f"reference kernel (shuffle + difference in means): {t_ref:8.3f} s")
    print(f"randomisation_test, complete:                     {t_complete:8.3f} s "
          f"({t_complete / t_ref:.2f}x reference)")
    print(f"randomisation_test, blocked ({n // 100} blocks):        {t_blocked:8.3f} s "
          f"({t_blocked / t_ref:.2f}x reference)")
    _pyfixest(df, args.pyfixest_reps, draws, t_complete)


def _pyfixest(df: pd.DataFrame, reps: int, draws: int, t_complete: float) -> None:
    try:
        import pyfixest as pf  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        print("pyfixest: not installed, ratio not measured")
        return
    fit = pf.feols("y ~ t", data=df)
    fit.ritest(resampvar="t", reps=2, rng=np.random.default_rng(0))  # compile / warm up
    start = time.perf_counter()
    fit.ritest(resampvar="t", reps=reps, rng=np.random.default_rng(1))
    elapsed = time.perf_counter() - start
    scaled = elapsed * draws / reps
    print(f"pyfixest {pf.__version__} Feols.ritest(reps={reps}): {elapsed:.3f} s, scaled "
          f"linearly to {draws:,} reps: {scaled:.1f} s; randomisation_test (complete) is "
          f"{scaled / t_complete:.0f}x faster")


if __name__ == "__main__":
    main()

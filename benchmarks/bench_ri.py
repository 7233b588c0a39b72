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
from trialkit.estimate.frequentist.ri import kernels as rk
from trialkit.estimate.frequentist.ri import randomisation_test
from trialkit.estimate.frequentist.ri.pcg64 import CHUNK, bounded32
from trialkit.randomise.schemes import BlockedRandomisation
from trialkit.randomise.units import Units


def _reference_chunk_impl(out: Any, d0: Any, d1: Any, state: Any, y: Any, t: Any) -> None:
    hi, lo, ihi, ilo = state[0], state[1], state[2], state[3]
    buf, full = np.uint64(0), False
    work = t.copy()
    n = y.shape[0]
    for d in range(d0, d1):
        for i in range(n - 1):  # Fisher-Yates shuffle of the treatment vector
            hi, lo, buf, full, j = bounded32(hi, lo, ihi, ilo, buf, full, np.uint64(n - i))
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
        _reference_chunk(out, c * CHUNK, min((c + 1) * CHUNK, n_draws), states[c], y, t)
    return out


reference_kernel: Any = numba.njit(cache=True, nogil=True, parallel=True)(_reference_impl)


def _interleaved(runs: dict[str, Any], repeat: int) -> dict[str, float]:
    """Best of ``repeat`` wall times of each callable, run in turn (A B C A B C ...).

    Interleaving keeps the ratios fair when the machine's load drifts during the run.
    """
    best = dict.fromkeys(runs, np.inf)
    for _ in range(repeat):
        for name, fn in runs.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def _pyfixest_run(df: pd.DataFrame, reps: int) -> Any:
    """``Feols.ritest(reps=reps)`` as a callable (warmed up), or ``None`` without pyfixest."""
    try:
        import pyfixest as pf  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    fit = pf.feols("y ~ t", data=df)
    fit.ritest(resampvar="t", reps=2, rng=np.random.default_rng(0))  # compile / warm up
    print(
        f"pyfixest {pf.__version__}: Feols.ritest(resampvar='t', reps={reps}), "
        "timed and scaled linearly to the number of draws"
    )
    return lambda: fit.ritest(resampvar="t", reps=reps, rng=np.random.default_rng(1))


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
    # The complete design's data: with a `block` column, the test refuses to ignore it.
    unblocked = df.drop(columns="block")
    # Warm up (compile or load from cache) on a small problem.
    randomisation_test(unblocked.head(1000), outcome="y", treatment="t", draws=200)
    reference_kernel(rk.chunk_states(0, 64), 64, y[:1000], t[:1000])

    print(
        f"N = {n:,}, draws = {draws:,}, numba threads = {numba.get_num_threads()}, "
        f"best of {args.repeat}, interleaved"
    )
    states = rk.chunk_states(0, draws)
    runs: dict[str, Any] = {
        "reference": lambda: reference_kernel(states, draws, y, t),
        "complete": lambda: randomisation_test(unblocked, outcome="y", treatment="t", draws=draws),
        "blocked": lambda: randomisation_test(
            df, outcome="y", treatment="t", scheme=blocked, cluster="id", draws=draws
        ),
    }
    pyfixest = _pyfixest_run(df, args.pyfixest_reps)
    if pyfixest is not None:
        runs["pyfixest"] = pyfixest
    best = _interleaved(runs, args.repeat)
    ref = best["reference"]
    print(f"reference kernel (shuffle + difference in means): {ref:8.3f} s")
    for name in ("complete", "blocked"):
        label = f"randomisation_test, {name}" + (
            f" ({n // 100} blocks)" if name == "blocked" else ""
        )
        print(f"{label:<49} {best[name]:8.3f} s ({best[name] / ref:.2f}x reference)")
    if pyfixest is None:
        print("pyfixest: not installed, ratio not measured")
        return
    scaled = best["pyfixest"] * draws / args.pyfixest_reps
    print(
        f"pyfixest ritest, {args.pyfixest_reps} reps: {best['pyfixest']:.3f} s; scaled to "
        f"{draws:,}: {scaled:.1f} s -> randomisation_test is "
        f"{scaled / best['complete']:.1f}x (complete) and {scaled / best['blocked']:.1f}x "
        "(blocked; pyfixest has no strata) faster"
    )


if __name__ == "__main__":
    main()

"""Benchmark: OLS + HC2 and OLS + CR2 (with Bell-McCaffrey df) at N = 1,000,000, k = 12.

A script, not a test. Prints wall times (best of ``--repeat`` runs, interleaved so that load
from other processes hits every contender alike) and ratios measured in the same run:

* OLS + HC2 from the DataFrame: trialkit's ``ols`` against
  - a tight numpy reference using Householder QR (``numpy.linalg.qr``), the accuracy class
    trialkit promises;
  - the fastest numpy route (Cholesky normal equations), which trialkit refuses to use
    for accuracy reasons, shown for scale;
  - statsmodels ``OLS(...).fit(cov_type="HC2")``;
  - pyfixest ``feols(..., vcov="HC2")`` when installed. Note pyfixest's HC2 multiplies by
    (N-1)/(N-k) by default, so its numbers differ slightly; only its speed is compared.
* OLS + CR2 + BM df with clusters of 10, 100 and 1,000 rows: trialkit's ``ols`` against
  a straightforward low-rank numpy reference written here (per-cluster k x k eigenproblems
  from ``Q_g'Q_g``, traces for the df), which it also checks numerically.

Run (BLAS pinned to one thread so that shared machines give stable ratios)::

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_ols_cr2.py
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
from scipy.linalg import cho_factor, cho_solve

from trialkit.estimate import ols

N_COVARIATES = 10  # + intercept + arm = k = 12


def make_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {f"x{j}": rng.normal(size=n) for j in range(N_COVARIATES)}
    frame = pd.DataFrame({"arm": rng.integers(0, 2, n), **cols})
    frame["y"] = 0.2 * frame["arm"] + frame["x0"] + rng.normal(size=n) * (1 + frame["arm"])
    for size in (10, 100, 1000):
        frame[f"c{size}"] = np.arange(n) // size
    return frame


def design(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    cols = ["arm"] + [f"x{j}" for j in range(N_COVARIATES)]
    x = np.column_stack([np.ones(len(frame)), frame[cols].to_numpy(dtype=float)])
    return x, frame["y"].to_numpy(dtype=float)


def numpy_qr_hc2(frame: pd.DataFrame) -> np.ndarray:
    """Tight reference: Householder QR, leverages from Q, HC2 sandwich."""
    x, y = design(frame)
    q, r = np.linalg.qr(x)
    b = np.linalg.solve(r, q.T @ y)
    e = y - x @ b
    h = np.einsum("ij,ij->i", q, q)
    r_inv = np.linalg.inv(r)
    meat = (q * (e**2 / (1 - h))[:, None]).T @ q
    return np.sqrt(np.diag(r_inv @ meat @ r_inv.T))


def numpy_normal_hc2(frame: pd.DataFrame) -> np.ndarray:
    """Fastest numpy route (normal equations; not accurate enough for trialkit)."""
    x, y = design(frame)
    c = cho_factor(x.T @ x)
    b = cho_solve(c, x.T @ y)
    e = y - x @ b
    bread = cho_solve(c, np.eye(x.shape[1]))
    h = np.einsum("ij,jk,ik->i", x, bread, x)
    meat = (x * (e**2 / (1 - h))[:, None]).T @ x
    return np.sqrt(np.diag(bread @ meat @ bread))


def statsmodels_hc2(frame: pd.DataFrame) -> np.ndarray:
    import statsmodels.api as sm

    x, y = design(frame)
    return np.asarray(sm.OLS(y, x).fit(cov_type="HC2").bse)


def pyfixest_hc2(frame: pd.DataFrame) -> np.ndarray:
    import pyfixest as pf

    rhs = " + ".join(["arm"] + [f"x{j}" for j in range(N_COVARIATES)])
    return np.asarray(pf.feols(f"y ~ {rhs}", data=frame, vcov="HC2").se())


def trialkit_fit(frame: pd.DataFrame, cluster: str | None) -> np.ndarray:
    covs = [f"x{j}" for j in range(N_COVARIATES)]
    res = ols(frame, "y", "arm", covariates=covs, cluster=cluster)
    return np.concatenate([np.sqrt(np.diag(res.vcov)), res.df])


def lowrank_cr2(frame: pd.DataFrame, cluster: str) -> np.ndarray:
    """Low-rank reference CR2 + BM df, plain numpy (clusters sorted, equal-size friendly)."""
    x, y = design(frame)
    g_codes = frame[cluster].to_numpy()
    q, r = np.linalg.qr(x)
    b = np.linalg.solve(r, q.T @ y)
    e = y - x @ b
    r_inv = np.linalg.inv(r)
    k = x.shape[1]
    order = np.argsort(g_codes, kind="stable")
    qs, es = q[order], e[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g_codes[order])) + 1]
    qe = np.add.reduceat(qs * es[:, None], starts, axis=0)
    grams = np.empty((starts.size, k, k))
    for a in range(k):  # M_g = Q_g'Q_g, one column block at a time
        grams[:, a, :] = np.add.reduceat(qs * qs[:, [a]], starts, axis=0)
    lam, vec = np.linalg.eigh(grams)
    lam = np.clip(lam, 0.0, 1.0)
    isq = np.where(1 - lam > 1e-10, 1 / np.sqrt(np.maximum(1 - lam, 1e-300)), 0.0)
    s = np.einsum("gaj,gj->ga", vec, isq * np.einsum("gaj,ga->gj", vec, qe))
    vcov = r_inv @ (s.T @ s) @ r_inv.T
    t = np.einsum("pa,gaj->gpj", r_inv, vec)  # r_inv V
    d = np.einsum("gj,gpj->gp", lam * isq**2, t**2)
    u = np.einsum("gaj,gj,gpj->gap", vec, lam * isq, t)
    nu = np.einsum("gap,gap->gp", u, u)
    ut = np.ascontiguousarray(u.transpose(2, 0, 1))
    cross = np.square(np.swapaxes(ut, 1, 2) @ ut).sum(axis=(1, 2))
    tr1 = d.sum(0) - nu.sum(0)
    tr2 = (d**2).sum(0) - 2 * (d * nu).sum(0) + cross
    return np.concatenate([np.sqrt(np.diag(vcov)), tr1**2 / tr2])


def best_times(contenders: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(repeat):
        for name, fn in contenders.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    frame = make_data(args.n)
    small = frame.iloc[:5000]
    trialkit_fit(small, "c10")  # compile the numba kernels before timing
    print(f"N = {args.n:,}, k = 12, OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}")

    hc2: dict[str, Callable[[], Any]] = {
        "trialkit ols HC2": lambda: trialkit_fit(frame, None),
        "numpy QR reference": lambda: numpy_qr_hc2(frame),
        "numpy normal-equations": lambda: numpy_normal_hc2(frame),
        "statsmodels OLS HC2": lambda: statsmodels_hc2(frame),
    }
    try:
        pyfixest_hc2(small)
        hc2["pyfixest feols HC2"] = lambda: pyfixest_hc2(frame)
    except ImportError:
        print("pyfixest is not installed: skipped")
    ours = trialkit_fit(frame, None)[:12]
    assert np.allclose(ours, numpy_qr_hc2(frame), rtol=1e-8), "HC2 SEs disagree"
    times = best_times(hc2, args.repeat)
    print("\nOLS + HC2")
    for name, t in times.items():
        print(f"  {name:26s} {t:8.3f} s   trialkit / this = {times['trialkit ols HC2'] / t:5.2f}")

    print("\nOLS + CR2 + Bell-McCaffrey df")
    for size in (10, 100, 1000):
        cl = f"c{size}"
        ours = trialkit_fit(frame, cl)
        ref = lowrank_cr2(frame, cl)
        assert np.allclose(ours, ref, rtol=1e-7), f"CR2 disagrees for clusters of {size}"
        tt = best_times(
            {
                "trialkit": partial(trialkit_fit, frame, cl),
                "low-rank reference": partial(lowrank_cr2, frame, cl),
            },
            args.repeat,
        )
        print(
            f"  clusters of {size:5d} ({args.n // size:7,d} clusters): trialkit "
            f"{tt['trialkit']:7.3f} s, reference {tt['low-rank reference']:7.3f} s, "
            f"ratio {tt['trialkit'] / tt['low-rank reference']:5.2f}"
        )


if __name__ == "__main__":
    main()

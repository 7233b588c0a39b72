"""Benchmark trialkit's Bayesian fits against nutpie driven directly and PyMC's default NUTS.

Run from the repository root::

    python benchmarks/bench_bayes.py            # full sizes (several minutes)
    python benchmarks/bench_bayes.py --quick    # smaller data and draws, for a smoke run

Scenarios (4 chains x 1,000 draws after 1,000 tuning steps, unless --quick):

* hierarchical: a cluster trial of 200 clusters x 50 units, cluster-level treatment,
  one covariate, normal outcome with cluster random intercepts (non-centred);
* logistic: 10,000 rows, individual-level treatment, one covariate.

For each, the treatment effect's bulk ESS per second of sampling (``ess_per_s``; PyMC's
from its own ``sampling_time``) and per second including compilation, for
``trialkit.estimate.bayes`` (nutpie on trialkit's compiled kernels), for the same model
written by hand in PyMC and sampled with ``nutpie`` directly (PyTensor's numba code), and
with ``pymc.sample`` defaults; ratios are printed from the same run. The first trialkit fit
runs with empty compile caches (a fresh PyTensor ``base_compiledir`` and
``NUMBA_CACHE_DIR``), nothing of trialkit's Bayesian code, nutpie, ArviZ or numba yet
imported, and its wall time is reported as "first fit".

Recorded 2026-11-23 on the 2-core development VM, quiet, 4 chains x 1,000 draws (ESS per
second of sampling; trialkit / nutpie driven directly / PyMC's default):

* hierarchical, 10,000 rows: 440 / 238 / 11.7 ESS/s, so 1.85x nutpie and 38x PyMC;
* logistic, 10,000 rows: 903 / 121 / 41.7 ESS/s, so 7.5x nutpie and 22x PyMC (centring the
  arm makes draws of the effect nearly independent);
* first fit with every compile cache empty, importing trialkit's Bayesian modules included:
  9.6 s (target: under 15 s). trialkit's kernels compile once per process and family (3.1 s
  here) instead of numba compiling PyTensor's code for each model (about 20 s for this one,
  30 s for the whole first fit before). A first fit in a new process with the caches filled
  took 9.7 s: most of a first fit is importing nutpie, ArviZ and numba and sampling (3.1 s).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from typing import Any

import numpy as np
import pandas as pd

# Empty compile caches for this process, set before PyTensor and numba are imported:
# PyTensor's (C modules and its numba cache both live under base_compiledir) and numba's.
# A child run (--first-fit-only) inherits the parent's, by then filled, caches.
_EMPTY = os.environ.get("TRIALKIT_BENCH_CACHE") or tempfile.mkdtemp(prefix="trialkit-bench-")
os.environ["TRIALKIT_BENCH_CACHE"] = _EMPTY
os.environ["PYTENSOR_FLAGS"] = f"base_compiledir={_EMPTY}"
os.environ["NUMBA_CACHE_DIR"] = os.path.join(_EMPTY, "numba-own")


def simulate(kind: str, quick: bool, rng: np.random.Generator) -> pd.DataFrame:
    """Simulated trial data for ``kind`` ("hierarchical" or "logistic")."""
    if kind == "hierarchical":
        clusters, size = (50, 20) if quick else (200, 50)
        team = np.repeat(np.arange(clusters), size)
        arm = (rng.permutation(clusters) < clusters // 2).astype(int)[team]
        x = rng.normal(size=team.size)
        y = 0.2 * arm + 0.5 * x + rng.normal(0, 0.33, clusters)[team] + rng.normal(size=team.size)
        return pd.DataFrame({"y": y, "arm": arm, "x1": x, "team": team})
    n = 2_000 if quick else 10_000
    arm = rng.integers(0, 2, n)
    x = rng.normal(size=n)
    p = 1 / (1 + np.exp(-(-0.5 + 0.3 * arm + 0.8 * x)))
    return pd.DataFrame({"y": rng.binomial(1, p), "arm": arm, "x1": x})


def hand_model(kind: str, df: pd.DataFrame) -> Any:
    """The model as an evaluator would write it directly in PyMC, with trialkit's default
    priors: the arm as a 0/1 dummy (trialkit centres it, and every other predictor, and
    puts the intercept's prior on the centred intercept, as rstanarm and brms do) and
    PyMC's own Bernoulli likelihood (trialkit's is the same density, written in one
    softplus)."""
    import pymc as pm

    x = (df["x1"] - df["x1"].mean()).to_numpy()
    arm = df["arm"].to_numpy(dtype=float)
    with pm.Model() as model:
        if kind == "hierarchical":
            s = float(df["y"].std())
            team = df["team"].to_numpy()
            beta = pm.Normal("beta", 0, s)
            a = pm.Normal("intercept", df["y"].mean(), 2.5 * s)
            g = pm.Normal("gamma", 0, 2.5 * s / x.std())
            tau = pm.HalfNormal("cluster_sd", s)
            z = pm.Normal("cluster_z", 0, 1, shape=int(team.max()) + 1)
            mu = a + beta * arm + g * x + tau * z[team]
            pm.Normal("y", mu, pm.Exponential("sigma", 1 / s), observed=df["y"].to_numpy())
        else:
            p = float(np.clip(df["y"].mean(), 0.01, 0.99))
            beta = pm.Normal("beta", 0, 1.5)
            a = pm.Normal("intercept", np.log(p / (1 - p)), 2.5)
            g = pm.Normal("gamma", 0, 2.5 / x.std())
            pm.Bernoulli("y", logit_p=a + beta * arm + g * x, observed=df["y"].to_numpy())
    return model


def _ess(idata: Any) -> float:
    import arviz as az

    return float(np.ravel(az.ess(idata, var_names=["beta"])["beta"].values)[0])


def run_trialkit(kind: str, df: pd.DataFrame, draws: int, chains: int) -> dict[str, float]:
    start = time.perf_counter()  # the first fit's time includes importing trialkit's modules
    from trialkit.estimate.bayesian import fit as fit_module

    timings: dict[str, float] = {}
    originals = fit_module.compile_kernels, fit_module._nutpie

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            out = fn(*args, **kwargs)
            timings[name] = time.perf_counter() - t0
            return out

        return wrapper

    # Measure inside bayes(): building the nutpie model (compiling the kernels on first
    # use) and the sampler call.
    fit_module.compile_kernels = timed("compile", originals[0])
    fit_module._nutpie = timed("sampling", originals[1])
    family = "normal" if kind == "hierarchical" else "logistic"
    try:
        fit = fit_module.bayes(
            df,
            "y",
            "arm",
            covariates=["x1"],
            cluster="team" if kind == "hierarchical" else None,
            family=family,
            draws=draws,
            tune=draws,
            chains=chains,
            seed=1,
        )
    finally:
        fit_module.compile_kernels, fit_module._nutpie = originals
    return {
        "total_s": time.perf_counter() - start,
        "sample_call_s": timings["compile"] + timings["sampling"],
        "compile_s": timings["compile"],
        "sampling_s": timings["sampling"],
        "ess": _ess(fit.idata),
        "diagnostics_passed": float(fit.diagnostics.passed),
    }


def run_nutpie(kind: str, df: pd.DataFrame, draws: int, chains: int) -> dict[str, float]:
    import nutpie

    model = hand_model(kind, df)
    t0 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(model)
    t1 = time.perf_counter()
    idata = nutpie.sample(
        compiled, draws=draws, tune=draws, chains=chains, seed=1, progress_bar=False
    )
    t2 = time.perf_counter()
    return {
        "total_s": t2 - t0,
        "sample_call_s": t2 - t0,
        "compile_s": t1 - t0,
        "sampling_s": t2 - t1,
        "ess": _ess(idata),
    }


def run_pymc(kind: str, df: pd.DataFrame, draws: int, chains: int) -> dict[str, float]:
    import pymc as pm

    model = hand_model(kind, df)
    t0 = time.perf_counter()
    with model:
        idata = pm.sample(
            draws=draws,
            tune=draws,
            chains=chains,
            random_seed=1,
            progressbar=False,
            compute_convergence_checks=False,
        )
    t1 = time.perf_counter()
    # PyMC records its own sampling time (after compilation and initialisation).
    sampling = float(idata.posterior.attrs.get("sampling_time", t1 - t0))
    return {
        "total_s": t1 - t0,
        "sample_call_s": t1 - t0,
        "compile_s": t1 - t0 - sampling,
        "sampling_s": sampling,
        "ess": _ess(idata),
    }


def first_fit_in_new_process(quick: bool) -> float:
    """Wall time of the first trialkit fit in a fresh process whose caches this run filled."""
    import subprocess

    cmd = [sys.executable, __file__, "--first-fit-only"] + (["--quick"] if quick else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data and 300 draws")
    parser.add_argument("--skip-pymc", action="store_true", help="omit PyMC's default sampler")
    parser.add_argument("--first-fit-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    draws, chains = (300, 4) if args.quick else (1000, 4)
    rng = np.random.default_rng(20261123)
    if args.first_fit_only:
        df = simulate("hierarchical", args.quick, rng)
        print(run_trialkit("hierarchical", df, draws, chains)["total_s"])
        return 0
    results: dict[str, Any] = {"draws": draws, "chains": chains, "quick": args.quick}
    for i, kind in enumerate(("hierarchical", "logistic")):
        df = simulate(kind, args.quick, rng)
        row: dict[str, Any] = {"n_rows": len(df)}
        row["trialkit"] = run_trialkit(kind, df, draws, chains)
        if i == 0:
            results["first_fit_empty_cache_s"] = row["trialkit"]["total_s"]
        row["nutpie"] = run_nutpie(kind, df, draws, chains)
        if not args.skip_pymc:
            row["pymc"] = run_pymc(kind, df, draws, chains)
        for name in ("trialkit", "nutpie", "pymc"):
            if name in row:
                r = row[name]
                r["ess_per_s"] = r["ess"] / r["sampling_s"]  # sampling only
                r["ess_per_s_with_compile"] = r["ess"] / r["sample_call_s"]
        for other in ("nutpie", "pymc"):
            if other in row:
                for key in ("ess_per_s", "ess_per_s_with_compile"):
                    row[f"ratio_vs_{other}_{key}"] = row["trialkit"][key] / row[other][key]
        results[kind] = row
        print(f"{kind}: {json.dumps(row, default=float)}", flush=True)
    results["first_fit_new_process_warm_cache_s"] = first_fit_in_new_process(args.quick)
    print(json.dumps(results, indent=2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the frequentist plan of a 10-million-row pilot in memory and on local Dask.

Issue 19, item 6: a pilot too large for one core's patience runs the frequentist plan as
tasks on a Dask cluster (``trialkit analyse --workers N`` or ``--scheduler ADDRESS``; one
task per outcome, per subgroup of a primary outcome and per summary index), each level's
analysis frame sent once to every worker, with the same results as in this process. The
pilot is the flagship protocol scaled up with the generator of ``bench_spend_validate.py``
(1,200 teams, 600 with the budget; ``--rows`` clients spread evenly over the teams, ten
staff per team, ``--spends`` spends), written as one folder of ``--parts`` Parquet files
per level, the layout ``--data FOLDER`` reads.

Each run is a fresh Python process, one after the other, so that each peak resident memory
is its own: ``memory`` validates the folders and fits the plan in this process (BLAS on
one thread, as ``analyse`` does); ``dask`` validates them, starts a ``LocalCluster`` of
``--workers`` processes of one thread each and fits the plan there. Validation, the
cluster's start and the fit are timed apart (wall and CPU seconds of the process; the
workers' CPU is theirs). Memory: each process's peak, and each worker's. The two sets of
results are then compared: every frame of the plan (estimates, indices, subgroups, effect
sizes, descriptives, few-cluster checks) and every survival fit, value by value.

On two cores the in-process fit is the fastest: the workers share the same cores, and each
level's frame must first reach them. Dask pays on many cores or several machines.

Run::

    PYTHONPATH=. python benchmarks/bench_analyse_dask.py                    # 1e7 clients
    PYTHONPATH=. python benchmarks/bench_analyse_dask.py --rows 100000      # a quick run
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bench_spend_validate as spend_bench
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "protocols" / "council_discretionary_budget.yaml"
RUNS = ("memory", "dask")
FRAMES = ("estimates", "indices", "subgroups", "effect_sizes", "descriptives", "few_clusters")


def write_pilot(folder: Path, clients: int, spends: int, parts: int) -> dict[str, int]:
    """The allocation (CSV) and one folder of Parquet parts per level; rows per level."""
    spend_bench.CLIENTS = max(1, clients // spend_bench.N_TEAMS)
    spend_bench.allocation().to_csv(folder / "allocation.csv", index=False)
    rng = np.random.default_rng(14)
    levels = dict(zip(("teams", "clients", "staff"), spend_bench._people(rng), strict=True))
    levels["spend"] = spend_bench.ledger(spends, rng)
    rows = {}
    for name in list(levels):
        frame = levels.pop(name)  # its rows go once written
        for column in frame.columns:  # an empty cell of the CSV files: missing, not ""
            if pd.api.types.is_string_dtype(frame[column]):
                frame[column] = frame[column].where(frame[column] != "")
        (folder / name).mkdir()
        cuts = np.linspace(0, len(frame), min(parts, len(frame)) + 1).astype(int)
        for k, (a, b) in enumerate(itertools.pairwise(cuts)):
            frame.iloc[a:b].to_parquet(folder / name / f"part.{k:03d}.parquet", index=False)
        rows[name] = len(frame)
    return rows


def _run(run: str, folder: Path, workers: int) -> None:
    """One run in this process; its results pickled beside the data, its figures as JSON."""
    from threadpoolctl import threadpool_limits

    from trialkit import validate
    from trialkit.estimate.frequentist.plan import fit
    from trialkit.protocol import load_protocol

    protocol = load_protocol(FLAGSHIP)
    levels = [folder / name for name in ("teams", "clients", "staff", "spend")]
    figures: dict[str, Any] = {}
    with _timed(figures, "validate"):
        data = validate.outcomes(protocol, folder / "allocation.csv", levels)
    if run == "memory":
        with threadpool_limits(limits=1, user_api="blas"), _timed(figures, "fit"):
            results = fit(protocol, data)
    else:
        import distributed

        with _timed(figures, "start"):
            cluster = distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
                silence_logs=50,
            )
            client = distributed.Client(cluster)
        with _timed(figures, "fit"):
            results = fit(protocol, data, engine=client)
        figures["workers_mib"] = sorted(client.run(_peak_mib).values())
        figures["workers_cpu"] = sum(client.run(_cpu_seconds).values())
        client.close()
        cluster.close()
    figures["mib"] = _peak_mib()
    with open(folder / f"{run}.pkl", "wb") as handle:
        pickle.dump(results, handle)
    print(json.dumps(figures))


@contextmanager
def _timed(figures: dict[str, Any], name: str) -> Iterator[None]:
    """Adds ``name`` (wall seconds) and ``name_cpu`` (this process's CPU seconds)."""
    start, cpu = time.perf_counter(), _cpu_seconds()
    yield
    figures[name] = time.perf_counter() - start
    figures[f"{name}_cpu"] = _cpu_seconds() - cpu


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mib() -> float:
    """This process's peak resident memory (``VmHWM``), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def _child(run: str, folder: Path, workers: int, *more: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--run", run, "--dir", str(folder), *more]
    done = subprocess.run(
        [*command, "--workers", str(workers)], check=True, capture_output=True, text=True
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def differences(one: Any, two: Any) -> tuple[int, float, float, list[str]]:
    """Numbers compared, the largest absolute and relative differences, and what else
    differs (names, text, shapes), over every frame and survival fit of two results."""
    pairs = [(name, getattr(one, name), getattr(two, name)) for name in FRAMES]
    for k, (a, b) in enumerate(zip(one.survival, two.survival, strict=True)):
        pairs += [(f"survival[{k}].itt", a.itt.to_frame(), b.itt.to_frame())]
        pairs += [(f"survival[{k}].rmst", a.rmst, b.rmst)]
    count, worst_abs, worst_rel, other = 0, 0.0, 0.0, []
    if one.notes != two.notes:
        other.append("notes")
    for name, a, b in pairs:
        if a.shape != b.shape or list(a.columns) != list(b.columns):
            other.append(f"{name}: shape or columns")
            continue
        for column in a.columns:
            x, y = a[column], b[column]
            if pd.api.types.is_float_dtype(x) and pd.api.types.is_float_dtype(y):
                u, v = x.to_numpy(float), y.to_numpy(float)
                if not np.array_equal(np.isnan(u), np.isnan(v)):
                    other.append(f"{name}.{column}: missing values")
                gap = np.abs(u - v)[~np.isnan(u)]
                scale = np.maximum(np.abs(u[~np.isnan(u)]), 1.0)
                count += gap.size
                worst_abs = max(worst_abs, float(gap.max(initial=0.0)))
                worst_rel = max(worst_rel, float((gap / scale).max(initial=0.0)))
            elif not x.astype(str).equals(y.astype(str)):
                other.append(f"{name}.{column}")
    return count, worst_abs, worst_rel, other


def main() -> None:
    """Write the pilot once, run the plan in memory and on Dask, compare."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="client rows")
    parser.add_argument("--spends", type=int, default=100_000, help="spend rows")
    parser.add_argument("--parts", type=int, default=8, help="Parquet files per level")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    parser.add_argument("--run", choices=("write", *RUNS), help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run == "write":
        print(json.dumps(write_pilot(args.dir, args.rows, args.spends, args.parts)))
        return
    if args.run:
        _run(args.run, args.dir, args.workers)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        sizes = ["--rows", str(args.rows), "--spends", str(args.spends), "--parts", str(args.parts)]
        rows = _child("write", folder, args.workers, *sizes)
        written = time.perf_counter() - start
        mb = sum(p.stat().st_size for p in folder.rglob("*.parquet")) / 1e6
        figures = {run: _child(run, folder, args.workers) for run in RUNS}
        results = {}
        for run in RUNS:
            with open(folder / f"{run}.pkl", "rb") as handle:
                results[run] = pickle.load(handle)
    levels = ", ".join(f"{name} {n:,}" for name, n in rows.items())
    print(f"pilot: {levels} rows; {args.parts} Parquet parts per level, {mb:.0f} MB")
    print(f"(written in {written:.0f} s); load average {_load()}; {os.cpu_count()} CPUs")
    print(f"{'run':<24}{'validate s':>11}{'start s':>9}{'fit s':>8}{'fit CPU s':>11}{'MiB':>8}")
    for run in RUNS:
        f = figures[run]
        name = "in memory" if run == "memory" else f"Dask, {args.workers} workers"
        start_s = f"{f['start']:.1f}" if "start" in f else "-"
        print(
            f"{name:<24}{f['validate']:>11.1f}{start_s:>9}{f['fit']:>8.1f}"
            f"{f['fit_cpu']:>11.1f}{f['mib']:>8,.0f}"
        )
    dask = figures["dask"]
    workers = ", ".join(f"{m:,.0f}" for m in dask["workers_mib"])
    print(f"Dask workers: peak MiB {workers}; CPU s {dask['workers_cpu']:.1f} (all workers)")
    ratio = (dask["fit_cpu"] + dask["workers_cpu"]) / figures["memory"]["fit_cpu"]
    wall = dask["fit"] / figures["memory"]["fit"]
    print(f"Dask / in memory: fit wall {wall:.2f}x, CPU (process + workers) {ratio:.2f}x")
    count, worst_abs, worst_rel, other = differences(results["memory"], results["dask"])
    same = not other and worst_rel <= 1e-12
    print(
        f"results: {count:,} numbers compared; max difference {worst_abs:.3g} "
        f"(relative {worst_rel:.3g}); other differences: {', '.join(other) or 'none'} "
        f"-> {'identical' if same else 'DIFFERENT'}"
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()

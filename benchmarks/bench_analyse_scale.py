"""Benchmark: ``analyse --no-bayes`` of a million-row pilot vs pandas reading its files.

Target (issue 19, item 1): ``trialkit.api.analyse`` with the Bayesian plan off takes at
most 10 s wall and at most 3× the peak memory that ``pandas.read_csv`` needs to read the
same four files. The pilot is the flagship protocol scaled up with the generator of
``bench_spend_validate.py``: 1,200 teams (600 with the budget), ten workers per team,
``--rows`` clients spread evenly over the teams and as many spends (``--spends``).

The files are written once to a temporary folder; then each step runs in its own Python
process, one after the other, so that each peak resident memory (``ru_maxrss``) is that
step's alone: reading the four files with pandas (the bound), ``validate`` and
``analyse`` (validation, the frequentist plan, randomisation inference, the spending
section and writing the results). Times exclude the imports: trialkit imports a stage's
modules on first use, so those are imported before the clock starts, as pandas is for the
read, and their seconds are printed beside (about 0.8 s). Memory includes them (an
interpreter with pandas is about 100 MiB either way). CPU seconds (all threads) are
printed beside the wall time: on a shared machine they move less.

Run::

    python benchmarks/bench_analyse_scale.py                 # 1,000,000 clients and spends
    python benchmarks/bench_analyse_scale.py --rows 100000   # a quick run
    python benchmarks/bench_analyse_scale.py --profile analyse.prof   # cProfile the analysis

Run it with ``PYTHONPATH=.`` so that it uses this checkout's trialkit.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_spend_validate as spend_bench

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "protocols" / "council_discretionary_budget.yaml"
STEPS = ("read", "validate", "analyse")
SECONDS, MEMORY = 10.0, 3.0  # targets: wall seconds of analyse; its memory over the read's


def write_pilot(folder: Path, clients: int, spends: int) -> tuple[Path, list[Path]]:
    """The allocation and the four data files (teams, clients, staff, spends)."""
    spend_bench.CLIENTS = max(1, clients // spend_bench.N_TEAMS)
    allocation = folder / "allocation.csv"
    spend_bench.allocation().to_csv(allocation, index=False)
    return allocation, spend_bench.write_data(folder, spends)


def _step(step: str, folder: Path, profile: Path | None) -> None:
    """Run one step in this process; print its seconds and peak memory as JSON."""
    import pandas as pd

    from trialkit import api

    allocation = folder / "allocation.csv"
    paths = sorted(p for p in folder.glob("*.csv") if p != allocation)
    imported = _import_stages(step)
    marks: list[tuple[str, float, float]] = []
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_start = usage.ru_utime + usage.ru_stime
    start = time.perf_counter()

    def echo(message: str) -> None:
        marks.append((message, time.perf_counter() - start, _peak_mib()))

    def run() -> None:
        if step == "read":
            for path in paths:
                pd.read_csv(path)
        elif step == "validate":
            api.validate_files(FLAGSHIP, allocation, paths)
        else:
            api.analyse(
                FLAGSHIP,
                allocation,
                paths,
                folder / "results",
                bayesian=False,
                force=True,
                echo=echo,
            )

    if profile is None:
        run()
    else:
        import cProfile

        cProfile.runctx("run()", globals(), {"run": run}, str(profile))
    seconds = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_start
    print(
        json.dumps(
            {"seconds": seconds, "cpu": cpu, "mib": _peak_mib(), "marks": marks, "import": imported}
        )
    )


#: The modules each step imports lazily (on first use), imported before the clock starts:
#: trialkit's stages, and what those import inside their functions (found with
#: ``python -X importtime``: numba for the compiled kernels, pandera's checks, the
#: jurisdiction's holidays, statsmodels' hazard regression for time to leaving, ...).
#: Loading the compiled kernels themselves (numba's cache) stays inside the clock.
_LAZY = (
    "numba",
    "pandera.backends.pandas.builtin_checks",
    "pandera.accessors.pandas_accessor",
    "holidays",
    "holidays.countries",
    "statsmodels.duration.hazard_regression",
    "trialkit._core.executors",
    "trialkit.validate.spending_rules",
    "trialkit.randomise.audit",
    "trialkit.analyse.randomisation",
    "trialkit.estimate.frequentist.ri.kernels",
    "trialkit.estimate.spending.misuse",
    "trialkit.estimate.bayesian.decisions",
)
STAGE_MODULES = {
    "read": (),
    "validate": ("trialkit.validate.stage", *_LAZY[:7]),
    "analyse": (
        "trialkit.validate.stage",
        "trialkit.analyse.run",
        "trialkit.estimate.frequentist.plan",
        "trialkit.estimate.spending.plan",
        "trialkit.analyse.outputs",
        *_LAZY,
    ),
}


def _import_stages(step: str) -> float:
    """Import what ``step`` would import lazily; return the seconds it took.

    The clock then times the work on the data, as it does for the read (whose pandas is
    imported before it starts); the imports' seconds are printed beside it.
    """
    import importlib

    start = time.perf_counter()
    for module in STAGE_MODULES[step]:
        importlib.import_module(module)
    return time.perf_counter() - start


def _peak_mib() -> float:
    """This process's peak resident memory, MiB.

    ``VmHWM`` belongs to the process's own address space; ``ru_maxrss`` would carry over
    the peak of the parent that forked it (the one that generated the data).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _child(step: str, folder: Path, profile: Path | None) -> dict[str, object]:
    command = [sys.executable, __file__, "--step", step, "--dir", str(folder)]
    if profile is not None and step == "analyse":
        command += ["--profile", str(profile)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Write the pilot once, then time each step in a fresh process."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="client rows")
    parser.add_argument("--spends", type=int, help="spend rows (default: --rows)")
    parser.add_argument("--profile", type=Path, help="cProfile the analysis into this file")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)
    parser.add_argument("--dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        _step(args.step, args.dir, args.profile)
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _, paths = write_pilot(folder, args.rows, args.spends or args.rows)
        sizes = {p.stem: _lines(p) for p in paths}
        mb = sum(p.stat().st_size for p in paths) / 1e6
        results = {step: _child(step, folder, args.profile) for step in STEPS}
    levels = ", ".join(f"{name} {n:,}" for name, n in sizes.items())
    print(f"pilot: {levels} rows ({mb:.0f} MB CSV); load average {_load()}")
    for step in STEPS:
        res = results[step]
        print(
            f"{step:<9} {res['seconds']:7.2f} s wall {res['cpu']:7.2f} s CPU"
            f"  {res['mib']:7.0f} MiB peak   (+ {float(str(res['import'])):.2f} s importing"
            " trialkit's stages first, not timed)"
        )
    marks = results["analyse"]["marks"]
    assert isinstance(marks, list)
    ends = [t for _, t, _ in marks[1:]] + [float(str(results["analyse"]["seconds"]))]
    peaks = [m for _, _, m in marks[1:]] + [float(str(results["analyse"]["mib"]))]
    for (message, begun, _), ended, peak in zip(marks, ends, peaks, strict=True):
        print(f"  {ended - begun:6.2f} s  peak so far {peak:6.0f} MiB  {message}")
    read, analyse = results["read"], results["analyse"]
    seconds = float(str(analyse["seconds"]))
    memory = float(str(analyse["mib"])) / float(str(read["mib"]))
    print(f"analyse wall   {seconds:6.2f} s    target ≤ {SECONDS:.0f} s: {_ok(seconds <= SECONDS)}")
    print(f"analyse memory {memory:6.2f}× read  target ≤ {MEMORY:.0f}×: {_ok(memory <= MEMORY)}")


def _lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _ok(met: bool) -> str:
    return "met" if met else "NOT met"


if __name__ == "__main__":
    main()

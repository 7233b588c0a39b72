"""Start-up time of trialkit's light commands beside a bare Python and pydantic + yaml.

Run from the repository root::

    python benchmarks/bench_startup.py            # 15 runs of each, min reported
    python benchmarks/bench_startup.py --runs 5   # a quicker look

Each command runs in a new process (``python -m trialkit.cli``, what the ``trialkit``
console script does, without a version manager's shim in front), in a temporary directory,
output discarded; the minimum wall time of N runs is reported (on a shared, loaded machine
the minimum is the run least disturbed by others), with the minimum CPU time (user +
system), which load disturbs less. Beside each: its ratio to
``python -c pass`` and to ``python -c "import pydantic, yaml"`` (the protocol models need
both). Target: every command under 0.3 s on a quiet machine. Each command also lists any
heavy package it imported (pandas, numpy, scipy, pandera, jinja2): there should be none.
``check`` looks up the protocol's holiday calendar in a list kept in the user's cache
directory (``trialkit.protocol.calendars``); the first run ever builds it (about 0.1 s more),
which the minimum of N runs leaves out, as a user's second ``check`` would.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 0.3
HEAVY = ("pandas", "numpy", "scipy", "pandera", "jinja2", "pymc", "matplotlib")
BASELINES = {
    "python -c pass": ["-c", "pass"],
    'python -c "import pydantic, yaml"': ["-c", "import pydantic, yaml"],
}
COMMANDS = {
    "trialkit --version": ["--version"],
    "trialkit check": ["check", "council_discretionary_budget"],
    "trialkit init": ["init", "{tmp}/pilot", "--from", "council_discretionary_budget"],
    "trialkit protocols": ["protocols"],
    "trialkit schema": ["schema"],
}
_CLI = ["-m", "trialkit.cli"]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(args: list[str], tmp: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one run in a new process."""
    shutil.rmtree(tmp / "pilot", ignore_errors=True)
    argv = [sys.executable, *[a.format(tmp=tmp) for a in args]]
    cpu, start = _cpu(), time.perf_counter()
    done = subprocess.run(
        argv, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed: {done.stderr.decode()[-500:]}")
    return elapsed, _cpu() - cpu


def _heavy(args: list[str], tmp: Path) -> list[str]:
    """The heavy packages a command imports (from ``python -X importtime``)."""
    shutil.rmtree(tmp / "pilot", ignore_errors=True)
    argv = [sys.executable, "-X", "importtime", *[a.format(tmp=tmp) for a in args]]
    done = subprocess.run(
        argv, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, text=True
    )
    names = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    return [name for name in HEAVY if name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each (default 15)")
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        cases = {**BASELINES, **{k: [*_CLI, *v] for k, v in COMMANDS.items()}}
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in cases}
        for _ in range(runs):  # interleaved, so a burst of load hits every case alike
            for label, args in cases.items():
                times[label].append(_run(args, tmp))
        heavy = {k: _heavy([*_CLI, *v], tmp) for k, v in COMMANDS.items()}
    best = {k: min(wall for wall, _ in v) for k, v in times.items()}
    cpu = {k: min(c for _, c in v) for k, v in times.items()}
    bare, models = best["python -c pass"], best['python -c "import pydantic, yaml"']
    print(
        f"min of {runs} runs, {sys.executable}, Python {sys.version.split()[0]}; "
        "cpu = user + system seconds (what a quiet machine's wall time would be)"
    )
    print(
        f"{'case':36} {'wall s':>7} {'median':>7} {'cpu s':>6} {'x pass':>7} "
        f"{'x pyd+yaml':>10}  heavy imports"
    )
    for label, value in best.items():
        median = sorted(w for w, _ in times[label])[len(times[label]) // 2]
        flag = "" if label in BASELINES or value <= TARGET_S else f"  over {TARGET_S} s"
        print(
            f"{label:36} {value:7.3f} {median:7.3f} {cpu[label]:6.3f} {value / bare:7.1f} "
            f"{value / models:10.2f}  {', '.join(heavy.get(label, [])) or '-'}{flag}"
        )


if __name__ == "__main__":
    main()

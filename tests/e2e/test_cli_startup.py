"""Light commands start without the statistics stack (benchmarks/bench_startup.py times them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("pandas", "numpy", "scipy", "pandera", "jinja2", "pymc", "matplotlib")
_RUN = """
import json, sys
from trialkit.cli import app
modules = sys.argv[2].split(",")
sys.argv = ["trialkit", *json.loads(sys.argv[1])]
try:
    app()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
heavy = [m for m in modules if m in sys.modules]
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["check", "council_discretionary_budget"],
        ["init", "{tmp}/pilot", "--from", "council_discretionary_budget"],
        ["protocols"],
        ["schema"],
        ["schema", "--results"],
    ],
    ids=lambda a: " ".join(a[:1]) + (" --results" if "--results" in a else ""),
)
def test_light_commands_import_no_statistics(args: list[str], tmp_path: Path) -> None:
    argv = [a.format(tmp=tmp_path) for a in args]
    command = [sys.executable, "-c", _RUN, json.dumps(argv), ",".join(HEAVY)]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] in (0, None), done.stderr
    assert report["heavy"] == [], f"`trialkit {' '.join(args)}` imported {report['heavy']}"

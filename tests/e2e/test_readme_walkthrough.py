"""The README's walkthrough, run as written: every ```bash block of its "Walkthrough" section.

The blocks run in order in one `bash -e` script in a fresh directory (a `cd` in one block
holds for the next), with `trialkit` on PATH running this checkout (`python -m trialkit`).
The script keeps the README's line numbers, so a failing step is named by its line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"


def walkthrough_script(text: str) -> str:
    """The Walkthrough's bash blocks, every other README line left blank."""
    lines = text.splitlines()
    keep = [""] * len(lines)
    section = in_bash = False
    for i, line in enumerate(lines):
        if line.startswith("## "):
            section = line.strip() == "## Walkthrough"
        elif section and line.strip() == "```bash":
            in_bash = True
        elif in_bash and line.strip() == "```":
            in_bash = False
        elif in_bash:
            keep[i] = line
    return "\n".join(keep) + "\n"


def test_walkthrough_has_every_stage_from_init_to_report() -> None:
    steps = [
        line.split()[1]
        for line in walkthrough_script(README.read_text()).splitlines()
        if line.startswith("trialkit ")
    ]
    for command in (
        "init",
        "register",
        "randomise",
        "simulate",
        "validate",
        "analyse",
        "report",
        "verify",
    ):
        assert command in steps, f"the walkthrough has no `trialkit {command}`"
    assert steps.index("simulate") < steps.index("validate") < steps.index("report")


def test_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "trialkit"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m trialkit "$@"\n')
    shim.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    script = tmp_path / "walkthrough.sh"
    script.write_text(
        "trap 'echo \"README.md line $LINENO failed\" >&2' ERR\n"
        + walkthrough_script(README.read_text())
    )
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "MPLBACKEND": "Agg",
    }
    run = subprocess.run(
        ["bash", "-e", str(script)], cwd=work, env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, f"{run.stderr[-4000:]}\n{run.stdout[-2000:]}"

    pilot = work / "my-pilot"
    report = (pilot / "report.html").read_text()
    assert "Not pre-registered" not in report
    # The simulated data are the pilot's own: its teams, in their registered arms.
    units = pd.read_csv(pilot / "units.csv", dtype=str).set_index("team_id")
    arms = pd.read_csv(pilot / "allocation.csv", dtype=str).set_index("unit_id")["arm"]
    team = pd.read_csv(pilot / "data" / "team.csv", dtype=str).set_index("team_id")
    assert list(team.index) == list(units.index)
    assert team.loc[arms[team.index] == "usual", "budget_used"].eq("0").all()
    assert "received the intervention" not in run.stderr

"""Every evaluator's example script runs end to end with the Python API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*/analysis.py"))


def test_one_example_per_bundled_protocol():
    from trialkit.protocol import bundled_protocols

    assert {p.parent.name for p in EXAMPLES} == set(bundled_protocols())


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.parent.name)
def test_example_runs(script: Path, tmp_path: Path):
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "pilot")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert any((tmp_path / "pilot").rglob("allocation.csv"))

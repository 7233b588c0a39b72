"""`trialkit power` on every bundled protocol; `trialkit diagnose` on the Gateshead pilot."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialkit.cli import app
from trialkit.protocol import bundled_protocols

runner = CliRunner()


@pytest.mark.parametrize("name", sorted(bundled_protocols()))
def test_power_runs_on_every_bundled_protocol(name: str, tmp_path: Path) -> None:
    plot = tmp_path / "power.svg"
    result = runner.invoke(app, ["power", name, "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "power" in result.output and "mde" in result.output
    svg = plot.read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg")) and "<svg" in svg and len(svg) > 2000


def test_diagnose_reports_power_bias_rmse_coverage() -> None:
    result = runner.invoke(
        app, ["diagnose", "council_discretionary_budget", "--sims", "40", "--workers", "1"]
    )
    assert result.exit_code == 0, result.output
    for word in ("power", "bias", "rmse", "coverage"):
        assert word in result.output
    assert "loneliness" in result.output


def test_diagnose_a_time_to_event_outcome_by_name() -> None:
    result = runner.invoke(
        app,
        [
            "diagnose",
            "council_discretionary_budget",
            "--sims",
            "4",
            "--workers",
            "1",
            "--outcome",
            "time_to_leaving",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "time_to_leaving:log_hr" in result.output
    assert "loneliness" not in result.output
    wrong = runner.invoke(
        app,
        ["diagnose", "council_discretionary_budget", "--sims", "4", "--outcome", "time_to_leave"],
    )
    assert wrong.exit_code == 2 and "did you mean `time_to_leaving`" in wrong.output

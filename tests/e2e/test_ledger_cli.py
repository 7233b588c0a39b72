"""`trialkit verify` and `trialkit ledger repair` on a crashed, a tampered and a linked ledger."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialkit.cli import app

ROOT = Path(__file__).resolve().parents[2]
NAME = "council_discretionary_budget"
UNITS = ROOT / "examples" / NAME / "units.csv"
runner = CliRunner()


def _randomise(workspace: Path, *extra: str):
    return runner.invoke(
        app,
        [
            "randomise",
            NAME,
            "--units",
            str(UNITS),
            "--out",
            str(workspace / "allocation.csv"),
            "--ledger",
            str(workspace / "ledger.jsonl"),
            *extra,
        ],
    )


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    first = _randomise(tmp_path)
    assert first.exit_code == 0, first.output
    return tmp_path


def test_verify_prints_head_and_count_to_anchor(workspace: Path) -> None:
    from trialkit.register.ledger import read

    result = runner.invoke(app, ["verify", str(workspace)])
    assert result.exit_code == 0, result.output
    head = read(workspace / "ledger.jsonl")[-1].hash
    assert f"head {head} after 1 entries: record both elsewhere" in result.output


def test_torn_ledger_is_a_crash_refused_before_work_then_repaired(workspace: Path) -> None:
    ledger = workspace / "ledger.jsonl"
    allocation = workspace / "allocation.csv"
    with ledger.open("ab") as handle:
        handle.write(b'{"seq": 2, "action": "rand')  # killed mid-append
    kept = allocation.read_bytes(), allocation.with_suffix(".json").read_bytes()

    crashed = runner.invoke(app, ["verify", str(workspace)])
    assert crashed.exit_code == 2
    assert "INCOMPLETE" in crashed.output and "ALTERED" not in crashed.output
    assert "not tampering" in crashed.output
    assert f"Fix: run `trialkit ledger repair {ledger}`" in crashed.output

    again = _randomise(workspace, "--force", "--seed", "7")
    assert again.exit_code == 2 and "Traceback" not in again.output
    assert "the last entry is incomplete" in again.output and "ledger repair" in again.output
    assert (allocation.read_bytes(), allocation.with_suffix(".json").read_bytes()) == kept

    repaired = runner.invoke(app, ["ledger", "repair", str(ledger)])
    assert repaired.exit_code == 0, repaired.output
    assert "removed the incomplete line 2 (26 bytes" in repaired.output
    assert "recorded as entry 2 (repair)" in repaired.output
    ok = runner.invoke(app, ["verify", str(workspace)])
    assert ok.exit_code == 0, ok.output
    assert "after 2 entries" in ok.output
    assert _randomise(workspace, "--force", "--seed", "7").exit_code == 0
    assert runner.invoke(app, ["verify", str(workspace)]).exit_code == 0


def test_repair_refuses_an_edited_entry(workspace: Path) -> None:
    ledger = workspace / "ledger.jsonl"
    ledger.write_text(ledger.read_text().replace('"seed ', '"seed 1'))
    before = ledger.read_bytes()
    result = runner.invoke(app, ["ledger", "repair", str(workspace)])
    assert result.exit_code == 2 and "refusing to repair an altered ledger" in result.output
    assert ledger.read_bytes() == before
    verified = runner.invoke(app, ["verify", str(workspace)])
    assert verified.exit_code == 2 and "ALTERED entry 1 (randomise)" in verified.output


def test_repair_with_nothing_to_repair(workspace: Path) -> None:
    result = runner.invoke(app, ["ledger", "repair", str(workspace)])
    assert result.exit_code == 0 and "nothing to repair" in result.output


def test_symlinked_ledger_is_refused_before_any_work(workspace: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "ledger.jsonl").symlink_to(workspace / "ledger.jsonl")
    before = (workspace / "ledger.jsonl").read_bytes()
    result = _randomise(other)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "is a symbolic link" in result.output
    assert not (other / "allocation.csv").exists()
    assert (workspace / "ledger.jsonl").read_bytes() == before
    assert runner.invoke(app, ["verify", str(other)]).exit_code == 2

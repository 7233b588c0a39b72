"""`trialkit audit-sample` and `trialkit analyse --audit-sample` on a simulated pilot."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from trialkit.cli import app
from trialkit.protocol import bundled_path

runner = CliRunner()


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The flagship reviewing a sample of 120 spends, with simulated units and data."""
    root = tmp_path_factory.mktemp("audit-pilot")
    text = bundled_path("council_discretionary_budget").read_text(encoding="utf-8")
    assert "    coverage: all\n" in text
    (root / "protocol.yaml").write_text(
        text.replace("    coverage: all\n", "    coverage: sample\n    sample_size: 120\n"),
        encoding="utf-8",
    )
    done = runner.invoke(app, ["simulate", str(root / "protocol.yaml"), "--out", str(root / "sim")])
    assert done.exit_code == 0, done.output
    return root


def draw(pilot: Path, out: str, *extra: str, data: Path | None = None):  # type: ignore[no-untyped-def]
    spends = data or pilot / "sim" / "data" / "spend.csv"
    return runner.invoke(
        app,
        [
            "audit-sample",
            str(pilot / "protocol.yaml"),
            "--data",
            str(spends),
            "--out",
            str(pilot / out),
            *extra,
        ],
    )


def analyse(pilot: Path, out: str, *extra: str):  # type: ignore[no-untyped-def]
    data = [
        a
        for name in ("team", "client", "staff", "spend")
        for a in ("--data", str(pilot / "sim" / "data" / f"{name}.csv"))
    ]
    return runner.invoke(
        app,
        [
            "analyse",
            str(pilot / "protocol.yaml"),
            "--allocation",
            str(pilot / "sim" / "allocation.csv"),
            *data,
            "--out",
            str(pilot / out),
            "--no-bayes",
            *extra,
        ],
    )


def test_the_draw_is_recorded_reproducible_and_not_quietly_redrawn(pilot: Path) -> None:
    ledger = str(pilot / "ledger.jsonl")
    first = draw(pilot, "audit.csv", "--ledger", ledger)
    assert first.exit_code == 0, first.output
    assert "120 of" in first.output
    again = draw(pilot, "audit_again.csv", "--ledger", ledger)
    assert again.exit_code == 0, again.output
    assert (pilot / "audit.csv").read_bytes() == (pilot / "audit_again.csv").read_bytes()
    other = draw(pilot, "audit_other.csv", "--seed", "99", "--ledger", ledger)
    assert other.exit_code == 2
    assert "an audit sample was already drawn" in other.output
    assert "Fix:" in other.output and "--force" in other.output
    assert not (pilot / "audit_other.csv").exists()
    forced = draw(pilot, "audit_other.csv", "--seed", "99", "--ledger", ledger, "--force")
    assert forced.exit_code == 0, forced.output
    entries = [json.loads(line) for line in Path(ledger).read_text().splitlines()]
    assert [e["action"] for e in entries] == ["audit-sample"] * 3
    assert "redrawn with --force" in entries[-1]["reason"]
    assert set(entries[0]["outputs"]) == {"audit.csv", "audit.json"}


def test_a_missing_spend_file_is_located(pilot: Path) -> None:
    done = draw(pilot, "x.csv", data=pilot / "nope.csv")
    assert done.exit_code == 2
    assert "nope.csv: file not found Fix:" in done.output
    assert "Traceback" not in done.output


def test_analyse_uses_the_sample_and_refuses_one_from_another_ledger(pilot: Path) -> None:
    assert draw(pilot, "audit_for_analysis.csv").exit_code == 0
    spend = pd.read_csv(pilot / "sim" / "data" / "spend.csv", dtype=str)
    spend.iloc[1:].to_csv(pilot / "other_spend.csv", index=False)
    assert draw(pilot, "audit_foreign.csv", data=pilot / "other_spend.csv").exit_code == 0

    foreign = analyse(pilot, "results_foreign", "--audit-sample", str(pilot / "audit_foreign.csv"))
    assert foreign.exit_code == 2
    assert "audit_foreign.csv: the audit sample was drawn from another spend ledger" in (
        foreign.output
    )
    missing = analyse(pilot, "results_none")
    assert missing.exit_code == 2 and "--audit-sample" in missing.output

    done = analyse(pilot, "results", "--audit-sample", str(pilot / "audit_for_analysis.csv"))
    assert done.exit_code == 0, done.output
    spending = json.loads((pilot / "results" / "results.json").read_text())["spending"]
    review = spending["review"]
    assert review["design"] == "stratified_sample" and review["reviewed"] == 120
    assert review["spends"] == len(spend)
    assert [r["verdict"] for r in spending["severity"]] == [
        "appropriate",
        "poor_value",
        "misuse",
        "fraud",
    ]

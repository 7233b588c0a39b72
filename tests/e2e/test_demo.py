"""End to end: `trialkit demo` through the CLI, its refusals, and tamper detection."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from trialkit.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "pilot"
    result = runner.invoke(app, ["demo", "--out", str(out), "--no-bayes"])
    assert result.exit_code == 0, result.output
    return out


def test_demo_writes_every_stage(demo_dir):
    for name in (
        "protocol.yaml",
        "units.csv",
        "allocation.csv",
        "allocation.json",
        "ledger.jsonl",
        "report.html",
        "registration/protocol.frozen.json",
        "registration/pre_analysis_plan.html",
        "results/results.json",
    ):
        assert (demo_dir / name).is_file(), name
    levels = {p.stem for p in (demo_dir / "data").glob("*.csv")}
    assert levels == {"team", "client", "staff", "spend"}


def test_ledger_records_the_life_of_the_pilot(demo_dir):
    actions = [
        json.loads(line)["action"] for line in (demo_dir / "ledger.jsonl").read_text().splitlines()
    ]
    assert actions == ["register", "randomise", "data freeze", "analyse", "report"]


def test_results_carry_provenance_and_registration(demo_dir):
    results = json.loads((demo_dir / "results" / "results.json").read_text())
    registration = json.loads((demo_dir / "registration" / "registration.json").read_text())
    assert results["registration"]["registered"] is True
    assert results["registration"]["protocol_hash"] == registration["protocol_hash"]
    assert results["provenance"]["seed"] == 20261123
    assert results["deviations"] == []
    primary = [
        r for r in results["estimates"] if r["outcome"] == "loneliness" and r["estimand"] == "ITT"
    ]
    assert primary and primary[0]["se_type"] == "CR2" and primary[0]["n_clusters"] == 24


def test_allocation_keeps_teams_whole_and_blocks_balanced(demo_dir):
    allocation = pd.read_csv(demo_dir / "allocation.csv")
    counts = allocation.groupby(["block", "arm"]).size().unstack()
    assert (counts == 3).all().all()  # 6 teams per locality, 1:1


def test_verify_passes_then_names_a_changed_allocation(demo_dir, tmp_path):
    ok = runner.invoke(app, ["verify", str(demo_dir)])
    assert ok.exit_code == 0, ok.output
    allocation = demo_dir / "allocation.csv"
    original = allocation.read_text()
    lines = original.splitlines()
    header, first = lines[0], lines[1]
    other = "usual" if ",budget," in first else "budget"
    swapped = first.replace(",budget,", f",{other},").replace(",usual,", f",{other},")
    allocation.write_text("\n".join([header, swapped, *lines[2:]]) + "\n")
    try:
        bad = runner.invoke(app, ["verify", str(demo_dir)])
        assert bad.exit_code == 2
        assert "allocation.csv: altered since entry 2 (randomise)" in bad.output
    finally:
        allocation.write_text(original)


def test_demo_refuses_an_existing_directory(demo_dir):
    again = runner.invoke(app, ["demo", "--out", str(demo_dir), "--no-bayes"])
    assert again.exit_code == 2
    assert "already exists" in again.output
    assert "Traceback" not in again.output


def test_randomise_and_register_refuse_to_overwrite(demo_dir):
    allocation = runner.invoke(
        app,
        [
            "randomise",
            str(demo_dir / "protocol.yaml"),
            "--units",
            str(demo_dir / "units.csv"),
            "--out",
            str(demo_dir / "allocation.csv"),
        ],
    )
    assert allocation.exit_code == 2 and "refusing to overwrite" in allocation.output
    registration = runner.invoke(
        app, ["register", str(demo_dir / "protocol.yaml"), "--out", str(demo_dir / "registration")]
    )
    assert registration.exit_code == 2 and "refusing to overwrite" in registration.output


def test_analysis_against_a_changed_protocol_reports_deviation(demo_dir, tmp_path):
    changed = tmp_path / "protocol.yaml"
    changed.write_text(
        (demo_dir / "protocol.yaml").read_text().replace("estimator: lin", "estimator: ols")
    )
    data = sorted((demo_dir / "data").glob("*.csv"))
    args = [
        "analyse",
        str(changed),
        "--allocation",
        str(demo_dir / "allocation.csv"),
        "--out",
        str(tmp_path / "results"),
        "--registration",
        str(demo_dir / "registration"),
        "--no-bayes",
        "--deviation-reason",
        "Lin estimator failed to converge",
    ]
    for path in data:
        args += ["--data", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "deviation (major): analysis.frequentist.estimator: lin -> ols" in result.output
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    (deviation,) = results["deviations"]
    assert deviation["reason"] == "Lin estimator failed to converge"


def test_report_refuses_an_edited_results_file_naming_the_field(demo_dir, tmp_path):
    edited = tmp_path / "results"
    edited.mkdir()
    data = json.loads((demo_dir / "results" / "results.json").read_text(encoding="utf-8"))
    data["estimates"][0]["estimate"] = "a lot"
    (edited / "results.json").write_text(json.dumps(data), encoding="utf-8")
    result = runner.invoke(app, ["report", str(edited), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2
    assert "field `estimates[0].estimate`" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "r.html").exists()


def test_schema_of_the_results_document():
    result = runner.invoke(app, ["schema", "--results"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["title"] == "trialkit results document"
    assert {"estimates", "verdicts", "bayesian", "schema_version"} <= set(schema["properties"])

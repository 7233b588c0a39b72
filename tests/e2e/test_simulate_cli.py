"""`trialkit simulate --units --allocation`: data for the pilot's own units and allocation.

The data keep the units' ids and recorded covariates and every unit's allocated arm; and
`validate` warns, located, when the data say a control unit received the intervention.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import trialkit
from trialkit import api
from trialkit._core.spreadsheet import SIMULATED_RECORD as RECORD
from trialkit.cli import app
from trialkit.protocol import bundled_protocols, load_protocol

ROOT = Path(__file__).resolve().parents[2]
NAME = "council_discretionary_budget"
runner = CliRunner()


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled pilot's units, randomised, and data simulated for that allocation."""
    root = tmp_path_factory.mktemp("pilot")
    protocol = bundled_protocols()[NAME]
    units = root / "units.csv"
    units.write_bytes((ROOT / "examples" / NAME / "units.csv").read_bytes())
    api.randomise(protocol, units, root / "allocation.csv")
    result = runner.invoke(
        app,
        [
            "simulate",
            str(protocol),
            "--units",
            str(units),
            "--allocation",
            str(root / "allocation.csv"),
            "--out",
            str(root / "data"),
            "--seed",
            "5",
        ],
    )
    assert result.exit_code == 0, result.output
    return root


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_files_are_written_where_asked_one_per_level(pilot: Path) -> None:
    protocol = load_protocol(bundled_protocols()[NAME])
    written = sorted(p.name for p in (pilot / "data").iterdir())
    assert written == sorted([*(f"{level}.csv" for level in protocol.level_names), RECORD])
    assert not (pilot / "data" / "data").exists()


def test_the_record_names_seed_protocol_and_every_file_by_hash(pilot: Path) -> None:
    protocol = load_protocol(bundled_protocols()[NAME])
    record = json.loads((pilot / "data" / RECORD).read_text(encoding="utf-8"))
    assert record["escaping"] == "owasp-leading-quote"
    assert sorted(record["files"]) == sorted(f"{level}.csv" for level in protocol.level_names)
    for name, entry in record["files"].items():
        assert entry["sha256"] == hashlib.sha256((pilot / "data" / name).read_bytes()).hexdigest()
        assert entry["seed"] == 5 and entry["effect_scale"] == 1.0
        assert entry["protocol_hash"] == protocol.content_hash()
        assert entry["trialkit_version"] == trialkit.__version__


def test_units_simulated_beside_the_data_keep_both_listed(tmp_path: Path) -> None:
    """A units file and data simulated into one folder: the record lists all of them."""
    units = api.simulate_units(NAME, tmp_path / "units.csv", seed=3)
    api.randomise(NAME, units, tmp_path / "allocation.csv")
    data = api.simulate_data(NAME, units, tmp_path / "allocation.csv", tmp_path)
    record = json.loads((tmp_path / RECORD).read_text(encoding="utf-8"))
    assert sorted(record["files"]) == sorted(["units.csv", *(p.name for p in data)])
    assert record["files"]["units.csv"]["seed"] is None  # the bundled example units


def test_data_keep_the_units_ids_covariates_and_allocated_arms(pilot: Path) -> None:
    units = _read(pilot / "units.csv").set_index("team_id")
    allocation = _read(pilot / "allocation.csv").set_index("unit_id")["arm"]
    team = _read(pilot / "data" / "team.csv").set_index("team_id")
    assert list(team.index) == list(units.index)
    for column in ("caseload", "imd_score", "team_size"):  # as recorded, not standardised
        assert team[column].astype(float).tolist() == units[column].astype(float).tolist()
    took = team["budget_used"].astype(int)
    assert took[allocation[team.index] == "usual"].eq(0).all()
    assert took[allocation[team.index] == "budget"].sum() > 0
    spends = _read(pilot / "data" / "spend.csv")
    assert set(allocation[spends["team_id"]]) == {"budget"}, "a control team spent the budget"
    for level in ("client", "staff"):
        assert set(_read(pilot / "data" / f"{level}.csv")["team_id"]) <= set(units.index)


def _validate(pilot: Path, allocation: Path) -> tuple[int, str]:
    files = [
        f
        for level in ("team", "client", "staff", "spend")
        for f in ("--data", str(pilot / "data" / f"{level}.csv"))
    ]
    result = runner.invoke(app, ["validate", NAME, "--allocation", str(allocation), *files])
    return result.exit_code, result.output


def test_validate_warns_when_control_units_received_the_intervention(pilot: Path) -> None:
    code, output = _validate(pilot, pilot / "allocation.csv")
    assert code == 0, output
    assert "received the intervention" not in output
    # The same data against the opposite allocation: every treated team is now a control.
    allocation = _read(pilot / "allocation.csv")
    allocation["arm"] = allocation["arm"].map({"budget": "usual", "usual": "budget"})
    swapped = pilot / "swapped.csv"
    allocation.to_csv(swapped, index=False)
    team = _read(pilot / "data" / "team.csv")
    took = team.index[team["budget_used"] == "1"]
    code, output = _validate(pilot, swapped)
    assert code == 0, output  # a warning, not an error
    line = next(x for x in output.splitlines() if "received the intervention" in x)
    where, message = line.split(": ", 1)[1].split(": ", 1)
    assert "team.csv" in where and f"row {took[0] + 2}," in where and "budget_used" in where
    assert message.startswith(f"{len(took)} teams allocated to the control arm 'usual' "), line
    assert ", ".join(team["team_id"][took]) in line and "Fix:" in line
    spends = len(_read(pilot / "data" / "spend.csv"))  # every spend now in a control team
    assert any(x.split() == ["control_arm_spend", str(spends)] for x in output.splitlines())


def test_units_without_allocation_is_refused_with_a_fix(tmp_path: Path) -> None:
    units = ROOT / "examples" / NAME / "units.csv"
    result = runner.invoke(
        app, ["simulate", NAME, "--units", str(units), "--out", str(tmp_path / "data")]
    )
    assert result.exit_code == 2
    assert "--units needs --allocation" in result.output and "Fix:" in result.output
    assert not (tmp_path / "data").exists()


def test_units_and_allocation_of_other_units_are_refused(pilot: Path, tmp_path: Path) -> None:
    units = _read(pilot / "units.csv")
    fewer = tmp_path / "units.csv"
    units.iloc[:-2].to_csv(fewer, index=False)
    result = runner.invoke(
        app,
        [
            "simulate",
            NAME,
            "--units",
            str(fewer),
            "--allocation",
            str(pilot / "allocation.csv"),
            "--out",
            str(tmp_path / "d"),
        ],
    )
    assert result.exit_code == 2, result.output
    missing = ", ".join(sorted(units["team_id"].iloc[-2:]))
    assert f"2 unit(s) not in the units file: {missing}" in result.output
    assert "Fix:" in result.output and not (tmp_path / "d").exists()


def _started_from_bundled(tmp_path: Path, edit: tuple[str, str] | None = None) -> Path:
    """`trialkit init`'s copy of the bundled pilot, optionally with one text edit."""
    assert runner.invoke(app, ["init", str(tmp_path / "pilot"), "--from", NAME]).exit_code == 0
    protocol = tmp_path / "pilot" / "protocol.yaml"
    if edit is not None:
        text = protocol.read_text()
        assert text.count(edit[0]) == 1
        protocol.write_text(text.replace(*edit))
    return protocol


def test_a_copied_protocol_simulates_its_example_units_and_registered_allocation(
    tmp_path: Path,
) -> None:
    protocol = _started_from_bundled(tmp_path)
    pilot = protocol.parent
    api.randomise(protocol, pilot / "units.csv", pilot / "allocation.csv")
    result = runner.invoke(app, ["simulate", str(protocol), "--out", str(tmp_path / "sim")])
    assert result.exit_code == 0, result.output
    assert _read(tmp_path / "sim" / "units.csv").equals(_read(pilot / "units.csv"))
    assert _read(tmp_path / "sim" / "allocation.csv").equals(_read(pilot / "allocation.csv"))


def test_a_copied_protocol_with_other_units_gets_fabricated_units(tmp_path: Path) -> None:
    protocol = _started_from_bundled(
        tmp_path, ("block_columns: [locality]", "block_columns: [district]")
    )
    result = runner.invoke(app, ["simulate", str(protocol), "--out", str(tmp_path / "sim")])
    assert result.exit_code == 0, result.output
    units = _read(tmp_path / "sim" / "units.csv")
    assert "district" in units.columns and "locality" not in units.columns


def test_a_second_run_is_refused_unless_forced_and_force_replaces(pilot: Path) -> None:
    protocol = bundled_protocols()[NAME]
    args = [
        "simulate",
        str(protocol),
        "--units",
        str(pilot / "units.csv"),
        "--allocation",
        str(pilot / "allocation.csv"),
        "--out",
        str(pilot / "data"),
        "--seed",
        "5",
    ]
    before = {p.name: p.read_bytes() for p in (pilot / "data").glob("*.csv")}
    refused = runner.invoke(app, args)
    assert refused.exit_code != 0 and "--force" in refused.output
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0, forced.output
    assert {p.name: p.read_bytes() for p in (pilot / "data").glob("*.csv")} == before


def test_an_existing_data_file_is_refused_before_anything_is_drawn(
    pilot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "team.csv").write_text("kept\n", encoding="utf-8")

    def not_reached(*_: object, **__: object) -> None:
        raise AssertionError("data were drawn before the output was checked")

    monkeypatch.setattr("trialkit.diagnose.fabricate", not_reached)
    args = ["--units", str(pilot / "units.csv"), "--allocation", str(pilot / "allocation.csv")]
    result = runner.invoke(app, ["simulate", NAME, *args, "--out", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "refusing to overwrite" in result.output and "team.csv" in result.output
    assert (tmp_path / "team.csv").read_text(encoding="utf-8") == "kept\n"

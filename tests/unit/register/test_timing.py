"""Amendment or deviation, decided from a real ledger written by the real functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trialkit import api, register
from trialkit.errors import DataValidationError
from trialkit.protocol import load_protocol

MID = "mid: 0.5\n"  # the primary outcome's (loneliness) minimum important difference


@pytest.fixture()
def workspace(tmp_path: Path, flagship_path: Path) -> Path:
    """A pilot workspace: protocol registered, units randomised, outcome data simulated."""
    protocol = tmp_path / "protocol.yaml"
    protocol.write_text(flagship_path.read_text(encoding="utf-8"), encoding="utf-8")
    ledger = tmp_path / register.LEDGER_NAME
    api.register_protocol(protocol, tmp_path / "registration", ledger=ledger)
    units = api.simulate_units(protocol, tmp_path / "units.csv")
    api.randomise(protocol, units, tmp_path / "allocation.csv", ledger=ledger)
    api.simulate_data(protocol, units, tmp_path / "allocation.csv", tmp_path / "data")
    return tmp_path


def _validate(workspace: Path) -> None:
    api.validate_files(
        workspace / "protocol.yaml",
        workspace / "allocation.csv",
        sorted((workspace / "data").glob("*.csv")),
        ledger=workspace / register.LEDGER_NAME,
    )


def _amend(workspace: Path, old: str = MID, new: str = "mid: 0.8\n") -> None:
    path = workspace / "protocol.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")


def _compare(workspace: Path, *, ledger: bool = True) -> tuple[register.Deviation, ...]:
    registered = register.load_registration(workspace / "registration").protocol
    current = load_protocol(workspace / "protocol.yaml")
    where = workspace / register.LEDGER_NAME if ledger else None
    return register.compare(registered, current, reason="rescaled", ledger=where)


def test_validate_appends_an_entry_with_protocol_and_file_hashes(workspace: Path) -> None:
    _validate(workspace)
    ledger = workspace / register.LEDGER_NAME
    entry = json.loads(ledger.read_text(encoding="utf-8").splitlines()[-1])
    assert entry["action"] == "validate"
    assert entry["protocol_hash"] == load_protocol(workspace / "protocol.yaml").content_hash()
    assert {"protocol.yaml", "allocation.csv", "data/client.csv"} <= set(entry["inputs"])
    assert register.verify(ledger) == []


def test_change_after_validation_is_a_deviation(workspace: Path) -> None:
    _validate(workspace)
    _amend(workspace)
    (dev,) = _compare(workspace)
    assert (dev.field, dev.severity, dev.kind) == ("outcomes[loneliness].mid", "major", "deviation")
    assert dev.reason == "rescaled"


def test_change_before_validation_is_an_amendment(workspace: Path) -> None:
    _amend(workspace)
    assert [d.kind for d in _compare(workspace)] == ["amendment"]  # nothing validated yet
    _validate(workspace)
    _validate(workspace)  # validating again does not turn it into a deviation
    (dev,) = _compare(workspace)
    assert dev.kind == "amendment"
    current = load_protocol(workspace / "protocol.yaml").content_hash()
    basis = register.kind_basis(current, workspace / register.LEDGER_NAME)
    assert "every change is an amendment" in basis


def test_second_change_after_validation_makes_every_change_a_deviation(workspace: Path) -> None:
    _amend(workspace)
    _validate(workspace)
    _amend(workspace, "rope: 0.3\n", "rope: 0.4\n")
    found = _compare(workspace)
    assert {d.field for d in found} == {"outcomes[loneliness].mid", "outcomes[loneliness].rope"}
    assert {d.kind for d in found} == {"deviation"}


def test_without_a_ledger_every_change_is_a_deviation(workspace: Path) -> None:
    _amend(workspace)
    assert [d.kind for d in _compare(workspace, ledger=False)] == ["deviation"]
    assert "conservative" in register.kind_basis("0" * 64, None)


def test_failed_validation_counts_as_outcome_data_seen(workspace: Path) -> None:
    client = workspace / "data" / "client.csv"
    client.write_text(client.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    with pytest.raises(DataValidationError):
        _validate(workspace)
    entries = register.ledger.read(workspace / register.LEDGER_NAME)
    assert entries[-1].action == "validate" and entries[-1].reason.startswith("validation failed")
    _amend(workspace)
    assert [d.kind for d in _compare(workspace)] == ["deviation"]


def test_analyse_entries_count_as_validation(workspace: Path, flagship_path: Path) -> None:
    ledger = workspace / register.LEDGER_NAME
    registered = load_protocol(flagship_path)
    register.append(
        ledger,
        "analyse",
        inputs=[workspace / "protocol.yaml"],
        actor="tester",
        protocol_hash=registered.content_hash(),
    )
    _amend(workspace)
    assert [d.kind for d in _compare(workspace)] == ["deviation"]


def test_protocol_hash_is_covered_by_the_entry_hash(workspace: Path) -> None:
    _validate(workspace)
    ledger = workspace / register.LEDGER_NAME
    lines = ledger.read_text(encoding="utf-8").splitlines()
    last = json.loads(lines[-1])
    last["protocol_hash"] = "f" * 64
    ledger.write_text("\n".join([*lines[:-1], json.dumps(last)]) + "\n", encoding="utf-8")
    assert any("entry altered after writing" in p for p in register.verify(ledger))

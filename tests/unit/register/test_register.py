"""register: freezing, the hash-chained ledger, deviations."""

from __future__ import annotations

import json

import pytest

from trialkit import register
from trialkit._core.hashing import canonical_json, sha256_text
from trialkit.errors import OverwriteError, RegistrationError
from trialkit.protocol import parse_protocol


@pytest.fixture()
def registered(tmp_path, flagship, flagship_path):
    reg = register.commit(
        register.freeze(flagship, tmp_path / "registration", source_text=flagship_path.read_text())
    )
    ledger = tmp_path / register.LEDGER_NAME
    register.append(
        ledger,
        "register",
        inputs=[flagship_path],
        outputs=list(reg.files),
        reason="initial registration",
        actor="tester",
    )
    return reg, ledger


def test_freeze_records_hash_and_refuses_overwrite(registered, flagship):
    reg, _ = registered
    assert reg.protocol_hash == flagship.content_hash()
    assert reg.registered_utc.endswith("Z")
    with pytest.raises(OverwriteError, match="refusing to overwrite the existing registration"):
        register.freeze(flagship, reg.directory)


def test_load_registration_detects_altered_frozen_protocol(registered):
    reg, _ = registered
    frozen = reg.directory / "protocol.frozen.json"
    data = json.loads(frozen.read_text())
    data["design"]["seed"] = 1
    frozen.write_text(json.dumps(data))
    with pytest.raises(RegistrationError, match="does not match the registered hash"):
        register.load_registration(reg.directory)


def test_an_interrupted_registration_is_no_registration_and_is_replaced(tmp_path, flagship):
    """Frozen files without their record (a kill before the commit) are refused as a
    registration, and the next freeze replaces them instead of refusing to overwrite."""
    first = register.freeze(flagship, tmp_path / "registration", source_text="first")
    with pytest.raises(
        RegistrationError,
        match=r"no registration here \(registration\.json "
        r"missing\)\. Fix: run `trialkit register`",
    ):
        register.load_registration(first.directory)
    second = register.commit(register.freeze(flagship, first.directory, source_text="second"))
    assert (second.directory / "protocol.yaml").read_text() == "second"
    assert register.load_registration(second.directory).protocol_hash == flagship.content_hash()


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (
            '{"protocol_hash": "ab',
            r"registration\.json, line 1: not valid JSON; the file was cut "
            r"short or edited\. Fix: restore",
        ),
        ("[1, 2]", r"holds a JSON list, not an object"),
        ('{"protocol_hash": 3}', r"field `protocol_hash` is missing or not text"),
        (b"\xff\xfe{}", r"not valid JSON"),
    ],
)
def test_a_damaged_record_is_a_located_error(registered, content, said):
    reg, _ = registered
    record = reg.directory / "registration.json"
    if isinstance(content, bytes):
        record.write_bytes(content)
    else:
        record.write_text(content)
    with pytest.raises(RegistrationError, match=said):
        register.load_registration(reg.directory)


def test_an_invalid_frozen_protocol_is_a_located_error(registered):
    reg, _ = registered
    frozen = reg.directory / "protocol.frozen.json"
    data = json.loads(frozen.read_text())
    data["design"]["seed"] = "not a seed"
    frozen.write_text(json.dumps(data))
    with pytest.raises(
        RegistrationError,
        match=r"protocol\.frozen\.json: not a valid protocol "
        r"\(1 problem\(s\), first at design\.seed\)",
    ):
        register.load_registration(reg.directory)


def test_ledger_verifies_then_names_altered_file(registered):
    reg, ledger = registered
    assert register.verify(ledger) == []
    (reg.directory / "protocol.yaml").write_text("tampered")
    problems = register.verify(ledger)
    assert problems == ["registration/protocol.yaml: altered since entry 1 (register) recorded it."]


def test_ledger_detects_edited_entry_and_broken_chain(registered, tmp_path):
    _, ledger = registered
    extra = tmp_path / "note.txt"
    extra.write_text("x")
    register.append(ledger, "note", outputs=[extra], actor="tester")
    lines = ledger.read_text().splitlines()
    first = json.loads(lines[0])
    first["reason"] = "rewritten history"
    ledger.write_text(json.dumps(first) + "\n" + lines[1] + "\n")
    assert any("entry 1 (register): entry altered" in p for p in register.verify(ledger))
    # a forger who also recomputes the edited entry's hash breaks the chain instead
    body = {k: v for k, v in first.items() if k != "hash"}
    first["hash"] = sha256_text(canonical_json(body))
    ledger.write_text(json.dumps(first) + "\n" + lines[1] + "\n")
    problems = register.verify(ledger)
    assert not any("entry 1" in p for p in problems)
    assert any("entry 2 (note): chain broken" in p for p in problems)


def test_ledger_reports_missing_file(registered):
    reg, ledger = registered
    (reg.directory / "registration.json").unlink()
    assert any(
        p.startswith("registration/registration.json: missing") for p in register.verify(ledger)
    )


def test_deviations_classified_major_and_minor(flagship, flagship_path):
    text = flagship_path.read_text()
    changed = (
        text.replace("estimator: lin", "estimator: ols")
        .replace("    mid: 1\n", "    mid: 2.0\n")
        .replace("target: 0.8", "target: 0.9")
    )
    current = parse_protocol(changed)
    found = {d.field: d for d in register.compare(flagship, current, reason="new data")}
    assert found["analysis.frequentist.estimator"].severity == "major"
    assert found["outcomes[wellbeing].mid"].severity == "minor"
    assert found["power.target"].severity == "minor"
    assert found["power.target"].reason == "new data"
    assert len(found) == 3


def test_primary_outcome_change_is_major(flagship, flagship_path):
    current = parse_protocol(flagship_path.read_text().replace("mid: 0.5\n", "mid: 0.8\n"))
    (dev,) = register.compare(flagship, current)
    assert dev.field == "outcomes[loneliness].mid" and dev.severity == "major"
    assert dev.reason == "No reason given."


def test_no_deviation_when_unchanged(flagship):
    assert register.compare(flagship, flagship) == ()

"""The ledger tells a crash from tampering (issue 20, item 2).

An interrupted append leaves a final line without its newline: `audit` reports it apart
from alterations, every append refuses it with the repair command, and `repair` removes
that line only, recording its length and sha256. Anything else stays tampering.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from trialkit import register
from trialkit.errors import RegistrationError
from trialkit.register.ledger import read
from trialkit.register.ledger_file import REPAIR_COMMAND


@pytest.fixture()
def ledger(tmp_path: Path) -> Path:
    path = tmp_path / register.LEDGER_NAME
    note = tmp_path / "note.txt"
    note.write_text("x")
    register.append(path, "register", outputs=[note], actor="tester")
    register.append(path, "randomise", inputs=[note], actor="tester")
    return path


TORN = [b'{"seq": 3, "act', b"\x00\x00\x00\x00"]


@pytest.mark.parametrize("tail", TORN)
def test_a_torn_last_line_is_a_crash_not_tampering(ledger: Path, tail: bytes) -> None:
    with ledger.open("ab") as handle:
        handle.write(tail)
    check = register.audit(ledger)
    assert check.problems == () and not check.intact
    assert check.torn is not None and check.torn.line == 3 and check.torn.data == tail
    (line,) = register.verify(ledger)
    assert "line 3: the last entry is incomplete" in line and "not tampering" in line
    assert f"`{REPAIR_COMMAND} {ledger}`" in line and "altered" not in line


def test_a_complete_entry_without_its_newline_is_torn_too(ledger: Path) -> None:
    lines = ledger.read_bytes().splitlines()
    ledger.write_bytes(lines[0] + b"\n" + lines[1])  # the newline was never written
    check = register.audit(ledger)
    assert check.torn is not None and check.torn.line == 2 and check.count == 1


def test_appends_refuse_a_torn_ledger_and_leave_it_alone(ledger: Path) -> None:
    with ledger.open("ab") as handle:
        handle.write(b'{"seq"')
    before = ledger.read_bytes()
    with pytest.raises(
        RegistrationError,
        match=r"line 3: the last entry is incomplete.*"
        r"Fix: run `trialkit ledger repair",
    ):
        register.append(ledger, "analyse", actor="tester")
    with pytest.raises(RegistrationError, match="ledger repair"):
        register.ensure_appendable(ledger)
    with pytest.raises(RegistrationError, match="ledger repair"):
        register.change_kind("ab" * 32, ledger)  # readers refuse it the same way
    assert ledger.read_bytes() == before


def test_repair_removes_only_the_torn_line_and_records_it(ledger: Path) -> None:
    complete = ledger.read_bytes()
    tail = b'{"seq": 3, "action": "analy'
    ledger.write_bytes(complete + tail)
    done = register.repair(ledger, actor="tester")
    assert done is not None and done.removed.data == tail
    assert done.entry.seq == 3 and done.entry.action == "repair"
    digest = hashlib.sha256(tail).hexdigest()
    assert f"line 3, {len(tail)} bytes, sha256 {digest}" in done.entry.reason
    after = ledger.read_bytes()
    assert after.startswith(complete) and tail not in after
    assert register.verify(ledger) == []
    assert [e.action for e in read(ledger)] == ["register", "randomise", "repair"]
    register.append(ledger, "analyse", actor="tester")  # appends work again
    assert register.audit(ledger).count == 4


def test_repair_of_a_complete_ledger_does_nothing(ledger: Path) -> None:
    before = ledger.read_bytes()
    assert register.repair(ledger) is None
    assert ledger.read_bytes() == before


def _edit_first_entry(ledger: Path, *, rehash: bool) -> None:
    lines = ledger.read_text().splitlines()
    first = json.loads(lines[0])
    first["reason"] = "rewritten history"
    if rehash:
        from trialkit._core.hashing import canonical_json, sha256_text

        first["hash"] = sha256_text(canonical_json({k: v for k, v in first.items() if k != "hash"}))
    ledger.write_text(json.dumps(first) + "\n" + lines[1] + "\n")


@pytest.mark.parametrize("rehash", [False, True], ids=["edited entry", "broken chain"])
def test_repair_refuses_tampering_even_beside_a_torn_line(ledger: Path, rehash: bool) -> None:
    _edit_first_entry(ledger, rehash=rehash)
    with ledger.open("ab") as handle:
        handle.write(b'{"seq": 3')
    before = ledger.read_bytes()
    with pytest.raises(RegistrationError, match="refusing to repair an altered ledger"):
        register.repair(ledger)
    assert ledger.read_bytes() == before
    check = register.audit(ledger)
    assert check.problems and check.torn is not None  # both reported, each as what it is


@pytest.mark.parametrize("bad", [b"not json", b'"a string"', b"\xff\xfe{}", b'{"seq": "1"}'])
def test_a_bad_middle_line_is_tampering_located_by_line(ledger: Path, bad: bytes) -> None:
    lines = ledger.read_bytes().splitlines()
    ledger.write_bytes(lines[0] + b"\n" + bad + b"\n" + lines[1] + b"\n")
    for action in (register.audit, read, register.repair):
        with pytest.raises(RegistrationError, match=r"line 2: not a ledger entry .*altered"):
            action(ledger)


def test_a_complete_last_line_that_is_not_an_entry_is_tampering(ledger: Path) -> None:
    with ledger.open("ab") as handle:
        handle.write(b'{"seq": 3}\n')  # has its newline: no crash leaves this
    with pytest.raises(RegistrationError, match="line 3: not a ledger entry"):
        register.audit(ledger)
    with pytest.raises(RegistrationError, match="altered"):
        register.repair(ledger)


def test_wrong_typed_field_is_located_not_a_traceback(ledger: Path) -> None:
    lines = ledger.read_text().splitlines()
    second = json.loads(lines[1])
    second["inputs"] = ["note.txt"]
    ledger.write_text(lines[0] + "\n" + json.dumps(second) + "\n")
    with pytest.raises(RegistrationError, match=r"line 2: not a ledger entry \(`inputs`"):
        register.audit(ledger)


def test_audit_reports_head_and_count(ledger: Path) -> None:
    entries = read(ledger)
    check = register.audit(ledger)
    assert check.intact and check.count == 2 and check.head == entries[-1].hash


def test_a_symlinked_ledger_is_refused_not_followed(ledger: Path, tmp_path: Path) -> None:
    link = tmp_path / "elsewhere" / "ledger.jsonl"
    link.parent.mkdir()
    link.symlink_to(ledger)
    before = ledger.read_bytes()
    for call in (
        lambda: register.append(link, "analyse"),
        lambda: read(link),
        lambda: register.audit(link),
        lambda: register.repair(link),
        lambda: register.ensure_appendable(link),
    ):
        with pytest.raises(RegistrationError, match=r"is a symbolic link.*does not follow it"):
            call()
    assert ledger.read_bytes() == before


def test_a_dangling_symlink_is_refused_and_nothing_is_created(tmp_path: Path) -> None:
    link = tmp_path / "ledger.jsonl"
    link.symlink_to(tmp_path / "target.jsonl")
    with pytest.raises(RegistrationError, match="symbolic link"):
        register.append(link, "register")
    assert not (tmp_path / "target.jsonl").exists()


def test_a_directory_is_not_a_ledger(tmp_path: Path) -> None:
    (tmp_path / "ledger.jsonl").mkdir()
    with pytest.raises(RegistrationError, match=r"not a regular file|cannot open"):
        register.append(tmp_path / "ledger.jsonl", "register")


def test_a_full_disk_mid_append_leaves_the_ledger_as_it_was(
    ledger: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    before = ledger.read_bytes()
    real_write = os.write

    def full_disk(fd: int, data: bytes) -> int:
        if len(data) > 20:  # write part of the line, then run out of space
            real_write(fd, bytes(data[:20]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(
        RegistrationError,
        match=r"cannot append to the ledger \(No space left "
        r"on device\); the ledger is left as it was",
    ):
        register.append(ledger, "analyse", actor="tester")
    monkeypatch.undo()
    assert ledger.read_bytes() == before
    assert register.audit(ledger).intact

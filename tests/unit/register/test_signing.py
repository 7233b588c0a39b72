"""Signed ledger entries (issue 20, item 2): a key the evaluator holds.

Entries are signed when TRIALKIT_SIGNING_KEY names a private key from `new_key`; a public
key then shows every entry genuine. Unsigned ledgers keep their hashes and still verify.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from trialkit import register
from trialkit._core.hashing import canonical_json, sha256_text
from trialkit.errors import RegistrationError
from trialkit.register.ledger import LedgerEntry, read
from trialkit.register.signing import SIGNING_KEY_ENV, new_key


@pytest.fixture()
def keys(tmp_path: Path) -> tuple[Path, Path]:
    made = new_key(tmp_path / "keys" / "evaluator.pem")
    return made.private, made.public


@pytest.fixture()
def signed(tmp_path: Path, keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(SIGNING_KEY_ENV, str(keys[0]))
    ledger = tmp_path / register.LEDGER_NAME
    note = tmp_path / "note.txt"
    note.write_text("x")
    register.append(ledger, "register", outputs=[note], actor="tester")
    register.append(ledger, "randomise", inputs=[note], actor="tester")
    monkeypatch.delenv(SIGNING_KEY_ENV)
    return ledger


def _lines(ledger: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in ledger.read_text().splitlines()]


def _write(ledger: Path, rows: list[dict[str, object]]) -> None:
    ledger.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


def _rehash(row: dict[str, object], previous: str) -> dict[str, object]:
    """What a forger without the key can do: relink and rehash, keeping the signature."""
    row = {**row, "previous": previous}
    body = LedgerEntry(**row).body()  # type: ignore[arg-type]
    return {**row, "hash": sha256_text(canonical_json(body))}


def test_new_key_is_private_to_its_owner_and_never_overwritten(tmp_path: Path) -> None:
    made = new_key(tmp_path / "k.pem")
    assert stat.S_IMODE(made.private.stat().st_mode) == 0o600
    assert made.public == tmp_path / "k.pub" and b"PUBLIC KEY" in made.public.read_bytes()
    assert len(made.fingerprint) == 64
    with pytest.raises(RegistrationError, match=r"never overwritten.*trialkit key new --out"):
        new_key(tmp_path / "k.pem")


def test_signed_entries_verify_with_the_public_key(signed: Path, keys: tuple[Path, Path]) -> None:
    entries = read(signed)
    assert all(e.signature and e.signed_by for e in entries)
    check = register.audit(signed, public_key=keys[1])
    assert check.passed and check.signatures == () and check.signed == 2
    assert check.key == entries[0].signed_by


def test_unsigned_ledger_still_verifies_and_is_reported_unsigned_with_a_key(
    tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    ledger = tmp_path / register.LEDGER_NAME
    register.append(ledger, "register", actor="tester")
    assert "signed_by" not in _lines(ledger)[0]  # the old format, byte for byte
    assert register.audit(ledger).passed
    check = register.audit(ledger, public_key=keys[1])
    assert check.intact and not check.passed
    assert check.signatures == (
        "entry 1 (register): not signed, so anyone who can write the "
        "ledger could have added or rewritten it.",
    )


def test_a_forged_appended_entry_fails(signed: Path, keys: tuple[Path, Path]) -> None:
    rows = _lines(signed)
    forged = _rehash(
        {**rows[-1], "seq": 3, "action": "analyse", "actor": "evaluator"}, str(rows[-1]["hash"])
    )
    _write(signed, [*rows, forged])
    assert register.audit(signed).passed  # the chain alone cannot tell
    check = register.audit(signed, public_key=keys[1])
    assert check.signatures == (
        "entry 3 (analyse): signature does not verify: the entry was "
        "forged, or rewritten after it was signed.",
    )


def test_a_rewritten_chain_fails_from_its_first_rewritten_entry(
    signed: Path, keys: tuple[Path, Path]
) -> None:
    rows = _lines(signed)
    first = _rehash({**rows[0], "reason": "edited"}, str(rows[0]["previous"]))
    second = _rehash(rows[1], str(first["hash"]))
    _write(signed, [first, second])
    assert register.audit(signed).passed
    problems = register.audit(signed, public_key=keys[1]).signatures
    assert [p.split(":")[0] for p in problems] == ["entry 1 (register)", "entry 2 (randomise)"]


def test_a_chain_stripped_of_signatures_fails(signed: Path, keys: tuple[Path, Path]) -> None:
    previous, rows = "0" * 64, []
    for row in _lines(signed):
        bare = {k: v for k, v in row.items() if k not in ("signature", "signed_by")}
        rows.append(_rehash(bare, previous))
        previous = str(rows[-1]["hash"])
    _write(signed, rows)
    problems = register.audit(signed, public_key=keys[1]).signatures
    assert len(problems) == 2 and all("not signed" in p for p in problems)


def test_another_key_is_named(signed: Path, tmp_path: Path) -> None:
    other = new_key(tmp_path / "other.pem")
    problems = register.audit(signed, public_key=other.public).signatures
    assert len(problems) == 2 and "signed by another key" in problems[0]


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_a_private_key_others_can_read_is_refused_before_any_write(
    tmp_path: Path, keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    keys[0].chmod(mode)
    monkeypatch.setenv(SIGNING_KEY_ENV, str(keys[0]))
    ledger = tmp_path / register.LEDGER_NAME
    with pytest.raises(RegistrationError, match=r"can be read by others.*Fix: run `chmod 600"):
        register.ensure_appendable(ledger)
    assert not ledger.exists()


def test_a_missing_or_wrong_key_file_is_located(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = tmp_path / register.LEDGER_NAME
    monkeypatch.setenv(SIGNING_KEY_ENV, str(tmp_path / "nope.pem"))
    with pytest.raises(RegistrationError, match=r"nope\.pem: no private key file here"):
        register.append(ledger, "register")
    assert not ledger.exists()
    monkeypatch.delenv(SIGNING_KEY_ENV)
    register.append(ledger, "register")
    private = new_key(tmp_path / "k.pem").private
    with pytest.raises(RegistrationError, match=r"k\.pem: not an Ed25519 public key"):
        register.audit(ledger, public_key=private)


def test_repair_signs_its_entry(
    signed: Path, keys: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    with signed.open("ab") as handle:
        handle.write(b'{"seq": 3, "act')
    monkeypatch.setenv(SIGNING_KEY_ENV, str(keys[0]))
    done = register.repair(signed)
    assert done is not None and done.entry.signature
    assert register.audit(signed, public_key=keys[1]).passed

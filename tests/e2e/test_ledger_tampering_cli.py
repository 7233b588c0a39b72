"""Every tampering case of issue 20 against `trialkit verify`, on a signed demo pilot.

Signed mode (`--public-key`, `--head`) exits 2 naming the entry; unsigned mode says what it
cannot detect. The pilot is the demo's, run once with TRIALKIT_SIGNING_KEY set.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from trialkit._core.hashing import canonical_json, sha256_text
from trialkit.cli import app
from trialkit.register.ledger import LedgerEntry
from trialkit.register.signing import SIGNING_KEY_ENV

runner = CliRunner()


@pytest.fixture(scope="module")
def signed_pilot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """The demo pilot with every entry signed; its public key; its head hash."""
    root = tmp_path_factory.mktemp("signed")
    made = runner.invoke(app, ["key", "new", "--out", str(root / "evaluator.pem")])
    assert made.exit_code == 0, made.output
    with pytest.MonkeyPatch.context() as env:
        env.setenv(SIGNING_KEY_ENV, str(root / "evaluator.pem"))
        demo = runner.invoke(app, ["demo", "--out", str(root / "pilot"), "--no-bayes"])
    assert demo.exit_code == 0, demo.output
    verified = _verify(root / "pilot", "--public-key", str(root / "evaluator.pub"))
    assert verified.exit_code == 0, verified.output
    head = re.search(r"^head ([0-9a-f]{64}) after", verified.output, re.M)
    assert head is not None
    yield root / "pilot", root / "evaluator.pub", head.group(1)


@pytest.fixture()
def pilot(signed_pilot: tuple[Path, Path, str], tmp_path: Path) -> Path:
    return Path(shutil.copytree(signed_pilot[0], tmp_path / "pilot"))


def _verify(pilot: Path, *options: str) -> Result:
    return runner.invoke(app, ["verify", str(pilot), *options])


def _signed(pilot: Path, signed_pilot: tuple[Path, Path, str]) -> Result:
    _, public, head = signed_pilot
    return _verify(pilot, "--public-key", str(public), "--head", head)


def _rows(pilot: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (pilot / "ledger.jsonl").read_text().splitlines()]


def _write(pilot: Path, rows: list[dict[str, object]]) -> None:
    text = "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
    (pilot / "ledger.jsonl").write_text(text)


def _rechain(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Relink and rehash every entry, as anyone without the key can; signatures kept."""
    previous, out = "0" * 64, []
    for row in rows:
        row = {**row, "previous": previous}
        body = LedgerEntry(**row).body()  # type: ignore[arg-type]
        out.append({**row, "hash": sha256_text(canonical_json(body))})
        previous = str(out[-1]["hash"])
    return out


UNANCHORED = "NOT CHECKED: without an anchored head (--head), a ledger cut to zero bytes"
UNSIGNED = (
    "NOT CHECKED: without a public key (--public-key), an appended forged entry (any "
    "actor, time, reason) or a whole chain rewritten with fresh hashes after editing "
    "files verifies as intact"
)


def test_the_signed_pilot_verifies_with_its_key_and_anchor(
    pilot: Path, signed_pilot: tuple[Path, Path, str]
) -> None:
    result = _signed(pilot, signed_pilot)
    assert result.exit_code == 0, result.output
    assert re.search(r"all \d+ entries signed by the key", result.output)
    assert "nothing was written after it" in result.output and "NOT CHECKED" not in result.output


def test_truncated_to_zero_bytes(pilot: Path, signed_pilot: tuple[Path, Path, str]) -> None:
    (pilot / "ledger.jsonl").write_bytes(b"")
    result = _signed(pilot, signed_pilot)
    assert result.exit_code == 2
    assert (
        "ANCHOR the anchored head " in result.output
        and "is in no entry of the ledger, which is empty: every entry was dropped" in result.output
    )
    unsigned = _verify(pilot)
    assert unsigned.exit_code == 0 and UNANCHORED in unsigned.output


def test_trailing_entries_dropped(pilot: Path, signed_pilot: tuple[Path, Path, str]) -> None:
    rows = _rows(pilot)
    _write(pilot, rows[:-2])
    result = _signed(pilot, signed_pilot)
    assert result.exit_code == 2
    assert f"which ends at entry {len(rows) - 2}: entries after it were dropped" in result.output
    unsigned = _verify(pilot)
    assert unsigned.exit_code == 0 and UNANCHORED in unsigned.output


def test_a_forged_entry_appended(pilot: Path, signed_pilot: tuple[Path, Path, str]) -> None:
    rows = _rows(pilot)
    forged = {
        **rows[-1],
        "seq": len(rows) + 1,
        "action": "deviation",
        "actor": "evaluator",
        "reason": "approved by the trial steering committee",
        "inputs": {},
        "outputs": {},
    }
    _write(pilot, _rechain([*rows, forged]))
    result = _signed(pilot, signed_pilot)
    assert result.exit_code == 2
    assert (
        f"SIGNATURE entry {len(rows) + 1} (deviation): signature does not verify" in result.output
    )
    unsigned = _verify(pilot)
    assert unsigned.exit_code == 0 and "chain intact" in unsigned.output
    assert UNSIGNED in unsigned.output


def test_the_whole_chain_rewritten_after_editing_results(
    pilot: Path, signed_pilot: tuple[Path, Path, str]
) -> None:
    results = pilot / "results" / "estimates.csv"
    results.write_text(results.read_text().replace("0.", "0.9", 1))
    digest = hashlib.sha256(results.read_bytes()).hexdigest()
    rows = _rows(pilot)
    for row in rows:
        for files in (row["inputs"], row["outputs"]):
            assert isinstance(files, dict)
            if "results/estimates.csv" in files:
                files["results/estimates.csv"] = digest
    _write(pilot, _rechain(rows))
    analyse = next(r["seq"] for r in rows if r["action"] == "analyse")
    result = _signed(pilot, signed_pilot)
    assert result.exit_code == 2
    assert f"SIGNATURE entry {analyse} (analyse): signature does not verify" in result.output
    assert "ANCHOR the anchored head" in result.output  # the rewrite lost the anchor too
    unsigned = _verify(pilot)
    assert unsigned.exit_code == 0 and UNSIGNED in unsigned.output


def _data(pilot: Path) -> list[str]:
    return [arg for path in sorted((pilot / "data").glob("*.csv")) for arg in ("--data", str(path))]


def test_outcome_data_changed_after_the_freeze_then_analyse_force(
    pilot: Path, signed_pilot: tuple[Path, Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    team = pilot / "data" / "team.csv"
    team.write_text(team.read_text().replace("T01,27.0", "T01,37.0", 1))
    monkeypatch.setenv(SIGNING_KEY_ENV, str(signed_pilot[1].with_suffix(".pem")))
    rerun = runner.invoke(
        app,
        [
            "analyse",
            str(pilot / "protocol.yaml"),
            "--allocation",
            str(pilot / "allocation.csv"),
            *_data(pilot),
            "--registration",
            str(pilot / "registration"),
            "--out",
            str(pilot / "results"),
            "--no-bayes",
            "--force",
            "--ledger",
            str(pilot / "ledger.jsonl"),
        ],
    )
    assert rerun.exit_code == 0, rerun.output
    rows = _rows(pilot)
    first, last = (r["seq"] for r in rows if r["action"] == "analyse")
    finding = (
        f"FINDING entry {last} (analyse): outcome data changed after the first analysis "
        f"(entry {first}): data/team.csv"
    )
    result = _signed(pilot, signed_pilot)
    assert result.exit_code == 2 and finding in result.output
    unsigned = _verify(pilot)
    assert unsigned.exit_code == 2 and finding in unsigned.output


def test_rerandomised_after_the_analysis(pilot: Path, signed_pilot: tuple[Path, Path, str]) -> None:
    again = runner.invoke(
        app,
        [
            "randomise",
            str(pilot / "protocol.yaml"),
            "--units",
            str(pilot / "units.csv"),
            "--out",
            str(pilot / "allocation.csv"),
            "--seed",
            "7",
            "--force",
            "--ledger",
            str(pilot / "ledger.jsonl"),
        ],
    )
    assert again.exit_code == 0, again.output
    rows = _rows(pilot)
    draws = [r["seq"] for r in rows if r["action"] == "randomise"]
    analyse = next(r["seq"] for r in rows if r["action"] == "analyse")
    result = _signed(pilot, signed_pilot)
    assert result.exit_code == 2
    assert (
        f"FINDING entry {draws[-1]} (randomise): re-randomised, after the analyse in "
        f"entry {analyse}: allocation.csv" in result.output
    )
    assert f"SIGNATURE entry {draws[-1]} (randomise): not signed" in result.output


def test_a_bad_head_a_missing_key_and_an_existing_key_file_are_located_errors(
    tmp_path: Path,
) -> None:
    from trialkit import register

    register.append(tmp_path / "ledger.jsonl", "register")
    head = _verify(tmp_path, "--head", "abc")
    assert head.exit_code == 2 and "Traceback" not in head.output
    assert "error: --head 'abc': not a head hash (64 hexadecimal characters)" in head.output
    key = _verify(tmp_path, "--public-key", str(tmp_path / "missing.pub"))
    assert key.exit_code == 2 and "missing.pub: no public key file here" in key.output
    (tmp_path / "k.pem").write_text("mine")
    again = runner.invoke(app, ["key", "new", "--out", str(tmp_path / "k.pem")])
    assert again.exit_code == 2 and "already exists; a key is never overwritten" in again.output
    assert (tmp_path / "k.pem").read_text() == "mine"

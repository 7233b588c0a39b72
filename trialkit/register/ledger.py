"""An append-only, hash-chained ledger of everything done to a pilot.

Each entry records the UTC time, the actor, the action, the sha256 of its input and output
files, the reason, and the previous entry's hash; its own hash covers all of that. Altering
any entry breaks the chain, and altering any referenced file breaks its recorded hash:
:func:`verify` names exactly which.

An entry may also record ``protocol_hash``: the content hash of the protocol in force for
the action (:meth:`Protocol.content_hash`, which ignores comments and formatting). It is
what tells an *amendment* from a *deviation* (:mod:`trialkit.register.timing`). Entries
written without it (older ledgers) keep their original hash: the field is hashed only
when present.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialkit._core.files import sha256_file
from trialkit._core.hashing import canonical_json, sha256_text
from trialkit._core.provenance import utc_now
from trialkit.errors import RegistrationError

LEDGER_NAME = "ledger.jsonl"
GENESIS = "0" * 64


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One action recorded in the ledger."""

    seq: int
    time_utc: str
    actor: str
    action: str
    reason: str
    inputs: dict[str, str]
    outputs: dict[str, str]
    previous: str
    hash: str
    protocol_hash: str = ""

    def body(self) -> dict[str, Any]:
        """Everything the entry's hash covers (``protocol_hash`` only when recorded)."""
        body = {
            k: getattr(self, k)
            for k in (
                "seq",
                "time_utc",
                "actor",
                "action",
                "reason",
                "inputs",
                "outputs",
                "previous",
            )
        }
        if self.protocol_hash:
            body["protocol_hash"] = self.protocol_hash
        return body


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _hashes(root: Path, paths: Sequence[Path]) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in paths:
        resolved = path if path.is_absolute() else Path.cwd() / path
        try:
            name = resolved.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            name = resolved.resolve().as_posix()
        out[name] = sha256_file(resolved)
    return out


def read(ledger: Path) -> list[LedgerEntry]:
    """All entries of a ledger, in order."""
    if not ledger.is_file():
        raise RegistrationError(
            f"{ledger}: no ledger here. Fix: run `trialkit register` first, "
            "or point --ledger at the pilot's ledger.jsonl."
        )
    entries = []
    for number, line in enumerate(ledger.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            entries.append(LedgerEntry(**json.loads(line)))
        except (json.JSONDecodeError, TypeError) as exc:
            raise RegistrationError(
                f"{ledger}, line {number}: not a ledger entry ({exc}). The ledger has been altered."
            ) from None
    return entries


def append(
    ledger: Path,
    action: str,
    *,
    inputs: Sequence[Path] = (),
    outputs: Sequence[Path] = (),
    reason: str = "",
    actor: str | None = None,
    protocol_hash: str = "",
) -> LedgerEntry:
    """Append an entry, hashing the files given; creates the ledger when absent.

    Parameters
    ----------
    ledger
        The ledger file.
    action
        What was done: ``register``, ``randomise``, ``validate``, ``analyse``, ``report``…
        ``validate`` and ``analyse`` mark outcome data as validated
        (:data:`trialkit.register.timing.VALIDATING_ACTIONS`).
    inputs, outputs
        Files read and written; each is recorded with its sha256.
    reason
        Why, in words.
    actor
        Who; defaults to the logged-in user.
    protocol_hash
        The content hash of the protocol in force (:meth:`Protocol.content_hash`); record
        it whenever the action uses a protocol, so later changes can be classed as
        amendments or deviations.
    """
    root = ledger.parent
    entries = read(ledger) if ledger.exists() else []
    body: dict[str, Any] = {
        "seq": len(entries) + 1,
        "time_utc": utc_now(),
        "actor": actor or _actor(),
        "action": action,
        "reason": reason,
        "inputs": _hashes(root, inputs),
        "outputs": _hashes(root, outputs),
        "previous": entries[-1].hash if entries else GENESIS,
    }
    if protocol_hash:
        body["protocol_hash"] = protocol_hash
    entry = LedgerEntry(**body, hash=sha256_text(canonical_json(body)))
    line = json.dumps(body | {"hash": entry.hash}, sort_keys=True, ensure_ascii=False) + "\n"
    root.mkdir(parents=True, exist_ok=True)
    with open(ledger, "a", encoding="utf-8") as handle:  # append-only by design
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return entry


def verify(ledger: Path) -> list[str]:
    """Check the chain and every file it references; return one line per problem found.

    A file referenced by several entries is checked against its latest recorded hash; a
    changed file is named with the entry that first recorded that content (the action that
    wrote it, not a later one that only read it).
    """
    problems: list[str] = []
    entries = read(ledger)
    previous = GENESIS
    latest: dict[str, tuple[str, LedgerEntry]] = {}
    for entry in entries:
        if entry.previous != previous:
            problems.append(
                f"entry {entry.seq} ({entry.action}): chain broken; an earlier "
                "entry was altered or removed."
            )
        if sha256_text(canonical_json(entry.body())) != entry.hash:
            problems.append(f"entry {entry.seq} ({entry.action}): entry altered after writing.")
        previous = entry.hash
        for name, digest in {**entry.inputs, **entry.outputs}.items():
            if name not in latest or latest[name][0] != digest:
                latest[name] = (digest, entry)  # the entry that first recorded this content
    for name, (digest, entry) in sorted(latest.items()):
        path = Path(name) if Path(name).is_absolute() else ledger.parent / name
        if not path.is_file():
            problems.append(f"{name}: missing (recorded by entry {entry.seq}, {entry.action}).")
        elif sha256_file(path) != digest:
            problems.append(
                f"{name}: altered since entry {entry.seq} ({entry.action}) recorded it."
            )
    return problems

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

When :data:`~trialkit.register.signing.SIGNING_KEY_ENV` names a private key, each new
entry also records ``signed_by`` (the key's fingerprint, hashed like ``protocol_hash``,
only when present) and ``signature`` (an Ed25519 signature of the entry's hash, outside
the hash): see :mod:`trialkit.register.signing`.

Appends hold an exclusive lock on the ledger and are fsynced
(:mod:`trialkit.register.ledger_file`); a ledger path that is a symbolic link is refused.
A final line without its newline is an interrupted write, not tampering: :func:`read`
refuses it with a fix, :func:`trialkit.register.audit.audit` reports it apart from
alterations, and :func:`trialkit.register.audit.repair` removes it and records that it did.
"""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trialkit._core.files import sha256_file
from trialkit._core.hashing import canonical_json, sha256_text
from trialkit._core.provenance import utc_now
from trialkit.errors import Location, RegistrationError
from trialkit.register.ledger_file import RawLedger, append_line, opened, read_raw
from trialkit.register.signing import SigningKey, key_from_env

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
    signed_by: str = ""
    signature: str = ""

    def body(self) -> dict[str, Any]:
        """Everything the entry's hash covers (``protocol_hash``, ``signed_by`` only when
        recorded; never ``signature``, which signs the hash)."""
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
        if self.signed_by:
            body["signed_by"] = self.signed_by
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


_OPTIONAL = {"protocol_hash", "signed_by", "signature"}
_TEXT_FIELDS = ("time_utc", "actor", "action", "reason", "previous", "hash", *sorted(_OPTIONAL))
_REQUIRED = {
    "seq",
    "time_utc",
    "actor",
    "action",
    "reason",
    "inputs",
    "outputs",
    "previous",
    "hash",
}


def _field_problem(data: object) -> str | None:
    """Why ``data`` is not a ledger entry's JSON, or ``None`` when it is one."""
    if not isinstance(data, dict):
        return f"a JSON {type(data).__name__}, not an object"
    unknown = sorted(set(data) - _REQUIRED - _OPTIONAL)
    missing = sorted(_REQUIRED - set(data))
    if unknown or missing:
        return f"fields {missing} missing, {unknown} unknown"
    if type(data["seq"]) is not int:
        return "`seq` is not a whole number"
    for name in _TEXT_FIELDS:
        if name in data and not isinstance(data[name], str):
            return f"`{name}` is not text"
    for name in ("inputs", "outputs"):
        files = data[name]
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            return f"`{name}` is not a table of file hashes"
    return None


def parse_lines(ledger: Path, lines: Sequence[bytes]) -> list[LedgerEntry]:
    """The entries of a ledger's complete lines; refuse any line that is not one (altered)."""
    entries = []
    for number, raw in enumerate(lines, start=1):
        try:
            data = json.loads(raw.decode("utf-8"))
            why = _field_problem(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            why = str(exc)
        if why is not None:
            raise RegistrationError(
                f"{Location(file=str(ledger), line=number)}: not a ledger entry ({why}). "
                "The ledger has been altered. Fix: restore the ledger from a copy you trust; "
                "an altered ledger is never repaired."
            )
        entries.append(LedgerEntry(**data))
    return entries


def _complete(ledger: Path, raw: RawLedger) -> list[LedgerEntry]:
    """The entries of a ledger with no torn final line; refuse one that has it."""
    if raw.torn is not None:
        raise RegistrationError(raw.torn.describe(ledger))
    return parse_lines(ledger, raw.lines)


def read(ledger: Path) -> list[LedgerEntry]:
    """All entries of a ledger, in order.

    Raises
    ------
    RegistrationError
        If there is no ledger, it is a symbolic link, a line is not an entry (altered), or
        its last line is incomplete (an interrupted write; the message names the repair).
    """
    with opened(ledger, write=False) as fd:
        raw = read_raw(fd)
    return _complete(ledger, raw)


def ensure_appendable(ledger: Path) -> None:
    """Refuse, before any work is done, a ledger that :func:`append` would refuse.

    An absent ledger is fine (:func:`append` creates it). Call this before writing the
    outputs an entry will record, so a damaged ledger never leaves them unrecorded.

    Raises
    ------
    RegistrationError
        As :func:`read` does, or if the signing key named by
        :data:`~trialkit.register.signing.SIGNING_KEY_ENV` cannot be used.
    """
    key_from_env()
    if ledger.exists() or ledger.is_symlink():
        read(ledger)


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

    The entry is numbered and chained while an exclusive lock on the ledger is held, and
    the file is fsynced before the lock is released. It is signed with the private key
    named by :data:`~trialkit.register.signing.SIGNING_KEY_ENV`, when set.

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

    Raises
    ------
    RegistrationError
        If the ledger is a symbolic link, altered, or ends in an incomplete line, or the
        signing key cannot be used.
    """
    key = key_from_env()
    root = ledger.parent
    files = {"inputs": _hashes(root, inputs), "outputs": _hashes(root, outputs)}
    with opened(ledger, write=True) as fd:
        entries = _complete(ledger, read_raw(fd))
        return append_locked(
            fd,
            ledger,
            entries,
            action,
            files=files,
            reason=reason,
            actor=actor,
            protocol_hash=protocol_hash,
            key=key,
        )


def append_locked(
    fd: int,
    ledger: Path,
    entries: Sequence[LedgerEntry],
    action: str,
    *,
    files: dict[str, dict[str, str]],
    reason: str,
    actor: str | None,
    protocol_hash: str = "",
    key: SigningKey | None = None,
) -> LedgerEntry:
    """Chain a new entry after ``entries`` and write it to ``fd``, which must be locked;
    sign it with ``key`` when given."""
    body: dict[str, Any] = {
        "seq": len(entries) + 1,
        "time_utc": utc_now(),
        "actor": actor or _actor(),
        "action": action,
        "reason": reason,
        "inputs": files.get("inputs", {}),
        "outputs": files.get("outputs", {}),
        "previous": entries[-1].hash if entries else GENESIS,
    }
    if protocol_hash:
        body["protocol_hash"] = protocol_hash
    if key is not None:
        body["signed_by"] = key.fingerprint
    digest = sha256_text(canonical_json(body))
    signed: dict[str, Any] = {"hash": digest}
    if key is not None:
        signed["signature"] = key.sign(digest)
    entry = LedgerEntry(**body, **signed)
    line = json.dumps(body | signed, sort_keys=True, ensure_ascii=False) + "\n"
    append_line(fd, line.encode("utf-8"), ledger=ledger)
    return entry

"""Freeze a protocol: canonical JSON, its sha256 and the UTC time, written once.

The frozen protocol is the reference every later run is compared with; once its record
is committed it is never overwritten.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trialkit import __version__
from trialkit._core import staging
from trialkit._core.destinations import check_destination, write_failed
from trialkit._core.files import ensure_absent
from trialkit._core.inputs import NOT_FOUND, not_regular
from trialkit._core.provenance import utc_now
from trialkit.errors import RegistrationError

if TYPE_CHECKING:
    from trialkit.protocol import Protocol

_NEW_DIRECTORY = (
    "register into a new directory with --out; a registration is never "
    "replaced, so that it keeps showing what was fixed before the data came."
)
FROZEN_PROTOCOL = "protocol.frozen.json"
FROZEN_YAML = "protocol.yaml"
RECORD = "registration.json"


@dataclass(frozen=True, slots=True)
class Registration:
    """A frozen protocol: what was registered, when, and where its files are.

    Attributes
    ----------
    protocol_hash
        sha256 of the protocol's canonical JSON.
    registered_utc
        When it was frozen (ISO 8601, UTC).
    trialkit_version
        The release that froze it.
    directory
        The registration directory.
    protocol
        The registered protocol itself.
    source_text
        The protocol's YAML as written (kept as ``protocol.yaml``; empty when read back).
    """

    protocol_hash: str
    registered_utc: str
    trialkit_version: str
    directory: Path
    protocol: Protocol
    source_text: str = ""

    @property
    def files(self) -> tuple[Path, ...]:
        """The files written by :func:`freeze`."""
        return tuple(self.directory / name for name in (FROZEN_PROTOCOL, FROZEN_YAML, RECORD))


def freeze(protocol: Protocol, out: str | Path, *, source_text: str | None = None) -> Registration:
    """Freeze the protocol for ``out``; :func:`commit` then writes it as a registration.

    Nothing is written here: :func:`commit` writes the frozen protocol, what belongs with
    it (the pre-analysis plan) and the record (``registration.json``, the file later
    commands trust) as one commit, the record last, so an interrupted registration leaves
    no record, is not accepted by ``analyse --registration``, and is undone by the next
    ``trialkit register`` into the directory.

    Parameters
    ----------
    protocol
        The validated protocol.
    out
        Registration directory; must not already hold a registration.
    source_text
        The protocol's YAML as written, kept beside the canonical JSON for readers.

    Raises
    ------
    OverwriteError
        If ``out`` already holds a registration.
    """
    directory = Path(out)
    check_destination(directory, directory=True, what="registration directory")
    ensure_absent(directory / RECORD, what="registration", fix=_NEW_DIRECTORY)
    registration = Registration(
        protocol_hash=protocol.content_hash(),
        registered_utc=utc_now(),
        trialkit_version=__version__,
        directory=directory,
        protocol=protocol,
        source_text=source_text or "",
    )
    return registration


def commit(
    registration: Registration,
    *,
    extra: Mapping[str, bytes] | None = None,
    then: Callable[[list[Path]], None] | None = None,
) -> Registration:
    """Write ``registration`` and ``extra`` files (name → bytes) beside it as one commit,
    the record last (:func:`trialkit._core.staging.commit`); read it back, checked.

    Files left by a registration interrupted before its record are no evidence, so they
    are replaced; a record written meanwhile is refused. ``then`` is called once the files
    are in place (the registry exports, the ledger entry); if it raises, the registration is
    undone (:func:`trialkit._core.staging.commit`) and its exception propagates.

    Raises
    ------
    OverwriteError
        If the directory already holds a registration.
    """
    directory = registration.directory
    ensure_absent(directory / RECORD, what="registration", fix=_NEW_DIRECTORY)
    protocol = registration.protocol
    record = {
        "protocol_id": protocol.identity.id,
        "protocol_version": protocol.identity.version,
        "protocol_hash": registration.protocol_hash,
        "registered_utc": registration.registered_utc,
        "trialkit_version": registration.trialkit_version,
        "seed": protocol.seed,
        "canonicalisation": "sorted keys, no whitespace, UTF-8, integral floats as integers",
    }
    files = {
        FROZEN_PROTOCOL: (protocol.canonical_json() + "\n").encode("utf-8"),
        FROZEN_YAML: registration.source_text.encode("utf-8"),
        **(extra or {}),
        RECORD: (json.dumps(record, indent=2) + "\n").encode("utf-8"),
    }
    try:
        staging.commit(directory, files, last=RECORD, force=True, what="registration", then=then)
    except OSError as exc:
        raise write_failed(
            exc, directory, what="registration", state="no registration was written"
        ) from None
    return load_registration(directory)


def load_registration(directory: str | Path) -> Registration:
    """Read a registration back, checking the frozen protocol still matches its hash.

    Raises
    ------
    RegistrationError
        When a file is missing, is not JSON, lacks a field, or the frozen protocol is not
        a valid protocol or no longer matches the registered hash; each names the file.
    """
    from pydantic import ValidationError

    from trialkit.protocol import Protocol

    directory = Path(directory)
    record = _json_object(directory, RECORD)
    fields = {
        key: record.get(key) for key in ("protocol_hash", "registered_utc", "trialkit_version")
    }
    for key, value in fields.items():
        if not isinstance(value, str) or not value:
            raise RegistrationError(
                f"{directory / RECORD}: field `{key}` is missing or not text; the record was "
                f"edited or cut short. {_RESTORE}"
            )
    try:
        protocol = Protocol.model_validate(_json_object(directory, FROZEN_PROTOCOL))
    except ValidationError as exc:
        raise RegistrationError(
            f"{directory / FROZEN_PROTOCOL}: not a valid protocol ({exc.error_count()} "
            f"problem(s), first at {'.'.join(map(str, exc.errors()[0]['loc']))}); the frozen "
            f"protocol was altered. {_RESTORE}"
        ) from None
    if protocol.content_hash() != fields["protocol_hash"]:
        raise RegistrationError(
            f"{directory / FROZEN_PROTOCOL}: does not match the registered "
            f"hash; the frozen protocol was altered. {_RESTORE}"
        )
    return Registration(
        protocol_hash=str(fields["protocol_hash"]),
        registered_utc=str(fields["registered_utc"]),
        trialkit_version=str(fields["trialkit_version"]),
        directory=directory,
        protocol=protocol,
    )


_RESTORE = (
    "Fix: restore the registration directory from a backup or version control "
    "(`trialkit verify` lists the recorded files that changed)."
)


def _json_object(directory: Path, name: str) -> dict[str, Any]:
    """A registration file's JSON object, or a located RegistrationError."""
    path = directory / name
    problem = not_regular(path)
    if problem is not None:
        if problem[0] == NOT_FOUND:
            raise RegistrationError(
                f"{directory}: no registration here ({name} missing). "
                "Fix: run `trialkit register` first."
            )
        raise RegistrationError(f"{path}: {problem[0]}. Fix: {problem[1]}")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        where = f", line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise RegistrationError(
            f"{path}{where}: not valid JSON; the file was cut short or edited. {_RESTORE}"
        ) from None
    if not isinstance(value, dict):
        raise RegistrationError(
            f"{path}: holds a JSON {type(value).__name__}, not an object; "
            f"the file was replaced. {_RESTORE}"
        )
    return value

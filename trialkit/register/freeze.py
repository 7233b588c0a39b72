"""Freeze a protocol: canonical JSON, its sha256 and the UTC time, written once.

The frozen protocol is the reference every later run is compared with; it is never
overwritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from trialkit import __version__
from trialkit._core.files import atomic_write, ensure_absent
from trialkit._core.provenance import utc_now
from trialkit.errors import RegistrationError

if TYPE_CHECKING:
    from trialkit.protocol import Protocol

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
    """

    protocol_hash: str
    registered_utc: str
    trialkit_version: str
    directory: Path
    protocol: Protocol

    @property
    def files(self) -> tuple[Path, ...]:
        """The files written by :func:`freeze`."""
        return tuple(self.directory / name for name in (FROZEN_PROTOCOL, FROZEN_YAML, RECORD))


def freeze(protocol: Protocol, out: str | Path, *, source_text: str | None = None) -> Registration:
    """Write the frozen protocol into the new directory ``out``.

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
    ensure_absent(directory / RECORD, what="registration",
                  fix="register into a new directory with --out; a registration is never "
                  "replaced, so that it keeps showing what was fixed before the data came.")
    record = {
        "protocol_id": protocol.identity.id,
        "protocol_version": protocol.identity.version,
        "protocol_hash": protocol.content_hash(),
        "registered_utc": utc_now(),
        "trialkit_version": __version__,
        "seed": protocol.seed,
        "canonicalisation": "sorted keys, no whitespace, UTF-8, integral floats as integers",
    }
    frozen = protocol.canonical_json() + "\n"
    atomic_write(directory / FROZEN_PROTOCOL, frozen, what="frozen protocol")
    atomic_write(directory / FROZEN_YAML, source_text or "", what="registered protocol YAML")
    atomic_write(directory / RECORD, json.dumps(record, indent=2) + "\n", what="registration")
    return load_registration(directory)


def load_registration(directory: str | Path) -> Registration:
    """Read a registration back, checking the frozen protocol still matches its hash."""
    directory = Path(directory)
    try:
        record = json.loads((directory / RECORD).read_text(encoding="utf-8"))
        frozen = (directory / FROZEN_PROTOCOL).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise RegistrationError(
            f"{directory}: no registration here ({Path(exc.filename).name} "
            "missing). Fix: run `trialkit register` first."
        ) from None
    from trialkit.protocol import Protocol

    protocol = Protocol.model_validate(json.loads(frozen))
    if protocol.content_hash() != record["protocol_hash"]:
        raise RegistrationError(
            f"{directory / FROZEN_PROTOCOL}: does not match the registered "
            "hash; the frozen protocol was altered."
        )
    return Registration(
        protocol_hash=record["protocol_hash"],
        registered_utc=record["registered_utc"],
        trialkit_version=record["trialkit_version"],
        directory=directory,
        protocol=protocol,
    )

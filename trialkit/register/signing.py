"""Ed25519 signatures on ledger entries, with a key the evaluator holds.

A hash chain alone shows that entries were not edited *in place*; anyone who can write
the ledger can still append an entry with any actor, time and reason, or rewrite the whole
chain with fresh hashes. A signature over each entry's hash, made with a private key only
the evaluator holds, closes both: an entry forged or rehashed without that key fails
:func:`signature_problems` for anyone holding the public key.

Entries are signed when the environment variable :data:`SIGNING_KEY_ENV` names a private
key file (made by ``trialkit key new``); every command that writes the ledger reads it.
The signed entry records ``signed_by`` (the key's fingerprint, inside the hash) and
``signature`` (outside it), so unsigned ledgers keep their hashes and still verify.

:mod:`cryptography` is imported only here, and only when a key is made, loaded or checked.
"""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from trialkit._core.destinations import check_destinations, write_failed
from trialkit._core.staging import commit
from trialkit.errors import RegistrationError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

    from trialkit.register.ledger import LedgerEntry

#: The environment variable naming the private key file that signs new ledger entries.
SIGNING_KEY_ENV = "TRIALKIT_SIGNING_KEY"
#: What is signed: this prefix, then the entry's hash (so a signature means nothing elsewhere).
_CONTEXT = b"trialkit ledger entry v1\n"
_MAKE_KEY = "`trialkit key new --out evaluator.pem`"


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A loaded private key and the fingerprint recorded as ``signed_by``."""

    path: Path
    private: Ed25519PrivateKey
    fingerprint: str

    def sign(self, entry_hash: str) -> str:
        """The base64 signature of an entry's hash."""
        return base64.b64encode(self.private.sign(_CONTEXT + entry_hash.encode())).decode()


@dataclass(frozen=True, slots=True)
class NewKey:
    """What ``trialkit key new`` wrote."""

    private: Path
    public: Path
    fingerprint: str


def fingerprint(public: Ed25519PublicKey) -> str:
    """Hex sha256 of the raw 32-byte public key: what entries record as ``signed_by``."""
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def new_key(out: Path, public_out: Path | None = None) -> NewKey:
    """Make an Ed25519 key pair: the private key readable by its owner only (0600).

    The public key goes to ``public_out`` (default: ``out`` with the suffix ``.pub``).

    Raises
    ------
    RegistrationError
        If either file already exists (a key is never overwritten).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public_path = public_out if public_out is not None else out.with_suffix(".pub")
    check_destinations([(out, "private key"), (public_path, "public key")])
    for path in (out, public_path):
        if path.exists() or path.is_symlink():
            raise RegistrationError(
                f"{path}: already exists; a key is never overwritten. "
                "Fix: give another path with `trialkit key new --out`."
            )
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    keys = {out: (pem, 0o600), public_path: (public, 0o644)}
    written: list[Path] = []
    try:  # one commit when both lie in one directory (the default), the private key last
        for directory in dict.fromkeys(p.parent for p in (public_path, out)):
            mine = {p.name: data for p, (data, _) in keys.items() if p.parent == directory}
            written += commit(
                directory,
                mine,
                last=out.name if out.parent == directory else public_path.name,
                what="signing key",
                modes={p.name: mode for p, (_, mode) in keys.items() if p.parent == directory},
            )
    except OSError as exc:
        for path in written:  # the other directory's half of the pair: made just now
            path.unlink(missing_ok=True)
        raise write_failed(exc, out, what="signing key", state="no key was written") from None
    return NewKey(private=out, public=public_path, fingerprint=fingerprint(private.public_key()))


def _read_key_file(path: Path, what: str) -> bytes:
    if not path.is_file():
        raise RegistrationError(
            f"{path}: no {what} key file here. Fix: give the file {_MAKE_KEY} wrote."
        )
    return path.read_bytes()


def load_private(path: Path) -> SigningKey:
    """The private key in ``path``; refuse one others can read, or one that is not Ed25519.

    Raises
    ------
    RegistrationError
        If the file is missing, readable by group or others (POSIX), or not an Ed25519
        private key in PEM.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    data = _read_key_file(path, "private")
    if sys.platform != "win32" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise RegistrationError(
            f"{path}: the private key can be read by others "
            f"(mode {stat.S_IMODE(path.stat().st_mode):o}). "
            f"Fix: run `chmod 600 {path}`, or make a new one with {_MAKE_KEY}."
        )
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise RegistrationError(
            f"{path}: not an Ed25519 private key in PEM (as set in "
            f"{SIGNING_KEY_ENV}). Fix: point {SIGNING_KEY_ENV} at the "
            f"private key {_MAKE_KEY} wrote."
        )
    return SigningKey(path=path, private=key, fingerprint=fingerprint(key.public_key()))


def load_public(path: Path) -> Ed25519PublicKey:
    """The public key in ``path``.

    Raises
    ------
    RegistrationError
        If the file is missing or not an Ed25519 public key in PEM.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    data = _read_key_file(path, "public")
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise RegistrationError(
            f"{path}: not an Ed25519 public key in PEM. Fix: give "
            f"`trialkit verify --public-key` the .pub file {_MAKE_KEY} wrote."
        )
    return key


def key_from_env() -> SigningKey | None:
    """The key named by :data:`SIGNING_KEY_ENV`, or ``None`` when it is unset or empty."""
    value = os.environ.get(SIGNING_KEY_ENV, "")
    return load_private(Path(value)) if value else None


def signature_problems(entries: Sequence[LedgerEntry], public: Ed25519PublicKey) -> list[str]:
    """One line per entry that is unsigned, signed by another key, or whose signature fails."""
    from cryptography.exceptions import InvalidSignature

    expected = fingerprint(public)
    problems: list[str] = []
    for entry in entries:
        name = f"entry {entry.seq} ({entry.action})"
        if not entry.signature:
            problems.append(
                f"{name}: not signed, so anyone who can write the ledger could "
                "have added or rewritten it."
            )
            continue
        if entry.signed_by != expected:
            problems.append(
                f"{name}: signed by another key ({entry.signed_by[:16]}…, not {expected[:16]}…)."
            )
            continue
        try:
            public.verify(
                base64.b64decode(entry.signature, validate=True), _CONTEXT + entry.hash.encode()
            )
        except (InvalidSignature, ValueError):
            problems.append(
                f"{name}: signature does not verify: the entry was forged, or "
                "rewritten after it was signed."
            )
    return problems

"""Atomic file writes and refusal to overwrite.

A half-written allocation or registration is worse than none: every output is written to a
temporary file in the same directory and moved into place with :func:`os.replace`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from trialkit._core.staging import commit
from trialkit.errors import OverwriteError

_REPLACE = (
    "choose another path, move the old one away, or pass --force if you really mean to replace it."
)


def ensure_absent(
    path: str | os.PathLike[str], *, force: bool = False, what: str = "file", fix: str = _REPLACE
) -> None:
    """Raise :class:`OverwriteError` if ``path`` exists and ``force`` is false.

    ``fix`` ends the message; callers whose command has no ``--force`` give their own.
    """
    p = Path(path)
    if p.exists() and not force:
        raise OverwriteError(f"{p}: refusing to overwrite the existing {what}. Fix: {fix}")


def atomic_write(
    path: str | os.PathLike[str],
    data: bytes | str,
    *,
    force: bool = False,
    what: str = "file",
    mode: int | None = None,
    then: Callable[[list[Path]], None] | None = None,
) -> Path:
    """Write ``data`` to ``path`` atomically; refuse to overwrite unless ``force``.

    One file committed by :func:`trialkit._core.staging.commit`: staged and fsynced in the
    same directory, then renamed into place, so a crash leaves the old file or the new one.

    Parameters
    ----------
    path
        Destination. Its directory is created if missing.
    data
        Bytes, or text encoded as UTF-8 with ``\\n`` line endings.
    force
        Replace an existing file.
    what
        Name of the thing written, used in the refusal message.
    mode
        The new file's permissions (default: 0o666 less the umask).
    then
        Called once the file is in place; if it raises, the previous file is put back
        (:func:`trialkit._core.staging.commit`).

    Returns
    -------
    Path
        The path written.
    """
    p = Path(path)
    ensure_absent(p, force=force, what=what)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    modes = {p.name: mode} if mode is not None else None
    commit(p.parent, {p.name: payload}, last=p.name, force=force, what=what, modes=modes, then=then)
    return p


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

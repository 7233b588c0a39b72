"""Atomic file writes and refusal to overwrite.

A half-written allocation or registration is worse than none: every output is written to a
temporary file in the same directory and moved into place with :func:`os.replace`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

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
) -> Path:
    """Write ``data`` to ``path`` atomically; refuse to overwrite unless ``force``.

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

    Returns
    -------
    Path
        The path written.
    """
    p = Path(path)
    ensure_absent(p, force=force, what=what)
    p.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        if not force and p.exists():  # raced with another writer
            raise OverwriteError(f"{p}: appeared while writing; refusing to overwrite.")
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return p


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()

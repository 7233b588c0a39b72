"""Where trialkit agrees to write: checked before any work starts.

A command that runs for minutes should not discover at the end that its output path is a
file where a directory was meant, lies in a directory it cannot write, or is one of its own
inputs. :func:`check_destination` refuses those up front; :func:`write_failed` turns an
``OSError`` met while writing (a full disk, a permission) into a located error.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

from trialkit.errors import TrialkitError


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path.cwd()


def _same(a: Path, b: Path) -> bool:
    return os.path.abspath(a.resolve()) == os.path.abspath(b.resolve())


PathLike = str | os.PathLike[str]


def check_destination(
    path: PathLike,
    *,
    inputs: Iterable[PathLike] = (),
    directory: bool = False,
    what: str = "output",
) -> None:
    """Refuse an output path that the write would fail on or that would destroy an input.

    Parameters
    ----------
    path
        The file (or, with ``directory``, the directory) to be written.
    inputs
        The files the command reads; none may be the output.
    directory
        ``path`` is a directory to create or fill, not a file.
    what
        The output's name in messages.

    Raises
    ------
    TrialkitError
        If ``path`` is an input, is a directory where a file is meant (or a file where a
        directory is meant), or its nearest existing directory cannot be written.
    """
    p = Path(path)
    for source in inputs:
        if Path(source).exists() and p.exists() and _same(p, Path(source)):
            raise TrialkitError(
                f"{p}: the {what} would overwrite one of this command's "
                "inputs. Fix: choose another output path (--out)."
            )
    if directory and p.exists() and not p.is_dir():
        raise TrialkitError(
            f"{p}: is a file, but the {what} is a directory. Fix: give --out "
            "a directory name (created if missing), or move the file away."
        )
    if not directory and p.is_dir():
        raise TrialkitError(
            f"{p}: is a directory, but the {what} is a file. Fix: give --out "
            "a file name, e.g. inside that directory."
        )
    parent = _nearest_existing(p if directory else p.parent)
    if not parent.is_dir():
        raise TrialkitError(
            f"{p}: {parent} is a file, not a directory, so the {what} cannot "
            "be written there. Fix: choose another output path (--out)."
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise TrialkitError(
            f"{p}: cannot write the {what}: the directory {parent} is not "
            "writable. Fix: choose a directory you can write (--out), or "
            "change its permissions."
        )


def write_failed(
    exc: OSError,
    path: PathLike,
    *,
    what: str,
    state: str = "nothing was written",
    option: str = "--out",
) -> TrialkitError:
    """The located error for an ``OSError`` met while writing ``path`` (full disk, permission).

    Examples
    --------
    >>> import errno
    >>> str(write_failed(OSError(errno.ENOSPC, "No space left on device"), "results",
    ...                  what="results"))  # doctest: +NORMALIZE_WHITESPACE
    'results: cannot write the results: no space left on the device (ENOSPC); nothing was
    written. Fix: free some space, or choose another path (--out), and run the command again.'
    """
    name = errno.errorcode.get(exc.errno or 0, "")
    reason = {
        errno.ENOSPC: "no space left on the device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.EROFS: "read-only file system",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    code = f" ({name})" if name else ""
    free = "free some space, or " if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
    return TrialkitError(
        f"{path}: cannot write the {what}: {reason}{code}; {state}. Fix: "
        f"{free}choose another path ({option}), and run the command again."
    )

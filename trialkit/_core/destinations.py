"""Where trialkit agrees to write: checked before any work starts.

A command that runs for minutes should not discover at the end that its output path is a
file where a directory was meant, lies in a directory it cannot write, or is one of its own
inputs. :func:`check_destination` (one output) and :func:`check_destinations` (several,
none the same file) refuse those up front; :func:`write_failed` turns an ``OSError`` met
while writing (a full disk, a permission) into a located error, and :func:`os_error` one
that no command anticipated. The writing itself is :mod:`trialkit._core.staging`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from trialkit.errors import TrialkitError


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path.cwd()


def _same(a: Path, b: Path) -> bool:
    """Whether two existing paths are one file (the same path, a link to it, a hard link)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a.resolve()) == os.path.abspath(b.resolve())


PathLike = str | os.PathLike[str]

#: What each errno means for a directory trialkit tried to create a file in.
_NOT_WRITABLE = {
    errno.EACCES: "is not writable",
    errno.EPERM: "is not writable",
    errno.EROFS: "is on a read-only file system",
    errno.ENOSPC: "has no space left (ENOSPC)",
    errno.EDQUOT: "is over its disk quota (EDQUOT)",
}


def probe_writable(directory: Path) -> OSError | None:
    """Create and remove a file in ``directory``: the error met, or None when it can be written.

    ``os.access`` is not enough: it says yes to root on a read-only mount or in a directory
    whose attributes forbid new files, and it knows nothing of a full disk.
    """
    try:
        fd, name = tempfile.mkstemp(dir=directory, prefix=".trialkit-probe-")
    except OSError as exc:
        return exc
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)
    return None


def _check_link(p: Path, what: str) -> None:
    """Refuse an output that is a symbolic link leaving the directory it lies in.

    A link is never written through (the file replaces the link itself), so a link that
    points elsewhere would leave its target unchanged while the user thinks it was written.
    """
    if not p.is_symlink():
        return
    home = p.absolute().parent.resolve()
    target = p.resolve()
    if target != home and home not in target.parents:
        raise TrialkitError(
            f"{p}: is a symbolic link to {target}, outside {home}; trialkit does not write "
            f"the {what} through a link that leaves its directory. Fix: give the real path "
            "with --out, or remove the link."
        )


def check_destination(
    path: PathLike,
    *,
    inputs: Iterable[PathLike] = (),
    directory: bool = False,
    what: str = "output",
) -> None:
    """Refuse an output path that the write would fail on or that would destroy an input.

    Checked before any work starts: the output is not an input (the same file by any
    name: a link, a hard link), not a directory where a file is meant (nor a file where
    a directory is meant), not a device, pipe or socket, not a symbolic link leaving the
    directory it lies in (links to elsewhere inside it are replaced by the file, never
    written through; links in the parent directories are followed), and its nearest
    existing directory accepts a new file (probed by creating and removing one).

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
        If ``path`` is an input, a directory where a file is meant (or a file where a
        directory is meant), a device, a link leaving its directory, or its nearest
        existing directory cannot be written.
    """
    p = Path(path)
    for source in inputs:
        if Path(source).exists() and p.exists() and _same(p, Path(source)):
            raise TrialkitError(
                f"{p}: the {what} would overwrite one of this command's "
                "inputs. Fix: choose another output path (--out)."
            )
    _check_link(p, what)
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
    if p.exists() and not p.is_dir() and not stat.S_ISREG(p.stat().st_mode):
        raise TrialkitError(
            f"{p}: is a device, pipe or socket, not a file; trialkit writes the {what} "
            "only to regular files. Fix: give the path of a file (--out)."
        )
    parent = _nearest_existing(p if directory else p.parent)
    if not parent.is_dir():
        raise TrialkitError(
            f"{p}: {parent} is a file, not a directory, so the {what} cannot "
            "be written there. Fix: choose another output path (--out)."
        )
    failed = probe_writable(parent)
    if failed is not None:
        reason = _NOT_WRITABLE.get(failed.errno or 0, f"cannot be written ({failed.strerror})")
        raise TrialkitError(
            f"{p}: cannot write the {what}: the directory {parent} {reason}. Fix: choose "
            "a directory you can write (--out), or change its permissions."
        )


def check_destinations(
    outputs: Mapping[Path, str] | Iterable[tuple[Path, str]],
    *,
    inputs: Iterable[PathLike] = (),
    option: str = "--out",
) -> None:
    """:func:`check_destination` for each output (path → name, or pairs when two outputs
    may be given the same path), and no two the same file.

    Raises
    ------
    TrialkitError
        If two outputs are one path, or any output is refused by :func:`check_destination`.
    """
    pairs = list(outputs.items()) if isinstance(outputs, Mapping) else list(outputs)
    seen: dict[str, str] = {}
    for path, what in pairs:
        key = os.path.normcase(os.path.abspath(path.parent.resolve() / path.name))
        if key in seen:
            raise TrialkitError(
                f"{path}: both the {seen[key]} and the {what} would be written here, one "
                f"over the other. Fix: give each its own path ({option})."
            )
        seen[key] = what
    sources = list(inputs)
    for path, what in pairs:
        check_destination(path, inputs=sources, what=what)


def os_error(exc: OSError) -> TrialkitError:
    """The located error for an ``OSError`` no command anticipated (a disk filling up
    between the checks and the write, a permission changed meanwhile).

    Examples
    --------
    >>> import errno
    >>> str(os_error(OSError(errno.EACCES, "Permission denied", "out/a.csv")))[:40]
    'out/a.csv: permission denied (EACCES). F'
    """
    name = errno.errorcode.get(exc.errno or 0, "")
    where = exc.filename if exc.filename is not None else "trialkit"
    code = f" ({name})" if name else ""
    return TrialkitError(
        f"{where}: {_REASONS.get(exc.errno or 0, exc.strerror or str(exc))}{code}. Fix: check "
        "the path, its permissions and the free space, and run the command again."
    )


_REASONS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
}


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
    reason = _REASONS.get(exc.errno or 0, exc.strerror or str(exc))
    code = f" ({name})" if name else ""
    free = "free some space, or " if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
    return TrialkitError(
        f"{path}: cannot write the {what}: {reason}{code}; {state}. Fix: "
        f"{free}choose another path ({option}), and run the command again."
    )

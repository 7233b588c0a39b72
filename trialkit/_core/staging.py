"""Commit files into a directory as one change: staged, fsynced, the trusted file last.

Every command that writes goes through :func:`commit`. The new files are first written and
fsynced in a staging folder inside the destination directory (``.trialkit-commit-*``: same
file system, so every move is an atomic rename), with a journal naming what goes where.
Under an exclusive lock on the directory, the previous files move out to the staging folder
(the trusted one first: ``results.json``, an allocation's metadata), the new files move in
(the trusted one last), and files of an earlier run that this one does not write are moved
out with the rest and dropped, in the same commit.

What a crash leaves:

- killed while staging: the destination is as it was; the staging folder has no journal;
- killed during the moves: the trusted file is absent (it is moved out first and in last),
  so no later command reads a mixture; the journal says how to undo it;
- killed after the last move: the new files are complete.

The next commit into the same directory (any command writing there) first recovers what it
finds: an unfinished move is undone (the previous files restored), a finished one has its
staging folder removed, and a staging folder without a journal is deleted; each is said on
stderr (through :mod:`logging`). :func:`recover` does the same on its own.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath

from trialkit.errors import OverwriteError

PREFIX = ".trialkit-commit-"
JOURNAL = "journal.json"
_log = logging.getLogger("trialkit")


def commit(
    root: str | os.PathLike[str],
    files: Mapping[str, bytes],
    *,
    last: str,
    remove: Sequence[str] = (),
    force: bool = False,
    what: str = "output",
    modes: Mapping[str, int] | None = None,
    then: Callable[[list[Path]], None] | None = None,
) -> list[Path]:
    """Write ``files`` (relative path → bytes) into ``root`` as one change, ``last`` last.

    Parameters
    ----------
    root
        The destination directory; created when missing.
    files
        The new files, by path relative to ``root`` (``data/team.csv`` is allowed).
    last
        The file later commands trust; it is moved out first and in last.
    remove
        Files of an earlier run this one does not write; removed in the same commit.
    force
        Replace existing files (refused otherwise with :class:`OverwriteError`).
    what
        The output's name in messages.
    modes
        Permissions of new files (default: 0o666 less the umask).
    then
        Called with the files written once they are in place, before the previous ones
        are dropped: if it raises (the ledger entry recording them could not be written),
        the previous files are put back and its exception propagates. A process killed
        during it leaves the new files (the next recovery finishes the commit).

    Returns
    -------
    list[Path]
        The files written, ``last`` first.

    Raises
    ------
    OverwriteError
        If a file exists and ``force`` is false.
    OSError
        If a file cannot be staged or moved (full disk, permission); ``root`` is then as
        it was.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> [p.name for p in commit(d, {"a.csv": b"x\\n", "a.json": b"{}"}, last="a.json")]
    ['a.json', 'a.csv']
    >>> sorted(p.name for p in d.iterdir())
    ['a.csv', 'a.json']
    """
    if last not in files:
        raise ValueError(f"{last!r}, the file to commit last, is not among the files")
    names = [*(n for n in files if n != last), last, *(n for n in remove if n not in files)]
    directory = Path(root)
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    if created:  # the new directory's own entry, so its files are not lost with it
        with contextlib.suppress(OSError):
            _fsync_dir(directory.parent)
    try:
        with _locked(directory):
            return _commit(
                directory, files, names, last=last, force=force, what=what, modes=modes, then=then
            )
    except BaseException:
        if created:  # leave no empty directory behind either
            with contextlib.suppress(OSError):
                directory.rmdir()
        raise


def _commit(
    directory: Path,
    files: Mapping[str, bytes],
    names: list[str],
    *,
    last: str,
    force: bool,
    what: str,
    modes: Mapping[str, int] | None,
    then: Callable[[list[Path]], None] | None,
) -> list[Path]:
    recover(directory, locked=True)
    if not force:
        for name in files:
            if os.path.lexists(directory / name):
                raise OverwriteError(
                    f"{directory / name}: exists; refusing to overwrite the {what}. "
                    "Fix: choose another path, or pass --force to replace it."
                )
    staging = Path(tempfile.mkdtemp(dir=directory, prefix=PREFIX))
    try:
        _stage(staging, directory, files, modes or {})
        _write_journal(staging, names, sorted(files), last, what)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        _swap(directory, staging, names, set(files))
    except OSError:
        _undo(directory, staging)
        raise
    with contextlib.suppress(OSError):  # the moves are done; only EIO could fail here
        _fsync_tree(directory, names)
    written = [directory / last, *(directory / n for n in names if n in files and n != last)]
    if then is not None:
        try:
            then(written)
        except BaseException:
            _undo(directory, staging)
            raise
    _discard(staging)
    return written


def recover(root: str | os.PathLike[str], *, locked: bool = False) -> list[str]:
    """Finish or undo every interrupted commit in ``root``; say what was done.

    Returns
    -------
    list[str]
        One message per staging folder found (also logged as warnings).
    """
    directory = Path(root)
    if not directory.is_dir():
        return []
    left = sorted(p for p in directory.glob(f"{PREFIX}*") if p.is_dir() and not p.is_symlink())
    if not left:
        return []
    if not locked:
        with _locked(directory):
            return recover(directory, locked=True)
    said = [_recover_one(directory, staging) for staging in left]
    for message in said:
        _log.warning("note: %s", message)
    return said


def _recover_one(directory: Path, staging: Path) -> str:
    journal = _read_journal(staging)
    if journal is None:
        shutil.rmtree(staging, ignore_errors=True)
        return (
            f"{staging}: removed the staging folder of a run interrupted before it changed "
            f"anything in {directory}."
        )
    what = journal[3]
    if not _pending(staging):
        _discard(staging)
        return (
            f"{staging}: a run interrupted after writing the {what} had moved every new file "
            f"into {directory}; removed its staging folder."
        )
    _undo(directory, staging)
    return (
        f"{staging}: a run was interrupted while moving the new {what} into {directory}; "
        "its moves were undone and the previous files restored."
    )


def _pending(staging: Path) -> bool:
    try:
        return any((staging / "new").iterdir())
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``directory``: none on Windows, nor where the
    directory cannot be opened for reading or its file system has no locks (some network
    mounts), where two trialkit commands writing one directory at once are not kept apart."""
    if sys.platform == "win32":
        yield
        return
    import fcntl

    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
        except OSError as exc:
            if exc.errno not in (errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP):
                raise
        yield
    finally:
        os.close(fd)  # releases the lock


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _stage(
    staging: Path, directory: Path, files: Mapping[str, bytes], modes: Mapping[str, int]
) -> None:
    (staging / "new").mkdir()
    (staging / "old").mkdir()
    default = 0o666 & ~_umask()
    for index, name in enumerate(sorted(files)):
        _check_relative(name)
        path = staging / "new" / str(index)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        try:
            os.chmod(path, modes.get(name, default))  # 0600 until then: a key is never readable
            view = memoryview(files[name])
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
    _fsync_dir(staging / "new")


def _check_relative(name: str) -> None:
    parts = PurePosixPath(name).parts
    if not parts or PurePosixPath(name).is_absolute() or ".." in parts:
        raise ValueError(f"{name!r}: not a path inside the destination directory")


def _write_journal(staging: Path, names: list[str], new: list[str], last: str, what: str) -> None:
    """The commit point of staging: with a journal, a recovery knows what to undo."""
    text = json.dumps({"names": names, "new": new, "last": last, "what": what})
    tmp = staging / (JOURNAL + ".tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, staging / JOURNAL)
    _fsync_dir(staging)


def _read_journal(staging: Path) -> tuple[list[str], list[str], str, str] | None:
    """The journal's names, new files, trusted file and output name; None if unreadable."""
    try:
        journal = json.loads((staging / JOURNAL).read_text(encoding="utf-8"))
        names = [str(n) for n in journal["names"]]
        new = [str(n) for n in journal["new"]]
        return names, new, str(journal["last"]), str(journal["what"])
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _swap(directory: Path, staging: Path, names: list[str], new: set[str]) -> None:
    """Move the previous files out (``last`` first), then the new ones in (``last`` last)."""
    order = sorted(new)
    last = names[len(new) - 1]
    out = [last, *(n for n in names if n != last)]
    for name in out:
        if os.path.lexists(directory / name):
            os.replace(directory / name, staging / "old" / str(names.index(name)))
    for name in names[: len(new)]:
        os.replace(staging / "new" / str(order.index(name)), directory / name)


def _undo(directory: Path, staging: Path) -> None:
    """Put the previous files back: remove those moved in, restore those moved out."""
    journal = _read_journal(staging)
    if journal is None:  # nothing was moved before the journal existed
        shutil.rmtree(staging, ignore_errors=True)
        return
    names, order, last, _ = journal
    # Moved back (not deleted), so an undo interrupted in turn can be undone again: a name
    # whose new file is staged is never touched, whatever the destination holds.
    for index, name in enumerate(order):
        if not (staging / "new" / str(index)).exists():  # moved in: the new file
            with contextlib.suppress(FileNotFoundError):
                os.replace(directory / name, staging / "new" / str(index))
    back = [*(n for n in names if n != last), last]  # the trusted file back last
    for name in back:
        saved = staging / "old" / str(names.index(name))
        if os.path.lexists(saved):
            os.replace(saved, directory / name)
    _fsync_tree(directory, names)
    _discard(staging)


def _discard(staging: Path) -> None:
    """Remove a staging folder, its journal first (a half-removed folder has nothing to undo)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(staging / JOURNAL)
    shutil.rmtree(staging, ignore_errors=True)


def _fsync_dir(directory: Path) -> None:
    if sys.platform == "win32":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(directory: Path, names: list[str]) -> None:
    """fsync ``directory`` and each subdirectory a name lies in, so the renames are on disk."""
    for folder in {directory, *((directory / n).parent for n in names)}:
        with contextlib.suppress(FileNotFoundError):
            _fsync_dir(folder)

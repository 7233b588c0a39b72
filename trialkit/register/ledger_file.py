"""The ledger file itself: locked, fsynced, never through a symbolic link.

Every read and append holds an advisory lock on the ledger (``fcntl.flock``: shared to
read, exclusive to append), so concurrent ``trialkit`` processes take turns and never
give two entries the same sequence number or predecessor. The lock is POSIX only: on
Windows, where :mod:`fcntl` does not exist, no lock is taken and concurrent appends are
not protected.

An append writes its whole line, newline last, then fsyncs; a crash mid-way can only
leave a final line without its newline. That shape, and only that shape, is a
:class:`TornLine`: an interrupted write, not tampering.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from trialkit.errors import Location, RegistrationError

#: The command that removes a torn final line (and records that it did).
REPAIR_COMMAND = "trialkit ledger repair"


@dataclass(frozen=True, slots=True)
class TornLine:
    """An incomplete final line: bytes after the last newline, left by an interrupted write.

    Attributes
    ----------
    line
        Its line number in the ledger (from 1).
    offset
        The byte offset where it starts; the ledger's complete part ends there.
    data
        Its bytes.
    """

    line: int
    offset: int
    data: bytes

    @property
    def sha256(self) -> str:
        """Hex sha256 of the incomplete line's bytes."""
        return hashlib.sha256(self.data).hexdigest()

    def describe(self, ledger: Path) -> str:
        """What happened and how to fix it, located."""
        where = Location(file=str(ledger), line=self.line)
        return (
            f"{where}: the last entry is incomplete ({len(self.data)} bytes without a final "
            "newline): a write to the ledger was interrupted (a crash, a kill or a full disk); "
            f"this is not tampering. Fix: run `{REPAIR_COMMAND} {ledger}`, which removes the "
            "incomplete line and records the repair, then re-run the interrupted command."
        )


@dataclass(frozen=True, slots=True)
class RawLedger:
    """A ledger's bytes split into complete lines (without newlines) and a torn tail."""

    lines: tuple[bytes, ...]
    torn: TornLine | None


_GIVE_LEDGER = (
    "give the ledger.jsonl file itself (with --ledger, or as the argument of `trialkit verify`)."
)


def _refuse(ledger: Path, why: str, fix: str) -> RegistrationError:
    return RegistrationError(f"{ledger}: {why}. Fix: {fix}")


def _open(ledger: Path, *, write: bool) -> int:
    if ledger.is_symlink():
        raise _refuse(
            ledger,
            f"the ledger is a symbolic link (to {os.readlink(ledger)}); "
            "trialkit does not follow it",
            _GIVE_LEDGER,
        )
    flags = (os.O_RDWR | os.O_APPEND | os.O_CREAT) if write else os.O_RDONLY
    flags |= getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(ledger, flags, 0o666)
    except FileNotFoundError:
        raise _refuse(
            ledger,
            "no ledger here",
            "give the pilot's ledger.jsonl (with "
            "--ledger, or as the argument of `trialkit verify`), or run "
            "`trialkit register` first to start one.",
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # became a link after the check above
            raise _refuse(
                ledger, "the ledger is a symbolic link; trialkit does not follow it", _GIVE_LEDGER
            ) from None
        raise _refuse(
            ledger,
            f"cannot open the ledger ({exc.strerror})",
            "check the path and its permissions.",
        ) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _refuse(ledger, "not a regular file", _GIVE_LEDGER)
    return fd


def _lock(fd: int, *, exclusive: bool) -> None:
    if sys.platform != "win32":  # no advisory lock on Windows (see the module docstring)
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)


@contextmanager
def opened(ledger: Path, *, write: bool) -> Iterator[int]:
    """The ledger's file descriptor, locked (exclusive if ``write``) until the block ends.

    With ``write`` the ledger is created when absent (its directory too).

    Raises
    ------
    RegistrationError
        If the ledger is a symbolic link, not a regular file, cannot be opened, or (when
        reading) does not exist.
    """
    created = False
    if write:
        ledger.parent.mkdir(parents=True, exist_ok=True)
        created = not ledger.exists() and not ledger.is_symlink()
    fd = _open(ledger, write=write)
    try:
        _lock(fd, exclusive=write)
        if created:
            _fsync_directory(ledger.parent)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def _fsync_directory(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows: directories cannot be opened
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_raw(fd: int) -> RawLedger:
    """Split the whole file into complete lines and, if any, the torn final line."""
    os.lseek(fd, 0, os.SEEK_SET)  # appends still go to the end (O_APPEND)
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    data = b"".join(chunks)
    cut = data.rfind(b"\n") + 1  # 0 when there is no newline at all
    lines = tuple(data[:cut].split(b"\n")[:-1]) if cut else ()
    torn = TornLine(line=len(lines) + 1, offset=cut, data=data[cut:]) if cut < len(data) else None
    return RawLedger(lines=lines, torn=torn)


def append_line(fd: int, line: bytes, *, ledger: Path) -> None:
    """Write ``line`` (ending in a newline) at the end of the file, then fsync.

    If the write fails (a full disk, a quota), the file is cut back to its previous size,
    so the failure leaves no incomplete line behind.

    Raises
    ------
    RegistrationError
        If the line cannot be written; the message names the reason.
    """
    size = os.fstat(fd).st_size
    view = memoryview(line)
    try:
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError as exc:
        try:
            truncate(fd, size)
            kept = "the ledger is left as it was"
        except OSError:
            kept = "the ledger may now end in an incomplete line"
        raise _refuse(
            ledger,
            f"cannot append to the ledger ({exc.strerror}); {kept}",
            "free disk space or fix the permissions, then re-run the command; "
            f"if `trialkit verify` reports an incomplete entry, run "
            f"`{REPAIR_COMMAND} {ledger}` first.",
        ) from None


def truncate(fd: int, size: int) -> None:
    """Cut the file to ``size`` bytes and fsync."""
    os.ftruncate(fd, size)
    os.fsync(fd)

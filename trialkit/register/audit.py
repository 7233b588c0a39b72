"""Audit a ledger, telling a crash from tampering; repair only what a crash left.

:func:`audit` checks the chain and every file it names, and reports the head hash and the
number of entries, which a user can anchor elsewhere. An incomplete last line (an
interrupted write) is reported apart from alterations. :func:`repair` removes that line,
and only that line, and appends a ``repair`` entry recording its length and sha256; an
altered entry or a broken chain is evidence and is never repaired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trialkit._core.files import sha256_file
from trialkit._core.hashing import canonical_json, sha256_text
from trialkit.errors import RegistrationError
from trialkit.register.ledger import GENESIS, LedgerEntry, append_locked, parse_lines
from trialkit.register.ledger_file import TornLine, opened, read_raw, truncate


@dataclass(frozen=True, slots=True)
class LedgerCheck:
    """What :func:`audit` found.

    Attributes
    ----------
    ledger
        The ledger checked.
    count
        How many complete entries it holds.
    head
        The hash of the last complete entry (:data:`GENESIS` when there is none). Record
        it with ``count`` somewhere else (an email, a registry, a git commit): a ledger
        later truncated or rewritten no longer ends in it.
    problems
        Alterations: edited entries, a broken chain, missing or changed files.
    torn
        An incomplete last line left by an interrupted write, or ``None``.
    """

    ledger: Path
    count: int
    head: str
    problems: tuple[str, ...]
    torn: TornLine | None

    @property
    def intact(self) -> bool:
        """True when nothing is altered and no write was interrupted."""
        return not self.problems and self.torn is None


def chain_problems(entries: Sequence[LedgerEntry]) -> list[str]:
    """One line per entry whose hash or link to its predecessor does not hold."""
    problems: list[str] = []
    previous = GENESIS
    for entry in entries:
        if entry.previous != previous:
            problems.append(
                f"entry {entry.seq} ({entry.action}): chain broken; an earlier "
                "entry was altered or removed."
            )
        if sha256_text(canonical_json(entry.body())) != entry.hash:
            problems.append(f"entry {entry.seq} ({entry.action}): entry altered after writing.")
        previous = entry.hash
    return problems


def _file_problems(ledger: Path, entries: Sequence[LedgerEntry]) -> list[str]:
    problems: list[str] = []
    latest: dict[str, tuple[str, LedgerEntry]] = {}
    for entry in entries:
        for name, digest in {**entry.inputs, **entry.outputs}.items():
            if name not in latest or latest[name][0] != digest:
                latest[name] = (digest, entry)  # the entry that first recorded this content
    for name, (digest, entry) in sorted(latest.items()):
        path = Path(name) if Path(name).is_absolute() else ledger.parent / name
        if not path.is_file():
            problems.append(f"{name}: missing (recorded by entry {entry.seq}, {entry.action}).")
        elif sha256_file(path) != digest:
            problems.append(
                f"{name}: altered since entry {entry.seq} ({entry.action}) recorded it."
            )
    return problems


def audit(ledger: Path) -> LedgerCheck:
    """Check the chain and every file it references, telling a crash from tampering.

    A file referenced by several entries is checked against its latest recorded hash; a
    changed file is named with the entry that first recorded that content (the action that
    wrote it, not a later one that only read it). An incomplete last line is reported as
    :attr:`LedgerCheck.torn`, not as a problem; the complete entries before it are checked.

    Raises
    ------
    RegistrationError
        If there is no ledger, it is a symbolic link, or a complete line is not an entry.
    """
    with opened(ledger, write=False) as fd:
        raw = read_raw(fd)
    entries = parse_lines(ledger, raw.lines)
    problems = chain_problems(entries) + _file_problems(ledger, entries)
    return LedgerCheck(ledger=ledger, count=len(entries),
                       head=entries[-1].hash if entries else GENESIS,
                       problems=tuple(problems), torn=raw.torn)


def verify(ledger: Path) -> list[str]:
    """Check the chain and every file it references; return one line per problem found.

    As :func:`audit`, with an interrupted write's incomplete last line as one more line.
    """
    check = audit(ledger)
    torn = [check.torn.describe(ledger)] if check.torn is not None else []
    return [*check.problems, *torn]


@dataclass(frozen=True, slots=True)
class Repair:
    """What :func:`repair` did: the incomplete line it removed and the entry recording it."""

    removed: TornLine
    entry: LedgerEntry


def repair(ledger: Path, *, actor: str | None = None) -> Repair | None:
    """Remove an incomplete last line left by an interrupted write, and record the removal.

    Only a final line without its newline is removed; the ``repair`` entry appended after
    it gives its line number, byte length and sha256. A ledger whose complete entries are
    altered or whose chain is broken is refused: that is tampering, not a crash.

    Parameters
    ----------
    ledger
        The ledger file.
    actor
        Who; defaults to the logged-in user.

    Returns
    -------
    Repair or None
        What was removed and the entry recording it; ``None`` when the last entry is
        complete and there is nothing to repair.

    Raises
    ------
    RegistrationError
        If the ledger is missing, a symbolic link, or altered.
    """
    with opened(ledger, write=True) as fd:
        raw = read_raw(fd)
        entries = parse_lines(ledger, raw.lines)
        problems = chain_problems(entries)
        if problems:
            raise RegistrationError(
                f"{ledger}: refusing to repair an altered ledger: {problems[0]} Only an "
                "incomplete last line left by an interrupted write is ever repaired. Fix: "
                "restore the ledger from a copy you trust; `trialkit verify` lists every "
                "alteration."
            )
        torn = raw.torn
        if torn is None:
            return None
        truncate(fd, torn.offset)
        reason = (f"removed an incomplete last line left by an interrupted write: line "
                  f"{torn.line}, {len(torn.data)} bytes, sha256 {torn.sha256}")
        entry = append_locked(fd, ledger, entries, "repair", files={}, reason=reason, actor=actor)
    return Repair(removed=torn, entry=entry)

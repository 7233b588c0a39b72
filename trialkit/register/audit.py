"""Audit a ledger, telling a crash from tampering; repair only what a crash left.

:func:`audit` checks the chain and every file it names, and reports the head hash and the
number of entries, which a user can anchor elsewhere. An incomplete last line (an
interrupted write) is reported apart from alterations. :func:`repair` removes that line,
and only that line, and appends a ``repair`` entry recording its length and sha256; an
altered entry or a broken chain is evidence and is never repaired.

What each check can prove:

- The chain alone shows no entry was edited in place and no file changed since it was
  recorded. It cannot show that the ledger was not cut short (to zero bytes, or by its
  last entries) or rewritten from scratch with fresh hashes, nor that an appended entry
  is genuine.
- An anchored head (``head``: the hash printed by ``trialkit verify``, kept elsewhere)
  shows the ledger still contains every entry up to it. Each entry's hash covers its
  sequence number, so the head commits to the ledger's length as well as its content.
- A public key (``public_key``) shows every entry was signed with the matching private
  key: a forged entry or a rewritten chain fails, unless the private key leaked.
- :func:`~trialkit.register.history.history_findings` reads each file's content at each
  step: data changed after the first analysis, analyses re-run with other inputs,
  re-randomisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from trialkit._core.files import sha256_file
from trialkit._core.hashing import canonical_json, sha256_text
from trialkit.errors import RegistrationError
from trialkit.register.anchor import Anchor, anchor_at
from trialkit.register.history import HistoryFinding, history_findings
from trialkit.register.ledger import GENESIS, LedgerEntry, append_locked, parse_lines
from trialkit.register.ledger_file import TornLine, opened, read_raw, truncate
from trialkit.register.signing import (
    fingerprint,
    key_from_env,
    load_public,
    signature_problems,
)


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
    unrecorded
        With a torn last line only: files changed (or gone) since their last complete
        record, which the interrupted step was most likely writing (each says whether the
        incomplete line names the file's present content). Without an interrupted write
        such a change is an alteration, in ``problems``.
    findings
        Questionable steps the intact history records (data changed after the first
        analysis, analyses re-run with other inputs, re-randomisation).
    signed
        How many entries carry a signature.
    key
        The fingerprint of the public key the signatures were checked with; ``""`` when
        none was given (signatures unchecked).
    signatures
        Entries unsigned, signed by another key, or whose signature fails (with a key only).
    anchor
        Where the anchored head lies, or ``None`` when no head was given.
    """

    ledger: Path
    count: int
    head: str
    problems: tuple[str, ...]
    torn: TornLine | None
    unrecorded: tuple[str, ...] = ()
    findings: tuple[HistoryFinding, ...] = ()
    signed: int = 0
    key: str = ""
    signatures: tuple[str, ...] = ()
    anchor: Anchor | None = None

    @property
    def intact(self) -> bool:
        """True when nothing is altered and no write was interrupted."""
        return not self.problems and self.torn is None

    @property
    def passed(self) -> bool:
        """True when intact, every signature checked holds, the anchor is found, and the
        history shows no finding."""
        anchored = self.anchor is None or self.anchor.seq is not None
        return self.intact and anchored and not self.signatures and not self.findings

    def unchecked(self) -> tuple[str, ...]:
        """What this check could not detect, given what it was given (key, anchor)."""
        gaps = []
        if self.anchor is None:
            gaps.append(
                "without an anchored head (--head), a ledger cut to zero bytes or "
                "stripped of its last entries, or rewritten from scratch, cannot be "
                "told from an honest one"
            )
        elif self.anchor.seq is not None and self.anchor.seq < self.count:
            gaps.append("entries after the anchored head could be dropped or replaced unseen")
        if not self.key:
            gaps.append(
                "without a public key (--public-key), an appended forged entry (any "
                "actor, time, reason) or a whole chain rewritten with fresh hashes "
                "after editing files verifies as intact"
            )
        return tuple(gaps)


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


def _file_problems(
    ledger: Path, entries: Sequence[LedgerEntry], torn: TornLine | None
) -> tuple[list[str], list[str]]:
    """Files that differ from their latest record: alterations, and (after an interrupted
    write, ``torn``) the changes the interrupted step most likely made."""
    altered: list[str] = []
    unrecorded: list[str] = []
    latest: dict[str, tuple[str, LedgerEntry]] = {}
    for entry in entries:
        for name, digest in {**entry.inputs, **entry.outputs}.items():
            if name not in latest or latest[name][0] != digest:
                latest[name] = (digest, entry)  # the entry that first recorded this content
    for name, (digest, entry) in sorted(latest.items()):
        path = Path(name) if Path(name).is_absolute() else ledger.parent / name
        try:  # a name no file can have here (too long, say) is an altered ledger's, not a crash
            now = sha256_file(path) if path.is_file() else None
        except OSError as exc:
            altered.append(
                f"{name}: cannot be read ({exc.strerror or exc}; recorded by entry "
                f"{entry.seq}, {entry.action})."
            )
            continue
        if now == digest:
            continue
        change = "missing" if now is None else "changed"
        if torn is not None:
            named = now is not None and now.encode() in torn.data
            unrecorded.append(
                f"{name}: {change} since entry {entry.seq} ({entry.action}) recorded it, "
                + (
                    "and the incomplete last entry names its present content: the "
                    "interrupted step wrote it."
                    if named
                    else "most likely by the interrupted step whose entry is incomplete "
                    "(if no step was interrupted, this is an alteration)."
                )
            )
        elif now is None:
            altered.append(f"{name}: missing (recorded by entry {entry.seq}, {entry.action}).")
        else:
            altered.append(f"{name}: altered since entry {entry.seq} ({entry.action}) recorded it.")
    return altered, unrecorded


def audit(ledger: Path, *, public_key: Path | None = None, head: str | None = None) -> LedgerCheck:
    """Check the chain and every file it references, telling a crash from tampering.

    A file referenced by several entries is checked against its latest recorded hash; a
    changed file is named with the entry that first recorded that content (the action that
    wrote it, not a later one that only read it). The content recorded at each earlier
    step gives :attr:`LedgerCheck.findings`. An incomplete last line is reported as
    :attr:`LedgerCheck.torn`, not as a problem; the complete entries before it are checked.

    Parameters
    ----------
    ledger
        The ledger file.
    public_key
        An Ed25519 public key file (``trialkit key new``): every entry must be signed by
        its private key.
    head
        A head hash recorded elsewhere: the ledger must contain the entry it names.

    Raises
    ------
    RegistrationError
        If there is no ledger, it is a symbolic link, a complete line is not an entry, or
        the key or head given is not one.
    """
    with opened(ledger, write=False) as fd:
        raw = read_raw(fd)
    entries = parse_lines(ledger, raw.lines)
    altered, unrecorded = _file_problems(ledger, entries, raw.torn)
    problems = chain_problems(entries) + altered
    key = ""
    signatures: tuple[str, ...] = ()
    if public_key is not None:
        public = load_public(public_key)
        key = fingerprint(public)
        signatures = tuple(signature_problems(entries, public))
    return LedgerCheck(
        ledger=ledger,
        count=len(entries),
        head=entries[-1].hash if entries else GENESIS,
        problems=tuple(problems),
        torn=raw.torn,
        unrecorded=tuple(unrecorded),
        findings=history_findings(entries),
        signed=sum(1 for e in entries if e.signature),
        key=key,
        signatures=signatures,
        anchor=anchor_at(entries, head) if head is not None else None,
    )


def verify(ledger: Path) -> list[str]:
    """Check the chain and every file it references; return one line per problem found.

    As :func:`audit` (no key, no anchor), with an interrupted write's incomplete last line,
    the files it left unrecorded and each history finding as one more line.
    """
    check = audit(ledger)
    torn = [check.torn.describe(ledger)] if check.torn is not None else []
    return [*check.problems, *torn, *check.unrecorded, *(f.message for f in check.findings)]


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
    key = key_from_env()
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
        reason = (
            f"removed an incomplete last line left by an interrupted write: line "
            f"{torn.line}, {len(torn.data)} bytes, sha256 {torn.sha256}"
        )
        entry = append_locked(
            fd, ledger, entries, "repair", files={}, reason=reason, actor=actor, key=key
        )
    return Repair(removed=torn, entry=entry)

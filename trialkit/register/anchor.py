"""A head hash kept outside the ledger (an anchor), and where it lies in the ledger.

Each entry's hash covers its sequence number and its predecessor's hash, so the head hash
commits to the whole ledger up to it, its length included. Recorded elsewhere (an email, a
registry, a git commit), it shows later that no entry up to it was dropped or rewritten:
a ledger cut to zero bytes or stripped of its last entries no longer contains it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trialkit.errors import RegistrationError
from trialkit.register.ledger import LedgerEntry


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a head hash recorded elsewhere (an anchor) lies in the ledger.

    Attributes
    ----------
    head
        The anchored head hash.
    seq
        The entry whose hash it is, or ``None`` when no entry has it.
    count
        How many entries the ledger holds.
    """

    head: str
    seq: int | None
    count: int

    def problem(self) -> str | None:
        """Why the ledger does not hold the anchored head, or ``None`` when it does."""
        if self.seq is not None:
            return None
        lost = (
            f"ends at entry {self.count}: entries after it were dropped"
            if self.count
            else "is empty: every entry was dropped"
        )
        return (
            f"the anchored head {self.head[:16]}… is in no entry of the ledger, which "
            f"{lost}, or the chain was rewritten."
        )

    def describe(self) -> str:
        """Where the anchor is, and what it leaves uncovered."""
        if self.seq is None:
            return self.problem() or ""
        after = self.count - self.seq
        later = (
            f"; the {after} entries after it were written after the anchor, which does "
            "not cover them"
            if after
            else "; nothing was written after it"
        )
        return f"the anchored head is entry {self.seq} of {self.count}{later}"


def anchor_at(entries: Sequence[LedgerEntry], head: str) -> Anchor:
    """Locate ``head`` (64 hexadecimal characters) among the entries.

    Raises
    ------
    RegistrationError
        If ``head`` is not a sha256 in hexadecimal.
    """
    value = head.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise RegistrationError(
            f"--head {head!r}: not a head hash (64 hexadecimal characters). Fix: give "
            "`trialkit verify --head` the hash that `trialkit verify` printed after `head`."
        )
    seq = next((e.seq for e in entries if e.hash == value), None)
    return Anchor(head=value, seq=seq, count=len(entries))

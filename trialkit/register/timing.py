"""Amendment or deviation: was the protocol changed before outcome data were validated?

SPIRIT 2025 and CONSORT 2025 call a change to the protocol made *before* outcome data are
available an **amendment**, and one made *after* a **deviation** (a change made knowing
the data). trialkit reads "outcome data available" as "outcome data validated by
trialkit", which the ledger records: ``trialkit validate --ledger`` appends a ``validate``
entry and ``trialkit analyse --ledger`` an ``analyse`` entry (both in
:data:`VALIDATING_ACTIONS`).

The rule
--------
The ledger keeps the content hash of the protocol in force for each action
(``protocol_hash``), not the protocol itself, so the question is asked of the current
protocol as a whole:

- the change is a **deviation** if the ledger records a validation of outcome data
  *strictly before* the entry where the current protocol's hash first appears (or if it
  records a validation and the current protocol never appears);
- otherwise it is an **amendment**: the current protocol was recorded no later than the
  first validation (e.g. it was used to randomise, or it is the protocol the first
  validation ran with), or no validation is recorded yet;
- **without a ledger every change is a deviation**: nothing shows the change came before
  the data, so the conservative reading is taken (:func:`kind_basis` says so in words).

Consequences worth knowing: a protocol changed once before validation and again after it
has all its changes classed as deviations (the ledger does not keep the intermediate
protocol, only its hash); a change first recorded at the first validation itself is an
amendment, because the ledger cannot show the data were seen before it. Entries written
without ``protocol_hash`` (older ledgers) still count as validations, but never as an
appearance of the protocol, which can only make a change look later, never earlier.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from trialkit.register.ledger import LedgerEntry, read

ChangeKind = Literal["amendment", "deviation"]

#: Ledger actions that validate outcome data (``analyse`` validates before it estimates).
VALIDATING_ACTIONS: tuple[str, ...] = ("validate", "analyse")

#: What :func:`kind_basis` says when no ledger was given.
NO_LEDGER_BASIS = (
    "No ledger was given, so it cannot be shown that any change came before the outcome "
    "data were validated: every change is classed as a deviation (the conservative reading)."
)


def first_validation(entries: list[LedgerEntry]) -> LedgerEntry | None:
    """The first entry that validated outcome data, or ``None`` when there is none."""
    return next((e for e in entries if e.action in VALIDATING_ACTIONS), None)


def first_recorded(entries: list[LedgerEntry], protocol_hash: str) -> LedgerEntry | None:
    """The first entry recording ``protocol_hash`` as the protocol in force, if any."""
    return next((e for e in entries if e.protocol_hash == protocol_hash), None)


def _classify(
    entries: list[LedgerEntry], protocol_hash: str
) -> tuple[ChangeKind, LedgerEntry | None, LedgerEntry | None]:
    """The kind, the first validation and the current protocol's first record."""
    validated = first_validation(entries)
    recorded = first_recorded(entries, protocol_hash)
    if validated is None or (recorded is not None and recorded.seq <= validated.seq):
        return "amendment", validated, recorded
    return "deviation", validated, recorded


def change_kind(protocol_hash: str, ledger: Path | None) -> ChangeKind:
    """Whether changes leading to the protocol ``protocol_hash`` are amendments or deviations.

    Parameters
    ----------
    protocol_hash
        The content hash of the current protocol (:meth:`Protocol.content_hash`).
    ledger
        The pilot's ``ledger.jsonl``, or ``None`` (then every change is a deviation).

    Raises
    ------
    RegistrationError
        If ``ledger`` is given but is not a readable ledger.
    """
    if ledger is None:
        return "deviation"
    return _classify(read(ledger), protocol_hash)[0]


def _entry(entry: LedgerEntry) -> str:
    return f"entry {entry.seq} ({entry.action}, {entry.time_utc})"


def kind_basis(protocol_hash: str, ledger: Path | None) -> str:
    """One sentence saying why changes are amendments or deviations, for reports."""
    if ledger is None:
        return NO_LEDGER_BASIS
    kind, validated, recorded = _classify(read(ledger), protocol_hash)
    if validated is None:
        return f"{ledger} records no validation of outcome data yet: every change is an amendment."
    first = f"outcome data were first validated at {_entry(validated)}"
    if recorded is None:
        return (
            f"{ledger} never records the current protocol and {first}: every change is a deviation."
        )
    verdict = "an amendment" if kind == "amendment" else "a deviation"
    return (
        f"{ledger} first records the current protocol at {_entry(recorded)}, and {first}: "
        f"every change is {verdict}."
    )

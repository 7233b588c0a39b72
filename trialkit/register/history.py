"""What the ledger's own history shows: data changed after the analysis, re-randomisation.

Every entry records the sha256 of each file it read or wrote, so the ledger holds each
file's content at each step, not only the latest. :func:`history_findings` reads that
history for the changes a pre-registered pilot must explain:

- ``outcome_data_changed``: a data file read after the first analysis with content other
  than the first analysis read (data edited, then ``analyse --force`` re-run).
- ``analysis_inputs_changed``: a later analysis whose protocol, allocation, audit sample or
  set of files differs from the first analysis's.
- ``rerandomised``: a ``randomise`` entry that wrote another allocation than the one before,
  after the protocol was registered or outcome data were seen (before both, a pilot may
  still redraw).

These are findings about an intact ledger (an honest record of questionable steps), not
alterations; :func:`trialkit.register.audit.audit` reports them apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import PurePosixPath
from typing import Literal

from trialkit.register.ledger import LedgerEntry

FindingKind = Literal["outcome_data_changed", "analysis_inputs_changed", "rerandomised"]

#: Actions whose outputs trialkit computes (so they are not outcome data).
_COMPUTING_ACTIONS = frozenset(
    {"register", "export", "randomise", "audit-sample", "validate", "analyse", "report", "repair"}
)
_PROTOCOL_SUFFIXES = frozenset({".yaml", ".yml"})


@dataclass(frozen=True, slots=True)
class HistoryFinding:
    """One questionable step the ledger records.

    Attributes
    ----------
    kind
        Which rule found it (:data:`FindingKind`).
    seq, action
        The entry that shows it.
    earlier
        The entry it is compared with (the first analysis, the previous randomisation).
    files
        The files whose recorded content differs, sorted.
    message
        The finding in words, naming both entries.
    after
        For ``rerandomised``: the last registration, validation or analysis before the
        redraw, as ``(seq, action)``; ``None`` otherwise.
    """

    kind: FindingKind
    seq: int
    action: str
    earlier: int
    files: tuple[str, ...]
    message: str
    after: tuple[int, str] | None = None


def _computed(entries: Sequence[LedgerEntry]) -> set[str]:
    """Files trialkit wrote, and protocols: everything an analysis reads that is not data."""
    names: set[str] = set()
    for entry in entries:
        if entry.action in _COMPUTING_ACTIONS:
            names.update(entry.outputs)
        if entry.action == "register":
            names.update(entry.inputs)
    return names


def _is_data(name: str, computed: set[str]) -> bool:
    return name not in computed and PurePosixPath(name).suffix.lower() not in _PROTOCOL_SUFFIXES


def _changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))


def _data_findings(
    entries: Sequence[LedgerEntry], first: LedgerEntry, computed: set[str]
) -> list[HistoryFinding]:
    data = {n: d for n, d in first.inputs.items() if _is_data(n, computed)}
    found = []
    for entry in entries:
        if entry.seq <= first.seq:
            continue
        changed = sorted(n for n, d in entry.inputs.items() if n in data and data[n] != d)
        if changed:
            found.append(
                HistoryFinding(
                    kind="outcome_data_changed",
                    seq=entry.seq,
                    action=entry.action,
                    earlier=first.seq,
                    files=tuple(changed),
                    message=(
                        f"entry {entry.seq} ({entry.action}): outcome data changed after the "
                        f"first analysis (entry {first.seq}): {', '.join(changed)} read with "
                        "content other than the first analysis read."
                    ),
                )
            )
    return found


def _analysis_findings(analyses: Sequence[LedgerEntry], computed: set[str]) -> list[HistoryFinding]:
    first, found = analyses[0], []
    for entry in analyses[1:]:
        changed = [
            n
            for n in _changed(first.inputs, entry.inputs)
            if not (_is_data(n, computed) and n in first.inputs and n in entry.inputs)
        ]
        if changed:
            found.append(
                HistoryFinding(
                    kind="analysis_inputs_changed",
                    seq=entry.seq,
                    action=entry.action,
                    earlier=first.seq,
                    files=tuple(changed),
                    message=(
                        f"entry {entry.seq} (analyse): the analysis was re-run with other "
                        f"inputs than the first analysis (entry {first.seq}): "
                        f"{', '.join(changed)} differ."
                    ),
                )
            )
    return found


#: Actions after which a new allocation is re-randomisation, not a redraw before the start.
_FIXING_ACTIONS = ("register", "validate", "analyse")


def _randomise_findings(entries: Sequence[LedgerEntry]) -> list[HistoryFinding]:
    draws = [e for e in entries if e.action == "randomise"]
    found = []
    for previous, entry in pairwise(draws):
        changed = _changed(previous.outputs, entry.outputs)
        before = [e for e in entries if e.seq < entry.seq and e.action in _FIXING_ACTIONS]
        if not changed or not before:
            continue  # the same allocation again, or a redraw before registration and data
        after = f", after the {before[-1].action} in entry {before[-1].seq}"
        found.append(
            HistoryFinding(
                kind="rerandomised",
                seq=entry.seq,
                action=entry.action,
                earlier=previous.seq,
                files=tuple(changed),
                message=(
                    f"entry {entry.seq} (randomise): re-randomised{after}: "
                    f"{', '.join(changed)} differ from the allocation entry "
                    f"{previous.seq} drew."
                ),
                after=(before[-1].seq, before[-1].action),
            )
        )
    return found


def history_findings(entries: Sequence[LedgerEntry]) -> tuple[HistoryFinding, ...]:
    """The questionable steps the ledger records, in entry order.

    Examples
    --------
    >>> history_findings(())
    ()
    """
    computed = _computed(entries)
    analyses = [e for e in entries if e.action == "analyse"]
    found = _randomise_findings(entries)
    if analyses:
        found += _data_findings(entries, analyses[0], computed)
        found += _analysis_findings(analyses, computed)
    return tuple(sorted(found, key=lambda f: (f.seq, f.kind)))

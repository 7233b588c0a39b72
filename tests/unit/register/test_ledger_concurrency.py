"""Concurrent appends to one ledger never duplicate a sequence number or break the chain.

Before the ledger was locked, four processes appending at once produced duplicated
sequence numbers, and an honest ledger then read as tampered (issue 20).
"""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

import pytest

from trialkit import register
from trialkit.register.ledger import read

WRITERS = 4
APPENDS = 25


def _writer(ledger: str, note: str, name: str, start: object) -> None:
    start.wait(timeout=30)  # type: ignore[attr-defined]  # all begin together
    for i in range(APPENDS):
        register.append(
            Path(ledger), "note", inputs=[Path(note)], actor=name, reason=f"{name} #{i}"
        )


@pytest.mark.skipif(sys.platform == "win32", reason="the ledger lock is POSIX only")
def test_four_processes_append_without_duplicates_or_a_broken_chain(tmp_path: Path) -> None:
    ledger = tmp_path / register.LEDGER_NAME
    note = tmp_path / "note.txt"
    note.write_text("x")
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WRITERS)
    workers = [
        context.Process(target=_writer, args=(str(ledger), str(note), f"w{k}", start))
        for k in range(WRITERS)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    for worker in workers:
        if worker.is_alive():
            worker.kill()
    assert [w.exitcode for w in workers] == [0] * WRITERS
    entries = read(ledger)
    assert [e.seq for e in entries] == list(range(1, WRITERS * APPENDS + 1))
    assert register.verify(ledger) == []
    assert sorted(e.reason for e in entries) == sorted(
        f"w{k} #{i}" for k in range(WRITERS) for i in range(APPENDS)
    )

"""Write a results directory as one commit: staged, fsynced, ``results.json`` last.

``trialkit report`` trusts ``results.json``; the CSVs beside it are tidy copies of its
tables. The directory is written by :func:`trialkit._core.staging.commit`: every file is
staged and fsynced in a staging folder inside the results directory, the previous run's
files (its ``results.json`` first) move out, the new CSVs move in, and the new
``results.json`` moves in last. Every table is written, with its header only when the run
has no rows for it, so a table of an earlier run (``subgroups.csv``) is replaced in the
same commit, never left beside results that have none. A full disk or a permission error is
met while staging, before anything in the results directory changes; a failed move puts the
previous files back. A process killed during the moves leaves no ``results.json`` (never a
``results.json`` beside CSVs of another run), which ``trialkit report`` refuses; the next
``analyse`` or ``report`` on the directory restores the previous results first, saying so.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trialkit._core.destinations import check_destination, check_destinations, write_failed
from trialkit._core.files import ensure_absent
from trialkit._core.staging import commit, recover

if TYPE_CHECKING:
    from pydantic import BaseModel

    from trialkit.analyse.document import ResultsDocument

RESULTS_FILE = "results.json"
#: The tables written beside ``results.json``, one CSV each, in this order.
TABLES = ("estimates", "bayesian", "indices", "subgroups", "few_clusters")
#: Every file a results directory holds; any a run does not write is removed.
OWNED = (RESULTS_FILE, *(f"{name}.csv" for name in TABLES))


def results_files(results: ResultsDocument) -> dict[str, bytes]:
    """The files of a results directory: ``results.json`` and one CSV per table.

    A table without rows is written with its header only, so a results directory always
    holds the same files: a table an earlier run wrote (``subgroups.csv``) is replaced in
    the same commit by this run's, and the ledger, which records every file written, still
    finds each file it recorded (:func:`trialkit.register.audit.audit` reports a recorded
    file that is gone as missing).
    """
    import pandas as pd

    from trialkit._core.spreadsheet import frame_csv
    from trialkit.analyse.rows import (
        EstimateRow,
        FewClusterRow,
        IndexRow,
        PosteriorRow,
        SubgroupRow,
    )

    tables: dict[str, tuple[type[BaseModel], Sequence[Any]]] = {
        "estimates": (EstimateRow, results.estimates),
        "bayesian": (PosteriorRow, results.bayesian.posteriors),
        "indices": (IndexRow, results.indices),
        "subgroups": (SubgroupRow, results.subgroups),
        "few_clusters": (FewClusterRow, results.few_clusters),
    }
    files = {RESULTS_FILE: results.to_json().encode("utf-8")}
    for name, (model, rows) in tables.items():
        frame = (
            pd.DataFrame([r.model_dump(exclude=_NOT_TABLED) for r in rows])
            if rows
            else pd.DataFrame(columns=[f for f in model.model_fields if f not in _NOT_TABLED])
        )
        files[f"{name}.csv"] = frame_csv(frame).encode("utf-8")
    return files


#: Sample columns kept in ``results.json`` only.
_NOT_TABLED = frozenset({"draws_sample", "null_sample"})


def check_results_dir(target: Path, *, inputs: Iterable[Path], force: bool) -> None:
    """Refuse, before any analysis, a results directory the commit would fail on.

    An interrupted earlier commit into ``target`` is first recovered (the previous results
    restored, or a finished commit's staging folder removed), saying so.

    Raises
    ------
    trialkit.errors.TrialkitError
        If ``target`` is a file, cannot be written, holds one of the inputs under a name
        the results use, or (without ``force``) already holds results.
    """
    sources = list(inputs)
    check_destination(target, inputs=sources, directory=True, what="results directory")
    recover_results(target)
    check_destinations({target / name: "results" for name in OWNED}, inputs=sources)
    for name in OWNED:
        ensure_absent(target / name, force=force, what="results")


def recover_results(target: Path) -> list[str]:
    """Undo or finish an interrupted commit into ``target``, saying so.

    Also restores what the staging directories of earlier trialkit releases hold
    (``.results.staging-*`` beside the results directory, the previous files under
    ``previous/``).
    """
    said = _recover_legacy(target)
    try:
        said += recover(target)
    except OSError as exc:
        raise write_failed(exc, target, what="results", state="nothing was changed") from None
    return said


def _recover_legacy(target: Path) -> list[str]:
    where = target.absolute()
    said = []
    for staging in sorted(where.parent.glob(f".{where.name}.staging-*")):
        previous = staging / "previous"
        if not (where / RESULTS_FILE).exists() and previous.is_dir():
            for name in OWNED[1:]:  # moved in by the interrupted run: take them out again
                if not (staging / name).exists():
                    (where / name).unlink(missing_ok=True)
            for name in (*OWNED[1:], RESULTS_FILE):
                if (previous / name).exists():
                    os.replace(previous / name, where / name)
            message = f"{staging}: restored the previous results an interrupted run left here."
        else:
            message = f"{staging}: removed the staging folder an interrupted run left here."
        shutil.rmtree(staging, ignore_errors=True)
        logging.getLogger("trialkit").warning("note: %s", message)
        said.append(message)
    return said


def commit_results(
    target: Path,
    files: Mapping[str, bytes],
    *,
    force: bool,
    then: Callable[[list[Path]], None] | None = None,
) -> list[Path]:
    """Write ``files`` (name → bytes, ``results.json`` among them) into ``target`` at once.

    One :func:`trialkit._core.staging.commit`: staged and fsynced in ``target``, the
    previous files moved out (``results.json`` first), the new ones in (``results.json``
    last), files of :data:`OWNED` that this run does not write removed in the same commit.

    Parameters
    ----------
    target
        The results directory; created when missing.
    files
        The new run's files. Files of :data:`OWNED` not among them are removed.
    force
        Replace existing results (refused otherwise, as :func:`check_results_dir`).
    then
        Called with the files once they are in place (to record them in the ledger); if it
        raises, the previous results are put back and its exception propagates.

    Returns
    -------
    list[Path]
        The files written, ``results.json`` first.

    Raises
    ------
    trialkit.errors.TrialkitError
        If a file cannot be written (full disk, permission); the results directory is then
        as it was.
    """
    check_results_dir(target, inputs=(), force=force)
    try:
        return commit(
            target,
            files,
            last=RESULTS_FILE,
            remove=[n for n in OWNED if n not in files],
            force=force,
            what="results",
            then=then,
        )
    except OSError as exc:
        raise write_failed(
            exc, target, what="results", state="the results directory is as it was"
        ) from None

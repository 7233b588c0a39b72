"""Write a results directory as one commit: staged, fsynced, ``results.json`` last.

``trialkit report`` trusts ``results.json``; the CSVs beside it are tidy copies of its
tables. So every file is first written and fsynced in a staging directory beside the
results directory (same file system, so moves are atomic renames). Only then are the
files moved in: the previous run's files (its ``results.json`` first) move out to the
staging directory, the new CSVs move in, and the new ``results.json`` moves in last. Every
table is written, with its header only when the run has no rows for it, so a table of an
earlier run (``subgroups.csv``) is replaced in the same commit, never left beside results
that have none. A full disk or a permission error is met while staging, before anything in
the results directory changes; a failed move puts the previous files back. A process killed
during the moves leaves no ``results.json`` (never a ``results.json`` beside CSVs of another
run), which ``trialkit report`` refuses, and the previous files in the staging directory.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trialkit._core.destinations import check_destination, write_failed
from trialkit._core.files import ensure_absent

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

    Raises
    ------
    trialkit.errors.TrialkitError
        If ``target`` is a file, cannot be written, holds one of the inputs under a name
        the results use, or (without ``force``) already holds results.
    """
    sources = list(inputs)
    check_destination(target, inputs=sources, directory=True, what="results directory")
    # the files are staged beside the directory, so its parent must be writable too
    check_destination(target.absolute().parent, directory=True, what="results directory")
    for name in OWNED:
        check_destination(target / name, inputs=sources, what="results")
    for name in OWNED:
        ensure_absent(target / name, force=force, what="results")


def _stage(staging: Path, files: Mapping[str, bytes]) -> None:
    for name, payload in files.items():
        with open(staging / name, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(staging / name, 0o644)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap(target: Path, staging: Path, names: list[str]) -> None:
    """Move the previous files out (trusted first) and the new ones in (trusted last)."""
    previous = staging / "previous"
    previous.mkdir()
    moved_out: list[str] = []
    moved_in: list[str] = []
    try:
        for name in OWNED:
            if (target / name).exists():
                os.replace(target / name, previous / name)
                moved_out.append(name)
        for name in names:
            os.replace(staging / name, target / name)
            moved_in.append(name)
    except OSError:
        for name in moved_in:
            (target / name).unlink(missing_ok=True)
        for name in reversed(moved_out):  # results.json back last
            os.replace(previous / name, target / name)
        raise


def commit_results(target: Path, files: Mapping[str, bytes], *, force: bool) -> list[Path]:
    """Write ``files`` (name → bytes, ``results.json`` among them) into ``target`` at once.

    Parameters
    ----------
    target
        The results directory; created when missing.
    files
        The new run's files. Files of :data:`OWNED` not among them are removed.
    force
        Replace existing results (refused otherwise, as :func:`check_results_dir`).

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
    names = [n for n in OWNED[1:] if n in files] + [RESULTS_FILE]
    check_results_dir(target, inputs=(), force=force)
    try:
        target.mkdir(parents=True, exist_ok=True)
        where = target.absolute()  # `--out .` stages beside the directory too
        staging = Path(tempfile.mkdtemp(dir=where.parent, prefix=f".{where.name}.staging-"))
    except OSError as exc:
        raise write_failed(exc, target, what="results") from None
    try:
        _stage(staging, files)
        _fsync_dir(staging)
        _swap(target, staging, names)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise write_failed(
            exc, target, what="results", state="the results directory is as it was"
        ) from None
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _fsync_dir(target)
    except OSError as exc:
        raise write_failed(
            exc, target, what="results", state="the new results are in place but may not be on disk"
        ) from None
    return [target / RESULTS_FILE, *(target / n for n in names[:-1])]

"""Write an audit sample (CSV + metadata JSON beside it) as one commit; read it back checked.

The CSV holds what reviewers need, one row per drawn spend (``spend_id, stratum,
inclusion_probability``); the JSON beside it (same name, ``.json``) records the seed, the
protocol hash, the sha256 of the spend file and of its stratum columns, and every
stratum's ``N_h`` and ``n_h``. Neither holds a timestamp, so the same draw writes the same
bytes; the pilot's ledger records when it was drawn.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from trialkit._core.destinations import check_destinations, write_failed
from trialkit._core.files import ensure_absent, sha256_file
from trialkit._core.hashing import sha256_bytes
from trialkit._core.spreadsheet import ESCAPING, neutralise_rows, restore
from trialkit._core.staging import commit
from trialkit.errors import DataValidationError, Issue, Location, TrialkitError
from trialkit.randomise.audit import AuditSample, AuditStratumSize

PathLike = str | os.PathLike[str]

#: Version of the audit sample's files; bump when their layout changes.
SCHEMA_VERSION = 1
COLUMNS = ("spend_id", "stratum", "inclusion_probability")
_FIX = "restore the files `trialkit audit-sample` wrote; never edit an audit sample by hand."


def audit_metadata_path(path: PathLike) -> Path:
    """Where the metadata of the audit sample CSV at ``path`` lives (same name, ``.json``)."""
    return Path(path).with_suffix(".json")


def audit_csv_text(sample: AuditSample) -> str:
    """The audit sample's CSV: spreadsheet-safe cells, shortest round-trip probabilities."""
    rows = [
        list(COLUMNS),
        *(
            [i, s, repr(p)]
            for i, s, p in zip(
                sample.spend_id, sample.stratum, sample.inclusion_probability, strict=True
            )
        ),
    ]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(neutralise_rows(rows))
    return buffer.getvalue()


def _metadata(sample: AuditSample, csv_path: Path, payload: bytes) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "seed": sample.seed,
        "protocol_hash": sample.protocol_hash,
        "ledger_sha256": sample.ledger_sha256,
        "spends_sha256": sample.spends_sha256,
        "strata_by": list(sample.strata_by),
        "amount_bands": list(sample.amount_bands),
        "large_spend_share": sample.large_spend_share,
        "algorithm_version": sample.algorithm_version,
        "csv_file": csv_path.name,
        "csv_sha256": sha256_bytes(payload),
        "spreadsheet_escaping": ESCAPING,
        "strata": [
            {
                "label": s.label,
                "amount_band": s.amount_band,
                "category": s.category,
                "worker": s.worker,
                "spends": s.spends,
                "sampled": s.sampled,
            }
            for s in sample.strata
        ],
    }


def check_audit_paths(
    path: PathLike, *, inputs: Sequence[PathLike] = (), force: bool = False
) -> None:
    """Refuse, before the spends are read, an audit sample path that would lose a file.

    Raises
    ------
    TrialkitError
        If the sample would be its own metadata (named ``.json``), an input, a directory,
        a device, a link leaving its directory, or unwritable.
    OverwriteError
        If either file exists and ``force`` is false.
    """
    csv_path, meta_path = Path(path), audit_metadata_path(path)
    if csv_path.suffix.lower() == ".json":
        raise TrialkitError(
            f"{csv_path}: an audit sample named .json would be overwritten by its own metadata "
            f"(written beside it as {meta_path.name}). Fix: name the sample .csv, e.g. "
            f"--out {csv_path.with_suffix('.csv')}."
        )
    check_destinations(
        {csv_path: "audit sample", meta_path: "audit sample metadata"}, inputs=inputs
    )
    ensure_absent(csv_path, force=force, what="audit sample")
    ensure_absent(meta_path, force=force, what="audit sample metadata")


def write_audit_sample(
    sample: AuditSample,
    path: PathLike,
    *,
    force: bool = False,
    then: Callable[[list[Path]], None] | None = None,
) -> Path:
    """Write ``sample`` as CSV at ``path`` and its metadata as JSON beside it.

    Both are written as one commit (:func:`trialkit._core.staging.commit`, the metadata,
    which :func:`read_audit_sample` trusts, last), so a crash leaves the previous pair or
    the new one; neither is written if either exists, unless ``force``. ``then`` is called
    with both files once they are in place (to record them in the ledger); if it raises,
    the previous files are put back.

    Returns
    -------
    Path
        The CSV path.

    Raises
    ------
    OverwriteError
        If either file exists and ``force`` is false.
    TrialkitError
        If the path is refused (:func:`check_audit_paths`), or the disk is full or the
        directory unwritable (nothing is then changed).
    """
    csv_path, meta_path = Path(path), audit_metadata_path(path)
    check_audit_paths(csv_path, force=force)
    payload = audit_csv_text(sample).encode("utf-8")
    meta = json.dumps(_metadata(sample, csv_path, payload), indent=2, sort_keys=True) + "\n"
    try:
        commit(
            csv_path.parent,
            {csv_path.name: payload, meta_path.name: meta.encode("utf-8")},
            last=meta_path.name,
            force=force,
            what="audit sample",
            then=then,
        )
    except OSError as exc:
        raise write_failed(
            exc, csv_path, what="audit sample", state="the audit sample files are as they were"
        ) from None
    return csv_path


def _fail(message: str, where: Location, fix: str = _FIX) -> DataValidationError:
    return DataValidationError([Issue(message, where, fix=fix)])


def _load_meta(csv_path: Path) -> dict[str, Any]:
    meta_path = audit_metadata_path(csv_path)
    where = Location(file=str(meta_path))
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(
            "the audit sample's metadata file is missing",
            where,
            "keep the .json written beside the audit sample CSV.",
        ) from None
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read the metadata: {exc}", where) from None
    if not isinstance(meta, dict):
        raise _fail("the metadata is not a JSON object", where)
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise _fail(
            f"schema_version {meta.get('schema_version')!r} is not "
            f"{SCHEMA_VERSION}, the one this trialkit reads",
            where,
            "read it with the trialkit release that wrote it, or draw the sample "
            "again with `trialkit audit-sample` and the same seed.",
        )
    need = (
        "seed",
        "protocol_hash",
        "ledger_sha256",
        "spends_sha256",
        "strata_by",
        "amount_bands",
        "large_spend_share",
        "algorithm_version",
        "csv_sha256",
        "strata",
    )
    missing = [k for k in need if k not in meta]
    if missing:
        raise _fail(f"the metadata lacks {', '.join(missing)}", where)
    return dict(meta)


def _strata(meta: dict[str, Any], where: Location) -> tuple[AuditStratumSize, ...]:
    try:
        strata = tuple(
            AuditStratumSize(
                label=str(s["label"]),
                amount_band=s["amount_band"],
                category=s["category"],
                worker=s["worker"],
                spends=int(s["spends"]),
                sampled=int(s["sampled"]),
            )
            for s in meta["strata"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _fail(f"a stratum in the metadata is malformed ({exc!r})", where) from None
    if any(not 0 < s.sampled <= s.spends for s in strata):
        raise _fail("a stratum's drawn count is not between 1 and its spends", where)
    return strata


def _row_issues(
    frame: pd.DataFrame, strata: dict[str, AuditStratumSize], source: str
) -> list[Issue]:
    issues: list[Issue] = []
    seen: set[str] = set()
    for i, (spend, stratum, prob) in enumerate(frame.itertuples(index=False, name=None)):
        where = Location(file=source, row=i + 2)
        known = strata.get(stratum)
        if spend == "" or spend in seen:
            issues.append(Issue(f"spend id `{spend}` is empty or repeated", where, fix=_FIX))
        elif known is None:
            issues.append(Issue(f"`{stratum}` is not a stratum of this sample", where, fix=_FIX))
        elif prob != repr(known.inclusion_probability):
            issues.append(
                Issue(
                    f"inclusion probability `{prob}` is not {known.sampled}/"
                    f"{known.spends} of stratum `{stratum}`",
                    where,
                    fix=_FIX,
                )
            )
        seen.add(spend)
        if len(issues) >= 20:
            break
    return issues


def read_audit_sample(path: PathLike) -> AuditSample:
    """Read an audit sample written by :func:`write_audit_sample`, checking it on the way.

    Raises
    ------
    DataValidationError
        With every problem found: a missing file or metadata, a CSV changed since it was
        written (sha256), unexpected columns, or bad rows (located by row).
    """
    csv_path = Path(path)
    source = str(csv_path)
    if not csv_path.is_file():
        raise _fail(
            "the audit sample file does not exist",
            Location(file=source),
            "check the path, or draw the sample with `trialkit audit-sample`.",
        )
    meta = _load_meta(csv_path)
    if sha256_file(csv_path) != meta["csv_sha256"]:
        raise _fail(
            "the audit sample has changed since it was written (its sha256 differs "
            "from the metadata's)",
            Location(file=source),
        )
    strata = _strata(meta, Location(file=str(audit_metadata_path(csv_path))))
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False).map(restore)
    if tuple(frame.columns) != COLUMNS:
        raise _fail(
            f"columns are {list(frame.columns)}, expected {list(COLUMNS)}",
            Location(file=source, row=1),
        )
    by_label = {s.label: s for s in strata}
    issues = _row_issues(frame, by_label, source)
    counts = frame["stratum"].value_counts()
    issues += [
        Issue(
            f"stratum `{s.label}` has {int(counts.get(s.label, 0))} drawn spends, "
            f"the metadata says {s.sampled}",
            Location(file=source),
            fix=_FIX,
        )
        for s in strata
        if int(counts.get(s.label, 0)) != s.sampled
    ]
    if issues:
        raise DataValidationError(issues, header=f"{source}: {len(issues)} problem(s) found")
    return AuditSample(
        seed=int(meta["seed"]),
        protocol_hash=str(meta["protocol_hash"]),
        ledger_sha256=str(meta["ledger_sha256"]),
        spends_sha256=str(meta["spends_sha256"]),
        strata_by=tuple(meta["strata_by"]),
        amount_bands=tuple(map(float, meta["amount_bands"])),
        large_spend_share=float(meta["large_spend_share"]),
        strata=strata,
        spend_id=tuple(frame["spend_id"]),
        stratum=tuple(frame["stratum"]),
        inclusion_probability=tuple(by_label[s].inclusion_probability for s in frame["stratum"]),
        algorithm_version=str(meta["algorithm_version"]),
    )

"""Write an allocation (CSV + metadata JSON beside it) atomically, and read it back checked."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_args

import numpy as np
import pandas as pd

from trialkit._core.destinations import check_destination, write_failed
from trialkit._core.files import ensure_absent, sha256_file
from trialkit._core.hashing import sha256_bytes
from trialkit._core.names import did_you_mean
from trialkit._core.provenance import Provenance
from trialkit._core.spreadsheet import ESCAPING, neutralise_csv, restore
from trialkit._core.staging import commit
from trialkit.errors import DataValidationError, Issue, Location, TrialkitError
from trialkit.protocol.vocabulary import SchemeName
from trialkit.randomise.allocation import COLUMNS, Allocation

PathLike = str | os.PathLike[str]


def metadata_path(path: PathLike) -> Path:
    """Where the metadata of the allocation CSV at ``path`` lives (same name, ``.json``)."""
    return Path(path).with_suffix(".json")


def check_allocation_paths(
    path: PathLike, *, inputs: Sequence[PathLike] = (), force: bool = False
) -> None:
    """Refuse, before any work, an allocation path that would lose a file.

    The metadata goes beside the CSV under the same name with ``.json``
    (:func:`metadata_path`), so an allocation named ``*.json`` would be overwritten by its
    own metadata; an output that is one of the inputs (the protocol, the units) would
    destroy it; an existing allocation or metadata needs ``force``.

    Raises
    ------
    TrialkitError
        If the allocation would be its own metadata, an input, a directory, or unwritable.
    OverwriteError
        If either file exists and ``force`` is false.
    """
    csv_path, meta_path = Path(path), metadata_path(path)
    if csv_path.suffix.lower() == ".json":
        raise TrialkitError(
            f"{csv_path}: an allocation named .json would be overwritten by its own metadata "
            f"(written beside it as {meta_path.name}). Fix: name the allocation .csv, e.g. "
            f"--out {csv_path.with_suffix('.csv')}."
        )
    for out, what in ((csv_path, "allocation"), (meta_path, "allocation metadata")):
        check_destination(out, inputs=inputs, what=what)
        ensure_absent(out, force=force, what=what)


def write_allocation(
    allocation: Allocation,
    path: PathLike,
    *,
    force: bool = False,
    then: Callable[[list[Path]], None] | None = None,
) -> Path:
    """Write ``allocation`` as CSV at ``path`` and its metadata as JSON beside it.

    Both files are written as one commit (:func:`trialkit._core.staging.commit`, the
    metadata last), so a crash leaves the previous pair or the new one; neither is written
    if either exists, unless ``force``. Cells that a spreadsheet would run as a formula (a
    unit id ``=1+2``) are written with a leading ``'`` (:mod:`trialkit._core.spreadsheet`), which
    :func:`read_allocation` removes again; the metadata says so. It also records the
    protocol hash, seed, scheme and its parameters, algorithm and trialkit versions, the
    CSV's sha256 and the UTC time.

    Parameters
    ----------
    allocation
        The allocation to write.
    path
        The CSV file, e.g. ``allocation.csv`` (metadata goes to ``allocation.json``).
    force
        Replace existing files.
    then
        Called with both files once they are in place (to record them in the ledger); if
        it raises, the previous files are put back and its exception propagates.

    Returns
    -------
    Path
        The CSV path.

    Raises
    ------
    OverwriteError
        If either file exists and ``force`` is false.
    """
    csv_path, meta_path = Path(path), metadata_path(path)
    check_allocation_paths(csv_path, force=force)
    payload = neutralise_csv(allocation.to_csv_text()).encode("utf-8")
    prov = allocation.provenance
    meta: dict[str, Any] = {
        "protocol_hash": prov.protocol_hash,
        "seed": prov.seed,
        "scheme": allocation.scheme,
        "parameters": dict(allocation.parameters),
        "arms": list(allocation.arms),
        "algorithm_version": allocation.algorithm_version,
        "trialkit_version": prov.trialkit_version,
        "csv_sha256": sha256_bytes(payload),
        "created_utc": prov.created_utc,
        "n_units": allocation.n_units,
        "versions": dict(prov.versions),
        "csv_file": csv_path.name,
        "spreadsheet_escaping": ESCAPING,
    }
    metadata = json.dumps(meta, indent=2, sort_keys=True) + "\n"
    try:  # one commit: the metadata, which read_allocation trusts, moves out first, in last
        commit(
            csv_path.parent,
            {csv_path.name: payload, meta_path.name: metadata.encode("utf-8")},
            last=meta_path.name,
            force=force,
            what="allocation",
            then=then,
        )
    except OSError as exc:
        raise write_failed(
            exc,
            csv_path,
            what="allocation",
            state="the allocation and its metadata are as they were",
        ) from None
    return csv_path


def _load_meta(csv_path: Path) -> dict[str, Any]:
    meta_path = metadata_path(csv_path)
    where = Location(file=str(meta_path))
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataValidationError(
            [
                Issue(
                    "the allocation's metadata file is missing",
                    where,
                    fix="keep the .json written beside the allocation CSV; re-randomise only "
                    "if the allocation was never used.",
                )
            ]
        ) from None
    except (OSError, ValueError) as exc:
        raise DataValidationError(
            [
                Issue(
                    f"cannot read the metadata: {exc}",
                    where,
                    fix="restore the file written by trialkit.",
                )
            ]
        ) from None
    if not isinstance(meta, dict):
        raise DataValidationError(
            [
                Issue(
                    f"the metadata is a JSON {type(meta).__name__}, not an object",
                    where,
                    fix="restore the metadata file written by trialkit.",
                )
            ]
        )
    need = ("scheme", "arms", "csv_sha256", "seed", "parameters", "algorithm_version")
    missing = [k for k in need if k not in meta]
    shapes = {"arms": list, "parameters": dict, "versions": dict}
    wrong = [k for k, kind in shapes.items() if k in meta and not isinstance(meta[k], kind)]
    if wrong:
        raise DataValidationError(
            [
                Issue(
                    f"the metadata's {', '.join(wrong)} {'is' if len(wrong) == 1 else 'are'} "
                    "not of the type trialkit writes",
                    where,
                    fix="restore the metadata file written by trialkit.",
                )
            ]
        )
    if missing or meta.get("scheme") not in get_args(SchemeName):
        raise DataValidationError(
            [
                Issue(
                    f"the metadata lacks {', '.join(missing) or 'a known scheme'}",
                    where,
                    fix="restore the metadata file written by trialkit.",
                )
            ]
        )
    return dict(meta)


def _row_issues(frame: pd.DataFrame, meta: dict[str, Any], source: str) -> list[Issue]:
    issues: list[Issue] = []
    row = frame.index.to_numpy() + 2  # header is row 1

    def flag(mask: Any, column: str, message: str, fix: str) -> None:
        for r, value in zip(row[mask][:20], frame[column].to_numpy()[mask][:20], strict=True):
            issues.append(
                Issue(
                    message.replace("{value}", str(value)),  # labels may hold braces
                    Location(file=source, row=int(r), column=column),
                    fix=fix,
                    value=str(value),
                )
            )

    ids = frame["unit_id"]
    flag((ids == "").to_numpy(), "unit_id", "unit id is empty", "restore the original file.")
    flag(
        ids.duplicated().to_numpy(),
        "unit_id",
        "unit id `{value}` appears more than once",
        "restore the original file.",
    )
    prob = pd.to_numeric(frame["probability"], errors="coerce").to_numpy()
    bad = ~((prob > 0) & (prob <= 1))
    flag(
        bad, "probability", "`{value}` is not a probability in (0, 1]", "restore the original file."
    )
    if meta["scheme"] == "stepped_wedge":
        steps = pd.to_numeric(frame["step"], errors="coerce").to_numpy()
        ok = np.isin(steps, np.arange(1, len(meta["arms"]) + 1))
        flag(~ok, "step", "`{value}` is not a step of this design", "restore the original file.")
    else:
        arms = [str(a) for a in meta["arms"]]
        for label in dict.fromkeys(frame["arm"][~frame["arm"].isin(arms)]):
            flag(
                (frame["arm"] == label).to_numpy(),
                "arm",
                f"`{{value}}` is not an arm of this allocation (its arms: {', '.join(arms)})."
                f"{did_you_mean(str(label), arms)}",
                "restore the original file.",
            )
    if meta["scheme"] == "matched_pairs":  # numbered 1, 2, …: at most one pair per unit
        pairs = pd.to_numeric(frame["pair"], errors="coerce").to_numpy()
        ok = np.isin(pairs, np.arange(1, len(frame) + 1))
        flag(
            ~ok,
            "pair",
            f"`{{value}}` is not a pair number (a whole number from 1 to {len(frame)})",
            "restore the original file.",
        )
    return issues


def read_allocation(path: PathLike) -> Allocation:
    """Read an allocation written by :func:`write_allocation`, checking it on the way.

    Raises
    ------
    DataValidationError
        With every problem found: missing metadata, a CSV changed since it was written
        (sha256), unexpected columns, or bad rows (located by row and column).
    """
    csv_path = Path(path)
    source = str(csv_path)
    meta = _load_meta(csv_path)
    try:
        digest = sha256_file(csv_path)
    except FileNotFoundError:
        raise DataValidationError(
            [Issue("file not found", Location(file=source), fix="check the path.")]
        ) from None
    if digest != meta["csv_sha256"]:
        raise DataValidationError(
            [
                Issue(
                    "the allocation has changed since it was written (its sha256 differs from the "
                    "metadata's)",
                    Location(file=source),
                    fix="restore the original allocation; never edit an allocation by hand.",
                )
            ]
        )
    try:
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(
            [
                Issue(
                    f"cannot read the allocation as CSV: {str(exc).strip()}",
                    Location(file=source),
                    fix="restore the original allocation; never edit an allocation by hand.",
                )
            ]
        ) from None
    if not isinstance(frame.index, pd.RangeIndex):  # pandas took the extra values as an index
        raise DataValidationError(
            [
                Issue(
                    "this row has more values than the header has column names",
                    Location(file=source, row=2),
                    fix="restore the original allocation; never edit an allocation by hand.",
                )
            ]
        )
    if meta.get("spreadsheet_escaping") == ESCAPING:  # absent in files written before it
        frame = frame.map(restore)
    extra = [c for c in ("step", "pair") if c in frame.columns]
    expected = [
        *COLUMNS,
        *(["step"] if meta["scheme"] == "stepped_wedge" else []),
        *(["pair"] if meta["scheme"] == "matched_pairs" else []),
    ]
    if list(frame.columns) != expected:
        raise DataValidationError(
            [
                Issue(
                    f"columns are {list(frame.columns)}, expected {expected}",
                    Location(file=source, row=1),
                    fix="restore the original allocation.",
                )
            ]
        )
    issues = _row_issues(frame, meta, source)
    if issues:
        raise DataValidationError(issues, header=f"{source}: {len(issues)} problem(s) found")

    def labels(column: str) -> Any:
        values = frame[column].to_numpy(dtype=object)
        return None if (values == "").all() else values

    prov = Provenance(
        protocol_hash=meta.get("protocol_hash"),
        seed=meta["seed"],
        trialkit_version=meta.get("trialkit_version", "unknown"),
        created_utc=meta.get("created_utc", ""),
        versions=tuple(sorted(meta.get("versions", {}).items())),
    )
    return Allocation(
        unit_id=frame["unit_id"].to_numpy(dtype=object),
        block=labels("block"),
        cluster=labels("cluster"),
        arm=frame["arm"].to_numpy(dtype=object),
        probability=frame["probability"].to_numpy(dtype=np.float64),
        step=frame["step"].to_numpy(dtype=np.int64) if "step" in extra else None,
        pair=pd.to_numeric(frame["pair"]).to_numpy(dtype=np.int64) if "pair" in extra else None,
        arms=tuple(meta["arms"]),
        scheme=meta["scheme"],
        parameters=MappingProxyType(dict(meta["parameters"])),
        algorithm_version=meta["algorithm_version"],
        provenance=prov,
    )

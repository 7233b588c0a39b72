"""The validate stage: check outcome data against the protocol and allocation in one pass.

``outcomes(protocol, allocation, data_paths)`` reads every file, finds which level each
holds, codes and checks every declared column, and either raises one
:class:`~trialkit.errors.DataValidationError` listing every blocking problem (located by
file, spreadsheet row and column) or returns a frozen :class:`TrialData`. Input files are
only read, never written.
"""

from __future__ import annotations

import hashlib
import mmap
import os
from collections.abc import Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit._core.destinations import write_failed
from trialkit._core.files import sha256_file
from trialkit._core.provenance import Provenance
from trialkit.errors import DataValidationError, Issue, Location, TrialkitError
from trialkit.protocol.model import Protocol
from trialkit.validate.allocation import (
    AllocationLike,
    allocation_frame,
    allocation_source,
    undeclared_arms,
)
from trialkit.validate.attrition import attrition_from
from trialkit.validate.consort import flows_from
from trialkit.validate.counting import Counter
from trialkit.validate.early import Early, ledger_people, start_early
from trialkit.validate.excel import error_issues, excel_located
from trialkit.validate.frames import code_level, is_date_column
from trialkit.validate.issues import write_issues
from trialkit.validate.layout import LevelSpec, assign_levels, id_columns, level_specs
from trialkit.validate.linking import (
    arm_issues,
    attach_allocation,
    missing_warnings,
    take_up_warnings,
    unit_positions,
)
from trialkit.validate.privacy import pseudonymise
from trialkit.validate.readers import RawTable, parquet_parts, read_table
from trialkit.validate.result import TrialData
from trialkit.validate.schema import check_frame, level_schema
from trialkit.validate.spending import LedgerKeys, SpendCheck, spend_check
from trialkit.validate.spending_data import LedgerSource, People, code_ledger
from trialkit.validate.summary import summary_lines
from trialkit.validate.survival import add_survival

PathLike = str | os.PathLike[str]


def _hashed_inputs(paths: Sequence[Path]) -> tuple[tuple[str, str], ...]:
    """Each data file's name and sha256; a folder of Parquet parts gives each part, named
    ``folder/part``, so that the provenance names every file the data came from."""
    found: list[tuple[str, str]] = []
    for path in paths:
        if path.is_dir():
            found += [(f"{path.name}/{part.name}", _sha256(part)) for part in parquet_parts(path)]
        elif path.is_file():
            found.append((path.name, _sha256(path)))
    return tuple(found)


def _sha256(path: Path) -> str:
    """:func:`~trialkit._core.files.sha256_file` of a data file, hashed where the system
    keeps its pages (mapped, not copied: the parser has just read them; on Linux mapped
    in one go)."""
    try:
        with open(path, "rb") as handle, _mapped(handle.fileno()) as pages:
            return hashlib.sha256(pages).hexdigest()
    except (OSError, ValueError):  # an empty file cannot be mapped, nor can some others
        return sha256_file(path)


def _mapped(fileno: int) -> mmap.mmap:
    """A read-only map of a whole file, its pages mapped up front where Linux can."""
    populate = getattr(mmap, "MAP_POPULATE", 0)
    if populate:
        return mmap.mmap(fileno, 0, flags=mmap.MAP_SHARED | populate, prot=mmap.PROT_READ)
    return mmap.mmap(fileno, 0, access=mmap.ACCESS_READ)


def _read_all(paths: Sequence[Path], ids: frozenset[str]) -> tuple[list[RawTable], list[Issue]]:
    tables: list[RawTable] = []
    issues: list[Issue] = []
    for path in paths:
        try:
            table = read_table(path, id_columns=ids, keep_problems=True)
            tables.append(table)
            issues.extend(table.problems)
        except DataValidationError as exc:
            issues.extend(exc.issues)
    return tables, issues


def _check_level(
    table: RawTable,
    spec: LevelSpec,
    protocol: Protocol,
    allocation: pd.DataFrame,
    positions: NDArray[np.int64],
    early: Early,
) -> tuple[pd.DataFrame, list[Issue]]:
    coded, issues = code_level(table, spec, protocol)
    coded, survival_issues = add_survival(coded, table, spec, protocol)
    issues += survival_issues
    dates = [
        c
        for c in table.frame.columns
        if c not in spec.own_dates and is_date_column(c, table.frame[c])
    ]
    schema, rules = level_schema(
        spec,
        protocol,
        allocated=allocation["unit_id"],
        columns=coded.columns,
        date_columns=dates,
        unit_found=pd.Series(positions >= 0, index=coded.index, copy=False),
        id_duplicated=early.duplicated_ids(spec.name, coded.index),
    )
    issues += check_frame(
        coded,
        schema,
        rules,
        file=table.name,
        raw=table.frame,
        id_column=spec.id_column,
        period=spec.period,
    )
    if protocol.design.type != "stepped_wedge":
        issues += arm_issues(
            table.frame, spec, allocation, positions, file=table.name, unit_name=protocol.units.name
        )
    issues += missing_warnings(coded, spec, file=table.name)
    issues += take_up_warnings(
        coded,
        spec,
        allocation,
        positions,
        protocol.control.id,
        file=table.name,
        unit_name=protocol.units.name,
    )
    return coded, issues


def _no_rows(table: RawTable, spec: LevelSpec) -> list[Issue]:
    """A file with a header but no rows: an error when it holds a primary outcome."""
    if len(table.frame):
        return []
    primary = [o.name for o in spec.outcomes if o.role == "primary"]
    what = (
        f"the primary outcome(s) {', '.join(primary)} of level `{spec.name}` are not measured"
        if primary
        else f"level `{spec.name}` has nothing to check"
    )
    return [
        Issue(
            f"has a header but no rows: {what}",
            Location(file=table.name, row=2),
            fix="export the file again with its rows, or leave it out if the level was not "
            "measured.",
            severity="error" if primary else "warning",
        )
    ]


def _check_levels(
    found: dict[str, RawTable],
    specs: Sequence[LevelSpec],
    protocol: Protocol,
    allocation: pd.DataFrame,
    early: Early,
) -> tuple[dict[str, pd.DataFrame], dict[str, NDArray[np.int64]], list[Issue], LedgerKeys | None]:
    """Code and check every level's file; each row's unit position in the allocation; the
    spend ledger's client and unit codes."""
    coded: dict[str, pd.DataFrame] = {}
    positions: dict[str, NDArray[np.int64]] = {}
    issues: list[Issue] = []
    keys: LedgerKeys | None = None
    for spec in specs:
        if spec.name not in found:
            continue
        raw = found[spec.name].frame
        located = early.units.get(spec.name)
        positions[spec.name] = (
            located()
            if located is not None
            else unit_positions(raw[spec.unit_column], allocation)
            if spec.unit_column in raw.columns
            else np.full(len(raw), -1, dtype=np.int64)
        )
        coded[spec.name], level_issues = _check_level(
            found[spec.name], spec, protocol, allocation, positions[spec.name], early
        )
        issues += _no_rows(found[spec.name], spec) + level_issues
        if spec.ledger_dates:
            source = _ledger_source(found, spec, protocol, allocation, positions[spec.name], early)
            coded[spec.name], ledger_issues, keys = code_ledger(coded[spec.name], source, protocol)
            issues += ledger_issues
    return coded, positions, issues, keys


def _ledger_source(
    found: dict[str, RawTable],
    spec: LevelSpec,
    protocol: Protocol,
    allocation: pd.DataFrame,
    positions: NDArray[np.int64],
    early: Early,
) -> LedgerSource:
    """The spend ledger's file, each spend's arm, and the worker and client ids it names
    (with each spend's position among them, where found early)."""
    codes, arms = pd.factorize(allocation["arm"])
    table = found[spec.name]

    def people(name: str | None, role: str) -> People | None:
        located = early.people.get(role)
        return located() if located else ledger_people(found, protocol, name, role)

    spending = protocol.spending
    assert spending is not None
    return LedgerSource(
        file=table.name,
        raw=table.frame,
        unit=positions,
        arm=np.append(codes, -1).astype(np.int64)[positions],
        arm_names=tuple(str(a) for a in arms),
        workers=people(spending.worker_level, "worker"),
        clients=people(spending.client_level, "client"),
        distinct=early.distinct,
        blank=early.blank,
    )


def _spending(
    protocol: Protocol,
    frames: dict[str, pd.DataFrame],
    found: dict[str, RawTable],
    *,
    pseudonymised: bool,
    keys: LedgerKeys | None,
) -> SpendCheck | None:
    """The ledger's compliance findings, when the protocol declares one and it was given."""
    spending = protocol.spending
    if spending is None or spending.level not in frames:
        return None
    file = found[spending.level].name
    return spend_check(
        protocol, frames[spending.level], file=file, pseudonymised=pseudonymised, keys=keys
    )


def _pseudonymised(
    frame: pd.DataFrame, spec: LevelSpec, protocol: Protocol, key: bytes
) -> pd.DataFrame:
    """Ids replaced by keyed pseudonyms; the ledger's worker and client ids too, so that
    they still match the staff and client frames' pseudonyms."""
    columns = [spec.id_column]
    if spec.ledger_dates and protocol.spending is not None:
        named = (protocol.spending.columns.worker, protocol.spending.columns.client)
        columns += [c for c in named if c in frame.columns]
    return pseudonymise(frame, columns, key=key)


def _received(
    frames: dict[str, pd.DataFrame], spec: LevelSpec, control: str
) -> frozenset[str] | None:
    """Units that received their allocated arm, read from the take-up column.

    Take-up is receipt of the intervention (1) or not (0): a unit of an intervention arm
    received its arm when take-up is 1, a control unit when it is 0.
    """
    frame = frames.get(spec.name)
    if spec.take_up is None or frame is None or spec.take_up not in frame.columns:
        return None
    took = frame[spec.take_up]
    got = ((frame["arm"] != control) & (took == 1)) | ((frame["arm"] == control) & (took == 0))
    return frozenset(str(u) for u in frame.loc[got.fillna(False), spec.id_column])


def outcomes(
    protocol: Protocol,
    allocation: AllocationLike,
    data_paths: Sequence[PathLike],
    *,
    pseudonymise_key: bytes | None = None,
) -> TrialData:
    """Validate outcome data against the protocol and the allocation.

    Parameters
    ----------
    protocol
        The registered protocol.
    allocation
        An ``Allocation``, the allocation CSV's path, or a DataFrame in its columns.
    data_paths
        Data files (``.csv``, ``.xlsx``, ``.dta``, ``.sav``, ``.parquet``); which level
        each holds is decided by its id columns.
    pseudonymise_key
        If given, ids of measurement levels (clients, staff, …) are replaced by keyed
        HMAC-SHA256 pseudonyms in the result. The key is never written anywhere.

    Returns
    -------
    TrialData
        Analysis-ready frames, attrition, CONSORT flows, warnings and provenance.

    Raises
    ------
    DataValidationError
        With every blocking problem found, each located by file, row and column.
    """
    specs = level_specs(protocol)
    alloc = allocation_frame(allocation)
    paths = [Path(p) for p in data_paths]
    tables, issues = _read_all(paths, id_columns(specs))
    arms = [arm.id for arm in protocol.arms]
    issues = undeclared_arms(alloc, arms, source=allocation_source(allocation)) + issues
    # A background thread sorts and looks up the largest files' ids (early.py), then hashes
    # the files, while the main thread checks: Arrow, pandas' hash tables and hashlib release
    # the GIL, so this work costs no time on a second core. (Not while parsing: pandas
    # parses a big CSV on every core, and another thread only slows its slowest part down.)
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return _checked(protocol, alloc, specs, paths, tables, issues, pool, pseudonymise_key)
    finally:  # work no longer needed once a check failed is dropped
        pool.shutdown(wait=True, cancel_futures=True)


def _checked(
    protocol: Protocol,
    alloc: pd.DataFrame,
    specs: Sequence[LevelSpec],
    paths: Sequence[Path],
    tables: list[RawTable],
    issues: list[Issue],
    pool: Executor,
    pseudonymise_key: bytes | None,
) -> TrialData:
    """The rest of :func:`outcomes`, on the files as read; ``pool`` runs background work."""
    found, layout_issues = assign_levels(tables, specs)
    early = start_early(found, specs, protocol, pool, alloc)
    hashing = pool.submit(_hashed_inputs, paths)
    coded, positions, level_issues, keys = _check_levels(found, specs, protocol, alloc, early)
    issues += layout_issues + _excel_errors(tables, found, specs) + level_issues
    issues = _excel_located(issues, tables)
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        counts, lines = summary_lines(issues)
        raise DataValidationError(
            [*errors, *(i for i in issues if i.severity != "error")],
            header=f"{counts} in the outcome data; nothing was changed.",
            text="\n".join(lines),
        )
    frames = {
        s.name: attach_allocation(coded[s.name], s, alloc, positions[s.name])
        for s in specs
        if s.name in coded
    }
    unit = next(s for s in specs if s.is_unit)
    took_up = _received(frames, unit, protocol.control.id)
    if pseudonymise_key is not None:
        for spec in specs:
            if not spec.is_unit and spec.name in frames:
                frames[spec.name] = _pseudonymised(
                    frames[spec.name], spec, protocol, pseudonymise_key
                )
    counter = Counter(
        protocol,
        frames,
        alloc,
        took_up,
        {s.name: positions[s.name] for s in specs if not s.is_unit and s.name in positions},
    )
    spending = _spending(
        protocol, frames, found, pseudonymised=pseudonymise_key is not None, keys=keys
    )
    return TrialData(
        frames=MappingProxyType(frames),
        ordinal_labels=MappingProxyType(
            {o.name: tuple(o.levels) for o in protocol.outcomes if o.type == "ordinal"}
        ),
        attrition=attrition_from(protocol, counter),
        flows=flows_from(protocol, counter),
        warnings=tuple(issues),
        provenance=Provenance(protocol_hash=protocol.content_hash(), inputs=hashing.result()),
        spending=spending,
    )


def _excel_errors(
    tables: Sequence[RawTable], found: dict[str, RawTable], specs: Sequence[LevelSpec]
) -> list[Issue]:
    """Excel error values (``#DIV/0!``): errors in the columns a level needs."""
    needed = {id(found[s.name]): set(s.required) for s in specs if s.name in found}
    issues: list[Issue] = []
    for table in tables:
        if table.cell_errors:
            issues += error_issues(
                table.cell_errors,
                [str(c) for c in table.frame.columns],
                file=table.name,
                sheet=table.sheet,
                needed=needed.get(id(table), set(table.frame.columns)),
            )
    return issues


def _excel_located(issues: list[Issue], tables: Sequence[RawTable]) -> list[Issue]:
    """Issues in Excel workbooks located by sheet name and column letter."""
    sheets = {
        t.name: (t.sheet, [str(c) for c in t.frame.columns]) for t in tables if t.sheet is not None
    }
    return excel_located(issues, sheets) if sheets else issues


#: The same verb under a longer name.
validate_data = outcomes


def validate_files(
    protocol_path: PathLike,
    allocation_path: PathLike,
    data_paths: Sequence[PathLike],
    report_path: PathLike | None = None,
    *,
    force: bool = False,
) -> TrialData:
    """Load the protocol, validate the data files, and write ``issues.csv`` if asked.

    The issues table (errors, warnings and the spend ledger's compliance findings) is
    written to ``report_path`` whether or not validation passes, before any error is raised.
    For the CLI: a :class:`DataValidationError` means exit status 2.

    Parameters
    ----------
    protocol_path, allocation_path
        The protocol YAML and the allocation CSV.
    data_paths
        The outcome data files.
    report_path
        Where to write the issues table, or ``None``.
    force
        Replace an existing issues table.

    Returns
    -------
    TrialData
        The validated data.

    Raises
    ------
    DataValidationError
        With every blocking problem.
    """
    from trialkit.protocol import load_protocol

    protocol = load_protocol(Path(protocol_path))
    try:
        data = outcomes(protocol, allocation_path, data_paths)
    except DataValidationError as exc:
        if report_path is not None:
            try:
                write_issues(exc.issues, report_path, force=force)
            except (TrialkitError, OSError) as unwritten:  # never hide the data's problems
                raise DataValidationError(
                    exc.issues,
                    text=str(exc),
                    header=(
                        f"{unwritten} (The issues table was not written; the data's problems "
                        "follow.)"
                    ),
                ) from None
        raise
    if report_path is not None:
        findings = data.spending.issues() if data.spending is not None else ()
        try:
            write_issues([*data.warnings, *findings], report_path, force=force)
        except OSError as exc:
            raise write_failed(
                exc,
                report_path,
                what="issues table",
                option="--report",
                state="the data are valid; nothing was written",
            ) from None
    return data

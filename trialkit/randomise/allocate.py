"""The randomise stage: read the units, declare the protocol's scheme, and allocate."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pandas as pd

from trialkit._core.inputs import NOT_FOUND, not_regular
from trialkit._core.rng import RawStream
from trialkit._core.spreadsheet import escaped_by_trialkit, restore_frame
from trialkit.errors import DataValidationError, Issue, Location
from trialkit.protocol.model import Protocol
from trialkit.randomise import _checks
from trialkit.randomise.allocation import Allocation, build_allocation
from trialkit.randomise.schemes import (
    SCHEMES,
    MatchedPairs,
    Rerandomisation,
    Scheme,
    SteppedWedge,
)
from trialkit.randomise.units import Units

_SOURCE = "source"  # key in DataFrame.attrs naming the file the units came from


def read_units(path: str | os.PathLike[str], protocol: Protocol | None = None) -> pd.DataFrame:
    """Read a units CSV as text, and check it against ``protocol``'s design if given.

    Every cell is read as text (ids such as ``007`` keep their zeros). The file name is
    kept in ``frame.attrs["source"]`` so later checks can name it.

    Parameters
    ----------
    path
        A CSV file with a header row and one row per unit.
    protocol
        When given, the checks of :func:`check_units` run too.

    Returns
    -------
    pandas.DataFrame
        The units, one row per unit, in file order.

    Raises
    ------
    DataValidationError
        With every problem found, each located by file, row (header = row 1) and column.
    """
    source = str(path)
    problem = not_regular(path)
    if problem is not None and problem[0] != NOT_FOUND:
        raise DataValidationError([Issue(problem[0], Location(file=source), fix=problem[1])])
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
        frame = pd.read_csv(
            path, dtype=str, keep_default_na=False, skipinitialspace=True, encoding="utf-8-sig"
        )
    except FileNotFoundError:
        raise DataValidationError(
            [
                Issue(
                    "file not found", Location(file=source), fix="check the path of the units file."
                )
            ]
        ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataValidationError(
            [
                Issue(
                    f"cannot read the file as CSV: {str(exc).strip()}",
                    Location(file=source),
                    fix="save the units as CSV (UTF-8) with a header row.",
                )
            ]
        ) from None
    if escaped_by_trialkit(Path(path)):  # simulated units: cells read as drawn
        restore_frame(frame)
    frame.attrs[_SOURCE] = source
    issues: list[Issue] = []
    if not isinstance(frame.index, pd.RangeIndex):  # pandas took the extra values as an index
        issues.append(
            Issue(
                "this row has more values than the header has column names",
                Location(file=source, row=2),
                fix="remove the extra values, or name their columns in the header row.",
            )
        )
    if frame.empty:
        issues.append(
            Issue(
                "the file has no units",
                Location(file=source),
                fix="add one row per unit below the header.",
            )
        )
    issues += [
        Issue(
            "this column has no name",
            Location(file=source, row=1, column=str(c)),
            fix="give every column a name in the header row.",
        )
        for c in frame.columns
        if str(c).startswith("Unnamed:")
    ]
    names = [name.strip() for name in header]
    issues += [
        Issue(
            "this column name appears more than once",
            Location(file=source, row=1, column=name),
            fix="give every column a different name.",
        )
        for name in sorted({n for n in names if n and names.count(n) > 1})
    ]
    if issues:
        raise DataValidationError(issues, header=f"{source}: {len(issues)} problem(s) found")
    if protocol is not None:
        check_units(protocol, frame)
    return frame


def _covariate_columns(protocol: Protocol) -> tuple[str, ...]:
    d = protocol.design
    if d.scheme == "matched_pairs":
        return tuple(d.pair_on)
    if d.scheme == "rerandomisation" and d.rerandomisation is not None:
        return tuple(d.rerandomisation.covariates)
    return ()


def _ratios(protocol: Protocol) -> tuple[int, ...]:
    return tuple(arm.ratio for arm in protocol.arms)


def check_units(protocol: Protocol, units: pd.DataFrame) -> None:
    """Check a units table against the protocol's design; raise once with every issue.

    Finds missing columns, empty or duplicated ids, missing block or cluster labels, a
    cluster spread over two blocks, covariates that are missing or not numbers, and blocks
    too small for the arms.

    Raises
    ------
    DataValidationError
        With every problem, located by file, row (header = row 1) and column.
    """
    d, source = protocol.design, str(units.attrs.get(_SOURCE, "units"))
    frame = units.reset_index(drop=True)
    id_col, covs = protocol.units.id_column, _covariate_columns(protocol)
    needed = [(id_col, "units.id_column")]
    needed += [(c, "design.block_columns") for c in d.block_columns]
    needed += [(d.cluster_column, "design.cluster_column")] if d.cluster_column else []
    field = "design.pair_on" if d.scheme == "matched_pairs" else "design.rerandomisation"
    needed += [(c, field) for c in covs]
    issues = _checks.missing_columns(frame, needed, source)
    if not issues:
        issues = _row_issues(protocol, frame, source, covs)
    if issues:
        raise DataValidationError(issues, header=f"{source}: {len(issues)} problem(s) found")


def _row_issues(
    protocol: Protocol, frame: pd.DataFrame, source: str, covs: tuple[str, ...]
) -> list[Issue]:
    d = protocol.design
    issues = _checks.id_issues(frame[protocol.units.id_column], protocol.units.id_column, source)
    issues += _checks.blank_issues(frame, d.block_columns, "block", source)
    cluster = d.cluster_column
    if cluster:
        issues += _checks.blank_issues(frame, [cluster], "cluster", source)
    issues += _checks.numeric_issues(frame, covs, source)
    if not d.block_columns:
        return issues
    labelled = ~_checks.blank(frame[cluster]) if cluster else pd.Series(True, frame.index)
    for column in d.block_columns:
        labelled &= ~_checks.blank(frame[column])
    rows = frame[labelled]
    blocks = pd.Series(
        Units.from_frame(
            rows, id_column=protocol.units.id_column, block_columns=d.block_columns
        ).blocks,
        index=rows.index,
        dtype=object,
    )
    spread: list[Issue] = []
    if cluster:
        clusters = rows[cluster].astype(str).str.strip()
        spread = _checks.spread_issues(blocks, clusters, d.block_columns[0], source)
    ru = rows[cluster] if cluster else rows[protocol.units.id_column]
    if not spread and d.scheme in ("blocked", "blocked_cluster", "rerandomisation"):
        issues += _checks.block_size_issues(
            blocks,
            ru,
            _ratios(protocol),
            " / ".join(d.block_columns),
            "clusters" if cluster else "units",
            source,
        )
    return issues + spread


def declare(protocol: Protocol, units: pd.DataFrame) -> Scheme:
    """The protocol's scheme declared on ``units`` (checked), sorted by unit id.

    The declaration knows every unit's probabilities and can redraw assignments, e.g. for
    randomisation inference; its units are in the order of :class:`Allocation`'s rows.

    Raises
    ------
    DataValidationError
        If the units do not fit the design (see :func:`check_units`).
    """
    check_units(protocol, units)
    d = protocol.design
    frame = units.copy()
    frame[protocol.units.id_column] = frame[protocol.units.id_column].astype(str).str.strip()
    for column in (*d.block_columns, *([d.cluster_column] if d.cluster_column else [])):
        frame[column] = frame[column].astype(str).str.strip()
    frame = frame.sort_values(protocol.units.id_column, kind="stable").reset_index(drop=True)
    blocks = d.block_columns if d.scheme != "cluster" else ()
    table = Units.from_frame(
        frame,
        id_column=protocol.units.id_column,
        block_columns=blocks,
        cluster_column=d.cluster_column,
        covariates=_covariate_columns(protocol),
    )
    if d.scheme == "matched_pairs":
        return MatchedPairs(table)
    if d.scheme == "stepped_wedge" and d.stepped_wedge is not None:
        return SteppedWedge(table, steps=d.stepped_wedge.steps)
    if d.scheme == "rerandomisation" and d.rerandomisation is not None:
        rr = d.rerandomisation
        return Rerandomisation(
            table, ratios=_ratios(protocol), acceptance=rr.acceptance, max_draws=rr.max_draws
        )
    return SCHEMES[d.scheme](table, ratios=_ratios(protocol))


def allocate(protocol: Protocol, units: pd.DataFrame, *, seed: int | None = None) -> Allocation:
    """Randomise ``units`` to the protocol's arms with its scheme.

    The same units (in any row order) and seed give a byte-identical allocation CSV.

    Parameters
    ----------
    protocol
        The pilot protocol; its design names the scheme, blocks, clusters and seed.
    units
        One row per unit, e.g. from :func:`read_units`.
    seed
        The seed of the raw stream; defaults to the protocol's registered seed.

    Returns
    -------
    Allocation
        Each unit's arm and probability, sorted by unit id, with provenance.

    Raises
    ------
    DataValidationError
        If the units do not fit the design (every problem, located).
    RandomisationError
        If the scheme cannot be realised, e.g. rerandomisation cannot meet its criterion.
    """
    scheme = declare(protocol, units)
    seed = protocol.seed if seed is None else seed
    assignment = scheme.draw(RawStream(seed))
    if isinstance(scheme, SteppedWedge):
        arm_ids: tuple[str, ...] = tuple(a.id for a in protocol.arms if not a.control)
    else:
        arm_ids = tuple(a.id for a in protocol.arms)
    return build_allocation(
        scheme, assignment, arm_ids=arm_ids, seed=seed, protocol_hash=protocol.content_hash()
    )

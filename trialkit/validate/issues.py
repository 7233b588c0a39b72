"""Located issues: build them from masks of bad rows, and write them as a table.

Rows are counted as a spreadsheet user sees them: the header is row 1, so the frame's
row ``i`` (from 0) is row ``i + 2``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit._core.destinations import check_destination
from trialkit._core.files import atomic_write, ensure_absent
from trialkit._core.spreadsheet import frame_csv
from trialkit.errors import Issue, Location, Severity

#: At most this many rows are listed for one rule in one column; the rest are counted.
MAX_ROWS_PER_RULE = 1000

#: Columns of ``issues.csv``, in order.
ISSUE_COLUMNS = ("severity", "file", "row", "column", "value", "expected", "message", "fix")


def sheet_row(index: int) -> int:
    """The spreadsheet row of the frame's row ``index`` (header = row 1)."""
    return int(index) + 2


def show(value: object) -> str:
    """A value as the user typed it, for messages: whole floats lose their ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def rows_issues(
    mask: NDArray[np.bool_] | pd.Series,
    values: pd.Series,
    *,
    file: str,
    column: str,
    message: Callable[[str], str],
    fix: str,
    expected: str | None = None,
    severity: Severity = "error",
) -> list[Issue]:
    """One issue per flagged row (up to :data:`MAX_ROWS_PER_RULE`, then one summary).

    Parameters
    ----------
    mask
        True where the row breaks the rule.
    values
        The column's values as read (its index gives the row).
    file, column
        Where the problem is.
    message
        Builds the message from the value's text.
    fix, expected, severity
        Copied to each issue.
    """
    flagged = np.flatnonzero(np.asarray(mask, dtype=bool))
    if flagged.size == 0:
        return []
    index = values.index.to_numpy()
    raw = values.to_numpy()
    issues = [
        Issue(
            message(show(raw[i])),
            Location(file=file, row=sheet_row(index[i]), column=column),
            fix=fix,
            severity=severity,
            value=show(raw[i]),
            expected=expected,
        )
        for i in flagged[:MAX_ROWS_PER_RULE]
    ]
    rest = flagged.size - MAX_ROWS_PER_RULE
    if rest > 0:
        issues.append(
            Issue(
                f"{rest:,} more rows have the same problem (not listed one by one).",
                Location(file=file, column=column),
                fix=fix,
                severity=severity,
                expected=expected,
            )
        )
    return issues


def issues_frame(issues: Iterable[Issue]) -> pd.DataFrame:
    """Issues as a table with the columns of :data:`ISSUE_COLUMNS`: errors, warnings, then
    the spend ledger's compliance findings.

    Examples
    --------
    >>> issues_frame([Issue("bad", Location(file="a.csv", row=3, column="x"))])["row"].tolist()
    [3]
    """
    records = [
        {
            "severity": i.severity,
            "file": i.location.file,
            "row": i.location.row,
            "column": i.location.column,
            "value": i.value,
            "expected": i.expected,
            "message": i.message,
            "fix": i.fix,
        }
        for i in issues
    ]
    frame = pd.DataFrame.from_records(records, columns=list(ISSUE_COLUMNS))
    frame["row"] = frame["row"].astype("Int64")
    order = frame["severity"].map({"error": 0, "warning": 1, "finding": 2})
    return frame.iloc[np.argsort(order.to_numpy(), kind="stable")].reset_index(drop=True)


def write_issues(
    issues: Iterable[Issue], path: str | os.PathLike[str], *, force: bool = False
) -> Path:
    """Write issues as CSV (``issues.csv``), atomically; refuse to overwrite another file
    unless ``force`` (an issues table written before, e.g. by an earlier run, is replaced).

    A value such as ``=HYPERLINK(…)`` is written with a leading ``'`` so that a spreadsheet
    shows it as text (:func:`trialkit._core.spreadsheet.neutralise`).

    Parameters
    ----------
    issues
        The issues to write.
    path
        Destination CSV.
    force
        Replace an existing file that is not an issues table.

    Returns
    -------
    Path
        The path written.
    """
    text = frame_csv(issues_frame(issues))
    own = force or is_issues_table(path)
    return atomic_write(path, text, force=own, what="issues table")


def check_report_path(
    path: str | os.PathLike[str],
    *,
    inputs: Iterable[str | os.PathLike[str]] = (),
    force: bool = False,
) -> None:
    """Refuse, before any validation, an issues table path :func:`write_issues` would refuse
    or fail on: an input, a directory, a device, a link leaving its directory, an
    unwritable place, or (without ``force``) a file that is not an issues table.

    Raises
    ------
    TrialkitError
        As :func:`trialkit._core.destinations.check_destination`.
    OverwriteError
        If ``path`` is another file and ``force`` is false.
    """
    check_destination(path, inputs=inputs, what="issues table")
    if not force and not is_issues_table(path):
        ensure_absent(
            path,
            what="file (it is not an issues table)",
            fix="choose another path with --report, or pass --force to replace it.",
        )


def is_issues_table(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is an issues table trialkit wrote (its header is exactly
    :data:`ISSUE_COLUMNS`), which a re-run may replace without ``force``."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            header = file.readline()
    except (FileNotFoundError, IsADirectoryError):
        return False
    return header.strip().lstrip("\ufeff") == ",".join(ISSUE_COLUMNS)

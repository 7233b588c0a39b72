"""Excel locations and error values: column letters, and cells holding ``#DIV/0!`` & co.

An Excel error value is a formula that failed; spreadsheet readers give it as an empty
cell, so without this check a ``#DIV/0!`` outcome would pass as a missing value.
"""

from __future__ import annotations

import zipfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from trialkit.errors import Issue, Location

#: The marker of an error cell in a worksheet's XML (``<c r="C14" t="e">``).
_ERROR_MARK = b't="e"'
_CHUNK = 1 << 20


def column_letter(index: int) -> str:
    """The spreadsheet letter of the column at ``index`` (from 0).

    Examples
    --------
    >>> [column_letter(i) for i in (0, 2, 25, 26, 27, 701, 702)]
    ['A', 'C', 'Z', 'AA', 'AB', 'ZZ', 'AAA']
    """
    letters = ""
    n = index + 1
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def has_error_cells(path: Path) -> bool:
    """Whether any worksheet of the workbook holds an error cell (a fast scan of its XML)."""
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
                continue
            with book.open(name) as sheet:
                tail = b""
                while chunk := sheet.read(_CHUNK):
                    if _ERROR_MARK in tail + chunk:
                        return True
                    tail = chunk[-len(_ERROR_MARK) :]
    return False


def excel_errors(path: Path) -> tuple[tuple[int, int, str], ...]:
    """Error cells of the first worksheet as ``(row, column index from 0, error text)``."""
    import openpyxl  # type: ignore[import-untyped]

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        found = []
        for cells in book.worksheets[0].iter_rows():
            for cell in cells:
                if getattr(cell, "data_type", None) == "e":
                    found.append((int(cell.row), int(cell.column) - 1, str(cell.value)))
        return tuple(found)
    finally:
        book.close()


def error_issues(
    errors: Sequence[tuple[int, int, str]],
    columns: Sequence[str],
    *,
    file: str,
    sheet: str | None,
    needed: Collection[str],
) -> list[Issue]:
    """One issue per Excel error cell below the header: an error in a column the protocol
    needs, a warning in any other column."""
    issues = []
    for row, index, error in errors:
        if row < 2:
            continue
        column = columns[index] if index < len(columns) else None
        needs = column in needed
        issues.append(
            Issue(
                f"the cell holds the Excel error {error} (a formula that failed), so its "
                "value is unknown" + ("." if needs else "; the protocol does not use this column."),
                Location(
                    file=file, row=row, column=column, sheet=sheet, letter=column_letter(index)
                ),
                fix="correct the formula or type the value in Excel and save the workbook; "
                "leave the cell empty if the value is truly missing.",
                severity="error" if needs else "warning",
                value=error,
            )
        )
    return issues


def excel_located(
    issues: Sequence[Issue], sheets: Mapping[str, tuple[str | None, Sequence[str]]]
) -> list[Issue]:
    """Issues in Excel files given their sheet name and their column's letter.

    ``sheets`` maps a file name to its sheet name and its column headings, in order.
    """
    letters = {
        file: (sheet, {str(c): column_letter(i) for i, c in enumerate(columns)})
        for file, (sheet, columns) in sheets.items()
    }
    located = []
    for issue in issues:
        where = issue.location
        known = letters.get(where.file or "")
        if known is None or where.sheet is not None:
            located.append(issue)
            continue
        sheet, by_column = known
        letter = by_column.get(where.column) if where.column is not None else None
        located.append(replace(issue, location=replace(where, sheet=sheet, letter=letter)))
    return located

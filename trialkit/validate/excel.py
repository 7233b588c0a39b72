"""Excel locations and error values: column letters, and cells holding ``#DIV/0!`` & co.

An Excel error value is a formula that failed; spreadsheet readers give it as an empty
cell, so without this check a ``#DIV/0!`` outcome would pass as a missing value.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from trialkit._core.inputs import MB, SHEET_CELLS, SHEET_ROWS, WORKBOOK_MB, Limit
from trialkit.errors import DataValidationError, Issue, Location

#: The marker of an error cell in a worksheet's XML (``<c r="C14" t="e">``).
_ERROR_MARK = b't="e"'
_CHUNK = 1 << 20
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_RID = re.compile(rb'\b\w+:id="([^"]*)"')
_RELATION = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_TARGET = re.compile(rb'\bTarget="([^"]*)"')
_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*)>(.*?)</(?:\w+:)?c>", re.S)
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</")
#: The end of a row: ``</row>``, or an empty row ``<row r="5"/>``.
_ROW_END = re.compile(rb"</(?:\w+:)?row>|<(?:\w+:)?row\b[^>]*/>")
#: The worksheet's root element, with its namespace prefix if it has one (``<x:worksheet``).
_ROOT = re.compile(rb"<(\w+:)?worksheet\b")


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


def _first_sheet(book: zipfile.ZipFile) -> str | None:
    """The path inside the workbook of its first worksheet's XML, or ``None``."""
    try:
        workbook, rels = book.read("xl/workbook.xml"), book.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    sheet = _SHEET.search(workbook)
    rid = _RID.search(sheet.group(0)) if sheet else None
    if rid is None:
        return None
    for relation in _RELATION.finditer(rels):
        attributes = relation.group(0)
        if re.search(rb'\bId="' + re.escape(rid.group(1)) + rb'"', attributes):
            target = _TARGET.search(attributes)
            if target is None:
                return None
            name = target.group(1).decode("utf-8")
            return name.lstrip("/") if name.startswith("/") else f"xl/{name}"
    return None


def _column_index(letters: bytes) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + (letter - ord("A") + 1)
    return index - 1


def _errors_in(part: bytes) -> list[tuple[int, int, str]]:
    found = []
    for cell in _CELL.finditer(part):
        attributes = cell.group(1)
        if _ERROR_MARK not in attributes:
            continue
        ref, value = _REF.search(attributes), _VALUE.search(cell.group(2))
        if ref is not None:
            text = html.unescape(value.group(1).decode("utf-8")) if value else "#VALUE!"
            found.append((int(ref.group(2)), _column_index(ref.group(1)), text))
    return found


def excel_errors(path: Path) -> tuple[tuple[int, int, str], ...]:
    """Error cells of the first worksheet as ``(row, column index from 0, error text)``.

    One pass over the sheet's XML, a megabyte at a time; only parts holding an error cell
    are searched, so a workbook without errors costs one decompression. The same pass
    counts the sheet's rows and cells, so a workbook over the size, row or cell limits
    (:mod:`trialkit._core.inputs`) is refused before any spreadsheet parser reads it.

    Raises
    ------
    DataValidationError
        When the workbook unzips past ``TRIALKIT_MAX_WORKBOOK_MB``, or its first sheet has
        more rows than ``TRIALKIT_MAX_SHEET_ROWS`` or more cells than
        ``TRIALKIT_MAX_SHEET_CELLS``.
    """
    with zipfile.ZipFile(path) as book:
        _refuse(
            path,
            WORKBOOK_MB,
            sum(i.file_size for i in book.infolist()) / MB,
            "check this is the data file",
        )
        name = _first_sheet(book)
        if name is None or name not in book.namelist():
            return _errors_by_openpyxl(path)
        found: list[tuple[int, int, str]] = []
        rows, most = 0, SHEET_ROWS.value()
        cells, most_cells, marks = 0, SHEET_CELLS.value(), None
        with book.open(name) as sheet:
            pending = b""
            while chunk := sheet.read(_CHUNK):
                data = pending + chunk
                if marks is None:
                    marks = _cell_marks(data)
                cut = data.rfind(b"row>")
                if cut < 0:
                    pending = data
                    continue
                rows += len(_ROW_END.findall(data, 0, cut + 4))
                if rows > most:
                    _refuse(path, SHEET_ROWS, rows, "split the data over several files")
                cells += sum(data.count(mark, 0, cut + 4) for mark in marks)
                if cells > most_cells:
                    _refuse(path, SHEET_CELLS, cells, "save the sheet as CSV (read at any size)")
                if _ERROR_MARK in data[:cut]:
                    found += _errors_in(data[:cut])
                pending = data[cut + 4 :]
            if _ERROR_MARK in pending:
                found += _errors_in(pending)
    return tuple(found)


def _cell_marks(start: bytes) -> tuple[bytes, ...]:
    """How a cell element opens in this sheet (``<c r=...>``, ``<c>``, ``<c/>``), with the
    namespace prefix of its root element."""
    root = _ROOT.search(start)
    prefix = (root.group(1) or b"") if root else b""
    return tuple(b"<" + prefix + b"c" + end for end in (b" ", b">", b"/>"))


def _refuse(path: Path, limit: Limit, amount: float, advice: str) -> None:
    problem = limit.exceeded(amount)
    if problem is not None:
        raise DataValidationError(
            [Issue(problem, Location(file=str(path)), fix=f"{advice}, {limit.fix()}")]
        )


def _errors_by_openpyxl(path: Path) -> tuple[tuple[int, int, str], ...]:
    """:func:`excel_errors` for a workbook whose first sheet cannot be found by its XML."""
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

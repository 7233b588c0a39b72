"""The results as an Excel workbook: a README sheet, then one sheet per results table.

The tables are :func:`~trialkit.report.sheets.results_tables`: the typed rows of the results
document, numbers as numbers. Text that a spreadsheet would read as a formula (it begins
with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, e.g. a unit id ``=1+2``) is
stored as a literal string with Excel's quote prefix, so opening the file never runs it.
The same results give the same bytes: the file's dates are the results' creation time.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from typing import Any

from trialkit import __version__
from trialkit.analyse.document import ResultsDocument
from trialkit.report.sheets import Cell, Table, results_tables
from trialkit.report.trail import LedgerEvidence, evidence_trail

#: Leading characters a spreadsheet treats as the start of a formula (OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Characters an XML worksheet cannot hold (openpyxl refuses them).
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_WIDTH = (8, 60)


def render_workbook(
    doc: ResultsDocument, *, source: str = "results.json", ledger: LedgerEvidence | None = None
) -> bytes:
    """The results as ``.xlsx`` bytes: a README sheet, then one sheet per results table.

    Parameters
    ----------
    doc
        The results document (``results.json``).
    source
        Where the results were read from, named in the README sheet.
    ledger
        The check of the pilot's ledger (``report --ledger``), worded in the README sheet
        as in the HTML report's evidence trail.

    Returns
    -------
    bytes
        The workbook, byte-identical for the same results and trialkit version.
    """
    from openpyxl import Workbook  # type: ignore[import-untyped]

    tables = results_tables(doc)
    book = Workbook()
    readme = book.active
    readme.title = "README"
    _write(
        readme,
        ("item", "value"),
        _readme_rows(doc, tables, source) + _trail_rows(ledger),
        widths=(28, 100),
    )
    _wrap(readme["B"])
    for table in tables:
        _write(book.create_sheet(table.name), table.header, table.rows)
    created = _created(doc.provenance.created_utc)
    book.properties.creator = f"trialkit {__version__}"
    book.properties.title = f"Results: {doc.protocol.identity.title}"
    book.properties.created = book.properties.modified = created
    return _save(book)


def _readme_rows(doc: ResultsDocument, tables: list[Table], source: str) -> list[tuple[Cell, ...]]:
    prov, reg = doc.provenance, doc.registration
    rows: list[tuple[Cell, ...]] = [
        ("Trial", doc.protocol.identity.title),
        ("Written by", f"trialkit {__version__} (`trialkit report --format xlsx`)"),
        ("Generated from", source),
        ("Results created (UTC)", prov.created_utc),
        ("Analysed with trialkit", prov.trialkit_version),
        ("Protocol hash (sha256)", prov.protocol_hash),
        ("Seed of the allocation", prov.seed),
        (
            "Registration",
            f"registered {reg.registered_utc}, protocol hash {reg.protocol_hash}"
            if reg.registered
            else "not pre-registered",
        ),
        (
            "How to read",
            "One sheet per results table, one row per result; numbers are "
            "not rounded for display (the HTML report rounds them); an empty cell is a number "
            "the analysis left undefined. Columns use the names of results.json (`trialkit schema "
            "--results`).",
        ),
    ]
    if doc.spending is not None:
        rows.append(("Money", f"Spending sheets are in {doc.spending.currency}."))
    rows += [(f"Sheet: {t.name}", f"{t.about} ({_rows(len(t.rows))})") for t in tables]
    rows += [("Warning", text) for text in doc.warnings]
    rows += [("Note", text) for text in doc.notes]
    return rows


def _trail_rows(ledger: LedgerEvidence | None) -> list[tuple[Cell, ...]]:
    """The evidence trail, worded as in the HTML report's provenance section."""
    trail = evidence_trail(ledger)
    rows: list[tuple[Cell, ...]] = [("Evidence trail", trail.status)]
    rows += [("Evidence trail", text) for text in (trail.intro, trail.verdict) if text]
    rows += [(f"Finding: {f.title}", f.text) for f in trail.findings]
    rows += [("Signatures", trail.signatures)] if trail.signatures else []
    rows += [("Anchored head", trail.anchor)] if trail.anchor else []
    rows += list(trail.rows)
    rows += [("Not checked", text) for text in trail.not_checked]
    return rows


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _write(
    sheet: Any, header: tuple[str, ...], rows: Any, widths: tuple[int, ...] | None = None
) -> None:
    from openpyxl.styles import Font  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sizes = [len(h) for h in header]
    for row in rows:
        sheet.append([_value(v) for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str) and cell.value.startswith(FORMULA_START):
                cell.data_type = "s"  # openpyxl took it for a formula
                cell.quotePrefix = True
        sizes = [
            max(s, len(str(v)) if v is not None else 0) for s, v in zip(sizes, row, strict=True)
        ]
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, size in enumerate(sizes, start=1):
        width = widths[index - 1] if widths else min(max(size + 2, _WIDTH[0]), _WIDTH[1])
        sheet.column_dimensions[get_column_letter(index)].width = width


def _wrap(cells: Any) -> None:
    """Long text wraps inside its column (the README's explanations)."""
    from openpyxl.styles import Alignment

    for cell in cells:
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _value(value: Cell) -> Cell:
    return _ILLEGAL.sub("\ufffd", value) if isinstance(value, str) else value


def _created(stamp: str) -> datetime:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        return datetime(1980, 1, 1)


def _save(book: Any) -> bytes:
    """Write the workbook with fixed zip timestamps (openpyxl's ``save`` stamps "now")."""
    from openpyxl.writer.excel import ExcelWriter  # type: ignore[import-untyped]

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as raw:
        ExcelWriter(book, raw).write_data()
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()

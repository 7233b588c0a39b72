"""The report in each output format: HTML (the default), PDF printed from that HTML, or an
Excel workbook of the results tables.

The format modules are imported only when asked for, so rendering HTML costs nothing more.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from trialkit.analyse.document import ResultsDocument
from trialkit.errors import TrialkitError

if TYPE_CHECKING:
    from trialkit.report.trail import LedgerEvidence

#: The formats ``trialkit report --format`` writes.
ReportFormat = Literal["html", "pdf", "xlsx"]
REPORT_FORMATS: tuple[ReportFormat, ...] = get_args(ReportFormat)


#: The file name suffixes a report in each format may have (compared case-insensitively).
REPORT_SUFFIXES: dict[ReportFormat, tuple[str, ...]] = {
    "html": (".html", ".htm"),
    "pdf": (".pdf",),
    "xlsx": (".xlsx",),
}
_KINDS: dict[ReportFormat, str] = {
    "html": "an HTML page",
    "pdf": "a PDF",
    "xlsx": "an Excel workbook",
}


def check_report_name(path: Path, format: ReportFormat) -> None:
    """Refuse a file name whose suffix disagrees with ``format`` (a PDF named ``.html``).

    A reader's computer picks the program from the suffix, so a PDF under an ``.html``
    name opens as garbage in a browser.

    Raises
    ------
    trialkit.errors.TrialkitError
        If the suffix is not one of ``REPORT_SUFFIXES[format]``; the message names the
        format the suffix belongs to, if any, and the name that would do.

    Examples
    --------
    >>> check_report_name(Path("out/Report.PDF"), "pdf")
    >>> check_report_name(Path("report.html"), "pdf")
    Traceback (most recent call last):
    ...
    trialkit.errors.TrialkitError: report.html: --format pdf writes a PDF, ...
    """
    suffix = path.suffix.lower()
    if suffix in REPORT_SUFFIXES[format]:
        return
    other = next((f for f, names in REPORT_SUFFIXES.items() if suffix in names), None)
    name = f"ends {path.suffix}" if suffix else "has no suffix"
    fix = f"--out {path.with_suffix(REPORT_SUFFIXES[format][0])}"
    raise TrialkitError(
        f"{path}: --format {format} writes {_KINDS[format]}, but the name {name}, so it "
        "would open in the wrong program. Fix: name the file with "
        + (f"{fix}, or pass --format {other} for {_KINDS[other]}." if other else f"{fix}.")
    )


def default_report_name(format: ReportFormat) -> str:
    """The file written when no ``--out`` is given: ``report.html``, ``.pdf`` or ``.xlsx``."""
    return f"report.{format}"


def render_output(
    doc: ResultsDocument,
    format: ReportFormat,
    *,
    source: str = "results.json",
    ledger: LedgerEvidence | None = None,
) -> str | bytes:
    """The report of ``doc`` in ``format``: HTML text, or PDF or workbook bytes.

    Parameters
    ----------
    doc
        The results document.
    format
        One of :data:`REPORT_FORMATS`.
    source
        Where the results were read from (named in the workbook's README sheet).
    ledger
        The check of the pilot's ledger, shown in the report's provenance section (and
        the workbook's README sheet).

    Raises
    ------
    trialkit.errors.TrialkitError
        For a PDF, when no browser is found or printing fails.
    """
    from trialkit.report.render import render_report

    if format == "xlsx":
        from trialkit.report.workbook import render_workbook

        return render_workbook(doc, source=source, ledger=ledger)
    html = render_report(doc, ledger=ledger)
    if format == "pdf":
        from trialkit.report.pdf import print_pdf

        return print_pdf(html)
    return html

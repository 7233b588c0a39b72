"""The report in each output format: HTML (the default), PDF printed from that HTML, or an
Excel workbook of the results tables.

The format modules are imported only when asked for, so rendering HTML costs nothing more.
"""

from __future__ import annotations

from typing import Literal, get_args

from trialkit.analyse.document import ResultsDocument

#: The formats ``trialkit report --format`` writes.
ReportFormat = Literal["html", "pdf", "xlsx"]
REPORT_FORMATS: tuple[ReportFormat, ...] = get_args(ReportFormat)


def default_report_name(format: ReportFormat) -> str:
    """The file written when no ``--out`` is given: ``report.html``, ``.pdf`` or ``.xlsx``."""
    return f"report.{format}"


def render_output(
    doc: ResultsDocument, format: ReportFormat, *, source: str = "results.json"
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

    Raises
    ------
    trialkit.errors.TrialkitError
        For a PDF, when no browser is found or printing fails.
    """
    from trialkit.report.render import render_report

    if format == "xlsx":
        from trialkit.report.workbook import render_workbook

        return render_workbook(doc, source=source)
    html = render_report(doc)
    if format == "pdf":
        from trialkit.report.pdf import print_pdf

        return print_pdf(html)
    return html

"""The results workbook: one sheet per results table after a README sheet, the values of the
typed results document (unrounded), literal text where a spreadsheet would see a formula,
and the same bytes for the same results."""

from __future__ import annotations

import io
import typing
import zipfile
from typing import Any, get_args, get_origin

import openpyxl
import pytest
from pydantic import BaseModel

from trialkit import __version__
from trialkit.analyse import ResultsDocument
from trialkit.analyse.spending_rows import SpendFindingRow
from trialkit.report.output import REPORT_FORMATS, ReportFormat, default_report_name
from trialkit.report.sheets import SHEETS, SPECIAL, results_tables
from trialkit.report.workbook import render_workbook

# Document fields that are not results tables: what made the results (the README sheet
# says it) and sections whose own fields are the tables.
NOT_TABLES = {"protocol", "provenance", "registration"}
SECTIONS = {"flow", "bayesian", "spending"}


@pytest.fixture(scope="module")
def doc(council_run: Any) -> ResultsDocument:
    """Results of the flagship from the real pipeline, Bayesian plan included."""
    return council_run.results


@pytest.fixture(scope="module")
def book(doc: ResultsDocument) -> Any:
    return openpyxl.load_workbook(io.BytesIO(render_workbook(doc, source="pilot/results")))


def _same(cell: Any, value: Any) -> bool:
    """A cell holds the value; openpyxl writes floats to 16 significant digits."""
    if isinstance(value, float):
        return bool(cell == pytest.approx(value, rel=1e-15, abs=0))
    return bool(cell == value)


def _records(sheet: Any) -> list[dict[str, Any]]:
    header, *rows = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in rows]


def _row_models(annotation: Any) -> type[BaseModel] | None:
    """The row model of a field holding rows (``tuple[Row, ...]`` or ``Row | None``)."""
    for arg in (annotation, *get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        if get_origin(arg) is tuple:
            inner = get_args(arg)[0]
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                return inner
    return None


def _tables(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Dotted paths of every field of ``model`` (recursively) that holds result rows."""
    found = set()
    hints = typing.get_type_hints(model)
    for name in model.model_fields:
        row = _row_models(hints[name])
        path = f"{prefix}{name}"
        if row is None or path in NOT_TABLES:
            continue
        if path in SECTIONS:
            found |= _tables(row, f"{path}.")
        else:
            found.add(path)
            found |= {p for p in _tables(row, f"{path}.") if p.count(".") > path.count(".")}
    return found


def test_every_table_of_the_results_document_has_a_sheet() -> None:
    sources = {s.source for s in SHEETS}
    special = [field for field, _, _ in SPECIAL]  # their builders lay out the whole field
    missing = {
        p
        for p in _tables(ResultsDocument)
        if p not in sources and not any(p == f or p.startswith(f"{f}.") for f in special)
    }
    assert not missing, f"results tables without a sheet: {sorted(missing)}"


def test_readme_first_then_one_sheet_per_table(book: Any, doc: ResultsDocument) -> None:
    names = [t.name for t in results_tables(doc)]
    assert book.sheetnames == ["README", *names]
    assert len(set(book.sheetnames)) == len(book.sheetnames)
    for name in (
        "Effects",
        "Balance",
        "Flow",
        "Attrition",
        "Subgroups",
        "Power",
        "Posteriors",
        "Decisions",
        "Spend take-up",
        "Spend findings",
    ):
        assert name in names, name
    assert book["Effects"].max_row - 1 == len(doc.estimates)
    assert book["Balance"].max_row - 1 == len(doc.balance)
    assert doc.flow is not None and book["Flow"].max_row - 1 == len(doc.flow.arms)
    assert book["Posteriors"].max_row - 1 == len(doc.bayesian.posteriors)
    assert doc.spending is not None
    assert book["Spend findings"].max_row - 1 == len(doc.spending.findings)
    assert book["Decision conditions"].max_row - 1 == sum(
        len(d.conditions) for d in doc.bayesian.decisions
    )


def test_effects_are_the_typed_estimates_unrounded(book: Any, doc: ResultsDocument) -> None:
    rows = _records(book["Effects"])
    assert [(r["outcome"], r["arm"], r["estimand"]) for r in rows] == [
        (e.outcome, e.arm, e.estimand) for e in doc.estimates
    ]
    for row, est in zip(rows, doc.estimates, strict=True):
        for field in (
            "estimate",
            "std_error",
            "p_value",
            "ci_low",
            "ci_high",
            "p_adjusted",
            "n_obs",
            "n_clusters",
            "df",
        ):
            assert _same(row[field], getattr(est, field)), (est.outcome, field)
        assert row["adjusted_for"] == (", ".join(est.adjusted_for) or None)


def test_balance_flow_posteriors_and_spending_values(book: Any, doc: ResultsDocument) -> None:
    for row, bal in zip(_records(book["Balance"]), doc.balance, strict=True):
        for arm, mean in bal.means.items():
            assert _same(row[f"means_{arm}"], mean), (bal.covariate, arm)
            assert row[f"n_{arm}"] == bal.n[arm]
        assert _same(row["std_diff"], bal.std_diff)
    assert doc.flow is not None
    for row, arm in zip(_records(book["Flow"]), doc.flow.arms, strict=True):
        assert (row["outcome"], row["arm"]) == (doc.flow.outcome, arm.arm)
        assert row["individuals_analysed"] == arm.individuals_analysed
    for row, post in zip(_records(book["Posteriors"]), doc.bayesian.posteriors, strict=True):
        for field in ("mean", "p_benefit", "ci_low", "r_hat"):
            assert _same(row[field], getattr(post, field)), (post.outcome, field)
        assert "draws_sample" not in row
    assert doc.spending is not None
    for row, sev in zip(_records(book["Spend severity"]), doc.spending.severity, strict=True):
        assert row["verdict"] == sev.verdict
        assert _same(row["rate_ci_low"], sev.rate_ci[0])
        assert _same(row["rate_ci_high"], sev.rate_ci[1])


def test_header_bold_frozen_and_widths(book: Any) -> None:
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert all(cell.font.bold for cell in sheet[1]), sheet.title
        widths = [sheet.column_dimensions[c.column_letter].width for c in sheet[1]]
        assert all(8 <= w <= 100 for w in widths), (sheet.title, widths)


def test_readme_names_version_hash_seed_source_and_sheets(book: Any, doc: ResultsDocument) -> None:
    readme = dict(book["README"].iter_rows(min_row=2, values_only=True))
    assert readme["Protocol hash (sha256)"] == doc.provenance.protocol_hash
    assert readme["Seed of the allocation"] == doc.provenance.seed
    assert readme["Generated from"] == "pilot/results"
    assert readme["Written by"].startswith(f"trialkit {__version__}")
    assert readme["Analysed with trialkit"] == doc.provenance.trialkit_version
    assert {k.removeprefix("Sheet: ") for k in readme if k.startswith("Sheet: ")} == set(
        book.sheetnames[1:]
    )


def test_text_that_looks_like_a_formula_stays_text(doc: ResultsDocument) -> None:
    assert doc.spending is not None and doc.spending.findings
    evil = {
        "unit": "=1+2",
        "spend_id": "+SUM(A1:A9)",
        "worker": "@cmd",
        "file": "-2+3",
        "message": '\t=HYPERLINK("http://x")',
    }
    finding: SpendFindingRow = doc.spending.findings[0].model_copy(update=evil)
    spending = doc.spending.model_copy(update={"findings": (finding,)})
    data = render_workbook(doc.model_copy(update={"spending": spending}))
    sheet = openpyxl.load_workbook(io.BytesIO(data))["Spend findings"]
    row = _records(sheet)[0]
    for column, text in evil.items():
        assert row[column] == text, column
    for cell in sheet[2]:
        assert cell.data_type != "f", (cell.coordinate, cell.value)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
        assert not any(b"<f>" in archive.read(n) for n in names)


def test_same_results_same_bytes(doc: ResultsDocument) -> None:
    assert render_workbook(doc) == render_workbook(doc)


def test_cli_formats_are_the_report_formats() -> None:
    from trialkit import cli

    assert get_args(cli.ReportFormat) == get_args(ReportFormat) == REPORT_FORMATS
    assert [default_report_name(f) for f in REPORT_FORMATS] == [
        "report.html",
        "report.pdf",
        "report.xlsx",
    ]

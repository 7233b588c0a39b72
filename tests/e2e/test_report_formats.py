"""`trialkit report --format pdf|xlsx` on the flagship's results from the real pipeline.

The PDF test needs a browser (``$TRIALKIT_CHROMIUM``, chromium, chromium-browser or
google-chrome) and is skipped without one; it prints the page count. Without a browser the
command stops with a user error that says what to install or set.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from trialkit.cli import app
from trialkit.errors import TrialkitError
from trialkit.report.pdf import CHROMIUM_ENV, find_chromium
from trialkit.report.sheets import results_tables

runner = CliRunner()


@pytest.fixture(scope="module")
def results_dir(council_run: Any) -> Path:
    """The results directory the session's pipeline run wrote (simulate → analyse)."""
    return Path(council_run.report).parent / "results"


def _chromium() -> Path | None:
    try:
        return find_chromium()
    except TrialkitError:
        return None


def test_xlsx_default_name_one_sheet_per_table_and_no_overwrite(
    results_dir: Path, council_run: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, ["report", str(results_dir), "--format", "xlsx"])
    assert done.exit_code == 0, done.output
    assert "wrote report.xlsx" in done.output
    book = openpyxl.load_workbook(tmp_path / "report.xlsx")
    assert book.sheetnames == ["README", *(t.name for t in results_tables(council_run.results))]
    again = runner.invoke(app, ["report", str(results_dir), "--format", "xlsx"])
    assert again.exit_code == 2 and "refusing to overwrite" in again.output
    assert "Traceback" not in again.output
    forced = runner.invoke(app, ["report", str(results_dir), "--format", "xlsx", "--force"])
    assert forced.exit_code == 0, forced.output


def test_html_stays_the_default(
    results_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, ["report", str(results_dir)])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "report.html").read_text("utf-8").startswith("<!DOCTYPE html>")


def test_no_browser_is_a_user_error_with_a_fix(
    results_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CHROMIUM_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no browser on it
    out = tmp_path / "report.pdf"
    done = runner.invoke(app, ["report", str(results_dir), "--format", "pdf", "--out", str(out)])
    assert done.exit_code == 2
    assert "none was found" in done.output and "Fix: install Chromium" in done.output
    assert CHROMIUM_ENV in done.output and "--format html" in done.output
    assert "Traceback" not in done.output and isinstance(done.exception, SystemExit)
    assert not out.exists()


@pytest.mark.browser
def test_pdf_of_the_report_opens_tagged_on_a4(results_dir: Path, tmp_path: Path) -> None:
    if _chromium() is None:
        pytest.skip(f"needs Chromium (set {CHROMIUM_ENV} or put chromium on PATH)")
    out = tmp_path / "report.pdf"
    done = runner.invoke(app, ["report", str(results_dir), "--format", "pdf", "--out", str(out)])
    assert done.exit_code == 0, done.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:  # poppler absent: count page objects instead
        pages, tagged = len(re.findall(rb"/Type\s*/Page(?!s)", data)), b"/MarkInfo" in data
    else:
        info = subprocess.run([pdfinfo, str(out)], capture_output=True, text=True, check=True)
        fields = dict(re.findall(r"^([^:]+):\s*(.*)$", info.stdout, re.M))
        pages, tagged = int(fields["Pages"]), fields.get("Tagged") == "yes"
        assert "(A4)" in fields["Page size"]
        assert fields["Title"].startswith("Results report")
    print(f"report.pdf: {pages} A4 pages, tagged: {tagged}, {len(data) // 1024} KiB")
    assert 3 <= pages <= 30, f"the report prints on {pages} pages"
    assert tagged, "the PDF is not tagged for screen readers"
    assert b"/Outlines" in data, "the PDF has no outline (bookmarks) from the headings"

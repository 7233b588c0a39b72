"""`trialkit report --out NAME` refuses a name whose suffix disagrees with --format.

The check comes before the results are read, so an empty results directory is enough.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialkit.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("format", "name", "fix"),
    [
        ("pdf", "x.html", "Fix: name the file with --out {dir}/x.pdf, or pass --format html"),
        ("pdf", "x.xlsx", "Fix: name the file with --out {dir}/x.pdf, or pass --format xlsx"),
        ("xlsx", "x.html", "Fix: name the file with --out {dir}/x.xlsx, or pass --format html"),
        ("xlsx", "x.pdf", "Fix: name the file with --out {dir}/x.xlsx, or pass --format pdf"),
        ("html", "x.pdf", "Fix: name the file with --out {dir}/x.html, or pass --format pdf"),
        ("pdf", "x.txt", "Fix: name the file with --out {dir}/x.pdf."),
        ("xlsx", "report", "Fix: name the file with --out {dir}/report.xlsx."),
    ],
)
def test_a_suffix_that_disagrees_with_the_format_is_refused(
    tmp_path: Path, format: str, name: str, fix: str
) -> None:
    out = tmp_path / name
    done = runner.invoke(app, ["report", str(tmp_path), "--format", format, "--out", str(out)])
    assert done.exit_code == 2, done.output
    assert f"{out}: --format {format} writes " in done.output
    assert fix.format(dir=tmp_path) in done.output
    assert "Traceback" not in done.output and not out.exists()


@pytest.mark.parametrize(
    ("format", "name"), [("pdf", "Report.PDF"), ("html", "r.htm"), ("xlsx", "r.XLSX")]
)
def test_a_suffix_that_agrees_passes_on_to_reading_the_results(
    tmp_path: Path, format: str, name: str
) -> None:
    done = runner.invoke(
        app, ["report", str(tmp_path), "--format", format, "--out", str(tmp_path / name)]
    )
    assert done.exit_code == 2 and "writes" not in done.output  # no results.json here
    assert "results.json" in done.output

"""`trialkit report --ledger` shows the ledger's check in the report's provenance section.

Real pipeline (the session's council run: simulate → register → randomise → analyse →
report --ledger); then outcome data are changed and the analysis re-run, or the units
randomised again, and the report made again with the ledger.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from trialkit.cli import app
from trialkit.report.trail import CHECKED, FINDING_TITLES

runner = CliRunner()


@pytest.fixture()
def pilot(council_run: Any, tmp_path: Path) -> Path:
    """A copy of the council run's workspace (its ledger names files relative to it)."""
    return Path(shutil.copytree(Path(council_run.report).parent, tmp_path / "pilot"))


def _provenance(html: str) -> str:
    """The provenance section: from its heading to the next top-level section."""
    start = html.index('<h2 id="provenance"')
    end = html.find('<h2 id="plan"', start)
    return html[start : end if end > 0 else None]


def _facts(html: str) -> str:
    return html[html.index('<dl class="facts">') : html.index("</dl>")]


def _seqs(pilot: Path, action: str) -> list[int]:
    rows = [json.loads(line) for line in (pilot / "ledger.jsonl").read_text().splitlines()]
    return [int(r["seq"]) for r in rows if r["action"] == action]


def _report(pilot: Path, *options: str) -> Result:
    ledger = str(pilot / "ledger.jsonl")
    return runner.invoke(app, ["report", str(pilot / "results"), "--ledger", ledger, *options])


def test_a_clean_run_says_the_checks_ran_and_found_nothing(council_run: Any) -> None:
    section = _provenance(council_run.html)
    assert 'data-trail="clean"' in section and "data-finding" not in section
    assert f"The checks ran and found nothing to report: {CHECKED}." in section
    assert "What these checks cannot see:" in section and "checked with --head" in section
    analysed = _seqs(Path(council_run.report).parent, "analyse")
    assert f'Ledger entry of these results</th><td class="hash">{analysed[-1]}<' in section
    assert "(details)" not in _facts(council_run.html)  # a link, not text
    assert "entries): nothing found" in _facts(council_run.html)


def test_outcome_data_changed_then_reanalysed_is_named_in_the_provenance_section(
    pilot: Path,
) -> None:
    team = pilot / "data" / "team.csv"
    header, first, *rest = team.read_text().splitlines()
    unit, value, *others = first.split(",")
    team.write_text("\n".join([header, ",".join([unit, f"{float(value) + 10}", *others]), *rest]))
    data = [arg for p in sorted((pilot / "data").glob("*.csv")) for arg in ("--data", str(p))]
    rerun = runner.invoke(
        app,
        [
            "analyse",
            str(pilot / "protocol.yaml"),
            "--allocation",
            str(pilot / "allocation.csv"),
            *data,
            "--registration",
            str(pilot / "registration"),
            "--out",
            str(pilot / "results"),
            "--no-bayes",
            "--force",
            "--ledger",
            str(pilot / "ledger.jsonl"),
        ],
    )
    assert rerun.exit_code == 0, rerun.output
    first_run, last_run = _seqs(pilot, "analyse")
    done = _report(pilot, "--out", str(pilot / "report.html"), "--force")
    assert done.exit_code == 0, done.output
    title = FINDING_TITLES["outcome_data_changed"]
    assert f"evidence trail: checked when this report was made ({last_run} entries): " in (
        done.output
    )
    assert f"{title.lower()} (see the report's provenance section)" in done.output
    html = (pilot / "report.html").read_text("utf-8")
    section = _provenance(html)
    assert 'data-trail="findings"' in section
    assert "The checks found 1 finding an evaluator should ask about" in section
    assert (
        f"<strong>{title}.</strong> Entry {last_run} (analyse) read data/team.csv with " in section
    )
    assert f"the first analysis (entry {first_run}) read" in section
    assert f"The results in this report are those recorded by entry {last_run}." in section
    assert "<strong>checked when this report was made" in _facts(html)
    assert title.lower() in _facts(html)
    book = _report(pilot, "--format", "xlsx", "--out", str(pilot / "report.xlsx"))
    assert book.exit_code == 0, book.output
    readme = dict(
        openpyxl.load_workbook(pilot / "report.xlsx")["README"].iter_rows(values_only=True)
    )
    assert f"Entry {last_run} (analyse) read data/team.csv" in readme[f"Finding: {title}"]


def test_units_randomised_again_after_the_analysis_are_named(pilot: Path) -> None:
    again = runner.invoke(
        app,
        [
            "randomise",
            str(pilot / "protocol.yaml"),
            "--units",
            str(pilot / "units.csv"),
            "--out",
            str(pilot / "allocation.csv"),
            "--seed",
            "7",
            "--force",
            "--ledger",
            str(pilot / "ledger.jsonl"),
        ],
    )
    assert again.exit_code == 0, again.output
    draws, (analysed,) = _seqs(pilot, "randomise"), _seqs(pilot, "analyse")
    done = _report(pilot, "--out", str(pilot / "again.html"))
    assert done.exit_code == 0, done.output
    section = _provenance((pilot / "again.html").read_text("utf-8"))
    assert f"<strong>{FINDING_TITLES['rerandomised']}.</strong>" in section
    assert f"Entry {draws[-1]} drew a different allocation (allocation.csv" in section
    assert (
        f"from the one entry {draws[-2]} drew, after the analysis in entry {analysed}." in section
    )


def test_without_a_ledger_the_section_says_the_trail_was_not_checked(
    pilot: Path, tmp_path: Path
) -> None:
    out = tmp_path / "plain.html"
    done = runner.invoke(app, ["report", str(pilot / "results"), "--out", str(out)])
    assert done.exit_code == 0, done.output
    section = _provenance(out.read_text("utf-8"))
    assert 'data-trail="not-checked"' in section
    assert "The evidence trail was not checked" in section and "--ledger ledger.jsonl" in section
    key = runner.invoke(
        app, ["report", str(pilot / "results"), "--out", str(out), "--public-key", "k.pub"]
    )
    assert key.exit_code == 2 and "Fix: add --ledger ledger.jsonl" in key.output

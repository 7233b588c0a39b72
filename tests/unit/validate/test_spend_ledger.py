"""The spend ledger as a data level: one located finding per broken rule, one located error
per data error, findings kept apart from errors and never dropping a row (issue 14)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import numpy as np
import pandas as pd
import pytest
from spend_ledgers import (
    CLIENTS_PER_TEAM,
    DATA_ERRORS,
    STAFF_PER_TEAM,
    data_errors,
    every_rule,
)
from validate_frames import Writer, make_allocation, make_clients, make_spend, make_staff

from trialkit import validate
from trialkit.errors import DataValidationError
from trialkit.protocol.model import Protocol
from trialkit.protocol.vocabulary import SpendRule
from trialkit.validate import SpendCheck, TrialData


def _validate(protocol: Protocol, write_data: Writer, spend: pd.DataFrame) -> TrialData:
    paths = write_data(
        make_clients(CLIENTS_PER_TEAM), staff=make_staff(STAFF_PER_TEAM), spend=spend
    )
    return validate.outcomes(protocol, make_allocation(), paths)


Expected = dict[str, tuple[int, str]]


@pytest.fixture
def every_rule_data(protocol: Protocol, write_data: Writer) -> tuple[TrialData, Expected]:
    ledger, expected = every_rule()
    return _validate(protocol, write_data, ledger), expected


def _check(data: TrialData) -> SpendCheck:
    assert data.spending is not None
    return data.spending


def test_clean_ledger_has_no_finding(protocol: Protocol, write_data: Writer) -> None:
    data = validate.outcomes(protocol, make_allocation(), write_data())
    check = _check(data)
    assert check.findings == ()
    assert check.spends == len(make_spend()) and check.files == ("spend.csv",)
    assert set(check.rules) == set(get_args(SpendRule))  # the flagship gives every limit


def test_every_rule_gives_exactly_one_located_finding(every_rule_data) -> None:  # type: ignore[no-untyped-def]
    data, expected = every_rule_data
    found = {f.rule: (f.row, f.column) for f in _check(data).findings}
    assert len(_check(data).findings) == len(expected) == len(get_args(SpendRule))
    assert found == expected


def test_findings_never_drop_rows(every_rule_data) -> None:  # type: ignore[no-untyped-def]
    data, _ = every_rule_data
    ledger, _ = every_rule()
    assert len(data.frame("spend")) == len(ledger)
    assert data.frame("spend")["spend_id"].tolist() == ledger["spend_id"].tolist()
    assert not any(w.severity == "finding" for w in data.warnings)


def test_finding_messages_give_the_numbers(every_rule_data) -> None:  # type: ignore[no-untyped-def]
    data, _ = every_rule_data
    by_rule = {f.rule: f for f in _check(data).findings}
    cap = by_rule["cap_per_client"]
    assert (cap.limit, cap.value, cap.amount, cap.period) == (300.0, 320.0, 40.0, None)
    assert cap.message == (
        "this £40 spend takes the total spent on client C0061 by 2027-05-14 to £320, over "
        "the £300 cap per client for the pilot."
    )
    month = by_rule["cap_per_client_per_period"]
    assert (month.limit, month.value, month.period) == (150.0, 160.0, "2027-06")
    worker = by_rule["cap_per_worker_per_period"]
    assert (worker.limit, worker.value, worker.period) == (1500.0, 1650.0, "2027-07")
    assert re.fullmatch(r"W\d+", worker.worker or "")  # a pseudonym, not the staff id
    assert "by worker W" in worker.message and "S030" not in worker.message
    unit = by_rule["cap_per_unit_per_period"]
    assert (unit.limit, unit.value, unit.unit) == (6000.0, 6110.0, "T08")
    assert "by team T08 in 2027-08 to £6,110, over the £6,000 cap per team per month" in (
        unit.message
    )
    late = by_rule["late_justification"]
    assert (late.limit, late.value) == (5.0, 7.0)
    assert "justified 7 working days after the spend (2027-06-01 to 2027-06-10)" in late.message
    control = by_rule["control_arm_spend"]
    assert (control.arm, control.unit) == ("usual", "T01")
    assert "cash" in by_rule["excluded_category"].message


def test_coded_ledger_columns(every_rule_data) -> None:  # type: ignore[no-untyped-def]
    data, _ = every_rule_data
    frame = data.frame("spend")
    assert frame["amount"].dtype == np.float64 and frame["loss"].dtype == np.float64
    assert frame["spent_on"].dtype == "datetime64[ns]"
    assert frame["justified_on"].dtype == "datetime64[ns]"
    assert frame["justified_on"].isna().sum() == 1
    assert frame["review_verdict"].isna().sum() == 1
    assert set(frame["review_verdict"].dropna()) == {"appropriate"}
    assert frame["period"].iloc[0] == "2027-03"
    days = frame["working_days_to_justify"]
    assert days.dtype == np.float64 and days.isna().sum() == 1
    assert {"arm", "block", "cluster", "probability"} <= set(frame.columns)


def test_working_days_skip_easter_bank_holidays(every_rule_data) -> None:  # type: ignore[no-untyped-def]
    data, _ = every_rule_data
    frame = data.frame("spend")
    easter = frame[frame["spent_on"] == pd.Timestamp("2027-03-24")].iloc[0]
    # By hand: Thu 25 (1), Good Friday 26, weekend, Easter Monday 29, Tue 30 (2),
    # Wed 31 (3), Thu 1 April (4).
    assert easter["working_days_to_justify"] == 4
    weekdays = np.busday_count("2027-03-25", "2027-04-02")  # without the holidays
    assert weekdays == 6 and weekdays > 5  # it would be late if holidays counted


def test_summary_counts_findings_by_rule(every_rule_data) -> None:  # type: ignore[no-untyped-def]
    data, _ = every_rule_data
    check = _check(data)
    assert check.counts() == dict.fromkeys(get_args(SpendRule), 1)
    text = check.summary(shown=3)
    assert text.startswith("Compliance findings (results, not errors): 9 in ")
    assert "… and 6 more" in text
    assert "cap_per_client" in data.summary()


def test_data_errors_are_located_one_each(protocol: Protocol, write_data: Writer) -> None:
    ledger = data_errors()
    with pytest.raises(DataValidationError) as caught:
        _validate(protocol, write_data, ledger)
    errors = sorted(
        (i for i in caught.value.issues if i.severity == "error"),
        key=lambda i: i.location.row or 0,
    )
    first = len(ledger) - len(DATA_ERRORS) + 2  # spreadsheet row of the first bad spend
    assert len(errors) == len(DATA_ERRORS), [str(e) for e in errors]
    for k, (what, _, column, pattern) in enumerate(DATA_ERRORS):
        error = errors[k]
        assert error.location.file == "spend.csv", what
        assert (error.location.row, error.location.column) == (first + k, column), what
        assert re.search(pattern, error.message), (what, error.message)
        assert error.fix, what


def _located_errors(issues) -> list[tuple[int | None, str | None]]:  # type: ignore[no-untyped-def]
    return [(i.location.row, i.location.column) for i in issues if i.severity == "error"]


def test_missing_ledger_column_is_an_error(protocol: Protocol, write_data: Writer) -> None:
    with pytest.raises(
        DataValidationError,
        match=r'the column "justification" is missing.*'
        r"spending.columns.justification",
    ) as caught:
        _validate(protocol, write_data, make_spend().drop(columns=["justification"]))
    assert _located_errors(caught.value.issues) == [(1, "justification")]


def test_currency_column_is_optional(protocol: Protocol, write_data: Writer) -> None:
    data = _validate(protocol, write_data, make_spend().drop(columns=["currency"]))
    assert _check(data).findings == ()


def test_duplicated_spend_id_is_an_error(protocol: Protocol, write_data: Writer) -> None:
    ledger = make_spend()
    ledger.loc[3, "spend_id"] = ledger.loc[2, "spend_id"]
    with pytest.raises(DataValidationError, match="appears on more than one row") as caught:
        _validate(protocol, write_data, ledger)
    assert _located_errors(caught.value.issues) == [(4, "spend_id"), (5, "spend_id")]


def test_unchecked_client_ids_are_a_warning(protocol: Protocol, write_data: Writer) -> None:
    data = protocol.model_dump(mode="json")
    client_outcomes = {o["name"] for o in data["outcomes"] if o["level"] == "client"}
    data["outcomes"] = [o for o in data["outcomes"] if o["name"] not in client_outcomes]
    data["covariates"] = [c for c in data["covariates"] if c["level"] != "client"]
    data["subgroups"] = []
    data["analysis"]["decision_rules"] = []
    data["analysis"]["bayesian"]["priors"] = []
    lean = Protocol.model_validate(data, context={"defer_rules": True})
    paths = [p for p in write_data() if Path(p).stem != "clients"]
    result = validate.outcomes(lean, make_allocation(), paths)
    warned = [w for w in result.warnings if "client ids cannot be checked" in w.message]
    assert len(warned) == 1 and warned[0].location.column == "client_id"


def test_control_may_spend_turns_the_rule_off(protocol: Protocol, write_data: Writer) -> None:
    data = protocol.model_dump(mode="json")
    data["spending"]["control_may_spend"] = True
    allowed = Protocol.model_validate(data)
    ledger, _ = every_rule()
    result = _validate(allowed, write_data, ledger)
    assert "control_arm_spend" not in _check(result).rules
    assert "control_arm_spend" not in {f.rule for f in _check(result).findings}


def test_missing_date_only_is_one_finding(protocol: Protocol, write_data: Writer) -> None:
    ledger = make_spend()
    ledger.loc[0, "justified_on"] = None
    ledger.loc[1, "justification"] = " "
    findings = _check(_validate(protocol, write_data, ledger)).findings
    assert [(f.rule, f.row, f.column) for f in findings] == [
        ("missing_justification", 2, "justified_on"),
        ("missing_justification", 3, "justification"),
    ]


def test_pseudonymised_ledger_links_to_staff_and_clients(
    protocol: Protocol, write_data: Writer
) -> None:
    ledger, _ = every_rule()
    paths = write_data(
        make_clients(CLIENTS_PER_TEAM), staff=make_staff(STAFF_PER_TEAM), spend=ledger
    )
    data = validate.outcomes(protocol, make_allocation(), paths, pseudonymise_key=b"k" * 16)
    spend, staff, clients = data.frame("spend"), data.frame("staff"), data.frame("client")
    assert spend["staff_id"].isin(staff["staff_id"]).all()
    assert spend["client_id"].isin(clients["client_id"]).all()
    assert not spend["staff_id"].isin(ledger["staff_id"]).any()
    findings = _check(data).findings
    assert {f.worker for f in findings} <= set(spend["staff_id"])


def test_report_lists_findings_after_errors_and_warnings(
    protocol: Protocol, write_data: Writer, tmp_path: Path
) -> None:
    from validate_frames import FLAGSHIP

    from trialkit.validate import validate_files

    ledger, expected = every_rule()
    paths = write_data(
        make_clients(CLIENTS_PER_TEAM), staff=make_staff(STAFF_PER_TEAM), spend=ledger
    )
    make_allocation().to_csv(tmp_path / "allocation.csv", index=False)
    report = tmp_path / "issues.csv"
    validate_files(FLAGSHIP, tmp_path / "allocation.csv", paths, report)
    table = pd.read_csv(report)
    findings = table[table["severity"] == "finding"]
    assert len(findings) == len(expected)
    assert table["severity"].iloc[-len(findings) :].eq("finding").all()
    rows = {
        m.split(":")[0]: (r, c)
        for m, r, c in zip(findings["message"], findings["row"], findings["column"], strict=True)
    }
    assert rows == expected


def test_cli_prints_findings_apart_from_errors_and_warnings(
    write_data: Writer, tmp_path: Path
) -> None:
    from typer.testing import CliRunner
    from validate_frames import FLAGSHIP

    from trialkit.cli import app

    ledger, expected = every_rule()
    paths = write_data(
        make_clients(CLIENTS_PER_TEAM), staff=make_staff(STAFF_PER_TEAM), spend=ledger
    )
    make_allocation().to_csv(tmp_path / "allocation.csv", index=False)
    data = [arg for path in paths for arg in ("--data", str(path))]
    result = CliRunner().invoke(
        app, ["validate", str(FLAGSHIP), "--allocation", str(tmp_path / "allocation.csv"), *data]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Compliance findings (results, not errors): 9 in " in out
    for rule, (row, column) in expected.items():
        assert re.search(rf"^  {rule}\s+1$", out, re.MULTILINE), rule
        assert f'spend.csv, row {row}, column "{column}": {rule}: ' in out, rule
    assert "Compliance findings" not in result.stderr  # warnings go to stderr, findings not


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".dta"])
def test_every_rule_found_alike_in_every_input_format(
    protocol: Protocol, tmp_path: Path, suffix: str
) -> None:
    ledger, expected = every_rule()
    frames = {
        "clients": make_clients(CLIENTS_PER_TEAM),
        "staff": make_staff(STAFF_PER_TEAM),
        "spend": ledger,
    }
    paths = []
    for name, frame in frames.items():
        path = tmp_path / f"{name}{suffix}"
        if suffix == ".xlsx":
            frame.to_excel(path, index=False)
        elif suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_stata(path, write_index=False, version=118)
        paths.append(path)
    check = _check(validate.outcomes(protocol, make_allocation(), paths))
    assert {f.rule: (f.row, f.column) for f in check.findings} == expected
    assert len(check.findings) == len(expected)

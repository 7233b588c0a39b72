"""One test per validation rule, matching on the message."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from validate_frames import Writer, make_allocation, make_clients, make_staff, make_teams

from trialkit import validate
from trialkit._core.files import sha256_file
from trialkit.errors import DataValidationError, Issue
from trialkit.protocol.model import Protocol
from trialkit.validate.coding import code_binary, code_labels, code_numeric, code_ordinal
from trialkit.validate.frames import code_level
from trialkit.validate.layout import assign_levels, level_specs
from trialkit.validate.linking import arm_issues, unit_positions
from trialkit.validate.readers import RawTable
from trialkit.validate.schema import check_frame, level_schema


def _spec(protocol: Protocol, name: str):  # type: ignore[no-untyped-def]
    return next(s for s in level_specs(protocol) if s.name == name)


def _check(protocol: Protocol, frame: pd.DataFrame, level: str = "client") -> list[Issue]:
    """Code and schema-check one level's frame, as the stage does."""
    spec = _spec(protocol, level)
    table = RawTable(Path(f"{level}.csv"), frame)
    coded, issues = code_level(table, spec, protocol)
    dates = [c for c in coded.columns if c.endswith("date")]
    schema, rules = level_schema(
        spec,
        protocol,
        allocated=make_allocation()["unit_id"],
        columns=coded.columns,
        date_columns=dates,
    )
    return issues + check_frame(
        coded,
        schema,
        rules,
        file=table.name,
        raw=frame,
        id_column=spec.id_column,
        period=spec.period,
    )


def _texts(issues: list[Issue]) -> str:
    return "\n".join(str(i) for i in issues)


def test_clean_frames_have_no_issues(protocol: Protocol) -> None:
    assert _check(protocol, make_clients()) == []
    assert _check(protocol, make_staff(), "staff") == []


def test_out_of_range_value_is_located_with_the_declared_range(protocol: Protocol) -> None:
    clients = make_clients()
    clients.loc[0, "loneliness"] = 12
    text = _texts(_check(protocol, clients))
    assert 'client.csv, row 2, column "loneliness": 12 is outside the range 3–9 declared' in text
    assert "widen `outcomes.loneliness.range`" in text


def test_count_must_be_whole(protocol: Protocol) -> None:
    clients = make_clients().astype({"days_to_support": float})
    clients.loc[1, "days_to_support"] = 2.5
    assert "2.5 is not a count" in _texts(_check(protocol, clients))


def test_text_in_a_numeric_outcome(protocol: Protocol) -> None:
    clients = make_clients()
    clients["cost_of_care"] = clients["cost_of_care"].astype(object)
    clients.loc[2, "cost_of_care"] = "£300"
    text = _texts(_check(protocol, clients))
    assert "row 4" in text and "'£300' is not a number" in text


def test_likert_labels_ignore_case_and_spacing() -> None:
    codes, issues = code_ordinal(
        pd.Series(["  very SATISFIED", "neither", None]),
        ["Dissatisfied", "Neither", "Very satisfied"],
        file="f",
        column="c",
        what="x",
    )
    assert issues == []
    assert codes.tolist()[:2] == [2.0, 1.0] and pd.isna(codes.iloc[2])


def test_unknown_likert_label_names_the_allowed_labels() -> None:
    _, issues = code_ordinal(
        pd.Series(["Happy"]), ["Low", "High"], file="f", column="c", what='outcome "x"'
    )
    expected = "'Happy' is not one of the labels declared for outcome \"x\": 'Low'; 'High'."
    assert issues[0].message == expected


@pytest.mark.parametrize(
    "text,code", [("Yes", 1), ("n", 0), ("TRUE", 1), ("false", 0), ("1", 1), ("0", 0), (" y ", 1)]
)
def test_binary_spellings(text: str, code: int) -> None:
    codes, issues = code_binary(pd.Series([text]), file="f", column="c", what="x")
    assert issues == [] and codes.iloc[0] == code


def test_binary_rejects_other_values() -> None:
    _, issues = code_binary(pd.Series([2.0, 1.0]), file="f", column="c", what="x")
    assert len(issues) == 1 and "'2' is not a yes/no answer" in issues[0].message
    _, issues = code_binary(pd.Series(["maybe"]), file="f", column="c", what="x")
    assert "'maybe' is not a yes/no answer" in issues[0].message


def test_numeric_and_subgroup_coding() -> None:
    _, issues = code_numeric(pd.Series(["1", "x", ""]), file="f", column="c", what="age")
    assert [i.location.row for i in issues] == [3]
    _, issues = code_labels(pd.Series([0, 1, 2]), ["0", "1"], file="f", column="c", what="g")
    assert issues[0].message == "'2' is not a level of g: '0', '1'."


def test_duplicated_ids_list_each_row(protocol: Protocol) -> None:
    clients = make_clients()
    clients.at[5, "client_id"] = "C0004"
    issues = [i for i in _check(protocol, clients) if "more than one row" in i.message]
    assert [i.location.row for i in issues] == [6, 7]


def test_blank_id_is_reported(protocol: Protocol) -> None:
    clients = make_clients()
    clients.loc[0, "client_id"] = None
    assert 'row 2, column "client_id": the id is empty.' in _texts(_check(protocol, clients))


def test_unknown_unit_is_reported(protocol: Protocol) -> None:
    staff = make_staff()
    staff.loc[0, "team_id"] = "T77"
    assert "team 'T77' is not in the allocation (unknown unit)" in _texts(
        _check(protocol, staff, "staff")
    )


def test_dates_outside_the_trial_window(protocol: Protocol) -> None:
    clients = make_clients()
    clients.loc[0, "referral_date"] = "2030-01-01"
    clients.loc[1, "referral_date"] = "not a date"
    text = _texts(_check(protocol, clients))
    assert "2030-01-01 is outside the trial window 2027-01-04 to 2027-12-17" in text
    assert "'not a date' is not a date." in text


def test_years_a_date_column_cannot_hold_are_not_dates(protocol: Protocol) -> None:
    """Found by the fuzz test: '-1' parsed as year -1 and crashed the datetime64 cast."""
    clients = make_clients()
    clients.loc[0, "referral_date"] = "-1"
    clients.loc[1, "referral_date"] = "0001-01-01"
    text = _texts(_check(protocol, clients))
    assert "'-1' is not a date." in text
    assert "'0001-01-01' is not a date." in text


def test_recorded_arm_mismatch_is_crossover_never_fixed(protocol: Protocol) -> None:
    teams = make_teams().assign(arm=make_allocation()["arm"])
    teams.loc[0, "arm"] = "budget"
    issues = arm_issues(
        teams,
        _spec(protocol, "team"),
        make_allocation(),
        unit_positions(teams["team_id"], make_allocation()),
        file="teams.csv",
        unit_name="team",
    )
    assert len(issues) == 1
    assert (
        "recorded arm 'budget' differs from the arm 'usual' allocated to team 'T01' "
        "(crossover)" in issues[0].message
    )
    assert teams.loc[0, "arm"] == "budget"


def test_missing_columns_and_unknown_files(protocol: Protocol) -> None:
    specs = level_specs(protocol)
    clients = RawTable(Path("clients.csv"), make_clients().drop(columns=["wellbeing"]))
    other = RawTable(Path("notes.csv"), pd.DataFrame({"x": [1]}))
    _, issues = assign_levels([clients, other], specs)
    text = _texts(issues)
    assert 'clients.csv, row 1, column "wellbeing": the column "wellbeing" is missing' in text
    assert "notes.csv, row 1: cannot tell which level this file holds" in text
    assert "no data file holds level `staff`" in text
    assert any(i.severity == "warning" and "`team`" in i.message for i in issues)


def test_second_file_for_a_level(protocol: Protocol) -> None:
    tables = [RawTable(Path(f"c{k}.csv"), make_clients()) for k in (1, 2)]
    _, issues = assign_levels(tables, level_specs(protocol))
    assert "a second file for level `client` (the first is c1.csv)" in _texts(issues)


def test_stepped_wedge_ids_unique_per_period(protocol: Protocol) -> None:
    from trialkit.protocol.design import SteppedWedge

    design = protocol.design.model_copy(
        update={"type": "stepped_wedge", "stepped_wedge": SteppedWedge(steps=2, periods=3)}
    )
    sw = protocol.model_copy(update={"design": design})
    staff = pd.concat([make_staff().assign(period=p) for p in (1, 2)], ignore_index=True)
    assert _check(sw, staff, "staff") == []
    staff.loc[1, "period"] = 1
    staff.at[1, "staff_id"] = "S000"
    issues = [i for i in _check(sw, staff, "staff") if "same period" in i.message]
    assert [i.location.row for i in issues] == [2, 3]


def test_more_than_a_fifth_missing_warns_without_blocking(
    protocol: Protocol, write_data: Writer
) -> None:
    clients = make_clients()
    clients.loc[: len(clients) // 3, "wellbeing"] = None
    data = validate.outcomes(protocol, make_allocation(), write_data(clients))
    found = [w.message for w in data.warnings if "missing for more than 20% of rows" in w.message]
    assert len(found) == 1 and '"wellbeing" (' in found[0]  # one warning per file
    assert all(w.severity == "warning" for w in data.warnings)


def test_stage_result_codes_and_provenance(protocol: Protocol, write_data: Writer) -> None:
    paths = write_data()
    data = validate.outcomes(protocol, make_allocation(), paths)
    staff = data.frame("staff")
    assert set(staff["job_satisfaction"].dropna()) <= {0.0, 1.0, 2.0, 3.0, 4.0}
    assert data.ordinal_labels["job_satisfaction"][0] == "Very dissatisfied"
    assert {"arm", "block", "cluster", "probability"} <= set(staff.columns)
    assert dict(data.provenance.inputs) == {p.name: sha256_file(p) for p in paths}
    assert data.frame("client")["lives_alone"].isin([0.0, 1.0]).all()


def test_validate_files_writes_the_issue_table(
    protocol: Protocol, write_data: Writer, tmp_path: Path
) -> None:
    from validate_frames import FLAGSHIP

    clients = make_clients()
    clients.loc[3, "wellbeing"] = 140
    paths = write_data(clients)
    make_allocation().to_csv(tmp_path / "allocation.csv", index=False)
    with pytest.raises(DataValidationError, match="140 is outside the range 7–35"):
        validate.validate_files(
            FLAGSHIP, tmp_path / "allocation.csv", paths, report_path=tmp_path / "issues.csv"
        )
    table = pd.read_csv(tmp_path / "issues.csv")
    assert list(table.columns) == list(validate.issues.ISSUE_COLUMNS)
    assert table.loc[0, "row"] == 5 and str(table.loc[0, "value"]) == "140"

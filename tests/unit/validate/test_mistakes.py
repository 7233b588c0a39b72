"""Mistakes caught where they are made: undeclared arms, misspelt columns and Excel errors,
each with its location and a "did you mean"; repeated rows grouped; errors and warnings
counted as printed; a re-run replaces its own issues table."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner
from validate_frames import (
    FLAGSHIP,
    make_allocation,
    make_clients,
    make_spend,
    make_staff,
    make_teams,
)

from trialkit import validate
from trialkit.cli import app
from trialkit.errors import DataValidationError, Issue, Location, OverwriteError
from trialkit.protocol.model import Protocol
from trialkit.validate.issues import ISSUE_COLUMNS, write_issues
from trialkit.validate.summary import summary_lines


def _files(tmp_path: Path, clients: pd.DataFrame, *, excel: bool = False) -> list[Path]:
    """The four data files; the clients as a workbook with the sheet "Clients" if ``excel``."""
    paths = []
    for name, frame in (("staff", make_staff()), ("spend", make_spend()), ("teams", make_teams())):
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
        paths.append(tmp_path / f"{name}.csv")
    clients_path = tmp_path / ("clients.xlsx" if excel else "clients.csv")
    if excel:
        clients.to_excel(clients_path, index=False, sheet_name="Clients")
    else:
        clients.to_csv(clients_path, index=False)
    return [clients_path, *paths]


def _set_cells(path: Path, cells: dict[str, object]) -> None:
    """Type values into a workbook's first sheet as Excel would (``#DIV/0!`` is an error)."""
    book = openpyxl.load_workbook(path)
    for ref, value in cells.items():
        book.worksheets[0][ref] = value
    book.save(path)


def _allocation_csv(tmp_path: Path, arms: dict[int, str]) -> Path:
    """The hand-made allocation as a CSV, with the arms of some rows (from 0) retyped."""
    frame = make_allocation()
    for row, arm in arms.items():
        frame.loc[row, "arm"] = arm
    path = tmp_path / "allocation.csv"
    frame.to_csv(path, index=False)
    return path


def test_undeclared_arm_misspelt_column_and_excel_error_in_one_run(
    protocol: Protocol, tmp_path: Path
) -> None:
    clients = make_clients().rename(columns={"loneliness": "lonliness"})
    paths = _files(tmp_path, clients, excel=True)
    assert list(clients.columns)[3] == "wellbeing"  # column D of the sheet
    _set_cells(paths[0], {"D14": "#DIV/0!"})
    allocation = _allocation_csv(tmp_path, {1: "Budget", 3: "Budget", 4: "treatment"})
    with pytest.raises(DataValidationError) as caught:
        validate.outcomes(protocol, allocation, paths)
    text = str(caught.value)
    assert (
        f'{allocation}, row 3, column "arm": the arm `Budget` is not declared in the protocol '
        "(its arms: usual, budget); 2 rows hold it: 3, 5. Did you mean `budget`?"
    ) in text
    assert f'{allocation}, row 6, column "arm": the arm `treatment` is not declared' in text
    assert "1 row holds it. Fix: correct the label" in text  # no close arm: no guess
    assert (
        'clients.xlsx, sheet "Clients", row 1, column "loneliness": the column "loneliness" is '
        'missing; the protocol needs it for level `client`. The file has a column "lonliness": '
        'did you mean `loneliness`? Fix: rename the column "lonliness" to "loneliness".'
    ) in text
    assert (
        'clients.xlsx, sheet "Clients", row 14, column D ("wellbeing"): the cell holds the '
        "Excel error #DIV/0! (a formula that failed), so its value is unknown."
    ) in text
    errors = [i for i in caught.value.issues if i.severity == "error"]
    excel = next(i for i in errors if i.value == "#DIV/0!")
    assert (excel.location.sheet, excel.location.row, excel.location.letter) == ("Clients", 14, "D")


def test_undeclared_arm_in_a_dataframe_allocation(protocol: Protocol, tmp_path: Path) -> None:
    allocation = make_allocation()
    allocation.loc[0, "arm"] = "enhanced"
    with pytest.raises(
        DataValidationError,
        match=r"allocation, row 2, column \"arm\": the arm "
        r"`enhanced` is not declared",
    ):
        validate.outcomes(protocol, allocation, _files(tmp_path, make_clients()))


def test_declared_arms_give_no_arm_error(protocol: Protocol, tmp_path: Path) -> None:
    data = validate.outcomes(
        protocol, _allocation_csv(tmp_path, {}), _files(tmp_path, make_clients())
    )
    assert not [w for w in data.warnings if w.location.column == "arm"]


def test_excel_error_in_an_unused_column_is_a_warning(protocol: Protocol, tmp_path: Path) -> None:
    clients = make_clients()
    clients["notes"] = "ok"
    paths = _files(tmp_path, clients, excel=True)
    letter = openpyxl.utils.get_column_letter(len(clients.columns))
    _set_cells(paths[0], {f"{letter}5": "#N/A"})
    data = validate.outcomes(protocol, make_allocation(), paths)
    (warning,) = [w for w in data.warnings if w.value == "#N/A"]
    where = f'clients.xlsx, sheet "Clients", row 5, column {letter} ("notes")'
    assert str(warning.location) == where
    assert warning.severity == "warning"
    assert "the protocol does not use this column" in warning.message


def test_row_issues_in_a_workbook_name_sheet_and_column_letter(
    protocol: Protocol, tmp_path: Path
) -> None:
    clients = make_clients()
    clients.loc[3, "wellbeing"] = 140  # frame row 3 = sheet row 5
    with pytest.raises(DataValidationError) as caught:
        validate.outcomes(protocol, make_allocation(), _files(tmp_path, clients, excel=True))
    assert 'clients.xlsx, sheet "Clients", row 5, column D ("wellbeing"): 140 is outside' in str(
        caught.value
    )


def test_thirty_rows_of_one_rule_print_once_but_are_all_in_the_report(
    protocol: Protocol, tmp_path: Path
) -> None:
    clients = make_clients()
    clients.loc[3:32, "wellbeing"] = 140  # sheet rows 5 to 34
    clients.loc[40, "team_id"] = "T99"
    with pytest.raises(DataValidationError) as caught:
        validate.outcomes(protocol, make_allocation(), _files(tmp_path, clients))
    lines = str(caught.value).splitlines()
    grouped = [line for line in lines if "wellbeing" in line and "outside" in line]
    assert grouped == [
        next(line for line in lines if line.startswith('error: clients.csv, column "wellbeing"'))
    ]
    assert "30 rows: 5, 6, 7, 8, 9, … (first 5 shown; all in --report). Row 5: 140" in grouped[0]
    report = write_issues(caught.value.issues, tmp_path / "issues.csv")
    table = pd.read_csv(report)
    wellbeing = table[(table["column"] == "wellbeing") & (table["severity"] == "error")]
    assert wellbeing["row"].tolist() == list(range(5, 35))


def test_counts_agree_with_the_labelled_lines(protocol: Protocol, tmp_path: Path) -> None:
    clients = make_clients()
    clients.loc[3:32, "wellbeing"] = 140
    clients.loc[40, "team_id"] = "T99"
    clients.loc[:40, "loneliness"] = None  # missing for more than 20 %: a warning
    with pytest.raises(DataValidationError) as caught:
        validate.outcomes(protocol, make_allocation(), _files(tmp_path, clients))
    head, *lines = str(caught.value).splitlines()
    errors = sum(line.startswith("error: ") for line in lines)
    warnings = sum(line.startswith("warning: ") for line in lines)
    assert len(lines) == errors + warnings
    assert head == (
        f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
        "in the outcome data; nothing was changed."
    )
    assert warnings >= 1


def test_missing_outcomes_give_one_warning_listing_them(protocol: Protocol, tmp_path: Path) -> None:
    clients = make_clients()
    clients.loc[:40, ["loneliness", "wellbeing"]] = None
    data = validate.outcomes(protocol, make_allocation(), _files(tmp_path, clients))
    missing = [w for w in data.warnings if "missing for more than" in w.message]
    assert len(missing) == 1
    assert '"loneliness" (' in missing[0].message and '"wellbeing" (' in missing[0].message


def test_summary_groups_only_more_than_three_rows() -> None:
    three = [Issue("bad", Location("a.csv", row=r, column="x"), fix="f") for r in (2, 3, 4)]
    head, lines = summary_lines(three)
    assert head == "3 errors"
    assert lines[0] == 'error: a.csv, row 2, column "x": bad Fix: f'


def test_report_replaces_its_own_table_but_not_another_file(tmp_path: Path) -> None:
    first = [Issue("bad", Location("a.csv", row=2, column="x"))]
    path = write_issues(first, tmp_path / "issues.csv")
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(ISSUE_COLUMNS)
    write_issues([], path)  # a re-run replaces its own report
    assert len(pd.read_csv(path)) == 0
    other = tmp_path / "notes.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(OverwriteError):
        write_issues(first, other)
    write_issues(first, other, force=True)
    assert len(pd.read_csv(other)) == 1


def test_cli_validate_twice_with_the_same_report(tmp_path: Path) -> None:
    paths = _files(tmp_path, make_clients())
    allocation = _allocation_csv(tmp_path, {1: "Budget"})
    args = [
        "validate",
        str(FLAGSHIP),
        "--allocation",
        str(allocation),
        "--report",
        str(tmp_path / "issues.csv"),
    ]
    for path in paths:
        args += ["--data", str(path)]
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert "Did you mean `budget`?" in result.output
        assert "Traceback" not in result.output
    assert (pd.read_csv(tmp_path / "issues.csv")["value"] == "Budget").sum() == 1


def test_excel_errors_found_in_the_first_sheet_only_as_openpyxl_reads_them(
    tmp_path: Path,
) -> None:
    from trialkit.validate.excel import _errors_by_openpyxl, excel_errors

    book = openpyxl.Workbook()
    other = book.active
    other.title = "Notes"
    other["A2"] = "#REF!"  # on another sheet: not the one read
    first = book.create_sheet("Clients", 0)
    first.append(["client_id", "wellbeing", "note"])
    codes = ["#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!"]
    for n in range(30_000):  # over a megabyte of XML: errors across the chunks read
        first.append([f"C{n:05d}", codes[n % 7] if n % 997 == 0 else n % 30, "x" * 20])
    first["AB7"] = "#N/A"
    path = tmp_path / "big.xlsx"
    book.save(path)
    found = excel_errors(path)
    assert found == _errors_by_openpyxl(path)
    assert (7, 27, "#N/A") in found
    assert len(found) == 1 + len(range(0, 30_000, 997))
    assert all(row >= 2 for row, _, _ in found)


def test_rows_beyond_the_listed_ones_are_counted_in_the_same_line(
    protocol: Protocol, tmp_path: Path
) -> None:
    clients = make_clients(per_team=70)
    clients.loc[:1499, "wellbeing"] = 140  # 1,500 rows; the issues list the first 1,000
    with pytest.raises(DataValidationError) as caught:
        validate.outcomes(protocol, make_allocation(), _files(tmp_path, clients))
    head, *lines = str(caught.value).splitlines()
    assert head.startswith("1 error in the outcome data")
    assert lines == [
        'error: clients.csv, column "wellbeing": 1,500 rows: 2, 3, 4, 5, 6, … (first 5 shown; '
        "the first 1,000 in --report). Row 2: 140 is outside the range 7–35 declared for outcome "
        '"wellbeing". Fix: correct the value, or widen `outcomes.wellbeing.range` and '
        "re-register."
    ]


def test_read_allocation_suggests_the_arm_meant(tmp_path: Path) -> None:
    import json
    from types import MappingProxyType

    import numpy as np

    from trialkit._core.files import sha256_file
    from trialkit._core.provenance import Provenance
    from trialkit.randomise import metadata_path, read_allocation, write_allocation
    from trialkit.randomise.allocation import Allocation

    frame = make_allocation()
    allocation = Allocation(
        unit_id=frame["unit_id"].to_numpy(dtype=object), block=None, cluster=None,
        arm=frame["arm"].to_numpy(dtype=object), probability=frame["probability"].to_numpy(),
        step=None, pair=None, arms=("usual", "budget"), scheme="complete",
        parameters=MappingProxyType({}), algorithm_version="1", provenance=Provenance(seed=1),
    )  # fmt: skip
    path = write_allocation(allocation, tmp_path / "allocation.csv")
    text = path.read_text(encoding="utf-8").replace("T02,,,budget", "T02,,,Budget")
    path.write_text(text, encoding="utf-8")
    meta = json.loads(metadata_path(path).read_text(encoding="utf-8"))
    meta["csv_sha256"] = sha256_file(path)  # edited behind trialkit's back
    metadata_path(path).write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(DataValidationError) as caught:
        read_allocation(path)
    assert (
        'row 3, column "arm": `Budget` is not an arm of this allocation (its arms: usual, '
        "budget). Did you mean `budget`?"
    ) in str(caught.value)
    assert np.sum([i.value == "Budget" for i in caught.value.issues]) == 1


def test_analyse_stops_at_an_undeclared_arm_before_any_estimate(tmp_path: Path) -> None:
    from trialkit import api

    allocation = _allocation_csv(tmp_path, {1: "Budget"})
    with pytest.raises(DataValidationError, match=r"Did you mean `budget`\?"):
        api.analyse(
            FLAGSHIP, allocation, _files(tmp_path, make_clients()), tmp_path / "results",
            bayesian=False,
        )  # fmt: skip
    assert not (tmp_path / "results").exists()

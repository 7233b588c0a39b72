"""Issue 4's acceptance: three different problems reported in one run, located, the file
untouched; the same data as .xlsx, .parquet and .dta validate like the CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from validate_frames import make_allocation, make_clients, make_spend, make_staff, make_teams

from trialkit import validate
from trialkit._core.files import sha256_file
from trialkit.errors import DataValidationError, Issue
from trialkit.protocol.model import Protocol


def _bad_clients() -> pd.DataFrame:
    clients = make_clients()
    clients.loc[3, "wellbeing"] = 140  # frame row 3 = spreadsheet row 5
    clients.at[10, "client_id"] = "C0009"  # duplicated id, rows 11 & 12
    clients.loc[20, "team_id"] = "T99"  # a team never randomised, row 22
    return clients


def _write(frame: pd.DataFrame, path: Path) -> Path:
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif suffix == ".parquet":
        frame.to_parquet(path, index=False)
    elif suffix == ".dta":
        frame.to_stata(path, write_index=False, version=118)
    return path


def _write_all(tmp_path: Path, suffix: str, clients: pd.DataFrame) -> list[Path]:
    frames = {
        "clients": clients,
        "staff": make_staff(),
        "spend": make_spend(),
        "teams": make_teams(),
    }
    return [_write(frame, tmp_path / f"{name}{suffix}") for name, frame in frames.items()]


def _located(issues: tuple[Issue, ...]) -> set[tuple[str | None, int | None, str | None]]:
    return {
        (i.location.file, i.location.row, i.location.column)
        for i in issues
        if i.severity == "error"
    }


def test_three_problems_reported_in_one_run_and_file_untouched(
    protocol: Protocol, tmp_path: Path
) -> None:
    paths = _write_all(tmp_path, ".csv", _bad_clients())
    before = {p: sha256_file(p) for p in paths}
    with pytest.raises(DataValidationError) as caught:
        validate.outcomes(protocol, make_allocation(), paths)
    text = str(caught.value)
    assert 'clients.csv, row 5, column "wellbeing": 140 is outside the range 7–35' in text
    assert "clients.csv, row 11, column \"client_id\": the id 'C0009' appears on more" in text
    assert "row 12" in text
    assert "clients.csv, row 22, column \"team_id\": team 'T99' is not in the allocation" in text
    assert {p: sha256_file(p) for p in paths} == before


@pytest.fixture(scope="module")
def from_csv(
    protocol: Protocol, tmp_path_factory: pytest.TempPathFactory
) -> tuple[tuple[Issue, ...], validate.TrialData]:
    """What the CSV files give: the issues of the bad data, the result of the clean data."""
    bad, clean = tmp_path_factory.mktemp("bad"), tmp_path_factory.mktemp("clean")
    with pytest.raises(DataValidationError) as caught:
        validate.outcomes(protocol, make_allocation(), _write_all(bad, ".csv", _bad_clients()))
    data = validate.outcomes(protocol, make_allocation(), _write_all(clean, ".csv", make_clients()))
    return caught.value.issues, data


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".dta"])
def test_other_formats_validate_like_the_csv(
    protocol: Protocol,
    tmp_path: Path,
    suffix: str,
    from_csv: tuple[tuple[Issue, ...], validate.TrialData],
) -> None:
    csv_issues, csv_data = from_csv
    (tmp_path / "bad").mkdir()
    (tmp_path / "clean").mkdir()
    other = _write_all(tmp_path / "bad", suffix, _bad_clients())
    before = {p: sha256_file(p) for p in other}
    with pytest.raises(DataValidationError) as from_other:
        validate.outcomes(protocol, make_allocation(), other)
    assert {p: sha256_file(p) for p in other} == before
    strip = {(Path(f or "").stem, r, c) for f, r, c in _located(csv_issues)}
    assert strip == {(Path(f or "").stem, r, c) for f, r, c in _located(from_other.value.issues)}
    assert [i.message for i in csv_issues] == [i.message for i in from_other.value.issues]

    data = validate.outcomes(
        protocol, make_allocation(), _write_all(tmp_path / "clean", suffix, make_clients())
    )
    for level in ("client", "staff", "spend", "team"):
        left, right = csv_data.frame(level), data.frame(level)
        numeric = [c for c in left.columns if pd.api.types.is_numeric_dtype(left[c])]
        pd.testing.assert_frame_equal(left[numeric], right[numeric], check_dtype=False)
        assert left["arm"].tolist() == right["arm"].tolist()

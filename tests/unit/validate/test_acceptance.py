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
    clients.loc[10, "client_id"] = clients.loc[9, "client_id"]  # duplicated id, rows 11 & 12
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
    frames = {"clients": clients, "staff": make_staff(), "spend": make_spend(),
              "teams": make_teams()}
    return [_write(frame, tmp_path / f"{name}{suffix}") for name, frame in frames.items()]


def _located(issues: tuple[Issue, ...]) -> set[tuple[str | None, int | None, str | None]]:
    return {(i.location.file, i.location.row, i.location.column) for i in issues
            if i.severity == "error"}


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


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".dta"])
def test_other_formats_report_exactly_what_the_csv_reports(
    protocol: Protocol, tmp_path: Path, suffix: str
) -> None:
    (tmp_path / "csv").mkdir()
    (tmp_path / "other").mkdir()
    csv_paths = _write_all(tmp_path / "csv", ".csv", _bad_clients())
    other = _write_all(tmp_path / "other", suffix, _bad_clients())
    before = {p: sha256_file(p) for p in other}
    with pytest.raises(DataValidationError) as from_csv:
        validate.outcomes(protocol, make_allocation(), csv_paths)
    with pytest.raises(DataValidationError) as from_other:
        validate.outcomes(protocol, make_allocation(), other)
    strip = {(Path(f or "").stem, r, c) for f, r, c in _located(from_csv.value.issues)}
    assert strip == {(Path(f or "").stem, r, c) for f, r, c in _located(from_other.value.issues)}
    assert [i.message for i in from_csv.value.issues] == [
        i.message for i in from_other.value.issues]
    assert {p: sha256_file(p) for p in other} == before


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet", ".dta"])
def test_clean_data_give_the_same_frames_in_every_format(
    protocol: Protocol, tmp_path: Path, suffix: str
) -> None:
    (tmp_path / "csv").mkdir()
    (tmp_path / "other").mkdir()
    a = validate.outcomes(protocol, make_allocation(),
                          _write_all(tmp_path / "csv", ".csv", make_clients()))
    b = validate.outcomes(protocol, make_allocation(),
                          _write_all(tmp_path / "other", suffix, make_clients()))
    for level in ("client", "staff", "spend", "team"):
        left, right = a.frame(level), b.frame(level)
        numeric = [c for c in left.columns if pd.api.types.is_numeric_dtype(left[c])]
        pd.testing.assert_frame_equal(left[numeric], right[numeric], check_dtype=False)
        assert left["arm"].tolist() == right["arm"].tolist()

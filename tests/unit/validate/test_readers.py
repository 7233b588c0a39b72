"""Readers: chosen by extension, ids as text, Stata/SPSS value labels kept."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from validate_frames import LIKERT

from trialkit.errors import DataValidationError
from trialkit.protocol.model import Protocol
from trialkit.validate.frames import code_level
from trialkit.validate.layout import level_specs
from trialkit.validate.readers import read_table


def test_unknown_extension_lists_the_formats(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text("{}")
    with pytest.raises(DataValidationError, match=r"cannot read '\.json' files.*\.csv \(CSV\)"):
        read_table(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="file not found"):
        read_table(tmp_path / "absent.csv")


def test_unparseable_file_says_how_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(DataValidationError, match="could not be read as a Excel workbook"):
        read_table(path)


def test_csv_ids_keep_leading_zeros(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("team_id,x\n007,1\n010,2\n")
    assert read_table(path, id_columns={"team_id"}).frame["team_id"].tolist() == ["007", "010"]


def test_csv_from_excel_on_windows_is_read(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes("team_id,cost\nT01,£300\n".encode("cp1252"))
    assert read_table(path).frame["cost"].tolist() == ["£300"]
    path.write_bytes("\ufeffteam_id,x\nT01,1\n".encode())
    assert list(read_table(path).frame.columns) == ["team_id", "x"]


def test_excel_numeric_ids_lose_the_trailing_zero(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    pd.DataFrame({"team_id": [1, 2], "x": [1.5, 2.5]}).to_excel(path, index=False)
    assert read_table(path, id_columns={"team_id"}).frame["team_id"].tolist() == ["1", "2"]


def test_spss_value_labels_become_likert_codes(protocol: Protocol, tmp_path: Path) -> None:
    path = tmp_path / "staff.sav"
    frame = pd.DataFrame(
        {
            "staff_id": ["S1", "S2", "S3"],
            "team_id": ["T01", "T02", "T03"],
            "job_satisfaction": [1.0, 5.0, 3.0],
            "job_satisfaction_baseline": [2.0, 2.0, 4.0],
            "intention_to_leave": [0.0, 1.0, 0.0],
            "sickness_days": [0.0, 3.0, 1.0],
            "years_in_role": [1.0, 2.0, 3.0],
        }
    )
    labels = {float(k + 1): label for k, label in enumerate(LIKERT)}
    pyreadstat.write_sav(
        frame,
        str(path),
        variable_value_labels={"job_satisfaction": labels, "job_satisfaction_baseline": labels},
    )
    table = read_table(path, id_columns={"staff_id", "team_id"})
    assert table.value_labels["job_satisfaction"][5.0] == "Very satisfied"
    spec = next(s for s in level_specs(protocol) if s.name == "staff")
    coded, issues = code_level(table, spec, protocol)
    assert issues == []
    assert coded["job_satisfaction"].tolist() == [0.0, 4.0, 2.0]

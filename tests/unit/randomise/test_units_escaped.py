"""Units files trialkit simulated are escaped for spreadsheets and read back as drawn."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from trialkit._core.spreadsheet import ESCAPING, SIMULATED_RECORD, frame_csv
from trialkit.randomise import read_units

IDS = ["=1+2", "+SUM(1)", "@SUM(1)", "-2+3", "'quoted", "T7"]


def _write(directory: Path, *, record: bool) -> Path:
    path = directory / "units.csv"
    path.write_text(frame_csv(pd.DataFrame({"team_id": IDS, "size": range(6)})), "utf-8")
    if record:
        entry = {"units.csv": {"sha256": "not checked here"}}
        (directory / SIMULATED_RECORD).write_text(
            json.dumps({"escaping": ESCAPING, "files": entry}), "utf-8"
        )
    return path


def test_units_listed_in_the_record_are_read_as_written(tmp_path: Path) -> None:
    path = _write(tmp_path, record=True)
    assert not any(line[:1] in "=+-@" for line in path.read_text("utf-8").splitlines())
    assert read_units(path)["team_id"].tolist() == IDS


def test_units_without_the_record_keep_their_quotes(tmp_path: Path) -> None:
    """A user's own file is read as it is: a leading quote is data unless trialkit says
    it escaped the file."""
    path = _write(tmp_path, record=False)
    assert read_units(path)["team_id"].tolist()[:2] == ["'=1+2", "'+SUM(1)"]

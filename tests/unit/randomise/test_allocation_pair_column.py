"""A matched-pairs allocation's `pair` column is checked on reading, each bad value located."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import make_units

from trialkit._core.files import sha256_file
from trialkit._core.rng import RawStream
from trialkit.errors import DataValidationError
from trialkit.randomise import metadata_path, read_allocation, write_allocation
from trialkit.randomise.allocation import build_allocation
from trialkit.randomise.schemes import MatchedPairs


def _pairs_file(tmp_path: Path) -> Path:
    scheme = MatchedPairs(make_units(8, covariates=1))
    allocation = build_allocation(
        scheme, scheme.draw(RawStream(3)), arm_ids=("usual", "reform"), seed=3
    )
    return write_allocation(allocation, tmp_path / "allocation.csv")


def _edit_pair(path: Path, values: dict[int, str]) -> None:
    """Set the `pair` cell of some data rows (1 = first row after the header); rehash."""
    lines = path.read_text().splitlines()
    column = lines[0].split(",").index("pair")
    for row, value in values.items():
        cells = lines[row].split(",")
        cells[column] = value
        lines[row] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    meta = json.loads(metadata_path(path).read_text())
    meta["csv_sha256"] = sha256_file(path)
    metadata_path(path).write_text(json.dumps(meta))


@pytest.mark.parametrize("bad", ["x", "1.5", "0", "-2", "9", "inf", "1e30", ""])
def test_a_bad_pair_value_is_a_located_error(tmp_path: Path, bad: str) -> None:
    path = _pairs_file(tmp_path)
    _edit_pair(path, {3: bad})
    with pytest.raises(DataValidationError) as excinfo:
        read_allocation(path)
    text = str(excinfo.value)
    assert f'{path}, row 4, column "pair": `{bad}` is not a pair number' in text
    assert "a whole number from 1 to 8" in text and "Fix: restore the original file." in text


def test_every_bad_pair_is_reported_at_once(tmp_path: Path) -> None:
    path = _pairs_file(tmp_path)
    _edit_pair(path, {1: "a", 6: "b"})
    with pytest.raises(DataValidationError) as excinfo:
        read_allocation(path)
    assert [i.location.row for i in excinfo.value.issues] == [2, 7]


def test_a_written_pair_reads_back_as_whole_numbers(tmp_path: Path) -> None:
    path = _pairs_file(tmp_path)
    written = [int(line.split(",")[-1]) for line in path.read_text().splitlines()[1:]]
    _edit_pair(path, {1: f"{written[0]}.0"})  # a spreadsheet's re-save of the same number
    back = read_allocation(path)
    assert back.pair is not None and back.pair.dtype == np.int64
    assert back.pair.tolist() == written

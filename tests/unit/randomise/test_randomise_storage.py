"""write_allocation / read_allocation: atomic, no silent overwrite, tamper-evident."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import make_units

from trialkit._core.files import sha256_file
from trialkit._core.rng import RawStream
from trialkit.errors import DataValidationError, OverwriteError
from trialkit.randomise import metadata_path, read_allocation, write_allocation
from trialkit.randomise.allocation import Allocation, build_allocation
from trialkit.randomise.schemes import BlockedRandomisation, MatchedPairs, Scheme, SteppedWedge


def _allocation(kind: str = "blocked") -> Allocation:
    scheme: Scheme
    if kind == "pairs":
        scheme = MatchedPairs(make_units(8, covariates=1))
        arm_ids: tuple[str, ...] = ("usual", "reform")
    elif kind == "wedge":
        scheme = SteppedWedge(make_units(8, cluster_size=2), steps=2)
        arm_ids = ("reform",)
    else:
        scheme = BlockedRandomisation(make_units(8, blocks=[4, 4]))
        arm_ids = ("usual", "reform")
    return build_allocation(
        scheme, scheme.draw(RawStream(3)), arm_ids=arm_ids, seed=3, protocol_hash="ab" * 32
    )


@pytest.mark.parametrize("kind", ["blocked", "pairs", "wedge"])
def test_round_trip(tmp_path: Path, kind: str) -> None:
    allocation = _allocation(kind)
    path = write_allocation(allocation, tmp_path / "allocation.csv")
    meta = json.loads(metadata_path(path).read_text())
    assert meta["csv_sha256"] == sha256_file(path)
    assert meta["seed"] == 3 and meta["protocol_hash"] == "ab" * 32
    assert meta["scheme"] == allocation.scheme
    assert meta["algorithm_version"] == allocation.algorithm_version
    assert meta["created_utc"].endswith("Z") and meta["trialkit_version"]
    back = read_allocation(path)
    assert back.to_csv_text() == allocation.to_csv_text() == path.read_text()
    assert back.arms == allocation.arms and dict(back.parameters) == dict(allocation.parameters)
    np.testing.assert_array_equal(back.probability, allocation.probability)


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    path = tmp_path / "allocation.csv"
    write_allocation(_allocation(), path)
    with pytest.raises(OverwriteError, match="refusing to overwrite the existing allocation"):
        write_allocation(_allocation(), path)
    metadata_path(path).unlink()
    path.rename(tmp_path / "kept.csv")
    metadata_path(path).write_text("{}")
    with pytest.raises(OverwriteError, match="allocation metadata"):
        write_allocation(_allocation(), path)
    assert not path.exists()  # nothing half-written
    write_allocation(_allocation(), path, force=True)
    assert read_allocation(path).n_units == 8


def test_detects_an_edited_allocation(tmp_path: Path) -> None:
    path = write_allocation(_allocation(), tmp_path / "allocation.csv")
    path.write_text(path.read_text().replace("usual", "reform", 1))
    with pytest.raises(DataValidationError, match="has changed since it was written"):
        read_allocation(path)


def test_missing_metadata(tmp_path: Path) -> None:
    path = write_allocation(_allocation(), tmp_path / "allocation.csv")
    metadata_path(path).unlink()
    with pytest.raises(DataValidationError, match="metadata file is missing"):
        read_allocation(path)


def test_bad_rows_are_located(tmp_path: Path) -> None:
    path = write_allocation(_allocation(), tmp_path / "allocation.csv")
    lines = path.read_text().splitlines()
    lines[2] = lines[2].replace("0.5", "1.5")
    lines[4] = lines[1]
    path.write_text("\n".join(lines) + "\n")
    meta_file = metadata_path(path)
    meta = json.loads(meta_file.read_text())
    meta["csv_sha256"] = sha256_file(path)
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(
        DataValidationError,
        match=r"row 5, column \"unit_id\": unit id `u000` "
        "appears more than once",
    ) as excinfo:
        read_allocation(path)
    assert 'row 3, column "probability": `1.5` is not a probability' in str(excinfo.value)

"""Every data reader ends in a table or a located ``TrialkitError`` (issue 20, item 6).

Whatever the bytes (arbitrary, or a valid file truncated, with bytes flipped or inserted),
``read_table``, ``read_units`` and ``read_allocation`` return or raise a user error;
never another exception type, never a hang.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from fuzz_strategies import mutated
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialkit.errors import DataValidationError, TrialkitError
from trialkit.protocol import Protocol
from trialkit.randomise import allocate, read_units
from trialkit.randomise.storage import metadata_path, read_allocation, write_allocation
from trialkit.validate.readers import read_table

FUZZ = settings(
    max_examples=60,
    deadline=2000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_FRAME = pd.DataFrame(
    {
        "team_id": ["007", "008", "009"],
        "wellbeing": [1.5, 2.0, None],
        "label": ["a", "b", "c"],
    }
)


@functools.cache
def _valid(suffix: str) -> bytes:
    """A small valid file of the format; built once per format."""
    buffer = io.BytesIO()
    if suffix == ".csv":
        return _FRAME.to_csv(index=False).encode("utf-8")
    if suffix == ".xlsx":
        _FRAME.to_excel(buffer, index=False, engine="openpyxl")
    elif suffix == ".parquet":
        _FRAME.to_parquet(buffer, index=False)
    elif suffix == ".dta":
        _FRAME.to_stata(buffer, write_index=False)
    else:
        import tempfile

        import pyreadstat

        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "t.sav"
            pyreadstat.write_sav(_FRAME, str(target))
            return target.read_bytes()
    return buffer.getvalue()


def _read_or_user_error(path: Path, payload: bytes) -> None:
    path.write_bytes(payload)
    try:
        read_table(path, id_columns={"team_id"})
    except TrialkitError as exc:
        assert str(path) in str(exc) or path.name in str(exc)


SUFFIXES = [".csv", ".xlsx", ".parquet", ".dta", ".sav"]


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_valid_files_read(tmp_path: Path, suffix: str) -> None:
    """The seed files are valid, so the mutations start from something readable."""
    table = read_table(_write(tmp_path / f"t{suffix}", _valid(suffix)), id_columns={"team_id"})
    assert table.frame["team_id"].tolist() == ["007", "008", "009"]


def _write(path: Path, payload: bytes) -> Path:
    path.write_bytes(payload)
    return path


@pytest.mark.parametrize("suffix", SUFFIXES)
@FUZZ
@given(payload=st.binary(max_size=300))
def test_any_bytes_read_or_user_error(tmp_path: Path, suffix: str, payload: bytes) -> None:
    _read_or_user_error(tmp_path / f"data{suffix}", payload)


@pytest.mark.parametrize("suffix", SUFFIXES)
@FUZZ
@given(data=st.data())
def test_mutated_files_read_or_user_error(tmp_path: Path, suffix: str, data: st.DataObject) -> None:
    payload = data.draw(mutated(_valid(suffix)))
    _read_or_user_error(tmp_path / f"data{suffix}", payload)


_UNITS = b"team_id,site,size\nT01,north,12\nT02,south,8\nT03,north,5\n"


@FUZZ
@given(payload=st.binary(max_size=300) | mutated(_UNITS))
def test_units_read_or_user_error(tmp_path: Path, payload: bytes) -> None:
    path = _write(tmp_path / "units.csv", payload)
    try:
        read_units(path)
    except TrialkitError as exc:
        assert str(path) in str(exc)


@pytest.fixture(scope="module")
def allocation_files(
    tmp_path_factory: pytest.TempPathFactory, flagship: Protocol, flagship_units: pd.DataFrame
) -> Path:
    directory = tmp_path_factory.mktemp("allocation")
    allocation = allocate(flagship, flagship_units.astype(str), seed=20)
    return write_allocation(allocation, directory / "allocation.csv")


def _copy_allocation(target_dir: Path, csv: bytes, meta: bytes) -> Path:
    target = target_dir / "allocation.csv"
    target.write_bytes(csv)
    metadata_path(target).write_bytes(meta)
    return target


def _read_allocation_or_user_error(path: Path) -> None:
    try:
        read_allocation(path)
    except TrialkitError as exc:
        assert path.name in str(exc) or metadata_path(path).name in str(exc)


@FUZZ
@given(data=st.data())
def test_allocation_csv_mutated_read_or_user_error(
    tmp_path: Path, allocation_files: Path, data: st.DataObject
) -> None:
    """A mutated allocation CSV whose metadata records its new hash (so the hash check
    passes and the CSV parser and the row checks see the damage)."""
    csv = data.draw(mutated(allocation_files.read_bytes()))
    meta = json.loads(metadata_path(allocation_files).read_text(encoding="utf-8"))
    meta["csv_sha256"] = hashlib.sha256(csv).hexdigest()
    path = _copy_allocation(tmp_path, csv, json.dumps(meta).encode())
    _read_allocation_or_user_error(path)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@FUZZ
@given(data=st.data())
def test_allocation_metadata_fuzzed_read_or_user_error(
    tmp_path: Path, allocation_files: Path, data: st.DataObject
) -> None:
    """Metadata as arbitrary bytes, mutated bytes, or a field replaced by any JSON value."""
    valid = metadata_path(allocation_files).read_bytes()
    meta = json.loads(valid)
    key = data.draw(st.sampled_from(sorted(meta)))
    replaced = json.dumps({**meta, key: data.draw(_JSON)}).encode()
    payload = data.draw(st.sampled_from([replaced]) | mutated(valid) | st.binary(max_size=200))
    path = _copy_allocation(tmp_path, allocation_files.read_bytes(), payload)
    _read_allocation_or_user_error(path)


def test_stata_header_claiming_a_billion_rows_is_refused_unread(tmp_path: Path) -> None:
    """A damaged row count (found by the fuzz: pyreadstat allocated 12 GB for 760 bytes)
    is refused from the header, before any row is read."""
    data = bytearray(_valid(".dta"))
    assert data[0] == 114 and data[1] == 2  # format 114, little-endian: nobs at bytes 6-9
    data[6:10] = (2**30).to_bytes(4, "little")
    path = _write(tmp_path / "data.dta", bytes(data))
    with pytest.raises(DataValidationError, match="claims 1073741824 rows"):
        read_table(path)


def test_units_row_with_extra_values_is_refused(tmp_path: Path) -> None:
    """Found by the fuzz: pandas took a first row's extra values as an index, shifting
    every column."""
    path = _write(tmp_path / "units.csv", b"team_id,site\nT01,north,12,x\nT02,south\n")
    with pytest.raises(DataValidationError, match="row 2: this row has more values"):
        read_units(path)


def test_allocation_row_with_extra_values_is_refused(
    tmp_path: Path, allocation_files: Path
) -> None:
    lines = allocation_files.read_bytes().split(b"\n")
    csv = b"\n".join([lines[0], lines[1] + b"\x0b" + lines[2], *lines[3:]])
    meta = json.loads(metadata_path(allocation_files).read_text(encoding="utf-8"))
    meta["csv_sha256"] = hashlib.sha256(csv).hexdigest()
    path = _copy_allocation(tmp_path, csv, json.dumps(meta).encode())
    with pytest.raises(DataValidationError, match="row 2: this row has more values"):
        read_allocation(path)


def test_csv_row_with_extra_values_is_refused(tmp_path: Path) -> None:
    """Found by the fuzz: pandas took a first row's extra values as an index, shifting
    every column of the data silently."""
    path = _write(tmp_path / "data.csv", b"team_id,wellbeing\nT01,1.5,9\nT02,2.0\n")
    with pytest.raises(DataValidationError, match="row 2: this row has more values"):
        read_table(path, id_columns={"team_id"})


def test_allocation_arm_names_with_braces_are_reported(
    tmp_path: Path, allocation_files: Path
) -> None:
    """Found by the fuzz: arm names holding ``{}`` broke the message's str.format."""
    meta = json.loads(metadata_path(allocation_files).read_text(encoding="utf-8"))
    meta["arms"] = ["{x}", "{}"]
    path = _copy_allocation(tmp_path, allocation_files.read_bytes(), json.dumps(meta).encode())
    with pytest.raises(DataValidationError, match=r"its arms: \{x\}, \{\}"):
        read_allocation(path)

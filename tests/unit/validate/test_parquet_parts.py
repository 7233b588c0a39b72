"""A level's data as a folder of Parquet parts (issue 19, item 6): read as one table, in the
order of the parts' names, the same frame as the single file; located errors otherwise."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialkit import api, validate
from trialkit.diagnose import fabricate
from trialkit.errors import DataValidationError
from trialkit.protocol import bundled_path, load_protocol
from trialkit.randomise import read_allocation, read_units
from trialkit.register.ledger import read
from trialkit.validate.readers import read_table


def _frame(rows: int = 10) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "client_id": [f"0{i}" for i in range(rows)],  # leading zeros kept as text
            "team_id": np.arange(rows) % 3,  # a numeric id, read as text
            "score": np.linspace(0.0, 1.0, rows),
            "group": pd.Categorical(list("ab") * (rows // 2)),
        }
    )


def _split(frame: pd.DataFrame, folder: Path, bounds: list[int]) -> Path:
    folder.mkdir()
    for k, (a, b) in enumerate(itertools.pairwise(bounds)):
        frame.iloc[a:b].to_parquet(folder / f"part.{k:02d}.parquet")
    return folder


def test_a_folder_of_parts_reads_as_the_single_file(tmp_path: Path) -> None:
    frame = _frame()
    frame.to_parquet(tmp_path / "clients.parquet")
    folder = _split(frame, tmp_path / "clients", [0, 3, 7, 10])
    (folder / "_SUCCESS").write_text("")  # what Spark and Dask leave beside the parts
    (folder / ".part.00.parquet.crc").write_bytes(b"\x00")
    ids = {"client_id", "team_id"}
    one = read_table(tmp_path / "clients.parquet", id_columns=ids).frame
    parts = read_table(folder, id_columns=ids).frame
    pd.testing.assert_frame_equal(parts, one)
    assert parts["client_id"].tolist()[:2] == ["00", "01"]
    assert parts["team_id"].tolist()[:4] == ["0", "1", "2", "0"]


def test_parts_are_read_in_the_order_of_their_names(tmp_path: Path) -> None:
    frame = _frame()
    folder = tmp_path / "clients"
    folder.mkdir()
    frame.iloc[5:].to_parquet(folder / "b.parquet")  # written first, named second
    frame.iloc[:5].to_parquet(folder / "a.parquet")
    pd.testing.assert_frame_equal(read_table(folder).frame, frame)


def test_an_empty_folder_is_a_located_error(tmp_path: Path) -> None:
    folder = tmp_path / "clients"
    folder.mkdir()
    (folder / "_SUCCESS").write_text("")
    with pytest.raises(DataValidationError, match=r"clients.*no `\.parquet` file in it.*Fix:"):
        read_table(folder)


def test_another_kind_of_file_in_the_folder_is_named(tmp_path: Path) -> None:
    folder = _split(_frame(), tmp_path / "clients", [0, 5, 10])
    (folder / "notes.csv").write_text("a\n1\n")
    (folder / "more").mkdir()
    with pytest.raises(DataValidationError) as caught:
        read_table(folder)
    where = {(i.location.file, i.message) for i in caught.value.issues}
    assert where == {
        (str(folder / "notes.csv"), "is not a Parquet file"),
        (str(folder / "more"), "is a folder inside a folder of parts"),
    }
    assert all("move other files out of it" in (i.fix or "") for i in caught.value.issues)


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda f: f.assign(score=(f["score"] * 10).round().astype("int64")), "`score` is int64"),
        (lambda f: f.drop(columns="group"), "no column group"),
        (lambda f: f.assign(extra=1.0), "an extra column extra"),
        (lambda f: f[["team_id", "client_id", "score", "group"]], "another order"),
    ],
)
def test_parts_whose_columns_differ_are_named(tmp_path: Path, change, said: str) -> None:  # type: ignore[no-untyped-def]
    folder = _split(_frame(), tmp_path / "clients", [0, 5])
    change(_frame().iloc[5:]).to_parquet(folder / "part.01.parquet")
    with pytest.raises(DataValidationError) as caught:
        read_table(folder)
    (issue,) = caught.value.issues
    assert issue.location.file == str(folder / "part.01.parquet")
    assert "than part.00.parquet, the first part of clients" in issue.message
    assert said in issue.message and issue.fix


def test_a_damaged_part_is_named(tmp_path: Path) -> None:
    folder = _split(_frame(), tmp_path / "clients", [0, 5])
    (folder / "part.01.parquet").write_bytes(b"not parquet")
    with pytest.raises(DataValidationError) as caught:
        read_table(folder)
    (issue,) = caught.value.issues
    assert issue.location.file == str(folder / "part.01.parquet")
    assert issue.message.startswith("could not be read as a Parquet file")


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, pd.DataFrame]]:
    """The flagship's allocation and fabricated data, one frame per level."""
    out = tmp_path_factory.mktemp("pilot")
    protocol_file = bundled_path("council_discretionary_budget")
    protocol = load_protocol(protocol_file)
    units_file = api.simulate_units(protocol_file, out / "units.csv")
    api.randomise(protocol_file, units_file, out / "allocation.csv")
    arms = read_allocation(out / "allocation.csv").to_frame().set_index("unit_id")["arm"]
    frames = fabricate(
        protocol, read_units(units_file, protocol), arms, rng=np.random.default_rng(3)
    )
    return out / "allocation.csv", frames


def test_validation_of_a_level_in_parts_equals_the_single_file(
    tmp_path: Path, pilot: tuple[Path, dict[str, pd.DataFrame]]
) -> None:
    allocation, frames = pilot
    protocol = load_protocol(bundled_path("council_discretionary_budget"))
    single, parted = [], []
    for level, frame in frames.items():
        frame.to_parquet(tmp_path / f"{level}.parquet")
        single.append(tmp_path / f"{level}.parquet")
        cuts = [0, len(frame) // 3, len(frame) // 2, len(frame)]
        parted.append(_split(frame, tmp_path / level, cuts))
    one = validate.outcomes(protocol, allocation, single)
    two = validate.outcomes(protocol, allocation, parted)
    assert set(one.frames) == set(two.frames) and len(one.frames) > 1
    for level in one.frames:
        pd.testing.assert_frame_equal(one.frames[level], two.frames[level], obj=level)


def test_rows_are_numbered_through_the_parts(
    tmp_path: Path, pilot: tuple[Path, dict[str, pd.DataFrame]]
) -> None:
    allocation, frames = pilot
    protocol = load_protocol(bundled_path("council_discretionary_budget"))
    clients = frames["client"].copy()
    clients.loc[7, "wellbeing"] = 999  # the 3rd row of the second part (rows 5-9)
    paths = [_split(clients, tmp_path / "client", [0, 5, 10, len(clients)])]
    for level, frame in frames.items():
        if level != "client":
            frame.to_csv(tmp_path / f"{level}.csv", index=False)
            paths.append(tmp_path / f"{level}.csv")
    with pytest.raises(DataValidationError) as caught:
        validate.outcomes(protocol, allocation, paths)
    found = [i for i in caught.value.issues if i.location.column == "wellbeing"]
    assert [(i.location.file, i.location.row) for i in found] == [("client", 9)]


@pytest.mark.slow  # a whole analysis (about 4 s)
def test_analyse_records_each_part_in_the_ledger(
    tmp_path: Path, pilot: tuple[Path, dict[str, pd.DataFrame]]
) -> None:
    allocation, frames = pilot
    folders = [_split(f, tmp_path / level, [0, len(f) // 2, len(f)]) for level, f in frames.items()]
    ledger = tmp_path / "ledger.jsonl"
    protocol = bundled_path("council_discretionary_budget")
    api.analyse(protocol, allocation, folders, tmp_path / "results", bayesian=False, ledger=ledger)
    (entry,) = [e for e in read(ledger) if e.action == "analyse"]
    recorded = {Path(name).parts[-2:] for name in entry.inputs}  # (folder, part)
    parts = {p.parts[-2:] for folder in folders for p in folder.glob("*.parquet")}
    assert parts <= recorded and len(parts) == 2 * len(frames)


def test_provenance_names_and_hashes_each_part(
    tmp_path: Path, pilot: tuple[Path, dict[str, pd.DataFrame]]
) -> None:
    import hashlib

    allocation, frames = pilot
    protocol = load_protocol(bundled_path("council_discretionary_budget"))
    paths = [_split(f, tmp_path / level, [0, len(f) // 2, len(f)]) for level, f in frames.items()]
    data = validate.outcomes(protocol, allocation, paths)
    expected = {
        f"{folder.name}/{part.name}": hashlib.sha256(part.read_bytes()).hexdigest()
        for folder in paths
        for part in sorted(folder.glob("*.parquet"))
    }
    assert dict(data.provenance.inputs) == expected and len(expected) == 2 * len(frames)


def test_a_folder_named_like_a_parquet_file_is_parts_and_one_named_like_a_csv_is_refused(
    tmp_path: Path,
) -> None:
    frame = _frame()
    folder = _split(frame, tmp_path / "clients.parquet", [0, 4, 10])  # as Dask names it
    assert read_table(folder).frame["score"].tolist() == frame["score"].tolist()
    (tmp_path / "clients.csv").mkdir()
    with pytest.raises(DataValidationError, match="is a directory, not a file"):
        read_table(tmp_path / "clients.csv")

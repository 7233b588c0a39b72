"""Hostile data files are located errors (issue 20, item 5): absurd and infinite numbers,
encodings other than UTF-8 named, header-only files, and a report path that exists never
hiding the data's problems."""

from __future__ import annotations

from pathlib import Path

import pytest
from validate_frames import FLAGSHIP, Writer, make_allocation, make_clients, make_staff

from trialkit import validate
from trialkit.errors import DataValidationError, TrialkitError
from trialkit.protocol.model import Protocol
from trialkit.validate.readers import read_table


@pytest.mark.parametrize(
    ("cell", "shown"), [("1e308", "`1e+308`"), ("inf", "`inf`"), ("-inf", "`-inf`")]
)
def test_an_absurd_or_infinite_covariate_is_located(tmp_path: Path, cell: str, shown: str) -> None:
    clients = make_clients().astype({"age": object})
    clients.loc[3, "age"] = cell
    clients.to_csv(tmp_path / "clients.csv", index=False)
    with pytest.raises(DataValidationError) as caught:
        read_table(tmp_path / "clients.csv", id_columns={"client_id", "team_id"})
    (issue,) = caught.value.issues
    assert (issue.location.row, issue.location.column) == (5, "age")
    assert f"{shown} is not a finite number of a plausible size" in str(issue)
    assert "Fix: correct the value" in str(issue)


def test_validate_locates_an_absurd_covariate_and_still_checks_its_file(
    protocol: Protocol, write_data: Writer
) -> None:
    clients = make_clients().astype({"age": object})
    clients.loc[3, "age"] = "1e308"
    with pytest.raises(DataValidationError) as caught:
        validate.outcomes(protocol, make_allocation(), write_data(clients))
    errors = [i for i in caught.value.issues if i.severity == "error"]
    assert [(i.location.file, i.location.row, i.location.column) for i in errors] == [
        ("clients.csv", 5, "age")
    ], "the file's level was lost, or the value passed"


def test_plausible_numbers_pass(tmp_path: Path) -> None:
    make_clients().to_csv(tmp_path / "clients.csv", index=False)
    table = read_table(tmp_path / "clients.csv", id_columns={"client_id", "team_id"})
    assert len(table.frame) == len(make_clients())


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("utf-16", "UTF-16 (little-endian)"), ("utf-16-be", None), ("utf-32", "UTF-32")],
)
def test_a_csv_in_another_encoding_is_named(
    protocol: Protocol, write_data: Writer, encoding: str, name: str | None
) -> None:
    """Through validate, as the probe ran it: the encoding is named, not "cannot tell which
    level" (which a reader that failed to decode the header would lead to)."""
    paths = write_data()
    path = next(p for p in paths if p.name == "clients.csv")
    path.write_bytes(make_clients().to_csv(index=False).encode(encoding))
    with pytest.raises(DataValidationError) as caught:
        validate.outcomes(protocol, make_allocation(), paths)
    text = str(caught.value)
    expected = f"is {name}" if name else "holds a NUL byte at byte 1: it is UTF-16 text without"
    assert expected in text and "Fix: save it again as 'CSV UTF-8'" in text
    assert "which level" not in text


def test_a_header_only_file_of_a_primary_outcome_is_an_error(
    protocol: Protocol, write_data: Writer
) -> None:
    paths = write_data(make_clients().iloc[:0], staff=make_staff())
    with pytest.raises(DataValidationError) as caught:
        validate.outcomes(protocol, make_allocation(), paths)
    issue = next(i for i in caught.value.issues if "header but no rows" in i.message)
    assert issue.severity == "error" and issue.location.file == "clients.csv"
    assert "primary outcome(s) loneliness of level `client` are not measured" in issue.message


def test_a_header_only_file_without_a_primary_outcome_is_a_warning(
    protocol: Protocol, write_data: Writer
) -> None:
    paths = write_data(staff=make_staff().iloc[:0])
    try:
        found = list(validate.outcomes(protocol, make_allocation(), paths).warnings)
    except DataValidationError as exc:  # the ledger names staff the empty file lacks
        found = list(exc.issues)
    issue = next(i for i in found if "header but no rows" in i.message)
    assert issue.severity == "warning" and issue.location.file == "staff.csv"


def test_an_existing_report_does_not_hide_the_data_problems(
    write_data: Writer, tmp_path: Path
) -> None:
    clients = make_clients().astype({"age": object})
    clients.loc[3, "age"] = "1e308"
    paths = write_data(clients)
    allocation = tmp_path / "allocation.csv"
    make_allocation().to_csv(allocation, index=False)
    report = tmp_path / "issues.csv"
    report.write_text("kept\n")
    with pytest.raises(DataValidationError) as caught:
        validate.validate_files(FLAGSHIP, allocation, paths, report)
    text = str(caught.value)
    assert "issues.csv: refusing to overwrite the existing issues table" in text
    assert 'clients.csv, row 5, column "age": `1e+308` is not a finite number' in text
    assert report.read_text() == "kept\n"
    assert any(i.location.column == "age" for i in caught.value.issues)


def test_a_full_disk_for_the_report_of_valid_data_is_located(
    write_data: Writer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    allocation = tmp_path / "allocation.csv"
    make_allocation().to_csv(allocation, index=False)
    paths = write_data()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(
        TrialkitError,
        match=r"issues\.csv: cannot write the issues table: no "
        r"space left on the device \(ENOSPC\); the data are valid; nothing was "
        r"written\. Fix: free some space, or choose another path \(--report\)",
    ):
        validate.validate_files(FLAGSHIP, allocation, paths, tmp_path / "issues.csv")
    assert not (tmp_path / "issues.csv").exists()

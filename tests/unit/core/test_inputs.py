"""Bounded inputs (issue 20, item 4): devices, directories, alias bombs, oversized files and
workbooks are refused unread, each naming the limit and the variable that raises it."""

from __future__ import annotations

import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from trialkit._core.inputs import PROTOCOL_MB, SHEET_CELLS, SHEET_ROWS, Limit, not_regular
from trialkit.errors import DataValidationError, ProtocolError, TrialkitError
from trialkit.protocol import load_protocol
from trialkit.randomise import read_units
from trialkit.validate.readers import read_table

#: What a hostile file may cost before it is refused (issue 20: 5 s and 500 MB).
SECONDS, MEMORY = 5, 500 * 1024 * 1024


def _laughs(path: Path, levels: int = 9) -> Path:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    path.write_text("\n".join([*lines, f"identity: *a{levels}"]) + "\n", encoding="utf-8")
    return path


def _bounded(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``trialkit ARGS`` in a new process held to the hostile-file budget."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY + 400 * 1024 * 1024,) * 2)

    return subprocess.run(
        [sys.executable, "-m", "trialkit", *args],
        cwd=cwd,
        text=True,
        capture_output=True,
        timeout=SECONDS + 10,
        preexec_fn=cap,
        check=False,
    )


# ---------------------------------------------------------------------------- limits


def test_a_limit_reads_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    assert PROTOCOL_MB.value() == PROTOCOL_MB.default
    monkeypatch.setenv(PROTOCOL_MB.variable, "12")
    assert PROTOCOL_MB.value() == 12
    assert PROTOCOL_MB.exceeded(12) is None
    assert PROTOCOL_MB.exceeded(12.5) == "the protocol file is 12.5 MB, over the limit of 12 MB"
    assert "set TRIALKIT_MAX_PROTOCOL_MB (now 12)" in PROTOCOL_MB.fix()


@pytest.mark.parametrize("text", ["0", "-3", "ten", "1.5"])
def test_a_bad_setting_is_an_error_not_ignored(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv("TRIALKIT_TEST_LIMIT", text)
    with pytest.raises(
        TrialkitError,
        match=r"TRIALKIT_TEST_LIMIT=.* is not a positive whole "
        r"number\. Fix: set it to a number of rows such as 7",
    ):
        Limit("sheet", "TRIALKIT_TEST_LIMIT", 7, "rows").value()


def test_not_regular_names_what_the_path_is(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_text("x\n1\n")
    assert not_regular(tmp_path / "f.csv") is None
    assert not_regular(tmp_path / "absent.csv") == (
        "file not found",
        "check the path and its spelling.",
    )
    assert not_regular(tmp_path)[0] == "is a directory, not a file"  # type: ignore[index]
    assert "device" in not_regular("/dev/zero")[0]  # type: ignore[index]


# ---------------------------------------------------------------------------- protocols


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    path = _laughs(tmp_path / "laughs.yaml")
    with pytest.raises(
        ProtocolError,
        match=r"laughs\.yaml, line 1: the protocol, with its YAML "
        r"aliases expanded, is 23,456,790,133 values, over the limit of 100,000",
    ):
        load_protocol(path)


def test_the_alias_bomb_costs_under_the_budget_through_the_cli(tmp_path: Path) -> None:
    done = _bounded("check", str(_laughs(tmp_path / "laughs.yaml", levels=12)), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "TRIALKIT_MAX_PROTOCOL_VALUES" in done.stderr and "Traceback" not in done.stderr


def test_aliases_a_real_protocol_uses_still_load(flagship_path: Path, tmp_path: Path) -> None:
    text = flagship_path.read_text(encoding="utf-8")
    anchored = text.replace("  calendar: GB-ENG", "  calendar: &where GB-ENG", 1)
    path = tmp_path / "p.yaml"
    path.write_text(anchored + "x_note: *where\n", encoding="utf-8")
    with pytest.raises(ProtocolError, match="x_note"):  # an unknown key, found after expansion
        load_protocol(path)


def test_an_oversized_protocol_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PROTOCOL_MB.variable, "1")
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (2 * 1024 * 1024))
    with pytest.raises(
        ProtocolError,
        match=r"big\.yaml: the protocol file is 2\.0 MB, over the "
        r"limit of 1 MB Fix: .*TRIALKIT_MAX_PROTOCOL_MB",
    ):
        load_protocol(path)


@pytest.mark.parametrize(("where", "said"), [("/dev/zero", "device"), (".", "is a directory")])
def test_devices_and_directories_are_not_protocols(tmp_path: Path, where: str, said: str) -> None:
    done = _bounded("check", where, cwd=tmp_path)
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


# ---------------------------------------------------------------------------- data files


@pytest.mark.parametrize("where", ["/dev/zero", "."])
def test_units_that_are_not_a_file_are_refused(tmp_path: Path, where: str) -> None:
    with pytest.raises(DataValidationError, match=r"device|directory"):
        read_units(tmp_path / where if where == "." else where)


@pytest.mark.parametrize("where", ["/dev/zero.csv", "."])
def test_data_that_is_not_a_file_is_refused(tmp_path: Path, where: str) -> None:
    target = tmp_path / "d.csv"
    target.mkdir()
    with pytest.raises(DataValidationError, match="directory"):
        read_table(target)


def _sheet(path: Path, rows: int) -> Path:
    """A workbook whose first sheet has ``rows`` one-cell rows, written as raw XML (fast)."""
    book = openpyxl.Workbook()
    book.active.append(["x"])
    book.save(path)
    with zipfile.ZipFile(path) as original:
        parts = {name: original.read(name) for name in original.namelist()}
    body = b"".join(
        b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, rows + 1)
    )
    parts["xl/worksheets/sheet1.xml"] = (
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats'
        b'.org/spreadsheetml/2006/main"><sheetData>' + body + b"</sheetData></worksheet>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for name, data in parts.items():
            rewritten.writestr(name, data)
    return path


def test_a_sheet_over_the_row_limit_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SHEET_ROWS.variable, "50")
    assert len(read_table(_sheet(tmp_path / "ok.xlsx", 50)).frame) == 49
    with pytest.raises(
        DataValidationError,
        match=r"many\.xlsx: the first sheet is \d+ rows, over "
        r"the limit of 50 rows Fix: split the data over several files, or raise",
    ):
        read_table(_sheet(tmp_path / "many.xlsx", 51))


def test_a_sheet_over_the_cell_limit_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _sheet(tmp_path / "cells.xlsx", 60)
    cells = sum(len(row) for row in openpyxl.load_workbook(path).active.iter_rows())
    monkeypatch.setenv(SHEET_CELLS.variable, str(cells))
    assert len(read_table(path).frame) == 59  # exactly at the limit: read
    monkeypatch.setenv(SHEET_CELLS.variable, str(cells - 1))
    with pytest.raises(
        DataValidationError,
        match=rf"cells\.xlsx: the first sheet is {cells:,} cells, over the limit of "
        rf"{cells - 1:,} cells Fix: save the sheet as CSV \(read at any size\), or raise "
        r"the limit: set TRIALKIT_MAX_SHEET_CELLS",
    ):
        read_table(path)


def test_a_workbook_unzipping_past_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIALKIT_MAX_WORKBOOK_MB", "1")
    path = _sheet(tmp_path / "wide.xlsx", 40_000)  # about 1.4 MB of XML, 0.1 MB zipped
    with pytest.raises(
        DataValidationError,
        match=r"the workbook, unzipped, is 1\.\d MB, over the "
        r"limit of 1 MB.*TRIALKIT_MAX_WORKBOOK_MB",
    ):
        read_table(path)


def test_a_sheet_past_excels_limit_is_refused_within_budget(tmp_path: Path) -> None:
    """One row more than Excel allows, zipped to under 3 MB: refused in one pass of the XML."""
    path = _sheet(tmp_path / "huge.xlsx", SHEET_ROWS.default + 1)
    script = (
        f"from trialkit.validate.readers import read_table\nimport sys\n"
        f"try:\n    read_table({str(path)!r})\nexcept Exception as e:\n"
        f"    print(e); sys.exit(2)\n"
    )

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY + 400 * 1024 * 1024,) * 2)

    done = subprocess.run(
        [sys.executable, "-c", script],
        text=True,
        capture_output=True,
        timeout=SECONDS + 20,
        preexec_fn=cap,
        check=False,
    )
    assert done.returncode == 2 and "over the limit of 1,048,576 rows" in done.stdout, done


@pytest.mark.parametrize("command", ["randomise", "simulate", "diagnose", "audit-sample"])
def test_a_negative_seed_is_refused_by_every_command_that_takes_one(
    tmp_path: Path, command: str
) -> None:
    done = _bounded(command, "council_discretionary_budget", "--seed", "-1", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Invalid value for '--seed'" in done.stderr and "Traceback" not in done.stderr

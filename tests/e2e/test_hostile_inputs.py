"""Hostile paths and files reach the user as a located exit 2, never a traceback (issue 20).

Each test is one probe of the issue: output paths refused before any work, results and
allocations never half-written, results the ledger does not record never reported.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from trialkit.cli import app
from trialkit.register.ledger import append

ROOT = Path(__file__).resolve().parents[2]
FLAGSHIP = ROOT / "protocols" / "council_discretionary_budget.yaml"
UNITS = ROOT / "examples" / "council_discretionary_budget" / "units.csv"
runner = CliRunner()


def _fails(args: list[str], *match: str) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    for text in match:
        assert text in result.output, result.output
    return result.output


@pytest.fixture()
def no_analysis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any validation or analysis started is a failure: refusals must come first."""

    def started(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the work started before the output path was checked")

    monkeypatch.setattr("trialkit.api.validate_files", started)


def _analyse(tmp_path: Path, out: Path, *extra: str) -> list[str]:
    return [
        "analyse",
        str(FLAGSHIP),
        "--allocation",
        str(tmp_path / "allocation.csv"),
        "--data",
        str(tmp_path / "team.csv"),
        "--out",
        str(out),
        "--no-bayes",
        *extra,
    ]


def test_analyse_out_at_a_file_is_refused_before_the_analysis(
    tmp_path: Path, no_analysis: None
) -> None:
    afile = tmp_path / "afile"
    afile.write_text("x")
    _fails(
        _analyse(tmp_path, afile),
        "is a file, but the results directory is a directory",
        "Fix: give --out a directory",
    )
    assert afile.read_text() == "x"


def test_analyse_out_holding_results_or_an_input_is_refused_first(
    tmp_path: Path, no_analysis: None
) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "subgroups.csv").write_text("left over\n")
    _fails(_analyse(tmp_path, results), "subgroups.csv: refusing to overwrite", "--force")
    team = results / "estimates.csv"
    team.write_text("team_id\n")
    args = _analyse(tmp_path, results, "--force")
    args[args.index("--data") + 1] = str(team)
    _fails(args, "estimates.csv: the results would overwrite one of this command's inputs")


def test_analyse_out_in_an_unwritable_directory_is_refused_first(
    tmp_path: Path, no_analysis: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "trialkit._core.destinations.probe_writable",
        lambda d: PermissionError(errno.EACCES, "Permission denied", str(d)),
    )
    _fails(
        _analyse(tmp_path, tmp_path / "results"),
        "is not writable",
        "Fix: choose a directory you can write",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"{not json", "line 1: not valid JSON"),
        (b"[1, 2]", "not a results document (a JSON list"),
        (b'{"schema_version": 2, "x": "\xff"}', "not UTF-8 text"),
        (b"[" * 100_000, "not valid JSON"),
    ],
)
def test_report_on_a_broken_results_json_is_a_located_error(
    tmp_path: Path, text: bytes, message: str
) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "results.json").write_bytes(text)
    _fails(
        ["report", str(results), "--out", str(tmp_path / "r.html")],
        "results.json",
        message,
        "Fix: re-run `trialkit analyse`",
    )


def test_report_out_where_no_file_can_be_written_is_refused(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    _fails(
        ["report", str(tmp_path), "--out", str(tmp_path / "afile" / "r.html")],
        "is a file, not a directory",
        "Fix: choose another output path",
    )
    _fails(
        ["report", str(tmp_path), "--out", str(tmp_path)],
        "is a directory, but the report is a file",
    )


def _recorded_results(tmp_path: Path) -> tuple[Path, Path]:
    results = tmp_path / "results"
    results.mkdir()
    (results / "results.json").write_text('{"run": 1}\n')
    ledger = tmp_path / "ledger.jsonl"
    append(ledger, "analyse", outputs=[results / "results.json"])
    return results, ledger


@pytest.fixture()
def rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading and rendering stubbed: these tests are about the ledger's say."""
    monkeypatch.setattr("trialkit.analyse.load_results", lambda path: object())
    monkeypatch.setattr(
        "trialkit.report.output.render_output",
        lambda results, format, source, ledger=None: b"<html></html>",
    )


def test_report_refuses_results_the_ledger_does_not_record(tmp_path: Path, rendering: None) -> None:
    results, ledger = _recorded_results(tmp_path)
    ok = runner.invoke(
        app, ["report", str(results), "--out", str(tmp_path / "a.html"), "--ledger", str(ledger)]
    )
    assert ok.exit_code == 0, ok.output
    # as a run killed after results.json moved in and before its ledger entry leaves it
    (results / "results.json").write_text('{"run": 2}\n')
    _fails(
        ["report", str(results), "--out", str(tmp_path / "b.html"), "--ledger", str(ledger)],
        "no `analyse` entry of the ledger",
        "Fix: run `trialkit analyse` again with --force",
    )
    assert not (tmp_path / "b.html").exists()


def test_report_on_a_full_disk_is_exit_2_with_the_path(
    tmp_path: Path, rendering: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    results, _ = _recorded_results(tmp_path)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    _fails(
        ["report", str(results), "--out", str(tmp_path / "r.html")],
        "r.html: cannot write the report: no space left on the device (ENOSPC)",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.jsonl", "results"]


def _randomise(out: Path, *extra: str) -> list[str]:
    return ["randomise", str(FLAGSHIP), "--units", str(UNITS), "--out", str(out), *extra]


def test_randomise_out_json_is_refused_not_overwritten_by_its_metadata(tmp_path: Path) -> None:
    _fails(
        _randomise(tmp_path / "alloc.json"),
        "overwritten by its own metadata",
        "Fix: name the allocation .csv, e.g. --out",
    )
    assert list(tmp_path.iterdir()) == []


def test_randomise_out_at_an_input_is_refused_even_with_force(tmp_path: Path) -> None:
    units = tmp_path / "units.csv"
    units.write_bytes(UNITS.read_bytes())
    _fails(
        ["randomise", str(FLAGSHIP), "--units", str(units), "--out", str(units), "--force"],
        "the allocation would overwrite one of this command's inputs",
    )
    assert units.read_bytes() == UNITS.read_bytes()


def test_randomise_on_a_full_disk_leaves_no_allocation_without_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = os.fsync

    def full_at_the_metadata(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(os, "fsync", full_at_the_metadata)
    _fails(
        _randomise(tmp_path / "allocation.csv"),
        "allocation.csv: cannot write the allocation: no space left",
        "the allocation and its metadata are as they were",
    )
    assert list(tmp_path.iterdir()) == []


def _protocol_with_label(tmp_path: Path, label: str) -> Path:
    text = FLAGSHIP.read_text(encoding="utf-8")
    old = "label: Loneliness (UCLA 3-item scale)"
    assert old in text
    path = tmp_path / "protocol.yaml"
    path.write_text(text.replace(old, f"label: {label}", 1), encoding="utf-8")
    return path


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ('"Lonel\u202einess"', "U+202E (RIGHT-TO-LEFT OVERRIDE) after 'Lonel'"),
        ('"Lonel\u2066iness"', "U+2066 (LEFT-TO-RIGHT ISOLATE)"),
        ('"Lone\\0liness"', "U+0000 (a control character) after 'Lone'"),
        ('"Lone\\x1bliness"', "U+001B"),
    ],
)
def test_hidden_characters_in_protocol_text_are_refused_at_their_line(
    tmp_path: Path, label: str, shown: str
) -> None:
    path = _protocol_with_label(tmp_path, label)
    line = _line_of(path, 'label: "Lon')
    _fails(
        ["check", str(path)], f"line {line} (outcomes[0].label)", shown, "Fix: delete the character"
    )


def test_a_raw_nul_in_the_protocol_is_located_by_line_and_column(tmp_path: Path) -> None:
    path = _protocol_with_label(tmp_path, "Lone\0liness")
    line = _line_of(path, "label: Lone")
    _fails(
        ["check", str(path)], f"line {line}: column 16 holds U+0000", "Fix: delete the character"
    )


def test_a_math_text_label_is_drawn_as_plain_text_when_registering(tmp_path: Path) -> None:
    path = _protocol_with_label(tmp_path, '"$\\\\frac{1}$ lonely"')
    done = runner.invoke(app, ["register", str(path), "--out", str(tmp_path / "registration")])
    assert done.exit_code == 0, done.output
    plan = (tmp_path / "registration" / "pre_analysis_plan.html").read_text(encoding="utf-8")
    assert "$\\frac{1}$ lonely" in plan


_KILLED_BEFORE_ITS_ENTRY = """
import os, signal, sys
from pathlib import Path
import trialkit.register as register
from trialkit import api
from trialkit.register.ledger import append
out = Path(sys.argv[1])
ledger = out / "ledger.jsonl"
protocol = "council_discretionary_budget"
api.register_protocol(protocol, out / "registration", ledger=ledger)
units = api.simulate_units(protocol, out / "units.csv")
api.randomise(protocol, units, out / "allocation.csv", ledger=ledger)
data = api.simulate_data(protocol, units, out / "allocation.csv", out / "data")
def killed_at_analyse(path, action, **kwargs):
    if action == "analyse":
        os.kill(os.getpid(), signal.SIGKILL)
    return append(path, action, **kwargs)
register.append = killed_at_analyse
api.analyse(protocol, out / "allocation.csv", data, out / "results",
            registration=out / "registration", bayesian=False, ledger=ledger)
"""


@pytest.mark.slow
def test_a_kill_between_results_and_their_ledger_entry_is_refused_by_report(tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _KILLED_BEFORE_ITS_ENTRY, str(tmp_path)],
        capture_output=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    assert (tmp_path / "results" / "results.json").is_file()
    _fails(
        [
            "report",
            str(tmp_path / "results"),
            "--out",
            str(tmp_path / "report.html"),
            "--ledger",
            str(tmp_path / "ledger.jsonl"),
        ],
        "no `analyse` entry of the ledger",
    )
    assert not (tmp_path / "report.html").exists()

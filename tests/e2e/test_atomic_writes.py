"""Staged, ordered writes and output paths refused up front (issue 20, item 1).

Every command writes through :func:`trialkit._core.staging.commit`: the files are staged and
fsynced in the destination directory, then moved in with the trusted one last, stale files
of an earlier run removed in the same commit, and an interrupted commit undone (or
finished) by the next one. Output paths that collide, are inputs, directories, devices,
links leaving their directory or unwritable are refused before any work starts.
The kill-point tests are in ``test_atomic_writes_kill.py`` (slow).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from trialkit._core import staging
from trialkit._core.destinations import check_destination, check_destinations
from trialkit._core.files import atomic_write
from trialkit._core.staging import PREFIX, commit, recover
from trialkit.cli import app
from trialkit.errors import OverwriteError, TrialkitError

ROOT = Path(__file__).resolve().parents[2]
FLAGSHIP = ROOT / "protocols" / "council_discretionary_budget.yaml"
UNITS = ROOT / "examples" / "council_discretionary_budget" / "units.csv"
runner = CliRunner()

OLD = {"a.csv": b"old a\n", "stale.csv": b"old stale\n", "a.json": b'{"old": 1}\n'}
NEW = {"a.csv": b"new a\n", "a.json": b'{"new": 1}\n'}


def _state(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def _previous(tmp_path: Path) -> Path:
    target = tmp_path / "out"
    target.mkdir()
    for name, payload in OLD.items():
        (target / name).write_bytes(payload)
    return target


def _commit(target: Path) -> list[Path]:
    return commit(target, NEW, last="a.json", remove=["stale.csv"], force=True, what="pair")


def _fails(args: list[str], *match: str) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    for text in match:
        assert text in result.output, result.output
    return result.output


# The commit --------------------------------------------------------------------------------


def test_the_trusted_file_moves_out_first_and_in_last_and_stale_files_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _previous(tmp_path)
    moves: list[tuple[Path, Path]] = []
    real = os.replace

    def record(src: Any, dst: Any) -> None:
        moves.append((Path(src), Path(dst)))
        real(src, dst)

    monkeypatch.setattr(os, "replace", record)
    written = _commit(target)
    assert _state(target) == NEW, "the stale file was kept or a new file is missing"
    assert [p.name for p in written] == ["a.json", "a.csv"]
    out = [src.name for src, _ in moves if src.parent == target]
    into = [dst.name for _, dst in moves if dst.parent == target]
    assert out[0] == "a.json" and sorted(out) == sorted(OLD), out
    assert into == ["a.csv", "a.json"], into


def test_staged_files_are_fsynced_before_any_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _previous(tmp_path)
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(
        os, "replace", lambda s, d: (events.append(f"move {Path(d).name}"), real_replace(s, d))[1]
    )
    _commit(target)
    first_move = next(
        i for i, e in enumerate(events) if e.startswith("move") and "journal" not in e
    )
    assert events[:first_move].count("fsync") >= len(NEW) + 1, events  # files, folder, journal
    assert events[-1] == "fsync", "the directory is not fsynced after the moves"


def test_a_full_disk_while_staging_changes_nothing_and_leaves_no_staging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _previous(tmp_path)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        _commit(target)
    assert _state(target) == OLD


@pytest.mark.parametrize("fail_at", [2, 3, 4, 5, 6])
def test_a_failed_move_puts_every_previous_file_back(
    tmp_path: Path, fail_at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _previous(tmp_path)
    calls: list[Any] = []
    real = os.replace

    def flaky(src: Any, dst: Any) -> None:
        calls.append(dst)
        if len(calls) == fail_at:  # 1 is the journal; 2-4 move out, 5-6 move in
            raise OSError(errno.EACCES, "Permission denied")
        real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(PermissionError):
        _commit(target)
    assert _state(target) == OLD


def test_existing_files_need_force_and_new_directories_are_not_left_empty(tmp_path: Path) -> None:
    target = _previous(tmp_path)
    with pytest.raises(OverwriteError, match=r"a\.csv: exists; refusing to overwrite the pair"):
        commit(target, NEW, last="a.json", what="pair")
    assert _state(target) == OLD
    fresh = tmp_path / "fresh" / "deeper"
    with pytest.raises(ValueError, match="not among the files"):
        commit(fresh, NEW, last="missing.json")
    assert not fresh.exists()


def test_modes_and_subdirectories(tmp_path: Path) -> None:
    commit(
        tmp_path / "k",
        {"key": b"secret", "data/team.csv": b"x\n"},
        last="key",
        modes={"key": 0o600},
    )
    assert stat.S_IMODE((tmp_path / "k" / "key").stat().st_mode) == 0o600
    assert (tmp_path / "k" / "data" / "team.csv").read_bytes() == b"x\n"
    assert [p.name for p in (tmp_path / "k").iterdir() if p.name.startswith(".")] == []


def test_atomic_write_is_a_one_file_commit(tmp_path: Path) -> None:
    path = atomic_write(tmp_path / "sub" / "r.html", "<p>", what="report")
    assert path.read_text() == "<p>"
    with pytest.raises(OverwriteError, match="refusing to overwrite the existing report"):
        atomic_write(path, "<q>", what="report")
    atomic_write(path, b"<q>", force=True, what="report")
    assert path.read_bytes() == b"<q>"
    assert sorted(p.name for p in path.parent.iterdir()) == ["r.html"]


def test_a_failing_then_puts_the_previous_files_back(tmp_path: Path) -> None:
    target = _previous(tmp_path)
    seen: list[dict[str, bytes]] = []

    def ledger_full(written: list[Path]) -> None:
        seen.append(_state(target))
        raise TrialkitError("cannot append to the ledger (No space left on device)")

    with pytest.raises(TrialkitError, match="cannot append to the ledger"):
        commit(target, NEW, last="a.json", remove=["stale.csv"], force=True, then=ledger_full)
    assert seen == [NEW], "the new files were not in place when the ledger entry was made"
    assert _state(target) == OLD
    assert not [p for p in target.iterdir() if p.name.startswith(PREFIX)]


# Recovery ----------------------------------------------------------------------------------


class Killed(BaseException):
    """Stands for SIGKILL: no clean-up runs (the subprocess kills are in the slow tests)."""


def _interrupted(target: Path, moves: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A commit stopped after ``moves`` renames (the first is the journal's)."""
    calls: list[Any] = []
    real = os.replace

    def stop(src: Any, dst: Any) -> None:
        if len(calls) == moves:
            raise Killed
        calls.append(dst)
        real(src, dst)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", stop)
        patch.setattr(shutil, "rmtree", lambda *a, **k: None)  # a killed run cleans nothing
        with pytest.raises(Killed):
            _commit(target)


@pytest.mark.parametrize("moves", range(0, 6))
def test_the_next_commit_undoes_an_interrupted_one_saying_so(
    tmp_path: Path, moves: int, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    target = _previous(tmp_path)
    _interrupted(target, moves, monkeypatch)
    assert any(p.name.startswith(PREFIX) for p in target.iterdir()), "no staging folder left"
    if moves > 1:
        assert "a.json" not in _state(target), "the trusted file is there mid-commit"
    said = recover(target)
    assert _state(target) == OLD, f"interrupted after {moves} move(s): not the previous state"
    assert len(said) == 1
    expected = "undone" if moves else "interrupted before it changed anything"
    assert expected in said[0], said
    assert "note:" in caplog.text


def test_a_finished_commit_whose_staging_was_left_is_rolled_forward(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _previous(tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr(staging, "_discard", lambda *a: None)  # killed before removing it
        _commit(target)
    said = recover(target)
    assert _state(target) == NEW
    assert "had moved every new file" in said[0]


def test_recovery_runs_before_the_next_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _previous(tmp_path)
    _interrupted(target, 4, monkeypatch)
    commit(target, {"b.csv": b"b\n"}, last="b.csv")
    assert _state(target) == OLD | {"b.csv": b"b\n"}


@pytest.mark.parametrize("at", range(0, 5))
def test_a_recovery_interrupted_in_turn_is_finished_by_the_next(
    tmp_path: Path, at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _previous(tmp_path)
    _interrupted(target, 5, monkeypatch)  # the previous files out, a.csv's new one in
    calls: list[Any] = []
    real = os.replace

    def stop(src: Any, dst: Any) -> None:
        if len(calls) == at:
            raise Killed
        calls.append(dst)
        real(src, dst)

    with monkeypatch.context() as patch:
        patch.setattr(os, "replace", stop)
        patch.setattr(shutil, "rmtree", lambda *a, **k: None)
        with contextlib.suppress(Killed):
            recover(target)
    recover(target)
    assert _state(target) == OLD, f"recovery killed at its rename {at}: not the previous state"
    assert not [p for p in target.iterdir() if p.name.startswith(PREFIX)]


def test_two_commits_into_one_directory_take_turns(tmp_path: Path) -> None:
    import threading

    target = _previous(tmp_path)
    done = threading.Event()

    def other() -> None:
        commit(target, {"b.csv": b"b\n"}, last="b.csv")
        done.set()

    with staging._locked(target):  # a commit in progress holds the directory
        thread = threading.Thread(target=other)
        thread.start()
        assert not done.wait(0.5), "a second commit did not wait for the first"
    thread.join(10)
    assert done.is_set() and _state(target) == OLD | {"b.csv": b"b\n"}


# Output paths ------------------------------------------------------------------------------


def test_an_unwritable_directory_is_probed_not_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "access", lambda *a, **k: True)  # what root always hears

    def read_only(*args: Any, **kwargs: Any) -> Any:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr("trialkit._core.destinations.tempfile.mkstemp", read_only)
    with pytest.raises(TrialkitError, match=r"is on a read-only file system\. Fix: choose"):
        check_destination(tmp_path / "a.csv")


def test_a_device_a_directory_and_an_input_by_another_name_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TrialkitError, match="is a device, pipe or socket"):
        check_destination("/dev/null")
    with pytest.raises(TrialkitError, match="is a directory, but the output is a file"):
        check_destination(tmp_path)
    source = tmp_path / "units.csv"
    source.write_text("unit_id\n")
    os.link(source, tmp_path / "hard.csv")
    with pytest.raises(TrialkitError, match="would overwrite one of this command's inputs"):
        check_destination(tmp_path / "hard.csv", inputs=[source])


def test_a_link_leaving_its_directory_is_refused_one_inside_is_not(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("keep\n")
    inside = tmp_path / "work"
    inside.mkdir()
    (inside / "out.csv").symlink_to(outside)
    with pytest.raises(TrialkitError, match=r"is a symbolic link to .*elsewhere\.csv, outside"):
        check_destination(inside / "out.csv")
    (inside / "real.csv").write_text("old\n")
    (inside / "near.csv").symlink_to(inside / "real.csv")
    check_destination(inside / "near.csv")
    atomic_write(inside / "near.csv", "new\n", force=True)
    assert (inside / "real.csv").read_text() == "old\n", "written through the link"
    assert outside.read_text() == "keep\n"


def test_two_outputs_at_one_path_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TrialkitError, match="both the private key and the public key"):
        check_destinations(
            {tmp_path / "k": "private key", tmp_path / "sub" / ".." / "k": "public key"}
        )
    with pytest.raises(TrialkitError, match="both the private key and the public key"):
        check_destinations([(tmp_path / "k", "private key"), (tmp_path / "k", "public key")])


# Commands ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pilot")
    done = runner.invoke(app, ["simulate", str(FLAGSHIP), "--out", str(root / "sim")])
    assert done.exit_code == 0, done.output
    return root / "sim"


def _validate(pilot: Path, report: Path | str, *extra: str) -> list[str]:
    data = [a for n in ("team", "spend") for a in ("--data", str(pilot / "data" / f"{n}.csv"))]
    allocation = str(pilot / "allocation.csv")
    return [
        "validate",
        str(FLAGSHIP),
        "--allocation",
        allocation,
        *data,
        "--report",
        str(report),
        *extra,
    ]


@pytest.fixture()
def no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def started(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the validation started before the report path was checked")

    monkeypatch.setattr("trialkit.validate.validate_files", started)


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("dir", "is a directory, but the issues table is a file"),
        ("/dev/null", "is a device, pipe or socket"),
        ("input", "would overwrite one of this command's inputs"),
        ("other", "refusing to overwrite the existing file (it is not an issues table)"),
    ],
)
def test_validate_report_paths_are_refused_before_validating(
    pilot: Path, tmp_path: Path, where: str, message: str, no_validation: None
) -> None:
    other = tmp_path / "notes.csv"
    other.write_text("mine\n")
    report = {
        "dir": str(tmp_path),
        "/dev/null": "/dev/null",
        "input": str(pilot / "data" / "team.csv"),
        "other": str(other),
    }[where]
    _fails(_validate(pilot, report, *(["--force"] if where == "input" else [])), message)
    assert other.read_text() == "mine\n"


def test_audit_sample_paths_are_refused_before_drawing(pilot: Path, tmp_path: Path) -> None:
    protocol = tmp_path / "protocol.yaml"
    text = FLAGSHIP.read_text(encoding="utf-8")
    protocol.write_text(
        text.replace("    coverage: all\n", "    coverage: sample\n    sample_size: 20\n")
    )
    spends = pilot / "data" / "spend.csv"
    before = spends.read_bytes()
    base = ["audit-sample", str(protocol), "--data", str(spends), "--out"]
    _fails([*base, str(tmp_path / "sample.json")], "would be overwritten by its own metadata")
    _fails([*base, str(spends), "--force"], "would overwrite one of this command's inputs")
    assert spends.read_bytes() == before
    done = runner.invoke(app, [*base, str(tmp_path / "sample.csv")])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "protocol.yaml",
        "sample.csv",
        "sample.json",
    ]


def test_simulate_on_a_full_disk_is_exit_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.fsync
    out = tmp_path / "sim"

    def full_in_out(fd: int) -> None:  # the scratch run elsewhere succeeds; the commit fails
        if Path(os.readlink(f"/proc/self/fd/{fd}")).is_relative_to(out):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    monkeypatch.setattr(os, "fsync", full_in_out)
    _fails(["simulate", str(FLAGSHIP), "--out", str(out)], "no space left on the device (ENOSPC)")
    assert not out.exists() or list(out.iterdir()) == []


def test_simulate_writes_every_file_in_one_commit_and_refuses_to_replace(
    pilot: Path, tmp_path: Path
) -> None:
    names = sorted(p.relative_to(pilot).as_posix() for p in pilot.rglob("*") if p.is_file())
    assert names[:2] == ["allocation.csv", "allocation.json"] and "units.csv" in names
    assert "data/team.csv" in names and not any(PREFIX in n for n in names)
    meta = json.loads((pilot / "allocation.json").read_text())
    assert meta["csv_file"] == "allocation.csv"
    _fails(["simulate", str(FLAGSHIP), "--out", str(pilot)], "refusing to overwrite")


def test_an_os_error_no_command_expected_is_exit_2_naming_the_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "x.csv"))

    monkeypatch.setattr("trialkit.api.randomise", denied)
    _fails(
        ["randomise", str(FLAGSHIP), "--units", str(UNITS), "--out", str(tmp_path / "a.csv")],
        "x.csv: permission denied (EACCES)",
    )


def test_key_new_with_both_keys_at_one_path_is_refused_before_making_a_key(
    tmp_path: Path,
) -> None:
    key = tmp_path / "k.pem"
    _fails(
        ["key", "new", "--out", str(key), "--public-out", str(key)],
        "both the private key and the public key would be written here",
    )
    assert list(tmp_path.iterdir()) == []
    done = runner.invoke(app, ["key", "new", "--out", str(key)])
    assert done.exit_code == 0, done.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.pem", "k.pub"]


def test_register_out_at_a_file_is_refused_before_freezing(tmp_path: Path) -> None:
    afile = tmp_path / "registration"
    afile.write_text("x")
    _fails(
        ["register", str(FLAGSHIP), "--out", str(afile)],
        "is a file, but the registration directory is a directory",
    )
    assert afile.read_text() == "x"


def test_report_after_an_interrupted_analyse_reports_the_previous_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from trialkit.analyse.outputs import commit_results

    results = tmp_path / "results"
    commit_results(results, {"results.json": b"previous\n", "estimates.csv": b"p\n"}, force=False)
    with monkeypatch.context() as patch:  # killed after moving the previous files out
        calls: list[Any] = []
        real = os.replace

        def stop(src: Any, dst: Any) -> None:
            if len(calls) == 3:
                raise Killed
            calls.append(dst)
            real(src, dst)

        patch.setattr(os, "replace", stop)
        patch.setattr(shutil, "rmtree", lambda *a, **k: None)
        with pytest.raises(Killed):
            commit_results(results, {"results.json": b"new\n", "estimates.csv": b"n\n"}, force=True)
    assert not (results / "results.json").exists()
    monkeypatch.setattr("trialkit.analyse.load_results", lambda path: Path(path).read_text())
    monkeypatch.setattr(
        "trialkit.report.output.render_output",
        lambda results, format, source, ledger=None: results.encode(),
    )
    done = runner.invoke(app, ["report", str(results), "--out", str(tmp_path / "r.html")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "r.html").read_text() == "previous\n"
    assert "its moves were undone and the previous files restored" in caplog.text
    assert _state(results) == {"results.json": b"previous\n", "estimates.csv": b"p\n"} | {
        f"{t}.csv": (results / f"{t}.csv").read_bytes()
        for t in ("bayesian", "indices", "subgroups", "few_clusters")
        if (results / f"{t}.csv").exists()
    }


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd")
def test_register_on_a_full_disk_at_its_ledger_entry_leaves_no_registration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.write

    def full_at_the_ledger(fd: int, data: Any) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("ledger.jsonl"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", full_at_the_ledger)
    out = tmp_path / "registration"
    _fails(
        ["register", str(FLAGSHIP), "--out", str(out), "--export", "osf"],
        "cannot append to the ledger",
    )
    monkeypatch.undo()
    left = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert left == [], f"a registration without its ledger entry: {left}"
    done = runner.invoke(app, ["register", str(FLAGSHIP), "--out", str(out), "--export", "osf"])
    assert done.exit_code == 0, done.output
    assert (out / "registration.json").is_file() and (out / "exports" / "osf.json").is_file()

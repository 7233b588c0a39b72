"""The results directory is written as one commit (issue 20, item 1).

Every file is staged and fsynced in the results directory, then moved in with
``results.json`` last; a table the new run does not produce is removed in the same commit; a
full disk or a failed move leaves the directory as it was; and a process killed at any move
never leaves a ``results.json`` beside files of another run.
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trialkit.analyse import load_results
from trialkit.analyse.outputs import (
    RESULTS_FILE,
    check_results_dir,
    commit_results,
    recover_results,
)
from trialkit.errors import OverwriteError, TrialkitError

OLD = {
    RESULTS_FILE: b'{"run": "old"}\n',
    "estimates.csv": b"old\n",
    "subgroups.csv": b"old\n",
    "bayesian.csv": b"old\n",
}
NEW = {RESULTS_FILE: b'{"run": "new"}\n', "estimates.csv": b"new\n", "indices.csv": b"new\n"}


def _state(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


def _previous(tmp_path: Path) -> Path:
    target = tmp_path / "results"
    target.mkdir()
    for name, payload in OLD.items():
        (target / name).write_bytes(payload)
    (target / "notes.txt").write_bytes(b"mine\n")  # not a results file: left alone
    return target


def test_a_new_directory_gets_every_file_and_no_staging_is_left(tmp_path: Path) -> None:
    written = commit_results(tmp_path / "results", NEW, force=False)
    assert _state(tmp_path / "results") == NEW
    assert written[0] == tmp_path / "results" / RESULTS_FILE
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"]


def test_results_json_moves_in_last_and_stale_tables_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _previous(tmp_path)
    moves: list[tuple[Path, Path]] = []
    real = os.replace

    def record(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        moves.append((Path(src), Path(dst)))
        real(src, dst)

    monkeypatch.setattr(os, "replace", record)
    commit_results(target, NEW, force=True)
    assert _state(target) == NEW | {"notes.txt": b"mine\n"}, "stale subgroups/bayesian kept"
    into = [dst.name for _, dst in moves if dst.parent == target]
    assert into[-1] == RESULTS_FILE, f"results.json is not the last file moved in: {into}"
    out = [src.name for src, _ in moves if src.parent == target]
    assert out[0] == RESULTS_FILE, f"the old results.json is not the first moved out: {out}"
    assert sorted(out) == sorted(OLD), "a previous file was not moved out with the rest"


def test_a_full_disk_while_staging_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _previous(tmp_path)
    before = _state(target)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(
        TrialkitError,
        match=r"results: cannot write the results: no space .*"
        r"ENOSPC.*as it was\. Fix: free some space",
    ):
        commit_results(target, NEW, force=True)
    assert _state(target) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"], "staging left behind"


@pytest.mark.parametrize("fail_at", [1, 3, 5, 7])
def test_a_failed_move_puts_the_previous_files_back(
    tmp_path: Path, fail_at: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = _previous(tmp_path)
    before = _state(target)
    calls = []
    real = os.replace

    def flaky(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        calls.append(dst)
        if len(calls) == fail_at:
            raise OSError(errno.EACCES, "Permission denied")
        real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(
        TrialkitError,
        match=r"permission denied \(EACCES\); the results "
        r"directory is as it was",
    ):
        commit_results(target, NEW, force=True)
    assert _state(target) == before


def test_existing_results_need_force_and_name_the_file(tmp_path: Path) -> None:
    target = _previous(tmp_path)
    (target / RESULTS_FILE).unlink()  # a leftover CSV alone is enough to refuse
    with pytest.raises(OverwriteError, match=r"estimates\.csv: refusing to overwrite"):
        check_results_dir(target, inputs=(), force=False)


def test_a_file_an_input_or_an_unwritable_place_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    with pytest.raises(
        TrialkitError,
        match=r"afile: is a file, but the results directory is "
        r"a directory\. Fix: give --out a directory",
    ):
        check_results_dir(a_file, inputs=(), force=True)
    target = tmp_path / "results"
    target.mkdir()
    data = target / "estimates.csv"
    data.write_text("team_id\n")
    with pytest.raises(
        TrialkitError,
        match=r"estimates\.csv: the results would overwrite one "
        r"of this command's inputs",
    ):
        check_results_dir(target, inputs=[data], force=True)
    monkeypatch.setattr(
        "trialkit._core.destinations.probe_writable",
        lambda d: PermissionError(errno.EACCES, "Permission denied", str(d)),
    )
    with pytest.raises(TrialkitError, match=r"is not writable\. Fix: choose a directory"):
        check_results_dir(tmp_path / "new", inputs=(), force=False)


_KILL = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from trialkit.analyse.outputs import commit_results
    target, at = Path(sys.argv[1]), int(sys.argv[2])
    real, calls = os.replace, []
    def replace(src, dst):
        calls.append(dst)
        if len(calls) == at:
            os.kill(os.getpid(), signal.SIGKILL)
        real(src, dst)
    os.replace = replace
    commit_results(target, {NEW!r}, force=True)
""")


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", range(1, 11))
def test_a_kill_at_any_move_leaves_the_previous_results_or_the_new_ones(
    tmp_path: Path, kill_at: int
) -> None:
    target = _previous(tmp_path)
    script = _KILL.replace("{NEW!r}", repr(NEW))
    done = subprocess.run(
        [sys.executable, "-c", script, str(target), str(kill_at)], capture_output=True, check=False
    )
    assert done.returncode in (0, -9), done.stderr.decode()
    state = {k: v for k, v in _state(target).items() if k != "notes.txt"}
    if RESULTS_FILE in state:  # never beside files of another run
        assert state in (OLD, NEW), f"killed at move {kill_at}: a mixture {sorted(state)}"
    else:
        with pytest.raises(
            TrialkitError,
            match=r"no results here\. An interrupted `trialkit analyse` left its staging "
            r"folder \.trialkit-commit-",
        ):
            load_results(target)
    said = recover_results(target)  # what the next analyse or report does first
    state = {k: v for k, v in _state(target).items() if k != "notes.txt"}
    # moves: 1 journal, 2-5 previous out (results.json first), 6-8 new in (results.json last)
    assert state == (NEW if kill_at > 8 else OLD), f"killed at move {kill_at}: {sorted(state)}"
    assert (target / "notes.txt").read_bytes() == b"mine\n"
    assert bool(said) == (kill_at <= 8), said


def test_a_staging_folder_of_an_earlier_release_is_restored_saying_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Killed mid-move by the previous layout: the old files under previous/, some new
    files moved in, the rest (results.json among them) still staged."""
    target = tmp_path / "results"
    target.mkdir()
    staging = tmp_path / ".results.staging-abc"
    (staging / "previous").mkdir(parents=True)
    for name, payload in OLD.items():
        (staging / "previous" / name).write_bytes(payload)
    (target / "estimates.csv").write_bytes(NEW["estimates.csv"])  # moved in
    (staging / "indices.csv").write_bytes(NEW["indices.csv"])  # not yet
    (staging / RESULTS_FILE).write_bytes(NEW[RESULTS_FILE])
    said = recover_results(target)
    assert _state(target) == OLD
    assert not staging.exists()
    assert "restored the previous results" in said[0] and "note:" in caplog.text


def test_every_table_is_written_an_empty_one_with_its_header() -> None:
    from types import SimpleNamespace

    from trialkit.analyse.outputs import TABLES, results_files
    from trialkit.analyse.rows import SubgroupRow

    empty = SimpleNamespace(
        estimates=(),
        bayesian=SimpleNamespace(posteriors=()),
        indices=(),
        subgroups=(),
        few_clusters=(),
        to_json=lambda: "{}",
    )
    files = results_files(empty)  # type: ignore[arg-type]
    assert sorted(files) == sorted([RESULTS_FILE, *(f"{t}.csv" for t in TABLES)])
    header = files["subgroups.csv"].decode().splitlines()
    assert header == [",".join(SubgroupRow.model_fields)], "not the header alone"

"""Commands killed (SIGKILL) at every rename of their commit (issue 20, item 1; slow).

Each command runs in a subprocess whose ``os.replace`` kills it at the k-th rename into the
output directory (the journal's is the first, then the previous files out with the trusted
one first, then the new ones in with the trusted one last). While the commit is unfinished
the trusted file is absent or belongs to a consistent set; after the next run's recovery the
directory holds exactly the previous files or the complete new ones.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from trialkit._core.staging import PREFIX, recover
from trialkit.randomise import read_allocation
from trialkit.randomise.audit_file import read_audit_sample

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FLAGSHIP = ROOT / "protocols" / "council_discretionary_budget.yaml"
UNITS = ROOT / "examples" / "council_discretionary_budget" / "units.csv"

_HOOK = """
import os, signal, sys
at, under, calls, real = int(sys.argv[1]), os.path.abspath(sys.argv[2]), [], os.replace
def replace(src, dst):
    if os.path.abspath(dst).startswith(under + os.sep):
        calls.append(dst)
        if len(calls) == at:
            os.kill(os.getpid(), signal.SIGKILL)
    real(src, dst)
os.replace = replace
from trialkit.cli import app
app(sys.argv[3:], prog_name="trialkit")
"""


def _run_killed(at: int, under: Path, args: list[str]) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _HOOK, str(at), str(under), *args],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode in (0, -9), done.stderr.decode()
    return done.returncode


def _files(directory: Path) -> dict[str, bytes]:
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in directory.rglob("*")
        if p.is_file() and PREFIX not in p.as_posix()
    }


def _check_kill(
    at: int,
    directory: Path,
    args: list[str],
    *,
    consistent: Callable[[], bool],
    trusted: Path,
) -> str:
    """Kill at ``at``; return 'old' or 'new' after recovery, checking the state before it."""
    before = _files(directory)
    code = _run_killed(at, directory, args)
    if trusted.exists():
        assert consistent(), f"killed at rename {at}: the trusted file is beside other files"
    recover(directory)
    after = _files(directory)
    assert not any(p.name.startswith(PREFIX) for p in directory.iterdir())
    if after == before:
        return "old"
    assert consistent(), f"killed at rename {at}: neither the previous nor a complete new state"
    assert code == -9 or at > 0
    return "new"


@pytest.mark.parametrize("at", range(1, 7))
def test_randomise_force_killed_at_each_rename(tmp_path: Path, at: int) -> None:
    out = tmp_path / "allocation.csv"
    base = ["randomise", str(FLAGSHIP), "--units", str(UNITS), "--out", str(out)]
    assert _run_killed(0, tmp_path, base) == 0  # the previous allocation

    def consistent() -> bool:
        try:
            read_allocation(out)
        except Exception:
            return False
        return True

    state = _check_kill(
        at,
        tmp_path,
        [*base, "--seed", "7", "--force"],
        consistent=consistent,
        trusted=tmp_path / "allocation.json",
    )
    # renames: 1 journal, 2-3 previous out, 4-5 new in; 6 is past the last
    assert state == ("new" if at >= 6 else "old"), state
    if state == "new":
        assert read_allocation(out).seed == 7


@pytest.mark.parametrize("at", range(1, 7))
def test_audit_sample_redraw_killed_at_each_rename(tmp_path: Path, at: int) -> None:
    protocol = tmp_path / "protocol.yaml"
    text = FLAGSHIP.read_text(encoding="utf-8")
    protocol.write_text(
        text.replace("    coverage: all\n", "    coverage: sample\n    sample_size: 20\n")
    )
    sim = tmp_path / "sim"
    assert _run_killed(0, sim, ["simulate", str(FLAGSHIP), "--out", str(sim)]) == 0
    work = tmp_path / "work"
    work.mkdir()
    out = work / "sample.csv"
    base = ["audit-sample", str(protocol), "--data", str(sim / "data" / "spend.csv")]
    assert _run_killed(0, work, [*base, "--out", str(out)]) == 0

    def consistent() -> bool:
        try:
            read_audit_sample(out)
        except Exception:
            return False
        return True

    state = _check_kill(
        at,
        work,
        [*base, "--out", str(out), "--seed", "11", "--force"],
        consistent=consistent,
        trusted=work / "sample.json",
    )
    assert state == ("new" if at >= 6 else "old"), state
    if state == "new":
        assert read_audit_sample(out).seed == 11


@pytest.mark.parametrize("at", [1, 2, 8, 9, 15, 16])
def test_simulate_force_killed_at_renames(tmp_path: Path, at: int) -> None:
    sim = tmp_path / "sim"
    base = ["simulate", str(FLAGSHIP), "--out", str(sim)]
    assert _run_killed(0, sim, base) == 0
    old = _files(sim)
    n = len(old)

    def consistent() -> bool:
        now = _files(sim)
        if sorted(now) != sorted(old):
            return False
        try:
            read_allocation(sim / "allocation.csv")
        except Exception:
            return False
        return now == old or all(now[k] != old[k] for k in now if k.startswith("data/"))

    state = _check_kill(
        at,
        sim,
        [*base, "--seed", "5", "--force"],
        consistent=consistent,
        trusted=sim / "allocation.json",
    )
    assert state == ("new" if at > 1 + 2 * n else "old"), (state, n)


@pytest.mark.parametrize("at", range(1, 7))
def test_register_killed_at_each_rename(tmp_path: Path, at: int) -> None:
    from trialkit.register import load_registration

    out = tmp_path / "registration"

    def consistent() -> bool:
        try:
            load_registration(out)
        except Exception:
            return False
        return True

    state = _check_kill(
        at,
        out,
        ["register", str(FLAGSHIP), "--out", str(out)],
        consistent=consistent,
        trusted=out / "registration.json",
    )
    # renames: 1 journal, then frozen protocol, YAML, plan and the record (5) moved in
    assert state == ("new" if at >= 6 else "old"), state
    if state == "old":
        assert not out.exists() or _files(out) == {}


@pytest.mark.parametrize("at", range(1, 5))
def test_validate_report_over_an_earlier_file_killed_at_each_rename(
    tmp_path: Path, at: int
) -> None:
    from trialkit.validate.issues import is_issues_table

    sim = tmp_path / "sim"
    assert _run_killed(0, sim, ["simulate", str(FLAGSHIP), "--out", str(sim)]) == 0
    work = tmp_path / "work"
    work.mkdir()
    report = work / "issues.csv"
    report.write_text("my notes\n")
    data = [
        a
        for n in ("team", "client", "staff", "spend")
        for a in ("--data", str(sim / "data" / f"{n}.csv"))
    ]
    args = [
        "validate",
        str(FLAGSHIP),
        "--allocation",
        str(sim / "allocation.csv"),
        *data,
        "--report",
        str(report),
        "--force",
    ]
    state = _check_kill(
        at,
        work,
        args,
        consistent=lambda: is_issues_table(report) or report.read_text() == "my notes\n",
        trusted=report,
    )
    # renames: 1 journal, 2 the earlier file out, 3 the issues table in
    assert state == ("new" if at >= 4 else "old"), state

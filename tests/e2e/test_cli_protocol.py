"""The protocol commands of the CLI: check, schema, protocols, init, --version."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from trialkit import __version__, api
from trialkit.cli import app
from trialkit.protocol import bundled_protocols

HERE = Path(__file__).resolve().parent
PROTOCOL_TESTS = HERE.parent / "unit" / "protocol"
BUNDLED = bundled_protocols()
runner = CliRunner()


def _load(name: str, path: Path) -> ModuleType:
    """Import a sibling test module by path, to share its table of broken protocols."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


helpers = _load("_protocol_test_helpers", PROTOCOL_TESTS / "conftest.py")
rules = _load("_protocol_rule_cases", PROTOCOL_TESTS / "test_protocol_rules.py")

# (name, edits, needle for the reported line): field and YAML problems beyond the rules.
FIELD_CASES = [
    ("unknown_key", (("  planned: 24", "  planed: 24"),), "  planed: 24"),
    ("wrong_type", (("  planned: 24", "  planned: many"),), "  planned: many"),
    ("yaml_syntax", (("  planned: 24", "  planned: 24: 25"),), "  planned: 24: 25"),
    ("duplicate_key", (("  planned: 24\n", "  planned: 24\n  planned: 30\n"),), "  planned: 30"),
    ("missing_key", (("  id_column: team_id\n", ""),), "^units:"),
    ("bad_literal", (("  scheme: blocked_cluster", "  scheme: blocked_clustr"),), "  scheme: bl"),
    ("bad_date", (("  start: 2027-01-04", "  start: 2027-02-30"),), "  start: 2027-02-30"),
]
BAD_CASES = [
    *FIELD_CASES,
    *((f"{c.rule}-{c.name}", c.edits, c.line, c.nth) for c in rules.CASES),
]


def _invoke(*args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(app, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_check_bundled_protocol_exits_0(name: str) -> None:
    result = _invoke("check", str(BUNDLED[name]))
    assert result.exit_code == 0, result.output
    assert "valid (" in result.stdout and name.replace("_", "-") in result.stdout


def test_check_accepts_a_bundled_name() -> None:
    result = _invoke("check", "green_tape_benefits")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("case", BAD_CASES, ids=[case[0] for case in BAD_CASES])
def test_check_bad_protocol_exits_2_with_line_and_fix(
    case: tuple, flagship_path: Path, tmp_path: Path
) -> None:
    _, edits, needle, *nth = case
    text = helpers.Flagship(flagship_path.read_text(encoding="utf-8")).edit(*edits)
    path = tmp_path / "pilot.yaml"
    path.write_text(text, encoding="utf-8")
    result = _invoke("check", str(path))
    assert result.exit_code == 2, result.output
    line = helpers.line_of(text, needle, *nth)
    assert f"{path}, line {line}" in result.stderr, result.stderr
    assert "Fix:" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_check_python_tag_exits_2_and_never_runs(flagship_path: Path, tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    text = flagship_path.read_text(encoding="utf-8").replace(
        '  version: "1.2"', f'  version: !!python/object/apply:os.system ["touch {marker}"]', 1
    )
    path = tmp_path / "pilot.yaml"
    path.write_text(text, encoding="utf-8")
    result = _invoke("check", str(path))
    assert result.exit_code == 2
    assert (
        f"{path}, line 16 (identity.version): YAML tags that build objects are not allowed"
        in result.stderr
    )
    assert "Fix:" in result.stderr and "Traceback" not in result.output
    assert not marker.exists()


def test_check_missing_file_exits_2(tmp_path: Path) -> None:
    result = _invoke("check", str(tmp_path / "nowhere.yaml"))
    assert result.exit_code == 2
    assert "file not found" in result.stderr and "Fix:" in result.stderr


def test_check_unknown_name_exits_2() -> None:
    result = _invoke("check", "no_such_protocol")
    assert result.exit_code == 2
    assert "no bundled protocol of that name" in result.stderr
    assert "council_discretionary_budget" in result.stderr


def test_schema_prints_valid_json() -> None:
    result = _invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "trialkit pilot protocol"
    assert {"identity", "design", "outcomes"} <= set(schema["properties"])
    assert result.stdout == api.protocol_schema()


def test_protocols_lists_each_bundled_name_first() -> None:
    result = _invoke("protocols")
    assert result.exit_code == 0
    first_words = [line.split("\t")[0] for line in result.stdout.splitlines() if line]
    assert first_words == sorted(BUNDLED)


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_init_writes_a_workspace(name: str, tmp_path: Path) -> None:
    target = tmp_path / "pilot"
    result = _invoke("init", str(target), "--from", name)
    assert result.exit_code == 0, result.output
    written = {p.name for p in target.iterdir()}
    assert written == {"protocol.yaml", api.SCHEMA_FILE, "units.csv"}
    assert (target / "protocol.yaml").read_bytes() == BUNDLED[name].read_bytes()
    assert (target / api.SCHEMA_FILE).read_text(encoding="utf-8") == api.protocol_schema()
    example = api.example_units(BUNDLED[name])
    assert example is not None
    assert (target / "units.csv").read_bytes() == example.read_bytes()
    assert _invoke("check", str(target / "protocol.yaml")).exit_code == 0


def test_init_into_an_empty_existing_directory(tmp_path: Path) -> None:
    result = _invoke("init", str(tmp_path), "--from", "school_budget_autonomy")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "protocol.yaml").is_file()


def test_init_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    keep = tmp_path / "notes.txt"
    keep.write_text("mine", encoding="utf-8")
    result = _invoke("init", str(tmp_path), "--from", "green_tape_benefits")
    assert result.exit_code == 2
    assert "not empty" in result.stderr and "Fix:" in result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert keep.read_text(encoding="utf-8") == "mine"


def test_init_unknown_protocol_exits_2(tmp_path: Path) -> None:
    result = _invoke("init", str(tmp_path / "new"), "--from", "nonexistent")
    assert result.exit_code == 2
    assert "Fix:" in result.stderr
    assert not (tmp_path / "new").exists()


def test_version() -> None:
    result = _invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"trialkit {__version__}"

"""`--help` a person reads, hints that are true, and the warning of an unregistered allocation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from trialkit.cli import app

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = "council_discretionary_budget"
runner = CliRunner()


def _names(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, sub in getattr(command, "commands", {}).items():
        found += (
            _names(sub, (*prefix, name)) if getattr(sub, "commands", None) else [(*prefix, name)]
        )
    return found


COMMANDS = _names(typer.main.get_command(app))


def _help(*name: str) -> str:
    result = runner.invoke(app, [*name, "--help"])
    assert result.exit_code == 0, result.output
    return " ".join(re.sub("[│╭╮╰╯─]", " ", result.output).split())  # as one line of text


@pytest.mark.parametrize("name", COMMANDS, ids=" ".join)
def test_help_names_values_in_words_and_ends_with_an_example(name: tuple[str, ...]) -> None:
    text = _help(*name)
    types = re.findall(r"<(?:bool|int|float|str|path|list\[[^\]]*\])>", text)
    assert types == [], f"Python types in `trialkit {' '.join(name)} --help`: {types}"
    assert f"Example: trialkit {' '.join(name)}" in text


def test_help_says_defaults_and_how_data_files_are_matched() -> None:
    text = _help("analyse")
    for option in ("--draws", "--chains"):
        after = text[text.index(option) :]
        assert after.index("the protocol's plan") < after.index("--", 2), option
    assert "matched to its level by the level's id column" in text
    assert "the protocol's seed" in _help("randomise")


def _workspace(tmp_path: Path) -> Path:
    result = runner.invoke(app, ["init", str(tmp_path / "pilot"), "--from", PROTOCOL])
    assert result.exit_code == 0, result.output
    return tmp_path / "pilot"


def _randomise(pilot: Path, *extra: str):  # type: ignore[no-untyped-def]
    return runner.invoke(
        app,
        [
            "randomise",
            str(pilot / "protocol.yaml"),
            "--units",
            str(pilot / "units.csv"),
            "--out",
            str(pilot / "allocation.csv"),
            *extra,
        ],
    )


def test_randomise_before_register_warns_and_after_does_not(tmp_path: Path) -> None:
    pilot = _workspace(tmp_path)
    early = _randomise(pilot)
    assert early.exit_code == 0, early.output
    assert "warning: no registration found" in early.stderr
    assert "not concealed by a registration" in early.stderr
    assert "Fix: run `trialkit register` first" in early.stderr

    registered = runner.invoke(
        app, ["register", str(pilot / "protocol.yaml"), "--out", str(pilot / "registration")]
    )
    assert registered.exit_code == 0, registered.output
    late = _randomise(pilot, "--force", "--ledger", str(pilot / "ledger.jsonl"))
    assert late.exit_code == 0, late.output
    assert "warning" not in late.stderr


def test_register_twice_names_an_option_register_has(tmp_path: Path) -> None:
    pilot = _workspace(tmp_path)
    args = ["register", str(pilot / "protocol.yaml"), "--out", str(pilot / "registration")]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "refusing to overwrite the existing registration" in again.stderr
    assert "--force" not in again.stderr  # `trialkit register` has none
    assert "Fix: register into a new directory with --out" in again.stderr


def test_verify_without_a_ledger_names_its_argument(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = runner.invoke(app, ["verify", str(empty)])
    assert result.exit_code == 2
    assert "no ledger here" in result.stderr
    assert "point --ledger" not in result.stderr  # `trialkit verify` has no --ledger
    assert "as the argument of `trialkit verify`" in result.stderr


def test_power_plot_is_replaced_only_with_force(tmp_path: Path) -> None:
    plot = tmp_path / "power.svg"
    args = ["power", PROTOCOL, "--plot", str(plot)]
    assert runner.invoke(app, args).exit_code == 0
    refused = runner.invoke(app, args)
    assert refused.exit_code == 2
    assert "pass --force" in refused.stderr
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0

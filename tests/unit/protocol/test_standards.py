"""`trialkit check --standards`: the SPIRIT 2025 items a protocol fills and leaves empty."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from trialkit import api
from trialkit.cli import app
from trialkit.protocol import parse_protocol
from trialkit.protocol.standards import SPIRIT_2025, spirit_coverage, stated

runner = CliRunner()
MINIMAL = """\
schema_version: 1
identity:
  id: minimal-pilot
  title: A minimal pilot
  organisation: A council
  contact: {name: A Person, email: a@example.org}
rationale:
  problem: Decisions are slow.
  mechanisms: [autonomy]
  theory_of_change: Freedom makes them faster.
  hypotheses: [Decisions get faster.]
  harms_considered: Misuse.
units:
  name: caseworker
  label: Caseworker
  id_column: caseworker_id
  planned: 40
  eligibility: [Employed for the whole pilot.]
arms:
  - {id: usual, label: Usual, control: true, intervention: {summary: As now, description: As now.}}
  - {id: free, label: Freedom, intervention: {summary: Fewer rules, description: Fewer rules.}}
design: {type: individual, scheme: complete, seed: 1}
outcomes:
  - {name: days, label: Days to decision, role: primary, level: caseworker, type: continuous,
     direction: lower_is_better, timing: End of pilot, measurement: Case system}
"""
_HEAD = re.compile(
    r"SPIRIT 2025: (\d+) of 34 items covered in full \((\d+) of (\d+) checklist "
    r"entries: (\d+) from the protocol, (\d+) by trialkit itself\)"
)


def _check(path: Path) -> tuple[str, list[str]]:
    result = runner.invoke(app, ["check", str(path), "--standards"])
    assert result.exit_code == 0, result.output  # informational: a valid protocol passes
    lines = result.stdout.splitlines()
    return result.stdout, [
        line.strip()
        for line in lines[lines.index(next(li for li in lines if li.startswith("Missing ("))) + 1 :]
    ]


def _counts(text: str) -> tuple[int, ...]:
    match = _HEAD.search(text)
    assert match, text
    return tuple(int(g) for g in match.groups())


def test_the_checklist_has_34_items_in_53_entries():
    numbers = [item.number for item in SPIRIT_2025]
    assert len(numbers) == len(set(numbers)) == 53
    assert {n.rstrip("abcd") for n in numbers} == {str(i) for i in range(1, 35)}


def test_flagship(flagship_path, flagship):
    text, missing = _check(flagship_path)
    items, covered, entries, from_protocol, built = _counts(text)
    assert entries == 53 and covered == entries - len(missing) == from_protocol + built
    assert "Item names follow SPIRIT 2025" in text and "partly recalled" in text
    # Filled by the flagship's own fields: none of these may be reported missing.
    for number in ("1a", "4", "6", "7a", "7b", "11", "13", "18", "19", "23", "24a", "30"):
        assert not any(m.startswith(f"{number} ") for m in missing), number
    assert "1b structured summary (not in the protocol schema)" in missing
    assert (
        "5 where the protocol and analysis plan can be accessed "
        "(protocol key `identity.registry_ids[].url`)"
    ) in missing
    assert "21a sequence generation: `trialkit randomise`" in text  # by construction
    assert "22 allocation concealment: the protocol and its seed are registered" in text
    assert items == sum(api.standards(flagship_path).items.values())


def test_minimal_protocol_covers_fewer(tmp_path, flagship_path):
    path = tmp_path / "minimal.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    text, missing = _check(path)
    flagship_counts = _counts(_check(flagship_path)[0])
    assert _counts(text)[0] < flagship_counts[0] and _counts(text)[1] < flagship_counts[1]
    # Schema defaults ("Not stated", "None declared") are not the protocol's answers.
    for line in (
        "30 ethics approval (protocol key `governance.ethics`)",
        "7b conflicts of interest (protocol key `governance.conflicts`)",
        "18 participant timeline (protocol key `dates`)",
        "4 trial registration (protocol key `identity.registry_ids`)",
    ):
        assert line in missing
    assert _counts(text)[4] == sum(1 for item in SPIRIT_2025 if item.construction)


def test_a_stated_default_counts_but_an_omitted_one_does_not(flagship_text):
    line = "  conflicts: None declared.\n"
    assert line in flagship_text
    with_it = parse_protocol(flagship_text, source="pilot.yaml")
    without = parse_protocol(flagship_text.replace(line, ""), source="pilot.yaml")
    assert stated(with_it, "governance.conflicts") and not stated(without, "governance.conflicts")
    status = {e.item.number: e.coverage for e in spirit_coverage(without).entries}
    assert status["7b"] == "missing"


def test_without_the_option_nothing_is_listed_and_errors_still_fail(tmp_path, flagship_path):
    result = runner.invoke(app, ["check", str(flagship_path)])
    assert result.exit_code == 0 and "SPIRIT" not in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("planned: 40", "planned: many"), encoding="utf-8")
    result = runner.invoke(app, ["check", str(bad), "--standards"])
    assert result.exit_code == 2 and "SPIRIT" not in result.output


@pytest.mark.parametrize("option", [[], ["--standards"]])
def test_check_imports_the_standards_only_when_asked(option):
    code = (
        "import sys\nfrom trialkit.cli import app\n"
        f"try:\n    app(['check', 'council_discretionary_budget', *{option!r}])\n"
        "except SystemExit:\n    pass\n"
        "print('standards' if 'trialkit.protocol.standards' in sys.modules else '-',"
        " *sorted(m for m in ('pandas', 'numpy', 'jinja2') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split()[-1:] == (["standards"] if option else ["-"]), done.stdout

"""`trialkit register --export osf|aea|uk-registry`: registry fields filled from the protocol.

Expected values are read from the loaded Protocol and from the design stage's power table,
never written out by hand; fields the protocol does not give must be listed as missing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from trialkit import api
from trialkit.cli import app
from trialkit.design import power_table
from trialkit.protocol import Protocol, load_protocol
from trialkit.register.ledger import read

runner = CliRunner()
ETHICS = "  ethics: Approved by the Northfield Research Governance Group (RG-2026-31).\n"
DATES = (
    "dates:\n  start: 2027-01-04\n  intervention_start: 2027-03-01\n"
    "  intervention_end: 2027-08-31\n  end: 2027-12-17\n"
)


@pytest.fixture(scope="module")
def flagship_text(flagship_path: Path) -> str:
    """The flagship protocol's YAML text."""
    return flagship_path.read_text(encoding="utf-8")


def _register(tmp_path: Path, text: str, *registries: str) -> tuple[Path, Protocol]:
    path = tmp_path / "pilot.yaml"
    path.write_text(text, encoding="utf-8")
    args = ["register", str(path), "--out", str(tmp_path / "registration")]
    result = runner.invoke(app, [*args, *(a for r in registries for a in ("--export", r))])
    assert result.exit_code == 0, result.output
    return tmp_path / "registration", load_protocol(path)


def _fields(directory: Path, registry: str) -> dict[str, dict[str, Any]]:
    document = json.loads((directory / "exports" / f"{registry}.json").read_text("utf-8"))
    assert document["registry"] == registry
    return {f["label"]: f for f in document["fields"]}


def _filled(fields: dict[str, dict[str, Any]], label: str) -> Any:
    entry = fields[label]
    assert entry["missing"] is False and entry["value"] is not None, entry
    return entry["value"]


def _missing(fields: dict[str, dict[str, Any]], label: str, source: str | None) -> None:
    entry = fields[label]
    assert entry["missing"] is True and entry["value"] is None, entry
    assert entry["source"] == source, entry


def _primary_power(p: Protocol) -> list[tuple[str, float, float]]:
    return [(r.outcome, r.power, r.mde) for r in power_table(p).rows if r.role == "primary"]


def test_aea_required_fields_equal_the_protocol(tmp_path, flagship_text):
    directory, p = _register(tmp_path, flagship_text, "aea")
    f = _fields(directory, "aea")
    assert _filled(f, "Trial title") == p.identity.title
    assert _filled(f, "Primary investigator name") == p.identity.contact.name
    assert _filled(f, "Study status") == p.identity.status
    assert _filled(f, "Keywords") == list(p.identity.keywords)
    assert p.dates is not None
    for label, date in [
        ("Trial start date", p.dates.start),
        ("Trial end date", p.dates.end),
        ("Intervention start date", p.dates.intervention_start),
        ("Intervention end date", p.dates.intervention_end),
    ]:
        assert _filled(f, label) == date.isoformat()
    assert [o["name"] for o in _filled(f, "Primary outcomes")] == [
        o.name for o in p.outcomes if o.role == "primary"
    ]
    assert _filled(f, "Experimental design")["type"] == p.design.type
    method = _filled(f, "Randomisation method")
    assert (method["scheme"], method["seed"]) == (p.design.scheme, p.design.seed)
    assert method["randomised_by"] == p.governance.randomised_by
    assert _filled(f, "Randomisation unit") == p.units.label
    assert _filled(f, "Planned number of clusters") == p.units.planned
    assert _filled(f, "Sample size by arm")["ratios"] == {a.id: a.ratio for a in p.arms}
    assert _filled(f, "IRB name and approval") == p.governance.ethics
    power = [
        (r["outcome"], r["power"], r["mde"])
        for r in _filled(f, "Minimum detectable effect and power")
    ]
    assert power == _primary_power(p)
    # The flagship does not write these; the schema has no field for the last two.
    _missing(f, "Country", "identity.country")
    _missing(f, "Abstract", None)
    _missing(f, "JEL codes", None)
    assert all(isinstance(entry["required"], bool) for entry in f.values())


def test_osf_fields_equal_the_protocol(tmp_path, flagship_text):
    directory, p = _register(tmp_path, flagship_text, "osf")
    f = _fields(directory, "osf")
    assert _filled(f, "Title") == p.identity.title
    assert _filled(f, "Hypotheses") == list(p.rationale.hypotheses)
    assert _filled(f, "Blinding") == p.governance.blinding
    assert _filled(f, "Missing data") == p.analysis.frequentist.missing_data
    assert _filled(f, "Data exclusion") == p.analysis.population
    assert [(m["id"], m["ratio"]) for m in _filled(f, "Manipulated variables")] == [
        (a.id, a.ratio) for a in p.arms
    ]
    criteria = _filled(f, "Inference criteria")
    assert criteria["alpha"] == p.analysis.frequentist.alpha
    assert criteria["multiplicity"] == {fam.name: fam.multiplicity for fam in p.families}
    assert [(i["family"], i["outcomes"]) for i in _filled(f, "Indices")] == [
        (fam.name, [o.name for o in p.outcomes_in(fam.name)])
        for fam in p.families
        if fam.index != "none"
    ]
    assert [
        (r["outcome"], r["power"], r["mde"]) for r in _filled(f, "Sample size rationale")
    ] == _primary_power(p)
    for label in ("Stopping rule", "Transformations", "Existing data"):
        _missing(f, label, None)


def test_uk_registry_fields_equal_the_protocol(tmp_path, flagship_text):
    directory, p = _register(tmp_path, flagship_text, "uk-registry")
    f = _fields(directory, "uk-registry")
    assert _filled(f, "Evaluation title") == p.identity.title
    assert _filled(f, "Organisation") == p.identity.organisation
    assert _filled(f, "Theory of change") == p.rationale.theory_of_change
    assert _filled(f, "Evaluation questions") == list(p.rationale.hypotheses)
    assert _filled(f, "Ethics") == p.governance.ethics
    assert _filled(f, "Other registrations")[0]["id"] == p.identity.registry_ids[0].id
    assert _filled(f, "Sample size and power")["sample"]["planned_units"] == p.units.planned
    _missing(f, "Planned publication date", None)
    assert all(entry["required"] is None for entry in f.values())  # not known: not invented


@pytest.mark.parametrize(
    ("registry", "recalled"),
    [("aea", "partly recalled"), ("osf", "required is null"), ("uk-registry", "partly recalled")],
)
def test_header_and_markdown(tmp_path, flagship_text, registry, recalled):
    directory, p = _register(tmp_path, flagship_text, registry)
    document = json.loads((directory / "exports" / f"{registry}.json").read_text("utf-8"))
    record = json.loads((directory / "registration.json").read_text("utf-8"))
    assert recalled in document["field_list"]
    assert document["registration"]["protocol_hash"] == record["protocol_hash"]
    assert document["registration"]["registered_utc"] == record["registered_utc"]
    assert "pre_analysis_plan.html" in document["registration"]["documents"]
    assert document["missing"] == [f["label"] for f in document["fields"] if f["missing"]]
    text = (directory / "exports" / f"{registry}.md").read_text("utf-8")
    assert recalled in text and record["protocol_hash"] in text
    assert p.identity.title in text
    for label in document["missing"]:
        section = text.split(f"### {label}", 1)[1].split("###", 1)[0]
        assert "**Missing**" in section, label


def test_a_removed_field_is_missing(tmp_path, flagship_text):
    assert ETHICS in flagship_text and DATES in flagship_text
    text = flagship_text.replace(ETHICS, "").replace(DATES, "")
    directory, _ = _register(tmp_path, text, "aea", "uk-registry")
    aea = _fields(directory, "aea")
    _missing(aea, "IRB name and approval", "governance.ethics")
    _missing(aea, "Trial start date", "dates.start")
    assert aea["Trial start date"]["required"] is True
    _missing(_fields(directory, "uk-registry"), "Ethics", "governance.ethics")
    markdown = (directory / "exports" / "aea.md").read_text("utf-8")
    assert "Required and missing: Country, Abstract, Trial start date" in markdown


def test_export_of_an_existing_registration_is_recorded_and_never_replaced(tmp_path, flagship_text):
    directory, _ = _register(tmp_path, flagship_text)
    assert not (directory / "exports").exists()
    args = ["register", str(tmp_path / "pilot.yaml"), "--out", str(directory), "--export", "osf"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "exports/osf.md" in result.output
    entries = read(tmp_path / "ledger.jsonl")
    assert [e.action for e in entries] == ["register", "export"]
    assert sorted(entries[-1].outputs) == [
        "registration/exports/osf.json",
        "registration/exports/osf.md",
    ]
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "refusing to overwrite the existing registry export" in again.output
    assert "--out" in again.output


def test_export_refuses_another_protocol_and_unknown_registries(tmp_path, flagship_text):
    directory, _ = _register(tmp_path, flagship_text)
    changed = tmp_path / "changed.yaml"
    changed.write_text(flagship_text.replace('version: "1.2"', 'version: "1.3"'), "utf-8")
    result = runner.invoke(
        app, ["register", str(changed), "--out", str(directory), "--export", "aea"]
    )
    assert result.exit_code == 2 and "differs from the protocol registered" in result.output
    result = runner.invoke(
        app,
        ["register", str(changed), "--out", str(tmp_path / "new"), "--export", "clinicaltrials"],
    )
    assert result.exit_code == 2
    assert "--export clinicaltrials: no such registry" in result.output
    assert "`osf`, `aea`, `uk-registry`" in result.output
    assert not (tmp_path / "new").exists()  # refused before anything was registered


def test_python_api(tmp_path, flagship_path, flagship):
    registration = api.register_protocol(flagship_path, tmp_path / "reg", exports=["aea"])
    assert (registration.directory / "exports" / "aea.json").is_file()
    paths = api.export_registration(flagship_path, tmp_path / "reg", ["osf", "osf"])
    assert [p.name for p in paths] == ["osf.json", "osf.md"]
    title = _fields(registration.directory, "osf")["Title"]["value"]
    assert title == flagship.identity.title

"""Bundled protocols: each is valid, has its units list, and the bundled schema never drifts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from trialkit import api
from trialkit.protocol import Protocol, bundled_path, bundled_protocols, load_protocol
from trialkit.protocol.vocabulary import BLOCK_SCHEMES

ROOT = Path(__file__).resolve().parents[3]
BUNDLED = bundled_protocols()
SCHEMA_LINE = "# yaml-language-server: $schema=trialkit-protocol.schema.json"


def test_the_expected_protocols_are_bundled() -> None:
    assert {
        "council_discretionary_budget",
        "school_budget_autonomy",
        "green_tape_benefits",
        "mission_clarity_stepped_wedge",
    } <= set(BUNDLED)


@pytest.fixture(scope="module", params=sorted(BUNDLED))
def bundled(request: pytest.FixtureRequest) -> tuple[str, Protocol]:
    name: str = request.param
    return name, load_protocol(BUNDLED[name])


def test_bundled_protocol_is_valid(bundled: tuple[str, Protocol]) -> None:
    name, protocol = bundled
    assert bundled_path(name) == BUNDLED[name]
    assert protocol.identity.id == name.replace("_", "-")
    assert protocol.content_hash() == load_protocol(BUNDLED[name]).content_hash()


def test_bundled_protocol_points_editors_at_the_schema(bundled: tuple[str, Protocol]) -> None:
    name, _ = bundled
    first = BUNDLED[name].read_text(encoding="utf-8").splitlines()[0]
    assert first == SCHEMA_LINE


def test_bundled_protocol_is_fully_filled_in(bundled: tuple[str, Protocol]) -> None:
    _, p = bundled
    assert p.dates is not None and p.levels and p.families and p.covariates and p.subgroups
    assert p.governance.ethics != "Not stated" and p.governance.funder != "Not stated"
    assert p.analysis.decision_rules and p.analysis.bayesian.priors and p.analysis.sensitivity
    assert p.costs.budget is not None and any(arm.cost_per_unit > 0 for arm in p.arms)
    assert any(s.equity for s in p.subgroups)
    assert all(o.assumptions is not None for o in p.outcomes)


def _declared_unit_columns(p: Protocol) -> set[str]:
    columns = {p.units.id_column, *p.design.block_columns}
    if p.design.cluster_column is not None:
        columns.add(p.design.cluster_column)
    columns |= {c.data_column for c in p.covariates if c.level == p.units.name}
    return columns


def test_bundled_units_list_matches_the_protocol(bundled: tuple[str, Protocol]) -> None:
    name, p = bundled
    path = ROOT / "examples" / name / "units.csv"
    assert api.example_units(BUNDLED[name]) == path
    units = pd.read_csv(path)
    declared = _declared_unit_columns(p)
    assert declared <= set(units.columns), declared - set(units.columns)
    if name != "council_discretionary_budget":  # the flagship also keeps team names
        assert set(units.columns) == declared
    assert len(units) == p.units.planned
    assert units[p.units.id_column].is_unique
    assert not units[sorted(declared)].isna().any().any()
    if p.design.scheme in BLOCK_SCHEMES:
        sizes = units.groupby(list(p.design.block_columns)).size()
        assert (sizes >= sum(arm.ratio for arm in p.arms)).all()


def test_stepped_wedge_protocol_has_one_block_member_per_step() -> None:
    p = load_protocol(BUNDLED["mission_clarity_stepped_wedge"])
    assert p.design.stepped_wedge is not None
    units = pd.read_csv(ROOT / "examples" / "mission_clarity_stepped_wedge" / "units.csv")
    sizes = units.groupby("directorate").size()
    assert (sizes == p.design.stepped_wedge.steps).all()


def test_bundled_schema_equals_the_models_schema() -> None:
    bundled = (ROOT / "protocols" / api.SCHEMA_FILE).read_text(encoding="utf-8")
    assert bundled == api.protocol_schema(), (
        "protocols/trialkit-protocol.schema.json is stale; regenerate it with "
        "python -c \"from trialkit import api; open('protocols/trialkit-protocol.schema.json',"
        "'w').write(api.protocol_schema())\""
    )
    assert json.loads(bundled)["title"] == "trialkit pilot protocol"


_IMPORT = (
    "import time; t = time.process_time(); import trialkit, trialkit.protocol, trialkit.cli; "
    "import sys; print(time.process_time() - t); "
    "print(','.join(m for m in ('pymc', 'arviz', 'matplotlib') if m in sys.modules))"
)


def test_import_is_fast_and_light() -> None:
    """``import trialkit, trialkit.protocol, trialkit.cli`` stays under 0.5 s, without heavy deps.

    CPU time of the import inside a fresh interpreter, so other processes competing for
    the cores do not count (what ``-X importtime`` reports, without the
    interpreter's own start-up), min of 3 runs; pymc, arviz and matplotlib stay unimported.
    """
    walls, imports = [], []
    for _ in range(3):
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-c", _IMPORT], capture_output=True, text=True, check=True
        )
        walls.append(time.perf_counter() - start)
        imports.append(float(result.stdout.split()[0]))
        heavy = result.stdout.strip().splitlines()[1:]
        assert heavy == [], f"importing trialkit pulled in {heavy}"
    assert min(imports) < 0.5, (
        f"import took {min(imports):.2f} s ({min(walls):.2f} s with interpreter start-up); "
        "profile with `python -X importtime -c 'import trialkit.cli'`"
    )

"""Simulated power agrees with analytic power; HC2/CR2 intervals cover at about 95 %."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from trialkit.design import ContinuousOutcome, solve_cluster, solve_individual
from trialkit.diagnose import Diagnosis, diagnose
from trialkit.protocol import Protocol
from trialkit.protocol.load import parse_protocol

FLAGSHIP = Path(__file__).resolve().parents[2] / "protocols" / "council_discretionary_budget.yaml"
SIMS = 2000


def _protocol(
    *, design: dict[str, object], effect: float, icc: float, planned: int, per_unit: float = 1.0
) -> Protocol:
    """The flagship reduced to one normal outcome (sd 1), OLS, no covariates, no attrition."""
    data = yaml.safe_load(FLAGSHIP.read_text())
    data["design"].update(design)
    data["units"]["planned"] = planned
    data["levels"][0]["per_unit"] = {"mean": per_unit, "cv": 0.0}
    loneliness = data["outcomes"][0]
    loneliness.pop("baseline")
    loneliness.pop("range")
    loneliness["assumptions"] = {"mean": 0.0, "sd": 1.0, "effect": effect, "icc": icc, "r2": 0.0}
    if design.get("type") == "individual":
        loneliness["level"] = data["units"]["name"]
    data["covariates"], data["subgroups"] = [], []
    data["power"].update({"attrition": 0.0, "variants": [], "compliance": 1.0})  # no CACE
    data["analysis"]["frequentist"]["estimator"] = "ols"
    return parse_protocol(yaml.safe_dump(data))


def _individual(effect: float) -> Protocol:
    return _protocol(
        design={
            "type": "individual",
            "scheme": "complete",
            "cluster_column": None,
            "block_columns": [],
        },
        effect=effect,
        icc=0.0,
        planned=400,
    )


def _cluster(effect: float, clusters: int = 30) -> Protocol:
    return _protocol(
        design={
            "type": "cluster",
            "scheme": "cluster",
            "cluster_column": "team_id",
            "block_columns": [],
        },
        effect=effect,
        icc=0.05,
        planned=clusters,
        per_unit=20,
    )


def _value(d: Diagnosis, name: str) -> tuple[float, float]:
    row = d.to_frame().set_index("diagnosand").loc[name]
    return float(row["estimate"]), float(row["mc_se"])


def _run(protocol: Protocol) -> Diagnosis:
    return diagnose(protocol, sims=SIMS, executor="serial", progress=False, seed=11)


@pytest.mark.slow
def test_individual_power_matches_solve_individual():
    d = _run(_individual(0.25))
    power, se = _value(d, "power")
    analytic = solve_individual(effect=0.25, n=400, outcome=ContinuousOutcome(sd=1.0)).power
    assert abs(power - analytic) < 3.5 * se + 0.005, (power, analytic, se)
    coverage, cse = _value(d, "coverage")
    assert abs(coverage - 0.95) < 3.5 * cse, ("HC2 coverage", coverage)
    bias, bse = _value(d, "bias")
    assert abs(bias) < 3.5 * bse, ("bias", bias)


@pytest.mark.slow
def test_cluster_power_matches_solve_cluster():
    d = _run(_cluster(0.3))
    power, se = _value(d, "power")
    analytic = solve_cluster(
        effect=0.3, clusters=30, cluster_size=20, icc=0.05, outcome=ContinuousOutcome(sd=1.0)
    ).power
    assert abs(power - analytic) < 3.5 * se + 0.01, (power, analytic, se)
    coverage, cse = _value(d, "coverage")
    assert abs(coverage - 0.95) < 3.5 * cse, ("CR2 coverage", coverage)


@pytest.mark.slow
@pytest.mark.parametrize("clusters", [12, 40])
def test_cr2_type_i_error_is_alpha_with_few_clusters(clusters):
    d = _run(_cluster(0.0, clusters))
    size, se = _value(d, "power")
    assert abs(size - 0.05) < 3.5 * se, ("type I error", size)

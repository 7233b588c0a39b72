"""The plan-estimator registry: complete, and a new estimator needs one registration call.

A toy estimator is registered in a fixture copy of the registry; the plan fits it, the
report words it and diagnose routes it, with no edit elsewhere, and the estimator contract
battery runs on it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import numpy as np
import pandas as pd
import pytest

from tests.unit.estimate.test_estimator_contract import check_contract
from trialkit import api, validate
from trialkit.diagnose import fabricate
from trialkit.diagnose.generate import batch_problem
from trialkit.errors import EstimationError
from trialkit.estimate.frequentist import plan_estimators
from trialkit.estimate.frequentist.analysis_frame import analysis_frame
from trialkit.estimate.frequentist.ols import ols
from trialkit.estimate.frequentist.plan import fit
from trialkit.estimate.frequentist.plan_estimators import (
    PLAN_ESTIMATORS,
    PlanEstimator,
    plan_estimator,
    register,
)
from trialkit.estimate.frequentist.plan_outcome import estimate_outcome
from trialkit.estimate.frequentist.result import RegressionResult
from trialkit.protocol import Protocol, bundled_path, load_protocol
from trialkit.protocol.vocabulary import EstimatorName
from trialkit.randomise import read_allocation, read_units
from trialkit.report.plan import plan_context
from trialkit.validate import TrialData

CALLS: list[dict[str, Any]] = []


def toy(data: pd.DataFrame, outcome: str, treatment: str, **kwargs: Any) -> RegressionResult:
    """A toy plan estimator: least squares, recording how the plan called it."""
    CALLS.append(kwargs)
    return ols(data, outcome, treatment, **kwargs)


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, PlanEstimator]:
    """A copy of the registry the plan, report and diagnose read, for this test only."""
    fixture = dict(PLAN_ESTIMATORS)
    monkeypatch.setattr(plan_estimators, "PLAN_ESTIMATORS", fixture)
    return fixture


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Protocol, TrialData]:
    out = tmp_path_factory.mktemp("toy")
    protocol_file = bundled_path("council_discretionary_budget")
    protocol = load_protocol(protocol_file)
    units_file = api.simulate_units(protocol_file, out / "units.csv")
    api.randomise(protocol_file, units_file, out / "allocation.csv")
    arms = read_allocation(out / "allocation.csv").to_frame().set_index("unit_id")["arm"]
    frames = fabricate(
        protocol, read_units(units_file, protocol), arms, rng=np.random.default_rng(3)
    )
    files = []
    (out / "data").mkdir()
    for level, frame in frames.items():
        files.append(Path(out / "data" / f"{level}.csv"))
        frame.to_csv(files[-1], index=False)
    return protocol, validate.outcomes(protocol, out / "allocation.csv", files)


def _with_estimator(protocol: Protocol, name: str) -> Protocol:
    plan = protocol.analysis.frequentist.model_copy(update={"estimator": name})
    analysis = protocol.analysis.model_copy(update={"frequentist": plan})
    return protocol.model_copy(update={"analysis": analysis})


def test_registry_is_complete() -> None:
    assert set(PLAN_ESTIMATORS) == set(get_args(EstimatorName))
    for name, entry in PLAN_ESTIMATORS.items():
        assert entry.name == name
        assert entry.wording, name


def test_unknown_estimator_is_named() -> None:
    with pytest.raises(EstimationError, match=r"estimator `toy`, which is not registered.*Fix"):
        plan_estimator("toy")


def test_toy_estimator_needs_one_registration(
    registry: dict[str, PlanEstimator], trial: tuple[Protocol, TrialData]
) -> None:
    register(
        PlanEstimator(
            "toy",
            toy,
            "A toy least squares",
            settings=frozenset({"covariates"}),
            refit="ols",
            batched=False,
        )
    )  # the one call
    protocol, data = trial
    toyed = _with_estimator(protocol, "toy")
    outcome = next(o for o in protocol.outcomes if o.role == "primary")
    frame = analysis_frame(toyed, data, outcome)

    CALLS.clear()
    got = estimate_outcome(toyed, frame, outcome.data_column, outcome.name)
    # the plan passes the one setting the toy takes (no se_type, no df)
    assert CALLS and set(CALLS[0]) == {"cluster", "blocks", "control", "covariates"}
    covariates = list(frame.usable_covariates(outcome.data_column))
    assert covariates and CALLS[0]["covariates"] == covariates
    want = ols(
        frame.complete(outcome.data_column),
        outcome.data_column,
        "arm",
        covariates=covariates,
        cluster=frame.cluster,
        blocks=frame.blocks,
        control=protocol.control.id,
    )
    assert got.effect().estimate == pytest.approx(want.effect().estimate, rel=1e-12)
    assert got.effect().std_error == pytest.approx(want.effect().std_error, rel=1e-12)

    results = fit(toyed, data)  # the whole plan runs on it, every outcome
    primary = results.estimates[
        (results.estimates["outcome"] == outcome.name) & (results.estimates["estimand"] == "ITT")
    ]
    assert primary["adjusted_for"].iloc[0] == tuple(covariates)
    assert primary["estimate"].iloc[0] == pytest.approx(got.effect().estimate, rel=1e-12)
    assert plan_context(toyed)["estimator"] == "A toy least squares"
    assert batch_problem(toyed, outcome) == "estimator `toy`"
    check_contract(lambda d: toy(d, "y", "arm", control="usual"))


def test_batched_estimators_refit_as_themselves(registry: dict[str, PlanEstimator]) -> None:
    assert {n for n, e in registry.items() if e.batched} == {"ols", "lin"}
    assert {n: e.refit for n, e in registry.items()} == {
        "difference_in_means": "ols",
        "ols": "ols",
        "lin": "lin",
    }

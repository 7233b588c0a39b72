"""Design diagnosis: batched estimates equal the plan's estimator; results are deterministic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from trialkit._core.rng import RawStream
from trialkit.diagnose import Diagnosis, diagnose
from trialkit.diagnose.executors import run_tasks
from trialkit.diagnose.fabricate import fabricate_units
from trialkit.diagnose.frames import estimate_frames
from trialkit.diagnose.generate import (
    batch_problem,
    compile_design,
    draw_outcome,
)
from trialkit.diagnose.layout import design_arrays
from trialkit.diagnose.simulate import batched_fit
from trialkit.errors import TrialkitError
from trialkit.protocol import Protocol, load_protocol
from trialkit.protocol.load import parse_protocol

ROOT = Path(__file__).resolve().parents[3] / "protocols"


def edited(name: str, **changes: object) -> Protocol:
    """A bundled protocol with top-level sections changed (``outcome_0`` edits outcome 0)."""
    data = yaml.safe_load((ROOT / f"{name}.yaml").read_text())
    for key, value in changes.items():
        if key == "outcome_0":
            data["outcomes"][0].update(value)
        elif isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key].update(value)
        else:
            data[key] = value
    return parse_protocol(yaml.safe_dump(data))


def individual(n: int = 60, *, estimator: str = "ols", df: str = "bell_mccaffrey") -> Protocol:
    """Units randomised one by one, outcome measured on the units (HC2)."""
    return edited(
        "council_discretionary_budget",
        design={
            "type": "individual",
            "scheme": "complete",
            "cluster_column": None,
            "block_columns": [],
        },
        outcome_0={"level": "team", "baseline": None, "range": None},
        subgroups=[],
        units={"planned": n},
        analysis={
            "frequentist": {"estimator": estimator, "se_type": "auto", "alpha": 0.05, "df": df}
        },
    )


def _compare(
    protocol: Protocol, outcome: str, n_units: int | None = None, sims: int = 3, seed: int = 4
) -> None:
    units = fabricate_units(protocol, rng=np.random.default_rng(seed), n=n_units)
    design = compile_design(protocol, units)
    out = protocol.outcome(outcome)
    assert batch_problem(protocol, out) is None
    arms = np.stack([design.scheme.draw(RawStream(seed + i)) for i in range(sims)])
    draw = draw_outcome(design, out, arms, np.random.default_rng(seed))
    fit = batched_fit(protocol, out, design_arrays(design, draw))
    treated = next(arm.id for arm in protocol.arms if not arm.control)
    reference = estimate_frames(design, out, draw, ci_level=0.95)[treated]
    for column, got in (("estimate", fit.estimate), ("std_error", fit.std_error), ("df", fit.df)):
        j = ["estimate", "std_error", "df"].index(column)
        np.testing.assert_allclose(
            got,
            reference[:, j],
            rtol=1e-10,
            atol=1e-10,
            err_msg=f"{protocol.identity.id} {outcome}: {column}",
        )


@pytest.mark.parametrize(
    ("protocol_name", "outcome", "n_units"),
    [
        ("council_discretionary_budget", "loneliness", 16),  # lin, CR2, blocks, baseline
        ("council_discretionary_budget", "intention_to_leave", 16),  # binary, staff level
        ("council_discretionary_budget", "control_over_life", 16),  # ordinal codes
        ("green_tape_benefits", "processing_days", 16),  # individual design, claims: CR2
        ("school_budget_autonomy", "attainment", None),  # categorical covariate indicators
    ],
)
def test_batched_equals_plan_estimator_on_same_data(protocol_name, outcome, n_units):
    _compare(load_protocol(ROOT / f"{protocol_name}.yaml"), outcome, n_units=n_units, sims=2)


@pytest.mark.parametrize("df", ["bell_mccaffrey", "residual"])
def test_batched_hc2_equals_plan_estimator_for_individual_design(df):
    _compare(individual(60, df=df), "loneliness", sims=4)


def test_batched_ols_cr2_equals_plan_estimator():
    protocol = edited(
        "council_discretionary_budget",
        analysis={"frequentist": {"estimator": "ols", "se_type": "auto", "alpha": 0.05}},
    )
    _compare(protocol, "loneliness")


def test_clusters_of_several_units_are_regrouped():
    protocol = edited(
        "council_discretionary_budget",
        design={"cluster_column": "cluster", "scheme": "blocked_cluster"},
        units={"planned": 60},
    )
    _compare(protocol, "loneliness")


@pytest.fixture(scope="module")
def small(flagship) -> Diagnosis:
    return diagnose(
        flagship, sims=40, variants=[16, 24], executor="serial", progress=False, estimands=["ITT"]
    )


def test_tidy_frame_columns_and_rows(small):
    frame = small.to_frame()
    assert list(frame.columns) == [
        "variant",
        "n_units",
        "outcome",
        "estimand",
        "diagnosand",
        "estimate",
        "mc_se",
        "n_sims",
    ]
    assert len(frame) == 2 * 9
    assert set(frame["n_units"]) == {16, 24}
    assert (frame["n_sims"] == 40).all()


def test_summary_reports_power_bias_rmse_coverage(small):
    text = small.summary()
    for word in ("power", "bias", "rmse", "coverage", "loneliness"):
        assert word in text


def test_power_curve_has_one_row_per_variant(small):
    curve = small.power_curve()
    assert list(curve["n_units"]) == [16, 24]
    assert ((curve["ci_low"] <= curve["power"]) & (curve["power"] <= curve["ci_high"])).all()


def test_same_seed_same_diagnosis(flagship, small):
    again = diagnose(
        flagship, sims=40, variants=[16, 24], executor="serial", progress=False, estimands=["ITT"]
    )
    pd.testing.assert_frame_equal(small.to_frame(), again.to_frame())
    other = diagnose(
        flagship,
        sims=40,
        variants=[16, 24],
        seed=1,
        executor="serial",
        progress=False,
        estimands=["ITT"],
    )
    assert not other.to_frame()["estimate"].equals(small.to_frame()["estimate"])


def test_serial_and_two_processes_agree(flagship, small):
    parallel = diagnose(
        flagship,
        sims=40,
        variants=[16, 24],
        executor="processes",
        workers=2,
        chunk_size=None,
        progress=False,
        estimands=["ITT"],
    )
    pd.testing.assert_frame_equal(small.simulations, parallel.simulations)
    pd.testing.assert_frame_equal(small.to_frame(), parallel.to_frame())


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("council_discretionary_budget", "loneliness"),  # ITT and CACE
        ("mission_clarity_stepped_wedge", "engagement"),
        ("council_budget_peer_review", "wellbeing"),
    ],  # one row per treated arm
)
def test_every_design_same_on_serial_and_processes(name, outcome):
    protocol = load_protocol(ROOT / f"{name}.yaml")
    runs = [
        diagnose(
            protocol,
            sims=6,
            variants=[protocol.units.planned],
            outcomes=[outcome],
            chunk_size=3,
            executor=engine,
            workers=2,
            progress=False,
        )
        for engine in ("serial", "processes")
    ]
    pd.testing.assert_frame_equal(runs[0].simulations, runs[1].simulations)
    pd.testing.assert_frame_equal(runs[0].to_frame(), runs[1].to_frame())
    assert runs[0].simulations["estimate"].notna().all()


def test_chunks_assembled_by_key_whatever_order():
    from concurrent.futures import ThreadPoolExecutor

    tasks = {i: (pow, (i, 2)) for i in range(20)}
    with ThreadPoolExecutor(4) as pool:
        assert run_tasks(pool, tasks) == run_tasks(None, tasks) == {i: i * i for i in range(20)}


def test_fallback_path_runs_the_plan_estimator(flagship):
    declared = yaml.safe_load((ROOT / "council_discretionary_budget.yaml").read_text())
    dim = edited(
        "council_discretionary_budget",
        analysis={
            "frequentist": {"estimator": "difference_in_means", "se_type": "auto", "alpha": 0.05}
        },
        # a rate (count over exposure) by the blocked difference in means is refused
        outcomes=[{k: v for k, v in o.items() if k != "exposure"} for o in declared["outcomes"]],
    )
    assert batch_problem(dim, dim.outcome("loneliness")) is not None
    result = diagnose(dim, sims=4, variants=[16], executor="serial", progress=False)
    assert result.simulations["estimate"].notna().all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"sims": 1}, "'sims' parameter"),
        ({"variants": [1]}, "'variants' parameter"),
        ({"outcomes": ["nope"]}, "nope"),
        ({"executor": "spark"}, "'executor' parameter"),
    ],
)
def test_bad_parameters_rejected(flagship, kwargs, match):
    with pytest.raises((TrialkitError, KeyError), match=match):
        diagnose(flagship, progress=False, **{"sims": 4, **kwargs})


def test_stepped_wedge_is_diagnosed_with_period_effects():
    protocol = load_protocol(ROOT / "mission_clarity_stepped_wedge.yaml")
    result = diagnose(
        protocol, sims=4, variants=[12], outcomes=["engagement"], executor="serial", progress=False
    )
    assert result.simulations["estimate"].notna().all()
    assert "stepped_wedge" in result.design and "4 steps over 5 periods" in result.design
    assert "   12*  engagement" in result.summary()


def test_unknown_estimand_type_is_refused(flagship):
    with pytest.raises(TrialkitError, match="'estimands' parameter"):
        diagnose(flagship, sims=4, estimands=["ATE"], progress=False)


def test_wide_table_for_the_report(small):
    wide = small.wide(with_se=True)
    assert list(wide.columns[:4]) == ["outcome", "n_units", "power", "power_se"]
    assert len(wide) == 2


def test_chunk_seeds_are_spawned_seed_sequences():
    # chunk i of variant v draws from SeedSequence(seed).spawn(...)[v].spawn(...)[i]
    spawned = np.random.SeedSequence(7).spawn(3)[2].spawn(5)[4]
    keyed = np.random.SeedSequence(7, spawn_key=(2, 4))
    assert (spawned.generate_state(4) == keyed.generate_state(4)).all()


def test_closed_form_bell_mccaffrey_hc2_equals_cr2_with_singleton_clusters():
    from trialkit.diagnose.batched import fit_cr2, fit_hc2

    rng = np.random.default_rng(21)
    s, r, k = 5, 40, 4
    x = rng.normal(size=(s, r, k))
    x[:, :, 0] = 1.0
    x[:, 0, 2] = 25.0  # a row of high leverage
    mask = np.ones((s, r), dtype=bool)
    mask[1, 30:] = False  # padded rows
    x[~mask] = 0.0
    y = np.where(mask, x @ rng.normal(size=k) + rng.normal(size=(s, r)), 0.0)
    cluster = np.broadcast_to(np.arange(r), (s, r)).copy()
    closed = fit_hc2(x, y, mask, bell_mccaffrey=True)
    eigen = fit_cr2(x, y, mask, cluster, r)
    for a, b in zip(
        (closed.estimate, closed.std_error, closed.df),
        (eigen.estimate, eigen.std_error, eigen.df),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-10)

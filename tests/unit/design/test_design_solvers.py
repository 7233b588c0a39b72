"""Behaviour of the solvers: consistency, inflation for attrition, compliance, arms, results."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from trialkit.design import (
    BinaryOutcome,
    PowerCurve,
    PowerResult,
    power_curve,
    solve_cluster,
    solve_individual,
    solve_stepped_wedge,
)


def _exact(result: PowerResult) -> float:
    assert result.size_exact is not None, "a size was solved for"
    return result.size_exact


def test_solving_any_quantity_is_consistent() -> None:
    n = solve_individual(0.4, power=0.85)
    assert n.solved_for == "n"
    back = solve_individual(n=_exact(n), power=0.85)
    assert back.effect == pytest.approx(0.4, rel=1e-7), "MDE at the exact n"
    assert solve_individual(0.4, n=_exact(n)).power == pytest.approx(0.85, abs=1e-8), "power"


def test_attrition_inflates_recruitment() -> None:
    full = solve_individual(0.3, power=0.8)
    lossy = solve_individual(0.3, power=0.8, attrition=0.2)
    assert _exact(lossy) == pytest.approx(_exact(full) / 0.8, rel=1e-9), "n / (1 - a)"
    assert lossy.n_analysed == pytest.approx(lossy.n_units * 0.8), "analysed"
    assert lossy.power >= 0.8


def test_cluster_attrition_shrinks_cluster_size() -> None:
    lossy = solve_cluster(0.3, clusters=30, cluster_size=25, icc=0.05, attrition=0.2)
    same = solve_cluster(0.3, clusters=30, cluster_size=20, icc=0.05)
    assert lossy.power == pytest.approx(same.power, rel=1e-12), "m (1 - a) analysed"
    assert lossy.n_units == 750 and lossy.n_analysed == pytest.approx(600.0)


def test_compliance_dilutes_the_effect() -> None:
    itt = solve_individual(n=200, power=0.8)
    cace = solve_individual(n=200, power=0.8, compliance=0.6)
    assert cace.effect == pytest.approx(itt.effect / 0.6, rel=1e-7), "MDE / compliance"


def test_covariates_shrink_the_sample() -> None:
    plain = solve_individual(0.3, power=0.8, dist="normal")
    adjusted = solve_individual(0.3, power=0.8, r2=0.5, dist="normal")
    assert _exact(adjusted) == pytest.approx(_exact(plain) * 0.5, rel=1e-9), "n (1 - R²)"


def test_unequal_allocation_needs_more_units() -> None:
    equal = solve_individual(0.3, power=0.8, dist="normal")
    skewed = solve_individual(0.3, power=0.8, treated_share=0.25, dist="normal")
    ratio = (0.5 * 0.5) / (0.25 * 0.75)
    assert _exact(skewed) == pytest.approx(_exact(equal) * ratio, rel=1e-9), "1/(P(1-P))"


def test_several_arms_bonferroni_and_dunnett() -> None:
    three = solve_individual(0.3, n=300, n_arms=3)
    assert three.alpha_per_comparison == pytest.approx(0.025), "alpha / 2 comparisons"
    assert three.treated_share == pytest.approx(1 / 3)
    pair = solve_individual(0.3, n=200, alpha=0.025)
    assert three.std_error == pytest.approx(pair.std_error), "one comparison uses two arms"
    dunnett = solve_individual(0.3, n=300, n_arms=3, adjustment="dunnett")
    assert 0.025 < dunnett.alpha_per_comparison < 0.03, "Dunnett is less conservative"
    assert dunnett.power > three.power
    plain = solve_individual(0.3, n=300, n_arms=3, adjustment="none")
    assert plain.alpha_per_comparison == 0.05


def test_cluster_reduces_to_individual_when_icc_is_zero() -> None:
    cluster = solve_cluster(0.3, clusters=200, cluster_size=1, icc=0.0)
    individual = solve_individual(0.3, n=200)
    assert cluster.power == pytest.approx(individual.power, rel=1e-12)
    assert cluster.design_effect == 1.0


def test_cluster_size_solution_and_floor_free_clusters() -> None:
    result = solve_cluster(0.3, clusters=40, power=0.8, icc=0.05)
    assert result.solved_for == "cluster_size"
    assert result.cluster_size == math.ceil(result.size_exact or 0)
    assert result.power >= 0.8
    smaller = solve_cluster(0.3, clusters=40, cluster_size=result.cluster_size - 1, icc=0.05)
    assert smaller.power < 0.8, "smallest whole cluster size"


def test_unequal_cluster_sizes_cost_power() -> None:
    equal = solve_cluster(0.3, clusters=30, cluster_size=20, icc=0.05)
    unequal = solve_cluster(0.3, clusters=30, cluster_size=20, icc=0.05, cv=0.7)
    assert unequal.power < equal.power
    assert unequal.effective_n < equal.effective_n


def test_multiplier_and_exact_mde_are_close() -> None:
    exact = solve_cluster(clusters=20, cluster_size=15, power=0.8, icc=0.17)
    approx = solve_cluster(
        clusters=20, cluster_size=15, power=0.8, icc=0.17, mde_method="multiplier"
    )
    assert exact.power == pytest.approx(0.8, abs=1e-8), "exact MDE has the target power"
    assert approx.effect == pytest.approx(exact.effect, rel=0.01)


def test_binary_cluster_defaults_to_z() -> None:
    result = solve_cluster(
        clusters=40, cluster_size=30, power=0.8, icc=0.02, outcome=BinaryOutcome(0.3)
    )
    assert result.df is None and "z test" in result.test and "Cohen's h" in result.test
    assert result.p_treatment == pytest.approx(0.3 + result.effect)


def test_stepped_wedge_solutions() -> None:
    needed = solve_stepped_wedge(0.25, cluster_size=20, power=0.8, steps=4, icc=0.05)
    assert needed.n_clusters is not None and needed.n_clusters % 4 == 0, "multiple of steps"
    assert needed.power >= 0.8
    fewer = solve_stepped_wedge(
        0.25, clusters=needed.n_clusters - 4, cluster_size=20, steps=4, icc=0.05
    )
    assert fewer.power < 0.8
    mde = solve_stepped_wedge(clusters=12, cluster_size=20, power=0.8, steps=4, icc=0.05)
    assert mde.power == pytest.approx(0.8, abs=1e-8)
    size = solve_stepped_wedge(0.2, clusters=12, power=0.8, steps=4, icc=0.2)
    assert size.power >= 0.8, "no variance floor: within-cluster contrasts"
    assert size.n_units == 12 * 5 * size.cluster_size  # type: ignore[operator]


def test_stepped_wedge_extra_periods_help() -> None:
    standard = solve_stepped_wedge(0.2, clusters=8, cluster_size=20, steps=4, icc=0.05)
    longer = solve_stepped_wedge(0.2, clusters=8, cluster_size=20, steps=4, periods=7, icc=0.05)
    assert longer.power > standard.power and longer.periods == 7


def test_result_is_complete_and_frozen() -> None:
    result = solve_cluster(0.3, clusters=30, cluster_size=20, icc=0.05)
    assert isinstance(result, PowerResult)
    frame = result.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 1
    assert {"power", "effect", "design_effect", "effective_n", "df", "icc"} <= set(frame)
    assert "solved for power" in result.summary() and "design_effect" in str(result)
    with pytest.raises(AttributeError):
        result.power = 0.9  # type: ignore[misc]
    assert result.mde == result.effect


def test_power_curve_table() -> None:
    curve = power_curve(
        solve_cluster,
        {"clusters": [20, 30, 40], "effect": [0.2, 0.3]},
        cluster_size=20,
        icc=0.05,
    )
    assert isinstance(curve, PowerCurve)
    frame = curve.to_frame()
    assert list(frame.columns[:2]) == ["grid_clusters", "grid_effect"]
    assert len(frame) == 6
    low = frame[frame.grid_effect == 0.2].power.to_numpy()
    assert (low[1:] > low[:-1]).all(), "power rises with clusters"
    assert "grid_clusters" in curve.summary()


def test_control_share_and_cluster_attrition() -> None:
    explicit = solve_cluster(
        0.3, clusters=40, cluster_size=20, icc=0.05, n_arms=3, treated_share=0.5,
        control_share=0.25,
    )  # fmt: skip
    assert explicit.treated_share == 0.5 and explicit.control_share == 0.25
    lost = solve_cluster(0.3, clusters=40, cluster_size=20, icc=0.05, cluster_attrition=0.25)
    kept = solve_cluster(0.3, clusters=30, cluster_size=20, icc=0.05)
    assert lost.power == pytest.approx(kept.power, rel=1e-12), "J (1 - loss) analysed"
    assert lost.n_clusters == 40, "recruited clusters reported"


def test_numpy_numbers_are_accepted() -> None:
    import numpy as np

    kwargs: dict[str, Any] = {
        "clusters": np.int64(8), "cluster_size": np.int64(20), "steps": np.int64(4),
        "icc": np.float64(0.05),
    }  # fmt: skip
    result = solve_stepped_wedge(np.float64(0.3), **kwargs)
    assert result.n_clusters == 8

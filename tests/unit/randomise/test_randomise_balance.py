"""Balance table (Hedges' g / Cox index, WWC verdict) and the omnibus randomisation test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit._core.rng import RawStream
from trialkit._core.standardised import cox_index, hedges_g, wwc_verdict
from trialkit.randomise.allocation import build_allocation
from trialkit.randomise.balance import BALANCE_COLUMNS, balance, balance_test
from trialkit.randomise.schemes import BlockedRandomisation, CompleteRandomisation
from trialkit.randomise.schemes.matched_pairs import whiten
from trialkit.randomise.schemes.rerandomisation import mahalanobis
from trialkit.randomise.units import Units


def _setup(n: int = 40) -> tuple[pd.DataFrame, CompleteRandomisation]:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(
        {
            "id": [f"u{i:02d}" for i in range(n)],
            "age": rng.normal(40, 10, n),
            "alone": rng.integers(0, 2, n),
        }
    )
    units = Units(
        ids=frame["id"].to_numpy(dtype=object), covariates=frame[["age", "alone"]].to_numpy(float)
    )
    return frame, CompleteRandomisation(units)


def test_table_has_tidy_columns_and_wwc_effect_sizes() -> None:
    frame, scheme = _setup()
    arms = scheme.draw(RawStream(1))
    allocation = build_allocation(scheme, arms, arm_ids=("usual", "reform"), seed=1)
    result = balance(allocation, frame, covariates=["age", "alone"], id_column="id")
    table = result.to_frame()
    assert tuple(table.columns) == BALANCE_COLUMNS
    assert len(table) == 4 and result.test is None
    age = table[(table.covariate == "age") & (table.arm == "reform")].iloc[0]
    expected = hedges_g(frame.age[arms == 1], frame.age[arms == 0])
    assert age.std_diff == pytest.approx(expected, rel=1e-12)
    assert age.measure == "hedges_g" and age.wwc_verdict == wwc_verdict(expected)
    alone = table[(table.covariate == "alone") & (table.arm == "reform")].iloc[0]
    assert alone.kind == "binary" and alone.measure == "cox_index"
    assert alone.std_diff == pytest.approx(
        cox_index(frame.alone[arms == 1], frame.alone[arms == 0])
    )
    control = table[table.arm == "usual"]
    assert control.std_diff.isna().all() and (control.n == 20).all()


def test_omnibus_p_value_matches_exact_enumeration() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(10, 2))
    scheme = BlockedRandomisation(Units(ids=np.arange(10), blocks=np.repeat(["a", "b"], 5)))
    table, prob = scheme.enumerate_assignments()
    observed = scheme.draw(RawStream(3))
    m_all = mahalanobis(whiten(x), table, 2)
    m_obs = mahalanobis(whiten(x), observed[None, :], 2)[0]
    exact = prob[m_all >= m_obs - 1e-9].sum()
    test = balance_test(scheme, observed, x, draws=4000, seed=11)
    assert test.statistic == pytest.approx(m_obs)
    assert abs(test.p_value - exact) < 5 * np.sqrt(exact * (1 - exact) / 4000) + 1e-3


def test_balance_runs_the_omnibus_test_in_allocation_order() -> None:
    frame, scheme = _setup()
    shuffled = frame.sample(frac=1.0, random_state=1)
    arms = scheme.draw(RawStream(5))
    allocation = build_allocation(scheme, arms, arm_ids=("usual", "reform"), seed=5)
    result = balance(
        allocation, shuffled, covariates=["age", "alone"], id_column="id", scheme=scheme, draws=500
    )
    direct = balance_test(scheme, arms, frame[["age", "alone"]].to_numpy(float), draws=500)
    assert result.test == direct
    assert 0 < direct.p_value <= 1


def test_no_covariates_gives_an_empty_table() -> None:
    frame, scheme = _setup()
    allocation = build_allocation(scheme, scheme.draw(RawStream(1)), arm_ids=("a", "b"), seed=1)
    result = balance(allocation, frame, covariates=[], id_column="id", scheme=scheme)
    assert result.table.empty and result.test is None

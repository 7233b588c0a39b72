"""Westfall–Young by joint re-randomisation (:mod:`trialkit.estimate.frequentist.family_ri`).

Checked against a brute force written from the definitions: every assignment of a small
completely randomised trial enumerated with itertools, each outcome's difference in means
recomputed on it, and Westfall & Young's step-down minP taken with loops. The joint
distribution matters: two copies of one outcome are adjusted as one test, not two.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame
from trialkit.estimate.frequentist.family_ri import family_p_values
from trialkit.protocol import Protocol, bundled_path, load_protocol
from trialkit.randomise.schemes.complete import CompleteRandomisation
from trialkit.randomise.units import Units

N = 8  # C(8, 4) = 70 assignments, all enumerated


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return load_protocol(bundled_path("green_tape_benefits"))  # arms usual, green_tape


def _trial(protocol: Protocol, y: np.ndarray) -> tuple[list, pd.Series, CompleteRandomisation]:
    """Outcomes ``y`` (units × outcomes) of N units, half given the second arm."""
    ids = np.array([f"U{i}" for i in range(N)])
    arms = [a.id for a in protocol.arms]
    allocated = pd.Series([arms[1]] * (N // 2) + [arms[0]] * (N // 2), index=ids)
    outcomes = [o for o in protocol.outcomes if o.level == "claim"][: y.shape[1]]
    data = pd.DataFrame({"unit": ids, "arm": allocated.to_numpy()})
    for k, outcome in enumerate(outcomes):
        data[outcome.data_column] = y[:, k]
    frame = AnalysisFrame(data=data, cluster=None, blocks=None, covariates=(), baseline=None)
    members = [(o, frame, "unit") for o in outcomes]
    return members, allocated, CompleteRandomisation(Units(ids=ids))


def min_p_step_down(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Westfall & Young's step-down minP from the definition, with loops (ties within a
    billionth count): ``null`` holds one row of statistics per equally likely draw."""
    obs, stats = np.abs(observed), np.abs(null)
    draws, m = stats.shape

    def p_of(k: int, value: float) -> float:
        slack = 1e-9 * (obs[k] + stats[:, k].max())
        return sum(stats[b, k] >= value - slack for b in range(draws)) / draws

    raw = [p_of(k, obs[k]) for k in range(m)]
    order = sorted(range(m), key=lambda k: raw[k])
    adjusted, running = np.empty(m), 0.0
    for i, k in enumerate(order):
        rest = order[i:]
        hits = sum(min(p_of(j, stats[b, j]) for j in rest) <= raw[k] for b in range(draws))
        running = max(running, hits / draws)
        adjusted[k] = running
    return adjusted


def _brute_force(y: np.ndarray) -> np.ndarray:
    """Step-down minP over every assignment (itertools), each a difference in means."""
    observed = y[: N // 2].mean(0) - y[N // 2 :].mean(0)
    null = []
    for treated in combinations(range(N), N // 2):
        mask = np.isin(np.arange(N), treated)
        null.append(y[mask].mean(0) - y[~mask].mean(0))
    return min_p_step_down(observed, np.array(null))


def test_exact_adjustment_matches_the_definition(protocol: Protocol) -> None:
    rng = np.random.default_rng(21)
    y = rng.normal(size=(N, 3))
    y[: N // 2, 0] += 1.5  # one outcome moved
    members, allocated, scheme = _trial(protocol, y)
    adjusted, n, exact = family_p_values(protocol, scheme, members, allocated, ["green_tape"])
    assert (n, exact) == (70, True)
    np.testing.assert_allclose(adjusted, _brute_force(y), rtol=1e-12)


def test_copies_of_one_outcome_are_one_test(protocol: Protocol) -> None:
    """Perfectly dependent hypotheses: Westfall–Young keeps the raw p (Holm would double)."""
    rng = np.random.default_rng(22)
    y = rng.normal(size=(N, 1))
    y[: N // 2] += 2.0
    members, allocated, scheme = _trial(protocol, np.hstack([y, 3 * y + 1]))
    adjusted, *_ = family_p_values(protocol, scheme, members, allocated, ["green_tape"])
    single, *_ = family_p_values(protocol, scheme, members[:1], allocated, ["green_tape"])
    np.testing.assert_allclose(adjusted, [single[0], single[0]], rtol=1e-12)


@pytest.mark.slow
def test_family_wise_error_is_alpha_under_the_null(protocol: Protocol) -> None:
    """1,000 null trials of 40 units, three outcomes correlated 0.5, 500 redraws each: the
    family is wrongly found to have moved in 5% of them (3 Monte Carlo SEs: 2.9%–7.1%),
    where three separate tests would reject in about 12%."""
    frequentist = protocol.analysis.frequentist.model_copy(update={"ri_draws": 500})
    quick = protocol.model_copy(
        update={"analysis": protocol.analysis.model_copy(update={"frequentist": frequentist})}
    )
    rng = np.random.default_rng(23)
    n, sims = 40, 1_000
    ids = np.array([f"U{i}" for i in range(n)])
    scheme = CompleteRandomisation(Units(ids=ids))
    arms = np.array([a.id for a in protocol.arms])
    outcomes = [o for o in protocol.outcomes if o.level == "claim"][:3]
    cov = 0.5 + 0.5 * np.eye(3)
    family_wise = separate = 0
    for sim in range(sims):
        y = rng.multivariate_normal(np.zeros(3), cov, size=n)
        allocated = pd.Series(arms[scheme.draw_seeds([sim + 1])[0]], index=ids)
        data = pd.DataFrame({"unit": ids, "arm": allocated.to_numpy()})
        for k, outcome in enumerate(outcomes):
            data[outcome.data_column] = y[:, k]
        frame = AnalysisFrame(data=data, cluster=None, blocks=None, covariates=(), baseline=None)
        members = [(o, frame, "unit") for o in outcomes]
        adjusted, *_ = family_p_values(quick, scheme, members, allocated, ["green_tape"])
        family_wise += bool(adjusted.min() <= 0.05)
        raw = [
            family_p_values(quick, scheme, [m], allocated, ["green_tape"])[0][0] for m in members
        ]
        separate += bool(min(raw) <= 0.05)
    print(f"family-wise {family_wise / sims:.3f}, separate {separate / sims:.3f}")
    assert 0.029 <= family_wise / sims <= 0.071, family_wise / sims
    assert separate / sims > 0.09, separate / sims

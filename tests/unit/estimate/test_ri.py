"""Randomisation inference: the compiled sampler, determinism, memory, errors, results."""

from __future__ import annotations

import tracemalloc

import numba
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trialkit._core.rng import RawStream
from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.ri import RandomisationTest, randomisation_test
from trialkit.estimate.frequentist.ri import kernels as rk
from trialkit.estimate.frequentist.ri.pcg64 import chunk_states, raw_words
from trialkit.estimate.results import ESTIMATE_COLUMNS
from trialkit.randomise import _counts
from trialkit.randomise.schemes import (
    BlockedRandomisation,
    ClusterRandomisation,
    Rerandomisation,
    RuleScheme,
    SteppedWedge,
)
from trialkit.randomise.units import Units


def _fast_assignments(scheme: RuleScheme, draws: int, seed: int) -> np.ndarray:
    """Assignments ``(draws, n_ru)`` recovered from the compiled sampler's sums."""
    rule, K = scheme.rule, scheme.n_arms
    n_ru = len(rule.strata)
    G = np.eye(n_ru)[:, None, :]  # unit r adds e_r to its arm's sums
    sums = rk.rule_sums(
        seed,
        draws,
        strata=rule.strata,
        floors=rule.floors,
        cum=rule.cum,
        total=sum(rule.ratios),
        arm_order=np.arange(K),
        G=G,
        g_arm=np.zeros(K, np.int64),
        dummy_of=np.arange(K),
        n_dummies=K,
    )[..., :-2]
    assert np.all(sums.sum(axis=1) == 1), "every unit gets exactly one arm"
    out: np.ndarray = np.argmax(sums, axis=1)
    return out


def test_pcg64_stream_is_numpys() -> None:
    for seed in (0, 7, 2**40):
        state = chunk_states(seed, 1)[0]
        expected = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(0,))).random_raw(500)
        assert np.array_equal(raw_words(state, 500), expected)


def test_fast_sampler_has_the_schemes_joint_distribution() -> None:
    """Chi-square of every assignment's frequency against the scheme's enumeration."""
    blocks = np.array(list("aaaabbbbb"))
    scheme = BlockedRandomisation(Units(ids=np.arange(9), blocks=blocks), ratios=(2, 1, 1))
    table, prob = _counts.enumerate_assignments(scheme.rule)
    draws = 200_000
    got = _fast_assignments(scheme, draws, seed=11)
    index = {tuple(row): i for i, row in enumerate(table.tolist())}
    codes = np.array([index[tuple(row)] for row in got.tolist()])
    observed = np.bincount(codes, minlength=len(table))
    chi2 = stats.chisquare(observed, prob * draws)
    assert len(table) == scheme.count_assignments()
    assert chi2.pvalue > 1e-3, f"joint distribution differs (chi2 p = {chi2.pvalue:.2g})"


def test_fast_sampler_unit_frequencies_and_counts() -> None:
    """Per-unit arm frequencies match probabilities(); per-block counts match the rule."""
    blocks = np.repeat(np.array(["x", "y", "z"]), [5, 6, 7])
    scheme = BlockedRandomisation(Units(ids=np.arange(18)[::-1], blocks=blocks), ratios=(2, 1, 1))
    draws = 50_000
    got = _fast_assignments(scheme, draws, seed=3)
    prob_ru = np.empty((18, 3))
    prob_ru[scheme.layout.unit_ru] = scheme.probabilities()
    freq = np.stack([(got == k).mean(axis=0) for k in range(3)], axis=1)
    se = np.sqrt(prob_ru * (1 - prob_ru) / draws)
    assert np.all(np.abs(freq - prob_ru) < 5 * se), "per-unit arm frequencies"
    rule = scheme.rule
    for s in range(rule.n_strata):
        members = np.flatnonzero(rule.strata == s)
        counts = np.stack([(got[:, members] == k).sum(axis=1) for k in range(3)], axis=1)
        for vec, p in _counts._count_distribution(rule, s).items():
            share = np.mean(np.all(counts == np.array(vec), axis=1))
            assert abs(share - p) < 5 * np.sqrt(p * (1 - p) / draws) + 1e-12, (s, vec)


def _blocked_trial(n: int = 60, seed: int = 1) -> tuple[pd.DataFrame, Units]:
    rng = np.random.default_rng(seed)
    blocks = np.repeat(np.array(["b1", "b2", "b3"]), n // 3)
    x = rng.normal(size=(n, 1))
    units = Units(ids=np.arange(n), blocks=blocks, covariates=x, covariate_names=("x",))
    t = BlockedRandomisation(units).draw(RawStream(seed))
    y = x[:, 0] + rng.normal(size=n) + 0.35 * t
    return pd.DataFrame({"id": np.arange(n), "y": y, "t": t, "x": x[:, 0]}), units


def test_fast_path_and_draw_many_path_agree() -> None:
    """The compiled count-rule sampler and the scheme's own draw_many give the same p."""
    df, units = _blocked_trial()
    draws = 20_000
    fast = randomisation_test(
        df,
        outcome="y",
        treatment="t",
        cluster="id",
        draws=draws,
        scheme=BlockedRandomisation(units),
    )
    # Rerandomisation that accepts everything redraws the same blocked scheme via draw_many.
    slow = randomisation_test(
        df,
        outcome="y",
        treatment="t",
        cluster="id",
        draws=draws,
        scheme=Rerandomisation(units, threshold=np.inf),
    )
    assert not fast.exact and not slow.exact
    p = 0.5 * (fast.p_value + slow.p_value)
    assert abs(fast.p_value - slow.p_value) < 4 * np.sqrt(2 * p * (1 - p) / draws)
    assert fast.observed == pytest.approx(slow.observed, abs=1e-12)


def test_same_seed_same_p_and_seed_matters() -> None:
    df, units = _blocked_trial()
    scheme = BlockedRandomisation(units)
    a = randomisation_test(df, outcome="y", treatment="t", scheme=scheme, cluster="id", seed=5)
    b = randomisation_test(df, outcome="y", treatment="t", scheme=scheme, cluster="id", seed=5)
    c = randomisation_test(df, outcome="y", treatment="t", scheme=scheme, cluster="id", seed=6)
    assert (a.p_value, a.observed, a.null_sample) == (b.p_value, b.observed, b.null_sample)
    assert a.null_sample != c.null_sample


def test_thread_count_does_not_change_results() -> None:
    df, units = _blocked_trial(n=300)
    scheme = BlockedRandomisation(units)
    before = numba.get_num_threads()
    try:
        results = []
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            results.append(
                randomisation_test(
                    df,
                    outcome="y",
                    treatment="t",
                    scheme=scheme,
                    cluster="id",
                    draws=3_000,
                    ci_level=0.9,
                )
            )
    finally:
        numba.set_num_threads(before)
    assert results[0] == results[1]


@pytest.mark.parametrize("tau", [-0.7, 0.25, 1.3])
def test_sharp_null_equals_test_of_shifted_outcome(tau: float) -> None:
    """Linearity: testing tau0 on y is testing 0 on y - tau0*T, draw by draw."""
    df, _ = _blocked_trial()
    shifted = df.assign(y=df["y"] - tau * df["t"])
    a = randomisation_test(df, outcome="y", treatment="t", sharp_null=tau, draws=4_000)
    b = randomisation_test(shifted, outcome="y", treatment="t", draws=4_000)
    assert a.p_value == pytest.approx(b.p_value, abs=1e-12)
    assert np.allclose(np.array(a.null_sample) - tau, b.null_sample, atol=1e-10)


def test_p_value_is_one_at_the_observed_effect() -> None:
    df, _ = _blocked_trial()
    obs = randomisation_test(df, outcome="y", treatment="t", draws=500).observed
    assert (
        randomisation_test(df, outcome="y", treatment="t", draws=500, sharp_null=obs).p_value == 1.0
    )


def test_interval_ends_are_where_p_crosses_alpha() -> None:
    df, _ = _blocked_trial()
    res = randomisation_test(
        df, outcome="y", treatment="t", draws=2_000, ci_level=0.9, covariates=["x"]
    )
    assert res.ci_low < res.observed < res.ci_high
    eps = 1e-8 * (res.ci_high - res.ci_low)

    def p(tau: float) -> float:
        return randomisation_test(
            df, outcome="y", treatment="t", draws=2_000, covariates=["x"], sharp_null=tau
        ).p_value

    assert p(res.ci_low - eps) <= 0.1 < p(res.ci_low + eps)
    assert p(res.ci_high + eps) <= 0.1 < p(res.ci_high - eps)


def test_result_fields_frame_and_summary() -> None:
    df, _ = _blocked_trial()
    res = randomisation_test(df, outcome="y", treatment="t", draws=3_000, ci_level=0.95)
    assert isinstance(res, RandomisationTest)
    assert res.draws == 3_000 and not res.exact
    assert res.mc_se == pytest.approx(np.sqrt(res.p_value * (1 - res.p_value) / 3_000))
    assert len(res.null_sample) == 2_000
    frame = res.to_frame()
    shared = list(ESTIMATE_COLUMNS)
    assert list(frame.columns[: len(shared)]) == shared, "the shared tidy columns, in order"
    for col in ("arm", "p_upper", "p_lower", "mc_se", "draws", "exact", "sharp_null", "ci_kind"):
        assert col in frame.columns, col
    assert "null_sample" not in frame.columns, "null samples stay on the result object"
    row = frame.iloc[0]
    assert (row["term"], row["arm"]) == ("t", "1"), "term as the regressions', arm apart"
    assert row["estimate"] == res.observed and row["p_value"] == res.p_value
    assert np.isnan(row["std_error"]) and row["n_obs"] == len(df)
    (estimate,) = res.estimates
    assert (estimate.term, estimate.arm, estimate.ci_level) == ("t", "1", 0.95), "estimates"
    assert (estimate.ci_low, estimate.ci_high) == (res.ci_low, res.ci_high), "estimates' interval"
    assert "Monte Carlo" in res.summary() and "control arm 0" in str(res)
    with pytest.raises(AttributeError):
        res.draws = 1  # type: ignore[misc]


def test_exact_result_has_zero_mc_se() -> None:
    df = pd.DataFrame({"y": np.arange(10.0), "t": [0, 1] * 5})
    res = randomisation_test(df, outcome="y", treatment="t", draws=10)
    assert res.exact and res.draws == 252 and res.mc_se == 0.0


def test_memory_stays_proportional_to_n_plus_draws() -> None:
    """20,000 staff in 400 teams, 50,000 draws: an N x draws array would be 8 GB."""
    rng = np.random.default_rng(0)
    teams = np.repeat(np.arange(400), 50)
    scheme = ClusterRandomisation(Units(ids=np.arange(400), clusters=np.arange(400)))
    z = scheme.draw(RawStream(2))
    df = pd.DataFrame({"team": teams, "t": z[teams], "y": rng.normal(size=teams.size)})
    randomisation_test(df, outcome="y", treatment="t", scheme=scheme, cluster="team", draws=100)
    tracemalloc.start()
    try:
        res = randomisation_test(
            df,
            outcome="y",
            treatment="t",
            scheme=scheme,
            cluster="team",
            draws=50_000,
            ci_level=0.95,
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.draws == 50_000
    assert peak < 200e6, f"peak traced memory {peak / 1e6:.0f} MB"


def test_multi_arm_refuses_sharp_null_and_interval() -> None:
    df = pd.DataFrame({"y": np.arange(9.0), "arm": list("abc") * 3})
    res = randomisation_test(df, outcome="y", treatment="arm")
    assert [t.arm for t in res.tests] == ["b", "c"]
    with pytest.raises(EstimationError, match="one test per arm"):
        _ = res.p_value
    with pytest.raises(EstimationError, match="need two arms"):
        randomisation_test(df, outcome="y", treatment="arm", sharp_null=1.0)
    with pytest.raises(EstimationError, match="need two arms"):
        randomisation_test(df, outcome="y", treatment="arm", ci_level=0.9)


def test_stepped_wedge_needs_period() -> None:
    units = Units(ids=np.arange(4), clusters=np.arange(4))
    df = pd.DataFrame({"team": [0, 1, 2, 3], "y": [1.0, 2, 3, 4], "t": [0, 1, 0, 1]})
    with pytest.raises(EstimationError, match="period"):
        randomisation_test(
            df, outcome="y", treatment="t", cluster="team", scheme=SteppedWedge(units, steps=2)
        )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"outcome": "yy"}, "did you mean `y`"),
        ({"draws": 0}, "'draws' parameter"),
        ({"seed": -1}, "'seed' parameter"),
        ({"ci_level": 1.5}, "'ci_level' parameter"),
        ({"sharp_null": float("nan")}, "'sharp_null' parameter"),
        ({"control": "z"}, "control arm 'z'"),
        ({"covariates": ["label"]}, "must be numeric"),
    ],
)
def test_bad_arguments_are_rejected(kwargs: dict[str, object], match: str) -> None:
    df = pd.DataFrame({"y": [1.0, 2, 3, 4], "t": ["a", "b", "a", "b"], "label": list("pqrs")})
    args: dict[str, object] = {"outcome": "y", "treatment": "t", **kwargs}
    with pytest.raises(EstimationError, match=match):
        randomisation_test(df, **args)  # type: ignore[arg-type]


def test_data_that_do_not_fit_the_scheme_are_rejected() -> None:
    df, units = _blocked_trial()
    scheme = BlockedRandomisation(units)
    with pytest.raises(EstimationError, match="missing values"):
        randomisation_test(
            df.assign(y=df["y"].where(df.index != 3)),
            outcome="y",
            treatment="t",
            scheme=scheme,
            cluster="id",
        )
    with pytest.raises(EstimationError, match="units the scheme does not have"):
        randomisation_test(
            df.assign(id=df["id"] + 1000), outcome="y", treatment="t", scheme=scheme, cluster="id"
        )
    with pytest.raises(EstimationError, match="cannot produce"):
        randomisation_test(
            df.assign(t=np.arange(60) % 2 * (np.arange(60) < 40)),
            outcome="y",
            treatment="t",
            scheme=scheme,
            cluster="id",
        )
    with pytest.raises(EstimationError, match="pass `cluster=`"):
        randomisation_test(df.head(30), outcome="y", treatment="t", scheme=scheme)
    unequal = BlockedRandomisation(units, ratios=(2, 1))
    with pytest.raises(EstimationError, match="arms="):
        randomisation_test(
            df.assign(t=df["t"].map({0: "c", 1: "d"})),
            outcome="y",
            treatment="t",
            scheme=unequal,
            cluster="id",
        )
    teams = pd.DataFrame({"team": [1, 1, 2, 2], "y": [1.0, 2, 3, 4], "t": [0, 1, 0, 1]})
    with pytest.raises(EstimationError, match="same randomised unit"):
        randomisation_test(teams, outcome="y", treatment="t", cluster="team")


@pytest.mark.slow
def test_interval_coverage_and_type_one_error() -> None:
    """Constant effect 0.5, N = 40 (20 treated), 1,500 trials: coverage and size at 5%."""
    rng = np.random.default_rng(2026)
    trials, tau, covered, rejected = 1_500, 0.5, 0, 0
    for i in range(trials):
        t = rng.permutation(np.arange(40) % 2)
        x = rng.normal(size=40)
        y = x + rng.standard_t(5, size=40) + tau * t
        df = pd.DataFrame({"y": y, "t": t, "x": x})
        res = randomisation_test(
            df,
            outcome="y",
            treatment="t",
            covariates=["x"],
            draws=1_000,
            seed=i,
            ci_level=0.95,
            sharp_null=tau,
        )
        covered += res.ci_low <= tau <= res.ci_high
        rejected += res.p_value <= 0.05
    assert 0.935 <= covered / trials <= 0.965, f"coverage {covered / trials:.3f}"
    assert 0.035 <= rejected / trials <= 0.065, f"type-I error {rejected / trials:.3f}"


@pytest.mark.slow
def test_memory_individual_level_large() -> None:
    """N = 20,000 individuals, 50,000 draws (the fast count-rule path), modest memory."""
    rng = np.random.default_rng(1)
    n = 20_000
    df = pd.DataFrame({"y": rng.normal(size=n), "t": rng.permutation(np.arange(n) % 2)})
    randomisation_test(df.head(100), outcome="y", treatment="t", draws=100)
    tracemalloc.start()
    try:
        res = randomisation_test(df, outcome="y", treatment="t", draws=50_000, ci_level=0.95)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.draws == 50_000 and peak < 200e6, f"peak {peak / 1e6:.0f} MB"


def test_capped_count_matches_the_count_rule() -> None:
    from trialkit.estimate.frequentist.ri.exact import count_capped

    rng = np.random.default_rng(0)
    for _ in range(200):
        n, k = int(rng.integers(2, 14)), int(rng.integers(2, 4))
        ratios = tuple(int(r) for r in rng.integers(1, 4, size=k))
        strata = np.unique(rng.integers(0, 3, size=n), return_inverse=True)[1].astype(np.int64)
        rule = _counts.count_rule(strata, ratios, int(strata.max()) + 1)
        full = _counts.count_assignments(rule)
        assert count_capped(rule) == (full if full <= 100_000 else None)
    pairs = BlockedRandomisation(Units(ids=np.arange(10**5), blocks=np.arange(10**5) // 2))
    assert count_capped(pairs.rule) is None  # 2^50000, never formed
    big = _counts.count_rule(np.zeros(10**5, np.int64), (50_000, 50_000), 1)
    assert count_capped(big) is None  # C(100000, 50000), a Python integer


@pytest.mark.parametrize("covariates", [[], ["x"]])
def test_compact_fast_path_rebuilds_the_full_sums(covariates: list[str]) -> None:
    """Units already numbered treated-first: the lean and the full kernel input agree."""
    import dataclasses

    from trialkit.estimate.frequentist.ri.precompute import precompute
    from trialkit.estimate.frequentist.ri.redraws import assignment_sums

    rng = np.random.default_rng(4)
    n = 40
    df = pd.DataFrame(
        {"y": rng.normal(size=n), "t": (np.arange(n) < 20).astype(int), "x": rng.normal(size=n)}
    )
    s = precompute(
        df,
        outcome="y",
        treatment="t",
        scheme=None,
        cluster=None,
        covariates=tuple(covariates),
        control=None,
        period=None,
        arms=None,
    )
    assert s.compact is not None and s.compact.boundary == 20
    lean, _, _ = assignment_sums(s, 500, 3)
    full, _, _ = assignment_sums(dataclasses.replace(s, compact=None), 500, 3)
    assert np.allclose(lean, full, rtol=0, atol=1e-9)


def test_value_shuffle_equals_index_gather() -> None:
    """One column per unit: shuffling values gives the index path's sums, draw by draw."""
    scheme = BlockedRandomisation(
        Units(ids=np.arange(30), blocks=np.arange(30) // 10), ratios=(2, 1)
    )
    rule = scheme.rule
    vals = np.random.default_rng(1).normal(size=(30, 1, 1))
    kw = {
        "strata": rule.strata,
        "floors": rule.floors,
        "cum": rule.cum,
        "total": 3,
        "arm_order": np.array([1, 0]),
        "g_arm": np.zeros(2, np.int64),
        "dummy_of": np.array([-1, 0]),
        "n_dummies": 1,
        "boundary": 12,
    }
    by_value = rk.rule_sums(9, 300, G=vals, **kw)  # type: ignore[arg-type]
    padded = np.concatenate([vals, np.zeros_like(vals)], axis=2)
    by_index = rk.rule_sums(9, 300, G=padded, **kw)  # type: ignore[arg-type]
    assert np.array_equal(by_value[..., 1:], by_index[..., 2:]), "counts"
    assert np.allclose(by_value[..., 0], by_index[..., 0], rtol=0, atol=1e-12), "sums"


def test_blocked_data_without_a_scheme_is_refused() -> None:
    """Redrawing blocked data as one complete randomisation gives a test of the wrong size."""
    import pandas as pd

    from trialkit.errors import EstimationError
    from trialkit.estimate.frequentist.ri import randomisation_test

    df = pd.DataFrame(
        {
            "y": [1.0, 2, 3, 4, 5, 6, 7, 8],
            "t": [0, 1] * 4,
            "block": ["a", "a", "b", "b", "c", "c", "d", "d"],
        }
    )
    with pytest.raises(EstimationError, match=r"4 randomisation blocks .* no scheme was given"):
        randomisation_test(df, outcome="y", treatment="t")
    single = df.assign(block="all")
    assert randomisation_test(single, outcome="y", treatment="t").draws > 0


def test_clustered_data_without_a_scheme_or_unit_is_refused() -> None:
    """Redrawing the rows of clusters one by one splits them: the test's size is wrong."""
    import pandas as pd

    from trialkit.errors import EstimationError
    from trialkit.estimate.frequentist.ri import randomisation_test

    df = pd.DataFrame(
        {
            "y": [1.0, 2, 3, 4, 5, 6, 7, 8],
            "t": [0, 0, 1, 1, 0, 0, 1, 1],
            "cluster": ["a", "a", "b", "b", "c", "c", "d", "d"],
        }
    )
    with pytest.raises(EstimationError, match=r"4 randomised clusters .* cluster=\"cluster\""):
        randomisation_test(df, outcome="y", treatment="t")
    by_cluster = randomisation_test(df, outcome="y", treatment="t", cluster="cluster")
    assert by_cluster.exact and by_cluster.draws == 6, "4 clusters, 2 treated: 6 splits"
    one_row_each = df.drop_duplicates("cluster")
    assert randomisation_test(one_row_each, outcome="y", treatment="t").draws == 6

"""Unit tests for subgroup effects and the heterogeneity test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.ols import ols
from trialkit.estimate.frequentist.subgroups import subgroup_effects


def _simulate(seed: int, n: int = 240, arms: int = 2, clusters: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, arms, size=n)
    g = rng.choice(["a", "b", "c"], size=n)
    x = rng.normal(size=n)
    y = 0.5 * t + 0.4 * t * (g == "c") + 0.3 * x + rng.normal(size=n)
    df = pd.DataFrame({"y": y, "t": t, "g": g, "x": x})
    if clusters:
        cl = rng.integers(0, clusters, size=n)
        df = df.assign(cl=cl, t=(cl % arms), y=y + rng.normal(size=clusters)[cl])
    return df


def test_saturated_effects_are_differences_in_means() -> None:
    df = _simulate(0)
    res = subgroup_effects(df, "y", "t", "g")
    for row, level in zip(res.rows, res.levels, strict=True):
        sub = df[df["g"] == level]
        diff = sub.loc[sub["t"] == 1, "y"].mean() - sub.loc[sub["t"] == 0, "y"].mean()
        assert row.estimate == pytest.approx(diff), f"effect in level {level}"
        assert row.estimand == f"ITT[g={level}]" and row.term == "t"


def test_level_effect_is_the_contrast_of_the_reference_fit() -> None:
    df = _simulate(1)
    res = subgroup_effects(df, "y", "t", "g", covariates=["x"])
    frame = df.assign(**{"g[b]": (df["g"] == "b") * 1.0, "g[c]": (df["g"] == "c") * 1.0})
    frame["t:g[b]"] = frame["t"] * frame["g[b]"]
    frame["t:g[c]"] = frame["t"] * frame["g[c]"]
    fit = ols(frame, "y", "t", covariates=["x", "g[b]", "g[c]", "t:g[b]", "t:g[c]"])
    a = np.zeros(len(fit.terms))
    a[[fit.terms.index("t"), fit.terms.index("t:g[c]")]] = 1.0
    assert res.rows[2].estimate == pytest.approx(a @ fit.coefficients)
    assert res.rows[2].std_error == pytest.approx(np.sqrt(a @ fit.vcov @ a))


def test_one_interaction_f_equals_t_squared_with_cr2() -> None:
    df = _simulate(2, clusters=30)
    df = df.assign(g=np.where(df["g"] == "a", "a", "b"))
    res = subgroup_effects(df, "y", "t", "g", cluster="cl")
    h = res.heterogeneity
    assert (h.df_num, h.se_type) == (1, "CR2")
    frame = df.assign(gb=(df["g"] == "b") * 1.0)
    frame["tgb"] = frame["t"] * frame["gb"]
    row = next(r for r in ols(frame, "y", "t", covariates=["gb", "tgb"], cluster="cl").rows
               if r.term == "tgb")  # fmt: skip
    assert h.statistic == pytest.approx(row.statistic**2)
    assert h.df_denom == pytest.approx(row.df)
    assert h.p_value == pytest.approx(row.p_value)


def test_multi_arm() -> None:
    df = _simulate(3, arms=3)
    res = subgroup_effects(df, "y", "t", "g")
    assert len(res.rows) == 6
    assert [r.term for r in res.rows[:2]] == ["t[1]", "t[2]"]
    assert res.heterogeneity.df_num == 4
    frame = res.to_frame()
    assert list(frame["level"]) == ["a", "a", "b", "b", "c", "c"]
    assert {"subgroup", "estimate", "std_error", "p_value", "ci_low"} <= set(frame)


def test_subgroup_nested_in_blocks_drops_main_effects() -> None:
    df = _simulate(4)
    df = df.assign(block=df["g"] + (df["x"] > 0).astype(str))
    res = subgroup_effects(df, "y", "t", "g", blocks="block")
    assert res.heterogeneity.df_num == 2
    assert all(np.isfinite(r.std_error) for r in res.rows)


def test_heterogeneity_p_value_is_f_tail() -> None:
    h = subgroup_effects(_simulate(5), "y", "t", "g").heterogeneity
    assert h.statistic == pytest.approx(h.wald / h.df_num)
    assert h.p_value == pytest.approx(stats.f.sf(h.statistic, h.df_num, h.df_denom))


def test_missing_subgroup_values_rejected() -> None:
    df = _simulate(6)
    df.loc[3, "g"] = None
    with pytest.raises(EstimationError, match="has missing values"):
        subgroup_effects(df, "y", "t", "g")


def test_single_level_rejected() -> None:
    with pytest.raises(EstimationError, match="single level"):
        subgroup_effects(_simulate(7).assign(g="a"), "y", "t", "g")


def test_level_without_an_arm_rejected() -> None:
    df = _simulate(8)
    df = df[~((df["g"] == "b") & (df["t"] == 1))]
    with pytest.raises(EstimationError, match=r"levels \['b'\] .* lack units in some arm"):
        subgroup_effects(df, "y", "t", "g")


def test_missing_column_rejected() -> None:
    with pytest.raises(EstimationError, match='column "fsm" is not in the data'):
        subgroup_effects(_simulate(9), "y", "t", "fsm")


@pytest.mark.parametrize(
    ("arms", "clusters", "nested", "weighted"),
    [(2, 0, False, False), (3, 0, False, True), (2, 30, False, False), (3, 24, True, False)],
    ids=["hc2", "three_arms_weighted", "cr2", "cr2_nested_three_arms"],
)
def test_each_level_fitted_in_the_first_fits_qr_equals_refitting_it(
    arms: int, clusters: int, nested: bool, weighted: bool
) -> None:
    """Levels after the first are fitted in the first fit's QR (the same column space):
    every number equals an ordinary OLS refit with that level as the reference."""
    from trialkit.estimate.frequentist.subgroups import _design

    df = _simulate(11, n=360, arms=arms, clusters=clusters)
    df = df.assign(w=np.random.default_rng(5).uniform(0.5, 2.0, len(df)))
    kwargs: dict[str, object] = {
        "covariates": ["x"],
        "cluster": "cl" if clusters else None,
        "weights": "w" if weighted else None,
    }
    if nested:  # the subgroup constant within blocks: no main effects
        df = df.assign(block=df["g"] + (df["cl"] % 2).astype(str))
        kwargs["blocks"] = "block"
    res = subgroup_effects(df, "y", "t", "g", **kwargs)  # type: ignore[arg-type]
    terms = {f"t[{a}]": (df["t"] == a).to_numpy(float) for a in range(1, arms)}
    if arms == 2:
        terms = {"t": (df["t"] == 1).to_numpy(float)}
    per_level = len(terms)
    for i, level in enumerate(res.levels):
        frame, mains, inters = _design(df, "t", "g", level, res.levels, terms, not nested)
        refit = ols(
            frame,
            "y",
            "t",
            **{**kwargs, "covariates": ["x", *mains, *inters]},  # type: ignore[arg-type]
        )
        for j, term in enumerate(terms):
            row, direct = res.rows[i * per_level + j], refit.effect(term)
            for name in ("estimate", "std_error", "df", "ci_low", "ci_high", "p_value"):
                assert getattr(row, name) == pytest.approx(getattr(direct, name), rel=1e-10), (
                    f"{name} of {term} in level {level}"
                )

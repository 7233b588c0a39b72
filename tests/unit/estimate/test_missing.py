"""IPW and multiple imputation for missing outcomes (trialkit.estimate.frequentist.missing)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import RegressionModel
from trialkit.estimate.frequentist.lin import lin
from trialkit.estimate.frequentist.missing import (
    ipw,
    multiple_imputation,
    rubin,
)
from trialkit.estimate.frequentist.ols import ols


def _trial(
    n: int = 200, *, seed: int = 0, clusters: int = 0, missing: float = 0.0, mar: bool = True
) -> pd.DataFrame:
    """Two arms in two blocks; y depends on x; P(missing) rises with x when ``mar``."""
    rng = np.random.default_rng(seed)
    block = np.repeat(["north", "south"], n // 2)
    if clusters:
        cluster = np.repeat(np.arange(clusters), n // clusters)
        arm = np.where(cluster % 2 == 0, "usual", "budget")
    else:
        cluster = np.arange(n)
        arm = np.tile(["usual", "budget"], n // 2)
    x = rng.normal(size=n)
    y = 1.0 + 0.5 * (arm == "budget") + 1.0 * x + 0.3 * (block == "south") + rng.normal(size=n)
    p_missing = missing * (1 + np.tanh(1.5 * x)) if mar else np.full(n, missing)
    y[rng.uniform(size=n) < p_missing] = np.nan
    return pd.DataFrame({"y": y, "arm": arm, "x": x, "block": block, "cluster": cluster})


COMMON: dict[str, Any] = {"covariates": ["x"], "blocks": "block", "control": "usual"}


@pytest.mark.parametrize("estimator", ["lin", "ols"])
@pytest.mark.parametrize("clustered", [False, True])
def test_without_missing_values_both_equal_complete_case(
    estimator: RegressionModel, clustered: bool
) -> None:
    data = _trial(clusters=20 if clustered else 0)
    cluster = "cluster" if clustered else None
    fitter = lin if estimator == "lin" else ols
    cc = fitter(data, "y", "arm", cluster=cluster, **COMMON).effect()
    for result in (
        ipw(data, "y", "arm", cluster=cluster, estimator=estimator, **COMMON),
        multiple_imputation(
            data,
            "y",
            "arm",
            cluster=cluster,
            estimator=estimator,
            rng=np.random.default_rng(1),
            **COMMON,
        ),
    ):
        row = result.effect()
        for stat in ("estimate", "std_error", "df", "p_value", "ci_low", "ci_high"):
            expected = getattr(cc, stat)
            assert getattr(row, stat) == pytest.approx(expected, rel=1e-10, abs=1e-10), stat


def test_estimator_names_say_what_was_done() -> None:
    data = _trial(missing=0.2)
    assert ipw(data, "y", "arm", **COMMON).effect().estimator == (
        "lin (IPW: estimated response weights, SEs treat them as fixed)"
    )
    mi = multiple_imputation(
        data, "y", "arm", imputations=4, rng=np.random.default_rng(0), **COMMON
    )
    assert mi.effect().estimator == "lin (multiple imputation, m=4, Rubin's rules)"
    assert mi.n_obs == len(data)
    assert ipw(data, "y", "arm", **COMMON).n_obs == int(data["y"].notna().sum())


def test_multiple_imputation_is_reproducible_from_the_generator() -> None:
    data = _trial(missing=0.2, clusters=20)
    first, second, other = (
        multiple_imputation(
            data,
            "y",
            "arm",
            cluster="cluster",
            imputations=5,
            rng=np.random.default_rng(seed),
            **COMMON,
        ).effect()
        for seed in (7, 7, 8)
    )
    assert first == second
    assert first.estimate != other.estimate


def test_multiple_imputation_pools_with_rubin() -> None:
    data = _trial(missing=0.3)
    res = multiple_imputation(
        data, "y", "arm", imputations=6, rng=np.random.default_rng(3), **COMMON
    )
    row = res.effect()
    assert row.df < len(data) - 6, "Barnard–Rubin df below the complete-data df"
    assert row.std_error > lin(data.dropna(), "y", "arm", **COMMON).effect().std_error * 0.9


@pytest.mark.parametrize("fit", [ipw, multiple_imputation])
def test_missing_covariate_is_refused(fit) -> None:  # type: ignore[no-untyped-def]
    data = _trial(missing=0.1)
    data.loc[3, "x"] = np.nan
    kwargs = {"rng": np.random.default_rng(0)} if fit is multiple_imputation else {}
    with pytest.raises(
        EstimationError,
        match=r'column "x" \(the covariate\) has 1 missing '
        r"value\(s\).*only the outcome may be missing",
    ):
        fit(data, "y", "arm", **COMMON, **kwargs)


def test_mi_refuses_a_block_never_observed_in_an_arm() -> None:
    data = _trial(missing=0.0)
    data.loc[(data["block"] == "south") & (data["arm"] == "budget"), "y"] = np.nan
    with pytest.raises(EstimationError, match=r"arm 'budget'.*cannot be imputed"):
        multiple_imputation(data, "y", "arm", rng=np.random.default_rng(0), **COMMON)


def test_ipw_refuses_a_separated_response_model() -> None:
    data = _trial(missing=0.0)
    north = data.index[data["block"] == "north"]
    data.loc[north[:10], "y"] = np.nan  # every south outcome observed: p̂ → 1 there
    with pytest.raises(EstimationError, match=r"response model .* has no finite fit"):
        ipw(data, "y", "arm", **COMMON)


def test_bad_imputations_and_rubin_inputs_are_refused() -> None:
    data = _trial(missing=0.1)
    with pytest.raises(EstimationError, match=r"'imputations' parameter .* at least 2\. Got 1"):
        multiple_imputation(data, "y", "arm", imputations=1, rng=np.random.default_rng(0), **COMMON)
    with pytest.raises(EstimationError, match="at least two estimates"):
        rubin([1.0], [1.0], 10)
    with pytest.raises(EstimationError, match="positive df_complete"):
        rubin([1.0, 2.0], [1.0, 1.0], 0)


def test_rubin_without_between_variance_keeps_barnard_rubin_observed_df() -> None:
    estimate, se, df = rubin([2.0, 2.0, 2.0], [0.5, 0.5, 0.5], df_complete=30)
    assert estimate == 2.0
    assert se == pytest.approx(np.sqrt(0.5))
    assert df == pytest.approx(31 / 33 * 30), "λ = 0: ν = ν_obs"
    assert rubin([2.0, 2.0], [0.5, 0.5], float("inf"))[2] == float("inf")


def test_mi_is_far_less_biased_than_complete_case_under_mar() -> None:
    """Outcomes go missing more often when x (which raises y) is high, so complete cases
    understate the mean in each arm; with x in the imputation model but not in the analysis
    (difference in means via OLS on blocks), MI recovers the effect."""
    rng = np.random.default_rng(2024)
    cc_bias, mi_bias = [], []
    for _ in range(40):
        n = 200
        x = rng.normal(size=n)
        arm = np.tile(["usual", "budget"], n // 2)
        y = 0.5 * (arm == "budget") + 2.0 * x + rng.normal(size=n)
        # only treated outcomes depend on x for missingness: differential MAR
        p = np.where(arm == "budget", 1 / (1 + np.exp(-(2.5 * x - 0.5))), 0.1)
        y[rng.uniform(size=n) < p] = np.nan
        data = pd.DataFrame({"y": y, "arm": arm, "x": x})
        cc = ols(data.dropna(), "y", "arm", control="usual").effect().estimate
        mi = (
            multiple_imputation(
                data,
                "y",
                "arm",
                covariates=["x"],
                estimator="ols",
                control="usual",
                imputations=5,
                rng=rng,
            )
            .effect()
            .estimate
        )
        cc_bias.append(cc - 0.5)
        mi_bias.append(mi - 0.5)
    assert abs(np.mean(cc_bias)) > 0.5, np.mean(cc_bias)
    assert abs(np.mean(mi_bias)) < 0.1 * abs(np.mean(cc_bias)), np.mean(mi_bias)


@pytest.mark.slow
def test_mi_and_ipw_intervals_cover_near_95_percent() -> None:
    rng = np.random.default_rng(95)
    covered = {"mi": 0, "ipw": 0}
    sims = 400
    for _ in range(sims):
        data = _trial(n=120, seed=int(rng.integers(2**31)), missing=0.2)
        mi = multiple_imputation(data, "y", "arm", imputations=10, rng=rng, **COMMON).effect()
        weighted = ipw(data, "y", "arm", **COMMON).effect()
        covered["mi"] += mi.ci_low <= 0.5 <= mi.ci_high
        covered["ipw"] += weighted.ci_low <= 0.5 <= weighted.ci_high
    for method, count in covered.items():
        # 400 draws: a 95 % interval's coverage is 0.95 ± 0.022 (2 SE)
        assert 0.92 <= count / sims <= 0.985, (method, count / sims)

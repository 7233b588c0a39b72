"""Contract battery for every frequentist estimator: columns, arms, determinism, bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

import numpy as np
import pandas as pd
import pytest

from trialkit.errors import EstimationError
from trialkit.estimate import difference_in_means, iv, lin, ols
from trialkit.estimate.frequentist.binary import binary_effect
from trialkit.estimate.results import ESTIMATE_COLUMNS
from trialkit.protocol.vocabulary import VcovType


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    n = 120
    arm = np.tile([0, 1], n // 2)
    return pd.DataFrame(
        {
            "y": rng.normal(size=n) + 0.3 * arm,
            "arm": arm,
            "x1": rng.normal(size=n),
            "team": np.repeat(np.arange(24), 5),
            "block": np.repeat(np.arange(4), 30),
            "took": arm * (rng.random(n) < 0.8),
            "yb": (rng.random(n) < 0.4 + 0.2 * arm).astype(int),
            "label": np.where(arm == 1, "budget", "as usual"),
            "flag": arm.astype(bool),
        }
    )


ESTIMATORS: dict[str, Callable[..., Any]] = {
    "difference_in_means": lambda d, **k: difference_in_means(d, "y", "arm", **k),
    "ols": lambda d, **k: ols(d, "y", "arm", covariates=["x1"], **k),
    "lin": lambda d, **k: lin(d, "y", "arm", covariates=["x1"], **k),
    "iv": lambda d, **k: iv(d, "y", "arm", received="took", **k),
    "binary_effect": lambda d, **k: binary_effect(d, "yb", "arm", effect="odds_ratio", **k),
}


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_documented_columns(frame: pd.DataFrame, name: str) -> None:
    out = ESTIMATORS[name](frame).to_frame()
    assert tuple(out.columns) == ESTIMATE_COLUMNS


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_deterministic(frame: pd.DataFrame, name: str) -> None:
    a = ESTIMATORS[name](frame).to_frame()
    b = ESTIMATORS[name](frame).to_frame()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_summary_str_and_html(frame: pd.DataFrame, name: str) -> None:
    res = ESTIMATORS[name](frame)
    assert "arm" in str(res)
    assert "<table" in res._repr_html_()


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_missing_column_is_named(frame: pd.DataFrame, name: str) -> None:
    with pytest.raises(EstimationError, match=r'column "arm" .*not in the data'):
        ESTIMATORS[name](frame.drop(columns="arm"))


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_empty_arm(frame: pd.DataFrame, name: str) -> None:
    with pytest.raises(EstimationError, match="only the control arm"):
        ESTIMATORS[name](frame[frame.arm == 0])


@pytest.mark.parametrize("name", ["ols", "lin", "iv", "binary_effect"])
def test_unknown_se_type_lists_allowed_values(frame: pd.DataFrame, name: str) -> None:
    allowed = ", ".join(f"'{v}'" for v in get_args(VcovType))
    with pytest.raises(EstimationError, match=f"must be one of {allowed}. Got 'HC9' instead"):
        ESTIMATORS[name](frame, se_type="HC9")


def test_missing_values_are_refused(frame: pd.DataFrame) -> None:
    bad = frame.assign(y=frame.y.where(frame.index != 5))
    with pytest.raises(EstimationError, match='column "y" has 1 missing value'):
        ols(bad, "y", "arm")


def test_column_suggestion(frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match='Did you mean "team"'):
        ols(frame, "y", "arm", cluster="teams")


def test_cluster_type_without_clusters(frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="needs clusters"):
        ols(frame, "y", "arm", se_type="CR2")


def test_hc_type_with_clusters(frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="ignores the clusters"):
        ols(frame, "y", "arm", cluster="team", se_type="HC2")


def test_defaults_hc2_and_cr2(frame: pd.DataFrame) -> None:
    assert ols(frame, "y", "arm").se_type == "HC2"
    assert ols(frame, "y", "arm", cluster="team").se_type == "CR2"


def test_ci_level_checked(frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match=r"'ci_level' parameter must be in \(0, 1\)\. Got 95"):
        ols(frame, "y", "arm", ci_level=95)


def test_collinear_covariate(frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match='term "x2" is \\(nearly\\) a linear combination'):
        ols(frame.assign(x2=2 * frame.x1), "y", "arm", covariates=["x1", "x2"])


def test_non_numeric_outcome(frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match='"label" \\(the outcome\\) must be numeric'):
        ols(frame, "label", "arm")


def test_unknown_control(frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="control arm 'none' does not occur"):
        ols(frame, "y", "label", control="none")


def test_string_arms_and_control(frame: pd.DataFrame) -> None:
    a = ols(frame, "y", "label", control="as usual").effect()
    b = ols(frame, "y", "arm").effect()
    assert a.term == "label"
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)


def test_bool_treatment(frame: pd.DataFrame) -> None:
    assert ols(frame, "y", "flag").effect().estimate == pytest.approx(
        ols(frame, "y", "arm").effect().estimate, rel=1e-12
    )


def test_several_arms_named_like_formula(frame: pd.DataFrame) -> None:
    three = frame.assign(arm3=np.tile(["control", "budget", "coach"], len(frame) // 3))
    res = ols(three, "y", "arm3", control="control")
    assert res.treatment_terms == ("arm3[budget]", "arm3[coach]")
    with pytest.raises(EstimationError, match="several arms"):
        res.effect()


def test_treatment_varies_within_cluster(frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="treatment varies within a cluster"):
        difference_in_means(frame, "y", "arm", cluster="team")


def test_block_without_both_arms(frame: pd.DataFrame) -> None:
    bad = frame.assign(arm=np.where(frame.block == 0, 0, frame.arm))
    with pytest.raises(EstimationError, match="has no unit in one of the two arms"):
        difference_in_means(bad, "y", "arm", blocks="block")


def test_unknown_effect(frame: pd.DataFrame) -> None:
    with pytest.raises(
        EstimationError,
        match="'effect' parameter must be one of 'risk_difference', 'odds_ratio', 'risk_ratio'",
    ):
        binary_effect(frame, "yb", "arm", effect="hazard")  # type: ignore[arg-type]


def test_odds_ratio_needs_binary(frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="needs a 0/1 outcome"):
        binary_effect(frame, "y", "arm", effect="odds_ratio")


def test_separation_reported(frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="separat"):
        binary_effect(frame.assign(yb=frame.arm), "yb", "arm", effect="odds_ratio")


def test_weights_must_be_positive(frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="must be positive"):
        ols(frame.assign(w=0.0), "y", "arm", weights="w")


def test_results_are_frozen(frame: pd.DataFrame) -> None:
    res = ols(frame, "y", "arm")
    with pytest.raises(AttributeError):
        res.se_type = "HC0"
    with pytest.raises(ValueError, match="read-only"):
        res.coefficients[0] = 1.0


def test_iv_without_first_stage(frame: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="do not shift"):
        iv(frame.assign(took=1.0), "y", "arm", received="took")


@pytest.mark.parametrize("took", [0.1, 3.7, 1e6, 1e-6, "x1", "affine"])
@pytest.mark.parametrize(
    "design",
    [{}, {"covariates": ["x1"]}, {"covariates": ["x1"], "cluster": "team", "blocks": "block"}],
    ids=["plain", "covariate", "clustered"],
)
def test_iv_without_first_stage_after_rounding(
    frame: pd.DataFrame, took: float | str, design: dict[str, Any]
) -> None:
    # A received treatment the other regressors explain leaves the arm a first-stage
    # coefficient of rounding size (not exactly 0): still "do not shift", not collinearity.
    if took == "x1":
        received = frame["x1"]
        design = {**design, "covariates": ["x1"]}
    elif took == "affine":
        received = 0.3 * frame["x1"] + 0.7
        design = {**design, "covariates": ["x1"]}
    else:
        received = pd.Series(float(took), index=frame.index)
    with pytest.raises(EstimationError, match="do not shift"):
        iv(frame.assign(took=received), "y", "arm", received="took", **design)


def test_iv_with_a_small_first_stage(frame: pd.DataFrame) -> None:
    # The check is relative: a first stage in small units is still one, with the CACE scaled.
    res = iv(frame, "y", "arm", received="took")
    tiny = iv(frame.assign(took=frame["took"] * 1e-3), "y", "arm", received="took")
    assert tiny.rows[0].estimate == pytest.approx(res.rows[0].estimate * 1e3, rel=1e-9)


def test_default_control_is_zero_when_present(frame: pd.DataFrame) -> None:
    three = frame.assign(dose=np.tile([-1, 0, 1], len(frame) // 3))
    assert ols(three, "y", "dose").treatment_terms == ("dose[-1]", "dose[1]")

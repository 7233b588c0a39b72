"""Unit tests for the Anderson and Kling–Liebman–Katz summary indices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist.indices import (
    Direction,
    anderson_index,
    klk_index,
    oriented_z_scores,
)

DIRS: dict[str, Direction] = {"a": "higher_is_better", "b": "lower_is_better"}


@pytest.fixture
def df() -> pd.DataFrame:
    # Control: a = 1, 2, 3 (mean 2, sd 1); b = 2, 1, 3 (mean 2, sd 1).
    return pd.DataFrame(
        {"t": [0, 0, 0, 1, 1, 1], "a": [1.0, 2, 3, 3, 4, 5], "b": [2.0, 1, 3, 1, 0, 2]}
    )


def test_z_scores_by_hand(df: pd.DataFrame) -> None:
    z = oriented_z_scores(df, ["a", "b"], directions=DIRS, treatment="t")
    np.testing.assert_allclose(z["a"], [-1, 0, 1, 1, 2, 3])
    np.testing.assert_allclose(z["b"], [0, 1, -1, 1, 2, 0])


def test_anderson_by_hand(df: pd.DataFrame) -> None:
    # Cov(z) = [[2, .2], [.2, 1.1]]; inverse row sums are proportional to 0.9 and 1.8,
    # so the index is (z_a + 2 z_b) / 3.
    idx = anderson_index(df, ["a", "b"], directions=DIRS, treatment="t")
    np.testing.assert_allclose(idx, np.array([-1, 2, -1, 3, 6, 3]) / 3)
    assert idx.name == "anderson_index"


def test_anderson_missing_component_uses_available(df: pd.DataFrame) -> None:
    df2 = df.copy()
    df2.loc[5, "b"] = np.nan
    df2.loc[4, ["a", "b"]] = np.nan
    idx = anderson_index(df2, ["a", "b"], directions=DIRS, treatment="t")
    assert idx[5] == pytest.approx(3.0)  # only z_a = 3 is available
    assert np.isnan(idx[4])


def test_klk_by_hand(df: pd.DataFrame) -> None:
    idx = klk_index(df, ["a", "b"], directions=DIRS, treatment="t")
    np.testing.assert_allclose(idx, [-0.5, 0.5, 0.0, 1.0, 2.0, 1.5])


def test_klk_imputes_arm_mean(df: pd.DataFrame) -> None:
    df2 = df.copy()
    df2.loc[5, "b"] = np.nan  # treated arm's other z_b are 1 and 2: mean 1.5
    df2.loc[4, ["a", "b"]] = np.nan
    arm = klk_index(df2, ["a", "b"], directions=DIRS, treatment="t")
    avail = klk_index(df2, ["a", "b"], directions=DIRS, treatment="t", missing="available")
    assert arm[5] == pytest.approx((3 + 1.0) / 2)  # z_b imputed at mean of {1} (unit 3)
    assert avail[5] == pytest.approx(3.0)
    assert np.isnan(arm[4]) and np.isnan(avail[4])


def test_invariant_to_affine_rescaling_and_direction(df: pd.DataFrame) -> None:
    df2 = df.assign(b=-3.0 * df["b"] + 10)
    dirs2: dict[str, Direction] = {"a": "higher_is_better", "b": "higher_is_better"}
    for fn in (anderson_index, klk_index):
        base = fn(df, ["a", "b"], directions=DIRS, treatment="t")
        new = fn(df2, ["a", "b"], directions=dirs2, treatment="t")
        np.testing.assert_allclose(new, base, err_msg=fn.__name__)


def test_string_control_value() -> None:
    df = pd.DataFrame({"arm": ["c", "c", "t", "t"], "y": [1.0, 3.0, 4.0, 5.0]})
    idx = klk_index(df, ["y"], directions={"y": "higher_is_better"}, treatment="arm", control="c")
    np.testing.assert_allclose(idx, np.array([-1, 1, 2, 3]) / np.sqrt(2))


def test_no_control_group(df: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="no control group"):
        klk_index(df, ["a"], directions=DIRS, treatment="t", control=9)


def test_flat_outcome_rejected(df: pd.DataFrame) -> None:
    df2 = df.assign(c=1.0)
    with pytest.raises(EstimationError, match=r"\['c'\] do not vary in the control group"):
        dirs: dict[str, Direction] = {**DIRS, "c": "higher_is_better"}
        anderson_index(df2, ["a", "c"], directions=dirs, treatment="t")


def test_bad_direction_rejected(df: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="higher_is_better"):
        klk_index(df, ["a"], directions={"a": "up"}, treatment="t")  # type: ignore[dict-item]


def test_missing_column_rejected(df: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match=r"Columns \['zz'\]"):
        klk_index(df, ["zz"], directions={"zz": "higher_is_better"}, treatment="t")


def test_singular_covariance_rejected(df: pd.DataFrame) -> None:
    df2 = df.assign(c=2 * df["a"])
    with pytest.raises(EstimationError, match="singular"):
        anderson_index(
            df2,
            ["a", "c"],
            directions={"a": "higher_is_better", "c": "higher_is_better"},
            treatment="t",
        )


def test_unknown_missing_rule(df: pd.DataFrame) -> None:
    with pytest.raises(EstimationError, match="'missing' parameter"):
        klk_index(df, ["a"], directions=DIRS, treatment="t", missing="zero")  # type: ignore[arg-type]

"""An analysis frame's complete cases and usable covariates, found once per columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame


def _frame() -> AnalysisFrame:
    rng = np.random.default_rng(3)
    data = pd.DataFrame(
        {
            "arm": pd.Categorical(rng.choice(["a", "b"], 200)),
            "y": rng.normal(size=200),
            "z": rng.normal(size=200),
            "x1": rng.normal(size=200),
            "x2": np.ones(200),  # constant: not usable
            "base": rng.normal(size=200),
            "label": pd.array(rng.choice(["p", "q"], 200), dtype="str"),
        }
    )
    data.loc[[3, 50], "y"] = np.nan
    data.loc[[7], "x1"] = np.nan
    data.loc[[9], "label"] = None
    return AnalysisFrame(
        data=data, cluster=None, blocks=None, covariates=("x1", "x2"), baseline="base"
    )


@pytest.mark.parametrize("columns", [("y",), ("z",), ("y", "label"), ()])
def test_complete_is_dropna_of_the_columns_and_covariates(columns: tuple[str, ...]) -> None:
    frame = _frame()
    expected = frame.data.dropna(subset=[*columns, "x1", "x2", "base"])
    for _ in range(2):  # found, then found again
        pd.testing.assert_frame_equal(frame.complete(*columns), expected)


def test_usable_covariates_leave_out_constant_ones() -> None:
    frame = _frame()
    assert frame.usable_covariates("y") == ["x1", "base"]
    assert frame.usable_covariates("y") == ["x1", "base"]


def test_a_replaced_column_is_looked_at_afresh() -> None:
    frame = _frame()
    assert len(frame.complete("z")) == 199
    frame.data["z"] = np.where(np.arange(200) < 10, np.nan, 1.0)  # missing, and constant
    assert len(frame.complete("z")) == 190
    frame.data["x1"] = np.arange(200.0)
    frame.data["base"] = 0.0
    assert frame.usable_covariates("z") == ["x1"]


def test_a_copy_with_its_own_column_does_not_see_anothers() -> None:
    """The outcomes of a level share what was found, each on its own shallow copy."""
    from dataclasses import replace

    level = _frame()
    one = replace(level, data=level.data.copy(deep=False))
    two = replace(level, data=level.data.copy(deep=False))
    one.data["added"] = np.where(np.arange(200) < 5, np.nan, 1.0)
    two.data["added"] = 1.0
    assert len(one.complete("added")) == 194
    assert len(two.complete("added")) == 199
    assert len(one.complete("added")) == 194


def test_a_pickled_frame_leaves_what_was_found_behind() -> None:
    """Sent to a Dask worker, a frame carries its rows, not copies of the arrays found."""
    import pickle

    frame = _frame()
    frame.complete("y")
    copy = pickle.loads(pickle.dumps(frame))
    assert frame.found and not copy.found
    pd.testing.assert_frame_equal(copy.complete("y"), frame.complete("y"))
    assert (copy.covariates, copy.baseline) == (frame.covariates, frame.baseline)

"""``positions``: where each value sits in unique keys, equal to pandas' get_indexer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.frequentist._design import positions

KEYS = pd.Index(["T3", "T1", "T2"])
VALUES = ["T1", "T2", None, "T9", "T3", "T1"]


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(VALUES, dtype="str"),  # Arrow text: hashed by Arrow
        pd.Series(VALUES, dtype="category"),  # looked up through its categories
        pd.Series(pd.Categorical(VALUES, categories=["T9", "T0", "T1", "T2", "T3"])),  # unused
        pd.Series(VALUES, dtype=object),
    ],
    ids=["str", "category", "category-unused", "object"],
)
def test_positions_equal_get_indexer(values: pd.Series) -> None:
    expected = KEYS.get_indexer(pd.Index(values.astype(object).to_numpy()))
    got = positions(values, KEYS)
    np.testing.assert_array_equal(got, expected)
    assert got.tolist() == [1, 2, -1, -1, 0, 1]


def test_positions_of_integer_categories() -> None:
    values = pd.Series(pd.Categorical([3, 1, 2, 1]))
    np.testing.assert_array_equal(positions(values, pd.Index([1, 2, 3])), [2, 0, 1, 0])

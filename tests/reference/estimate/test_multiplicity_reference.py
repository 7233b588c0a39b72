"""Holm and Benjamini–Hochberg against statsmodels' ``multipletests``."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.multitest import multipletests

from trialkit.estimate.frequentist.multiplicity import adjust_p_values

_CASES = {
    "uniform": np.random.default_rng(1).uniform(size=12),
    "small": np.random.default_rng(2).uniform(0, 0.05, size=8),
    "ties": np.array([0.01, 0.01, 0.02, 0.02, 0.5, 0.04, 0.04]),
    "single": np.array([0.03]),
    "skewed": np.random.default_rng(3).beta(0.3, 2.0, size=30),
}


@pytest.mark.parametrize("case", sorted(_CASES))
@pytest.mark.parametrize(("ours", "theirs"), [("holm", "holm"), ("bh", "fdr_bh")])
def test_matches_statsmodels_multipletests(case: str, ours: str, theirs: str) -> None:
    p = _CASES[case]
    expected = multipletests(p, method=theirs)[1]
    got = adjust_p_values(p, method=ours)  # type: ignore[arg-type]
    np.testing.assert_allclose(
        got, expected, rtol=0, atol=1e-15, err_msg=f"{ours} adjusted p, case {case}"
    )

"""Survival estimators against lifelines' stored results (no lifelines needed at test time).

lifelines pins pandas < 3, so it is not installed with trialkit; its results on fixed data
were computed by ``tests/reference/generate/survival_lifelines.py`` and stored in
``tests/reference/data/survival_lifelines.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.frequentist.survival import event_indicator, event_table, kaplan_meier
from trialkit.estimate.frequentist.survival_cox import cox_hazard_ratios
from trialkit.estimate.frequentist.survival_rmst import km_rmst, rmst_difference

STORED = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "survival_lifelines.json").read_text(
        encoding="utf-8"
    )
)
DATA = pd.DataFrame(STORED["data"])


def test_kaplan_meier_and_rmst_match_lifelines() -> None:
    curves = kaplan_meier(DATA, "days", "days_event", "arm", arms=["control", "budget"])
    for curve in curves:
        ref = STORED["kaplan_meier"][curve.arm]
        idx = np.searchsorted(curve.times, ref["times"], side="right") - 1
        np.testing.assert_allclose(
            curve.survival[idx],
            ref["survival"],
            rtol=0,
            atol=1e-12,
            err_msg=f"KM survival of {curve.arm}",
        )
        sub = DATA[DATA.arm == curve.arm]
        t, d = event_indicator(sub, "days", "days_event")
        assert km_rmst(event_table(t, d), 300.0) == pytest.approx(ref["rmst_300"], abs=1e-9)
    diff = rmst_difference(DATA, "days", "days_event", "arm", horizon=300.0, control="control")
    expected = (
        STORED["kaplan_meier"]["budget"]["rmst_300"] - STORED["kaplan_meier"]["control"]["rmst_300"]
    )
    assert diff.effect().estimate == pytest.approx(expected, abs=1e-8)


def test_cox_matches_lifelines_estimates_robust_se_and_ph_test() -> None:
    res = cox_hazard_ratios(
        DATA, "days", "days_event", "arm", control="control", cluster="team", covariates=["x"]
    )
    for term, ref in STORED["cox"].items():
        row = next(r for r in res.terms if r.term == term)
        assert row.estimate == pytest.approx(ref["coef"], abs=1e-6), f"{term} log-HR"
        assert row.std_error == pytest.approx(ref["robust_se"], rel=1e-6), f"{term} robust SE"
        assert row.ph_p_value == pytest.approx(ref["ph_p"], abs=1e-6), f"{term} PH p"

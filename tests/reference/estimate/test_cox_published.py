"""Cox regression against a published worked example, without lifelines.

The Rossi recidivism data (Rossi, Berk & Lenihan 1980; 432 released prisoners followed for
52 weeks, ``arrest`` = rearrested) as analysed in Fox & Weisberg, "Cox Proportional-Hazards
Regression for Survival Data in R" (appendix to *An R Companion to Applied Regression*),
``coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio)`` with R's
default Efron ties. The printed table (coef, exp(coef), se(coef)):

    fin  -0.37942  0.6843  0.19138      age  -0.05744  0.9442  0.02200
    race  0.31390  1.3688  0.30799      wexp -0.14980  0.8609  0.21222
    mar  -0.43370  0.6481  0.38187      paro -0.08487  0.9186  0.19576
    prio  0.09150  1.0958  0.02865

The data file ``tests/reference/data/rossi.csv`` is the data frame R's carData and
lifelines ship (``lifelines.datasets.load_rossi()``), written unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from trialkit.estimate.frequentist.survival_cox import cox_hazard_ratios

DATA = Path(__file__).resolve().parents[1] / "data" / "rossi.csv"
COVARIATES = ["age", "race", "wexp", "mar", "paro", "prio"]
PRINTED = {  # term: (coef, exp(coef), model-based se(coef))
    "fin": (-0.37942, 0.6843, 0.19138),
    "age": (-0.05744, 0.9442, 0.02200),
    "race": (0.31390, 1.3688, 0.30799),
    "wexp": (-0.14980, 0.8609, 0.21222),
    "mar": (-0.43370, 0.6481, 0.38187),
    "paro": (-0.08487, 0.9186, 0.19576),
    "prio": (0.09150, 1.0958, 0.02865),
}


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    frame = pd.read_csv(DATA)
    assert frame.shape == (432, 9) and int(frame["arrest"].sum()) == 114
    return frame.assign(week_event=frame["arrest"])


def test_trialkit_cox_reproduces_the_printed_coefficients(rossi: pd.DataFrame) -> None:
    res = cox_hazard_ratios(rossi, "week", "week_event", "fin", control=0, covariates=COVARIATES)
    estimates = {row.term: row.estimate for row in res.terms}
    assert set(estimates) == set(PRINTED)
    for term, (coef, _, _) in PRINTED.items():
        assert round(estimates[term], 5) == pytest.approx(coef, abs=1e-12), term
    assert round(res.effect().hazard_ratio, 4) == PRINTED["fin"][1]


def test_the_library_trialkit_wraps_reproduces_the_printed_table(rossi: pd.DataFrame) -> None:
    # trialkit reports the robust sandwich SE; the printed SEs are model-based, so they are
    # checked on statsmodels' own model-based fit (the library trialkit's Cox runs on).
    columns = ["fin", *COVARIATES]
    fit = sm.PHReg(
        rossi["week"].to_numpy(),
        rossi[columns].to_numpy(dtype=float),
        status=rossi["arrest"].to_numpy(),
        ties="efron",
    ).fit()
    for term, coef, se in zip(columns, fit.params, fit.bse, strict=True):
        printed_coef, printed_hr, printed_se = PRINTED[term]
        assert round(float(coef), 5) == pytest.approx(printed_coef, abs=1e-12), term
        assert round(float(np.exp(coef)), 4) == pytest.approx(printed_hr, abs=1e-12), term
        assert round(float(se), 5) == pytest.approx(printed_se, abs=1e-12), term

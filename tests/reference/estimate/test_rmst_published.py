"""RMST on the Mayo Clinic PBC trial, against the survRM2 vignette to printed precision.

Source: H. Uno, "Vignette for survRM2 package: Comparing two survival curves using the
restricted mean survival time" (Dana-Farber Cancer Institute, February 21, 2017; survRM2
1.0-4, ``inst/doc/survRM2-vignette3-2.html``), section 3, ``rmst2(time, status, arm,
tau = 10)`` on the 312 randomised patients of R's ``survival::pbc`` (time in years =
days / 365.25, death the event, transplant censored, arm 1 = D-penicillamine, 0 = placebo).
Printed:

    RMST (arm=1) 7.146 0.283     6.592     7.701
    RMST (arm=0) 7.283 0.295     6.704     7.863
    RMST (arm=1)-(arm=0) -0.137    -0.939     0.665 0.738

The data are in ``tests/reference/data/pbc_randomised.csv`` (see
``tests/reference/generate/pbc_randomised.py`` for their source and licence). survRM2's
SEs are Greenwood's plug-in variance (:func:`km_rmst_variance`) with normal intervals; the
plan's registered SE of the difference is from pseudo-observations with HC2 (the jackknife
analogue), which is asymptotically the same and here 0.5% larger.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from trialkit.estimate.frequentist.survival import event_indicator, event_table
from trialkit.estimate.frequentist.survival_rmst import (
    km_rmst,
    km_rmst_variance,
    rmst_difference,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "pbc_randomised.csv"
TAU = 10.0
#: arm -> (RMST, SE, lower .95, upper .95), as printed.
PRINTED = {1: (7.146, 0.283, 6.592, 7.701), 0: (7.283, 0.295, 6.704, 7.863)}
DIFFERENCE = (-0.137, -0.939, 0.665, 0.738)  # estimate, lower .95, upper .95, p


def _trial() -> pd.DataFrame:
    pbc = pd.read_csv(DATA)
    return pd.DataFrame(
        {
            "years": pbc["time"] / 365.25,
            "years_event": (pbc["status"] == 2).astype(int),
            "arm": (pbc["trt"] == 1).astype(int),
        }
    )


def _arm(df: pd.DataFrame, arm: int) -> tuple[float, float]:
    t, d = event_indicator(df[df["arm"] == arm], "years", "years_event")
    table = event_table(t, d)
    return km_rmst(table, TAU), km_rmst_variance(table, TAU)


def test_the_data_are_the_312_randomised_patients() -> None:
    df = _trial()
    assert len(df) == 312 and df["arm"].sum() == 158 and df["years_event"].sum() == 125


@pytest.mark.parametrize("arm", [1, 0])
def test_each_arms_rmst_se_and_interval_match_the_vignette(arm: int) -> None:
    rmst, variance = _arm(_trial(), arm)
    se = np.sqrt(variance)
    z = stats.norm.ppf(0.975)
    est, se_printed, low, high = PRINTED[arm]
    assert round(rmst, 3) == est, f"RMST of arm {arm}: {rmst:.5f}"
    assert round(se, 3) == se_printed, f"SE of arm {arm}: {se:.5f}"
    assert (round(rmst - z * se, 3), round(rmst + z * se, 3)) == (low, high), f"CI of arm {arm}"


def test_the_difference_its_interval_and_p_value_match_the_vignette() -> None:
    df = _trial()
    (treated, v1), (control, v0) = _arm(df, 1), _arm(df, 0)
    res = rmst_difference(df, "years", "years_event", "arm", horizon=TAU, control=0).effect()
    assert res.estimate == pytest.approx(treated - control, abs=1e-12)
    se = np.sqrt(v1 + v0)
    z = stats.norm.ppf(0.975)
    p = 2 * stats.norm.sf(abs(res.estimate) / se)
    got = tuple(
        round(v, 3) for v in (res.estimate, res.estimate - z * se, res.estimate + z * se, p)
    )
    assert got == DIFFERENCE
    # The registered SE (pseudo-observations, HC2): the same quantity, estimated differently.
    assert res.std_error == pytest.approx(se, rel=0.01)

"""NIST StRD linear least squares: Longley and Wampler1-4, to >= 9 correct digits.

Certified values typed from the NIST Statistical Reference Datasets (StRD), Linear Least
Squares: https://www.itl.nist.gov/div898/strd/lls/lls.shtml (Longley.dat, Wampler1.dat ..
Wampler4.dat; values certified with 500-digit arithmetic). The Longley data are also in
``statsmodels.datasets.longley`` (the same 16 rows as Longley.dat).

"Digits" is NIST's log relative error: -log10(|computed - certified| / |certified|), or
-log10(|computed|) when the certified value is 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from trialkit.estimate.frequentist.lstsq import fit_lstsq

DIGITS = 9.0


def _lre(computed: float, certified: float) -> float:
    if certified == 0.0:
        return float(-np.log10(abs(computed) + 1e-300))
    return float(-np.log10(abs(computed - certified) / abs(certified) + 1e-300))


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fit = fit_lstsq(x, y)
    dof = x.shape[0] - x.shape[1]
    se = np.sqrt(float(fit.resid @ fit.resid) / dof * np.diag(fit.bread))
    return fit.coef, se


LONGLEY_B = [
    -3482258.63459582,
    15.0618722713733,
    -0.358191792925910e-01,
    -2.02022980381683,
    -1.03322686717359,
    -0.511041056535807e-01,
    1829.15146461355,
]
LONGLEY_SE = [
    890420.383607373,
    84.9149257747669,
    0.334910077722432e-01,
    0.488399681651699,
    0.214274163161675,
    0.226073200069370,
    455.478499142212,
]
LONGLEY_TERMS = ["Intercept", "GNPDEFL", "GNP", "UNEMP", "ARMED", "POP", "YEAR"]

X_WAMPLER = np.arange(21.0)
WAMPLER3_Y = [
    760.0,
    -2042.0,
    2111.0,
    -1684.0,
    3888.0,
    1858.0,
    11379.0,
    17560.0,
    39287.0,
    64382.0,
    113159.0,
    175108.0,
    273291.0,
    400186.0,
    581243.0,
    811568.0,
    1121004.0,
    1506550.0,
    2002767.0,
    2611612.0,
    3369180.0,
]
WAMPLER4_Y = [
    75901.0,
    -204794.0,
    204863.0,
    -204436.0,
    253665.0,
    -200894.0,
    214131.0,
    -185192.0,
    221249.0,
    -138370.0,
    315911.0,
    -27644.0,
    455253.0,
    197434.0,
    783995.0,
    608816.0,
    1370781.0,
    1303798.0,
    2205519.0,
    2408860.0,
    3444321.0,
]
# Wampler1 and Wampler2 data as printed by NIST (exact polynomial values).
WAMPLER1_Y = [
    1.0,
    6.0,
    63.0,
    364.0,
    1365.0,
    3906.0,
    9331.0,
    19608.0,
    37449.0,
    66430.0,
    111111.0,
    177156.0,
    271453.0,
    402234.0,
    579195.0,
    813616.0,
    1118481.0,
    1508598.0,
    2000719.0,
    2613660.0,
    3368421.0,
]
WAMPLER2_Y = [
    1.00000,
    1.11111,
    1.24992,
    1.42753,
    1.65984,
    1.96875,
    2.38336,
    2.94117,
    3.68928,
    4.68559,
    6.00000,
    7.71561,
    9.92992,
    12.75603,
    16.32384,
    20.78125,
    26.29536,
    33.05367,
    41.26528,
    51.16209,
    63.00000,
]
WAMPLER3_SE = [
    2152.32624678170,
    2363.55173469681,
    779.343524331583,
    101.475507550350,
    5.64566512170752,
    0.112324854679312,
]
WAMPLER4_SE = [
    215232.624678170,
    236355.173469681,
    77934.3524331583,
    10147.5507550350,
    564.566512170752,
    11.2324854679312,
]
WAMPLER = {
    "Wampler1": (WAMPLER1_Y, [1.0] * 6, [0.0] * 6),
    "Wampler2": (WAMPLER2_Y, [1.0, 0.1, 0.01, 0.001, 0.0001, 0.00001], [0.0] * 6),
    "Wampler3": (WAMPLER3_Y, [1.0] * 6, WAMPLER3_SE),
    "Wampler4": (WAMPLER4_Y, [1.0] * 6, WAMPLER4_SE),
}


@pytest.fixture(scope="module")
def longley() -> tuple[np.ndarray, np.ndarray]:
    data: pd.DataFrame = sm.datasets.longley.load_pandas().data
    x = np.column_stack([np.ones(len(data)), data.iloc[:, 1:].to_numpy(dtype=float)])
    coef, se = _fit(x, data["TOTEMP"].to_numpy(dtype=float))
    return coef, se


@pytest.mark.parametrize("j", range(7), ids=LONGLEY_TERMS)
def test_longley_coefficient(longley: tuple[np.ndarray, np.ndarray], j: int) -> None:
    digits = _lre(longley[0][j], LONGLEY_B[j])
    assert digits >= DIGITS, f"Longley coefficient {LONGLEY_TERMS[j]}: {digits:.1f} digits"


@pytest.mark.parametrize("j", range(7), ids=LONGLEY_TERMS)
def test_longley_std_error(longley: tuple[np.ndarray, np.ndarray], j: int) -> None:
    digits = _lre(longley[1][j], LONGLEY_SE[j])
    assert digits >= DIGITS, f"Longley std error {LONGLEY_TERMS[j]}: {digits:.1f} digits"


def test_wampler_data_are_the_nist_polynomials() -> None:
    x = X_WAMPLER
    assert np.array_equal(WAMPLER1_Y, 1 + x + x**2 + x**3 + x**4 + x**5)
    np.testing.assert_allclose(
        WAMPLER2_Y,
        np.vander(x, 6, increasing=True) @ 10.0 ** -np.arange(6),
        rtol=1e-15,
        err_msg="Wampler2 data",
    )


@pytest.mark.parametrize("name", list(WAMPLER))
@pytest.mark.parametrize("statistic", ["coefficient", "std_error"])
def test_wampler(name: str, statistic: str) -> None:
    y, cert_b, cert_se = WAMPLER[name]
    coef, se = _fit(np.vander(X_WAMPLER, 6, increasing=True), np.asarray(y))
    computed, certified = (coef, cert_b) if statistic == "coefficient" else (se, cert_se)
    digits = min(_lre(c, t) for c, t in zip(computed, certified, strict=True))
    assert digits >= DIGITS, f"{name} {statistic}: {digits:.1f} digits"

"""Write ``tests/reference/data/wild_bootstrap_wildboottest.json``: wildboottest's results.

wildboottest (the Python port of Stata/R ``boottest``) is not a trialkit dependency, so its
restricted wild cluster bootstrap (Webb weights, CR1 t, 99,999 draws) is run here once on
fixed data sets, stored with the data, and checked by ``test_wild_bootstrap_reference.py``
in every run. Run from the repository root::

    pip install wildboottest && python tests/reference/generate/wild_bootstrap_wildboottest.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import statsmodels.api as sm
from wildboottest.wildboottest import wildboottest

OUT = Path(__file__).resolve().parents[1] / "data" / "wild_bootstrap_wildboottest.json"
CASES = {"6 unequal clusters": (6, 0.4, 11), "8 unequal clusters": (8, 0.6, 12)}


def data(g: int, effect: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    team = np.repeat(np.arange(g), rng.integers(5, 31, g))
    arm = rng.permutation(np.arange(g) < g // 2).astype(int)[team]
    x = rng.normal(size=team.size)
    y = x + effect * arm + rng.normal(0, 0.5, g)[team] + rng.normal(size=team.size)
    return pd.DataFrame({"y": y.round(6), "arm": arm, "x": x.round(6), "team": team})


def main() -> None:
    out = {}
    for name, (g, effect, seed) in CASES.items():
        frame = data(g, effect, seed)
        model = sm.OLS(frame.y, sm.add_constant(frame[["arm", "x"]]))
        res = wildboottest(
            model,
            B=99999,
            cluster=frame.team,
            param="arm",
            weights_type="webb",
            seed=1,
            show=False,
            parallel=False,
        )
        out[name] = {
            "data": frame.to_dict(orient="list"),
            "statistic": float(res["statistic"].iloc[0]),
            "p_value": float(res["p-value"].iloc[0]),
        }
    OUT.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

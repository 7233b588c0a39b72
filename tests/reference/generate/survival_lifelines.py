"""Write ``tests/reference/data/survival_lifelines.json``: lifelines' results on fixed data.

lifelines cannot be installed beside pandas 3 (its releases pin pandas < 3), so the
estimators' reference values are computed here, once, with lifelines in an environment
that has it, and stored; ``test_survival_stored.py`` checks trialkit against them in every
run. Run from the repository root::

    pip install lifelines && python tests/reference/generate/survival_lifelines.py
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import lifelines
import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import proportional_hazard_test
from lifelines.utils import restricted_mean_survival_time

OUT = Path(__file__).resolve().parents[1] / "data" / "survival_lifelines.json"


def data() -> pd.DataFrame:
    """300 staff in 30 teams, untied leaving times, a covariate, administrative censoring."""
    rng = np.random.default_rng(3)
    team = np.repeat(np.arange(30), 10)
    arm = np.where(team % 2 == 0, "control", "budget")
    x = rng.normal(size=team.size)
    t = rng.exponential(400 / np.where(arm == "budget", 0.7, 1.0) * np.exp(-0.2 * x))
    return pd.DataFrame(
        {
            "days": np.minimum(t, 365.0),
            "days_event": (t < 365).astype(int),
            "arm": arm,
            "x": x,
            "team": team,
        }
    )


def main() -> None:
    df = data()
    frame = pd.DataFrame(
        {
            "t": df.days,
            "e": df.days_event,
            "arm": (df.arm == "budget") * 1.0,
            "x": df.x,
            "team": df.team,
        }
    )
    out: dict[str, object] = {"lifelines": lifelines.__version__, "data": df.to_dict(orient="list")}
    km = {}
    for arm in ("control", "budget"):
        sub = df[df.arm == arm]
        fit = KaplanMeierFitter().fit(sub.days, sub.days_event)
        table = fit.survival_function_.reset_index()
        km[arm] = {
            "times": table.iloc[:, 0].tolist(),
            "survival": table.iloc[:, 1].tolist(),
            "rmst_300": float(restricted_mean_survival_time(fit, t=300.0)),
        }
    out["kaplan_meier"] = km
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        robust = CoxPHFitter().fit(frame, "t", "e", cluster_col="team", robust=True)
        naive = CoxPHFitter().fit(frame.drop(columns="team"), "t", "e")
        ph = proportional_hazard_test(naive, frame.drop(columns="team"), time_transform="rank")
    out["cox"] = {
        term: {
            "coef": float(robust.params_[term]),
            "robust_se": float(robust.standard_errors_[term]),
            "ph_p": float(ph.summary.loc[term, "p"]),
        }
        for term in ("arm", "x")
    }
    OUT.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

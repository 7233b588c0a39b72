"""Each subgroup level reports its own N and its per-arm N, not the whole model's N.

Counted independently with ``pandas.crosstab``; then through the results row and the
report's subgroup table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.analyse.effects import _subgroups
from trialkit.analyse.rows import SubgroupRow
from trialkit.analyse.trial import frame_rows
from trialkit.estimate.frequentist.subgroups import subgroup_effects
from trialkit.report.tables import subgroup_rows


def _data(seed: int = 4, n: int = 301) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    arm = rng.choice(["control", "budget", "coach"], size=n, p=[0.5, 0.3, 0.2])
    level = rng.choice(["rural", "urban", "town"], size=n, p=[0.2, 0.5, 0.3])
    y = rng.normal(size=n) + 0.3 * (arm == "budget")
    return pd.DataFrame({"y": y, "arm": arm, "area": level})


def test_each_level_reports_its_own_and_each_arms_n() -> None:
    data = _data()
    res = subgroup_effects(data, "y", "arm", "area", control="control")
    counts = pd.crosstab(data["area"], data["arm"])
    frame = res.to_frame()
    assert len(frame) == 6, "two treated arms in three levels"
    for row in frame.itertuples():
        arm = row.term[len("arm[") : -1]
        assert row.n_level == counts.loc[row.level].sum(), f"N of {row.level}"
        assert row.n_arm == counts.loc[row.level, arm], f"N of {arm} in {row.level}"
        assert row.n_control == counts.loc[row.level, "control"], f"control in {row.level}"
        assert row.n_obs == len(data), "n_obs stays the interacted model's N"
    assert sum(res.n_level) == len(data)


def test_results_row_and_report_show_the_levels_n() -> None:
    data = _data(5)
    res = subgroup_effects(data, "y", "arm", "area", control="control")
    table = res.to_frame().assign(
        outcome="y",
        arm=lambda f: f["term"].str[4:-1],
        subgroup="area",
        label="Area",
        equity=True,
        heterogeneity_p=res.heterogeneity.p_value,
    )

    class _Freq:
        subgroups = table

    rows = frame_rows(SubgroupRow, _subgroups(_Freq()))  # type: ignore[arg-type]
    counts = pd.crosstab(data["area"], data["arm"])
    for row in rows:
        assert row.n == counts.loc[row.level_value].sum(), f"row N of {row.level_value}"
        assert row.n_arm == counts.loc[row.level_value, row.arm]
        assert row.n_control == counts.loc[row.level_value, "control"]
    cells = subgroup_rows(rows, {}, {})
    first = rows[0]
    assert cells[0]["n"] == str(first.n)
    assert cells[0]["n_arms"] == f"{first.n_arm} / {first.n_control}"


def test_an_old_results_row_without_arm_counts_still_loads() -> None:
    row = SubgroupRow(
        outcome="y",
        arm="budget",
        subgroup="area",
        label="Area",
        equity=False,
        level_value="rural",
        estimate=0.1,
        std_error=0.2,
        ci_low=-0.3,
        ci_high=0.5,
        p_value=0.6,
        n=40,
        heterogeneity_p=None,
    )
    assert row.n_arm is None
    assert subgroup_rows([row], {}, {})[0]["n_arms"] == "—"
    with pytest.raises(ValueError, match="n_arm"):
        SubgroupRow.model_validate({**row.model_dump(), "n_arm": "many"})

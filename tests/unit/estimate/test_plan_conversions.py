"""The plan's shortcuts give what the long way gives.

``iv(..., reduced_form=False)`` leaves out the ITT fit and nothing else; ``arm_mask`` is
``astype(str).isin``; analysis frames shared by a level's outcomes equal frames built one
by one, and a column added to one outcome's frame is not seen by the others.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trialkit import api, validate
from trialkit.diagnose import fabricate
from trialkit.estimate import iv
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame, analysis_frame, arm_mask
from trialkit.protocol import Protocol, load_protocol
from trialkit.randomise import read_allocation, read_units
from trialkit.validate import TrialData


@pytest.fixture(scope="module")
def trial(
    tmp_path_factory: pytest.TempPathFactory, flagship_path: Path
) -> tuple[Protocol, TrialData]:
    """The flagship's fabricated data, validated (clients, staff, spends, teams)."""
    out = tmp_path_factory.mktemp("flagship")
    protocol = load_protocol(flagship_path)
    units_file = api.simulate_units(flagship_path, out / "units.csv")
    api.randomise(flagship_path, units_file, out / "allocation.csv")
    arms = read_allocation(out / "allocation.csv").to_frame().set_index("unit_id")["arm"]
    frames = fabricate(
        protocol, read_units(units_file, protocol), arms, rng=np.random.default_rng(5)
    )
    files = []
    for level, frame in frames.items():
        files.append(out / f"{level}.csv")
        frame.to_csv(files[-1], index=False)
    return protocol, validate.outcomes(protocol, out / "allocation.csv", files)


@pytest.fixture(scope="module")
def teams() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    team = np.repeat(np.arange(24), 10)
    arm = np.array(["usual", "budget"])[team % 2]
    took = ((arm == "budget") & (rng.random(team.size) < 0.7)).astype(float)
    x = rng.normal(size=team.size)
    y = 1 + 0.5 * took + 0.3 * x + rng.normal(size=team.size)
    return pd.DataFrame({"y": y, "arm": arm, "took": took, "x": x, "team": team})


@pytest.mark.parametrize("per_arm", [False, True])
def test_iv_without_reduced_form_keeps_every_other_row(teams: pd.DataFrame, per_arm: bool) -> None:
    args = {"received": "took", "covariates": ["x"], "cluster": "team", "per_arm": per_arm}
    full = iv(teams, "y", "arm", **args)  # type: ignore[arg-type]
    short = iv(teams, "y", "arm", reduced_form=False, **args)  # type: ignore[arg-type]
    assert short.itt is None
    assert [r.estimand for r in short.rows] == ["CACE", "first stage"]
    kept = [r for r in full.rows if r.estimand != "ITT"]
    for statistic in ("estimate", "std_error", "df", "p_value"):
        np.testing.assert_allclose(
            [getattr(r, statistic) for r in short.rows],
            [getattr(r, statistic) for r in kept],
            rtol=1e-12,
            err_msg=statistic,
        )


@pytest.mark.parametrize("wanted", [{"budget"}, {"usual", "budget"}, {"other"}, set()])
def test_arm_mask_is_astype_str_isin(wanted: set[str]) -> None:
    arms = pd.Series(["budget", "usual", None, "budget", "usual"], dtype="category")
    expected = arms.astype(str).isin(wanted).to_numpy() & arms.notna().to_numpy()
    np.testing.assert_array_equal(arm_mask(arms, wanted), expected)


def test_shared_level_frames_equal_frames_built_alone(trial: tuple[Protocol, TrialData]) -> None:
    protocol, data = trial
    levels: dict[str, AnalysisFrame] = {}
    seen = set()
    for outcome in protocol.outcomes:
        if outcome.level not in data.frames:
            continue
        seen.add(outcome.level)
        shared = analysis_frame(protocol, data, outcome, levels=levels)
        alone = analysis_frame(protocol, data, outcome)
        assert shared.baseline == alone.baseline
        assert shared.covariates == alone.covariates
        pd.testing.assert_frame_equal(shared.data, alone.data)
        shared.data["added"] = 1.0
        assert "added" not in levels[outcome.level].data
    assert {"client", "staff"} <= seen


@pytest.mark.parametrize("missing", [False, True])
def test_attaching_unit_columns_equals_the_merge(missing: bool) -> None:
    from trialkit.estimate.frequentist.analysis_frame import _attach

    ids = ["T1", "T2", "T3", "T1"] + (["T9", None] if missing else [])
    rows = pd.DataFrame({"team_id": pd.Series(ids, dtype="str"), "y": np.arange(float(len(ids)))})
    units = pd.DataFrame(
        {
            "team_id": pd.Series(["T1", "T2", "T3"], dtype="str"),
            "size": [4, 5, 6],
            "imd": [1.5, 2.5, 3.5],
            "arm": pd.Categorical(["a", "b", "a"]),
            "name": pd.Series(["x", "y", "z"], dtype="str"),
        }
    )
    expected = rows.merge(units, on="team_id", how="left", validate="many_to_one")
    pd.testing.assert_frame_equal(_attach(rows, units, "team_id"), expected)

"""WWC attrition verdicts on validated data: every comparison, levels measured by design.

The data are the flagship's, simulated and validated through the public API in a temporary
directory, as a user would (``simulate_units`` → ``randomise`` → ``simulate_data`` →
``validate_files``). The flagship is given one more level, budget review meetings, which
exist only in the budget arm, with a monitoring outcome: a level measured by design in some
arms only. The spend ledger (a level without outcomes) is left out: it is not attrition.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from validate_frames import FLAGSHIP

from trialkit import api
from trialkit.validate import TrialData
from trialkit.validate.attrition import FRAME_COLUMNS
from trialkit.validate.wwc import attrition_verdict, max_differential

#: The outcome of the level that exists only in the budget arm(s).
RESTRICTED = "review_on_time"
MEETINGS: dict[str, Any] = {
    "name": "meeting",
    "label": "Monthly budget review meetings",
    "id_column": "meeting_id",
    "unit_column": "team_id",
    "per_unit": {"mean": 6, "cv": 0.2},
    "arms": ["budget"],
}
ON_TIME: dict[str, Any] = {
    "name": RESTRICTED,
    "label": "Review meeting held within the month",
    "role": "monitoring",
    "level": "meeting",
    "type": "binary",
    "direction": "higher_is_better",
    "timing": "Each month",
    "measurement": "Meeting minutes",
    "assumptions": {"rate": 0.8, "effect": 0.0},
}


def _validated(directory: Path, protocol: Path) -> TrialData:
    units = api.simulate_units(protocol, directory / "units.csv")
    api.randomise(protocol, units, directory / "allocation.csv")
    files = api.simulate_data(protocol, units, directory / "allocation.csv", directory / "data")
    kept = [f for f in files if Path(f).stem != "spend"]
    return api.validate_files(protocol, directory / "allocation.csv", kept)


def _protocol(directory: Path, *, third_arm: bool = False) -> Path:
    """The flagship with budget review meetings (and a third arm, `budget_plus`)."""
    data = yaml.safe_load(FLAGSHIP.read_text(encoding="utf-8"))
    data["levels"].append(dict(MEETINGS))
    data["outcomes"].append(ON_TIME)
    if third_arm:
        plus = dict(data["arms"][1], id="budget_plus", label="Larger discretionary budget")
        data["arms"].append(plus)
        data["levels"][-1]["arms"] = ["budget", "budget_plus"]
    path = directory / "protocol.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def two_arms(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The attrition frame with two arms; meetings exist only in `budget`."""
    directory = tmp_path_factory.mktemp("two")
    return _validated(directory, _protocol(directory)).attrition.to_frame()


@pytest.fixture(scope="module")
def three_arms(tmp_path_factory: pytest.TempPathFactory) -> TrialData:
    """With a third arm, `budget_plus`; meetings exist in both budget arms."""
    directory = tmp_path_factory.mktemp("three")
    return _validated(directory, _protocol(directory, third_arm=True))


def _rows(frame: pd.DataFrame, **equal: Any) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for column, value in equal.items():
        mask &= frame[column] == value
    return frame[mask]


def test_frame_columns_are_documented_and_stable(two_arms: pd.DataFrame) -> None:
    assert tuple(two_arms.columns) == FRAME_COLUMNS
    assert two_arms["measured"].dtype == bool


@pytest.mark.parametrize(
    "overall,cautious,optimistic",
    [  # hand-picked points of WWC Standards Handbook v4.1, Table II.1 (percentage points)
        (0.00, 5.7, 10.0),
        (0.10, 6.3, 10.9),
        (0.20, 5.4, 10.0),
        (0.30, 4.1, 8.2),
        (0.40, 2.6, 6.0),
        (0.50, 1.0, 3.7),
        (0.57, 0.0, 2.1),
        (0.58, None, 1.9),
        (0.65, None, 0.3),
    ],
)
def test_boundary_points(overall: float, cautious: float | None, optimistic: float) -> None:
    expected = None if cautious is None else round(cautious / 100, 4)
    assert max_differential(overall, "cautious") == expected, "cautious limit"
    assert max_differential(overall, "optimistic") == round(optimistic / 100, 4), "optimistic"


def flagship_outcomes() -> list[str]:
    """The flagship's own outcomes (monitoring included)."""
    from trialkit.protocol import bundled_path, load_protocol

    return [o.name for o in load_protocol(bundled_path("council_discretionary_budget")).outcomes]


def test_every_two_arm_outcome_has_both_verdicts(two_arms: pd.DataFrame) -> None:
    measured = two_arms[two_arms["outcome"] != RESTRICTED]
    compared = flagship_outcomes()
    assert len(measured) == len(compared) * 2 * 2  # outcomes × cluster/individual × two arms
    for _, row in measured.iterrows():
        pair = _rows(two_arms, outcome=row["outcome"], level=row["level"])
        arms = pair.set_index("arm")
        assigned = arms["assigned"].sum()
        overall = 1 - arms["followed_up"].sum() / assigned
        differential = abs(arms.loc["budget", "attrition"] - arms.loc["usual", "attrition"])
        assert row["overall"] == pytest.approx(overall), "overall attrition"
        assert row["differential"] == pytest.approx(differential), "differential attrition"
        assert row["compared_with"] == ("usual" if row["arm"] == "budget" else "budget")
        for boundary in ("cautious", "optimistic"):
            verdict = attrition_verdict(overall, differential, boundary)  # type: ignore[arg-type]
            assert row[f"wwc_{boundary}"] == verdict, f"{boundary} verdict"
            assert row[f"wwc_{boundary}_limit"] == max_differential(overall, boundary)  # type: ignore[arg-type]
        assert row["note"] == ""


def test_level_restricted_by_design_is_not_attrition(two_arms: pd.DataFrame) -> None:
    meetings = _rows(two_arms, outcome=RESTRICTED)
    usual = meetings[meetings["arm"] == "usual"]
    assert len(usual) == 2 and not usual["measured"].any()
    assert usual["attrition"].isna().all()  # not 100 %
    assert usual["note"].str.startswith("not measured by design: level `meeting`").all()
    budget = meetings[meetings["arm"] == "budget"]
    assert budget["measured"].all() and (budget["attrition"] < 0.5).all()
    assert budget["overall"].isna().all() and budget["wwc_cautious"].isna().all()
    assert budget["note"].str.contains("only arm `budget` measured by design").all()


def test_three_arms_compare_each_treated_arm_with_control(three_arms: TrialData) -> None:
    frame = three_arms.attrition.to_frame()
    checks = three_arms.attrition.checks_frame()
    loneliness = _rows(checks, outcome="loneliness", level="individual")
    assert sorted(loneliness["arm"]) == ["budget", "budget_plus"]
    assert set(loneliness["control"]) == {"usual"}
    arms = _rows(frame, outcome="loneliness", level="individual").set_index("arm")
    for arm in ("budget", "budget_plus"):
        pair = arms.loc[[arm, "usual"]]
        overall = 1 - pair["followed_up"].sum() / pair["assigned"].sum()  # the two arms only
        assert arms.loc[arm, "overall"] == pytest.approx(overall), arm
        diff = abs(arms.loc[arm, "attrition"] - arms.loc["usual", "attrition"])
        assert arms.loc[arm, "differential"] == pytest.approx(diff), arm
        assert arms.loc[arm, "wwc_cautious"] == attrition_verdict(overall, diff, "cautious")
    # control takes part in two comparisons, so its row carries none of them
    assert pd.isna(arms.loc["usual", "compared_with"])
    assert math.isnan(arms.loc["usual", "overall"])


def test_three_arms_without_measured_control_say_why(three_arms: TrialData) -> None:
    frame = three_arms.attrition.to_frame()
    meetings = _rows(frame, outcome=RESTRICTED, level="cluster").set_index("arm")
    assert not meetings.loc["usual", "measured"]
    assert meetings.loc["budget", "measured"] and meetings.loc["budget_plus", "measured"]
    assert meetings["wwc_cautious"].isna().all()
    assert "control arm `usual` is not measured by design" in meetings.loc["budget", "note"]


def test_summary_prints_verdicts_and_reasons(three_arms: TrialData) -> None:
    text = three_arms.attrition.summary()
    assert "What Works Clearinghouse" in text
    line = next(s for s in text.splitlines() if s.startswith("loneliness") and "budget_plus" in s)
    check = _rows(
        three_arms.attrition.checks_frame(),
        outcome="loneliness",
        arm="budget_plus",
        level=line.split()[1],
    ).iloc[0]
    assert f"{check['cautious']} (" in line and f"{check['optimistic']} (" in line
    assert f"{check['overall']:.1%}" in line
    assert "not measured by design: level `meeting`" in text

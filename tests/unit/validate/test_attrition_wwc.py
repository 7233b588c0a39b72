"""WWC attrition verdicts on validated data: every comparison, levels measured by design.

The data are the flagship's, simulated and validated through the public API in a temporary
directory, as a user would (``simulate_units`` → ``randomise`` → ``simulate_data`` →
``validate_files``).
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


def _validated(directory: Path, protocol: Path) -> TrialData:
    units = api.simulate_units(protocol, directory / "units.csv")
    api.randomise(protocol, units, directory / "allocation.csv")
    files = api.simulate_data(protocol, units, directory / "allocation.csv", directory / "data")
    return api.validate_files(protocol, directory / "allocation.csv", files)


@pytest.fixture(scope="module")
def two_arms(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    """The attrition frame of the flagship (two arms; `spend` exists only in `budget`)."""
    return _validated(tmp_path_factory.mktemp("two"), FLAGSHIP).attrition.to_frame()


@pytest.fixture(scope="module")
def three_arms(tmp_path_factory: pytest.TempPathFactory) -> TrialData:
    """The flagship with a third arm, `budget_plus`; `spend` exists in both budget arms."""
    directory = tmp_path_factory.mktemp("three")
    data = yaml.safe_load(FLAGSHIP.read_text(encoding="utf-8"))
    plus = dict(data["arms"][1], id="budget_plus", label="Larger discretionary budget")
    data["arms"].append(plus)
    data["levels"][2]["arms"] = ["budget", "budget_plus"]
    path = directory / "protocol.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return _validated(directory, path)


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
    """The flagship's outcomes compared between arms or monitored (monitoring included)."""
    from trialkit.protocol import bundled_path, load_protocol

    return [o.name for o in load_protocol(bundled_path("council_discretionary_budget")).outcomes]


def test_every_two_arm_outcome_has_both_verdicts(two_arms: pd.DataFrame) -> None:
    measured = two_arms[two_arms["outcome"] != "unjustified_spend"]
    compared = [o for o in flagship_outcomes() if o != "unjustified_spend"]
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
    spend = _rows(two_arms, outcome="unjustified_spend")
    usual = spend[spend["arm"] == "usual"]
    assert len(usual) == 2 and not usual["measured"].any()
    assert usual["attrition"].isna().all()  # not 100 %
    assert usual["note"].str.startswith("not measured by design: level `spend`").all()
    budget = spend[spend["arm"] == "budget"]
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
    spend = _rows(frame, outcome="unjustified_spend", level="cluster").set_index("arm")
    assert not spend.loc["usual", "measured"]
    assert spend.loc["budget", "measured"] and spend.loc["budget_plus", "measured"]
    assert spend["wwc_cautious"].isna().all()
    assert "control arm `usual` is not measured by design" in spend.loc["budget", "note"]


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
    assert "not measured by design: level `spend`" in text

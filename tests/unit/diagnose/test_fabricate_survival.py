"""Fabricated leaving dates: written as an HR system exports them, and validated back to
the declared control event rate, hazard ratio and ICC (simulate → validate in tmp_path)."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from trialkit.diagnose import fabricate
from trialkit.diagnose.survival import (
    COMPETING_SHARE,
    JOINER_SHARE,
    control_log_hazard,
    frailty_sd,
    marginal_survival,
    rmst_hazard_ratio,
)
from trialkit.protocol.model import Protocol
from trialkit.validate import TrialData, outcomes

ROOT = Path(__file__).resolve().parents[3]
SURVIVAL = ROOT / "tests" / "data" / "protocol_staff_survival.yaml"
PILOT, FOLLOW_UP_END = pd.Timestamp("2027-03-01"), pd.Timestamp("2028-02-29")
REASONS = {"Resigned", "Retired", "Dismissed", "Transferred"}
N_TEAMS = 600  # 300 per arm, about 2,400 staff each: Monte Carlo SE of the rate ≈ 0.009


def _protocol(**assumptions: Any) -> Protocol:
    data = yaml.safe_load(SURVIVAL.read_text(encoding="utf-8"))
    outcome = next(o for o in data["outcomes"] if o["name"] == "time_to_leaving")
    outcome["assumptions"] = {**outcome["assumptions"], **assumptions}
    return Protocol.model_validate(copy.deepcopy(data), context={"defer_rules": True})


def _units(n: int) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    ids = [f"T{i:04d}" for i in range(n)]
    units = pd.DataFrame(
        {"team_id": ids, "locality": "A", "caseload": 1.0, "imd_score": 1.0, "team_size": 1.0}
    )
    arm = np.where(np.arange(n) % 2 == 0, "usual", "budget")
    allocation = pd.DataFrame(
        {"unit_id": ids, "block": "A", "cluster": ids, "arm": arm, "probability": 0.5}
    )
    return units, pd.Series(arm, index=ids), allocation


def _simulate(protocol: Protocol, out: Path, *, n: int = N_TEAMS, scale: float = 1.0) -> TrialData:
    """Fabricate every level's file into ``out`` as CSV and validate them."""
    units, arms, allocation = _units(n)
    frames = fabricate(protocol, units, arms, rng=np.random.default_rng(2027), effect_scale=scale)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for level, frame in frames.items():
        paths.append(out / f"{level}.csv")
        frame.to_csv(paths[-1], index=False)
    return outcomes(protocol, allocation, paths)


def _km_event_share(time: np.ndarray, event: np.ndarray, at: float) -> float:
    """1 − Kaplan–Meier survival at ``at``, competing events censored (net event share)."""
    times = np.unique(time[(event == 1) & (time <= at)])
    survival = 1.0
    for t in times:
        at_risk = np.sum(time >= t)
        survival *= 1 - np.sum((time == t) & (event == 1)) / at_risk
    return 1 - survival


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Protocol, TrialData]:
    protocol = _protocol()
    return protocol, _simulate(protocol, tmp_path_factory.mktemp("declared"))


def test_written_as_an_hr_system_exports_them(tmp_path: Path) -> None:
    staff = fabricate(_protocol(), *_units(24)[:2], rng=np.random.default_rng(1))["staff"]
    assert {"joined_on", "left_on", "leaving_reason"} <= set(staff.columns)
    assert "time_to_leaving" not in staff.columns, "the time is derived by validation"
    dated = staff["left_on"].dropna()
    assert dated.str.fullmatch(r"\d{2}/\d{2}/\d{4}").all(), "day-first dates, as UK HR exports"
    assert staff["joined_on"].notna().all()
    assert set(staff["leaving_reason"].dropna()) <= REASONS
    assert staff["leaving_reason"].isna().eq(staff["left_on"].isna()).all()
    left = pd.to_datetime(dated, format="%d/%m/%Y")
    joined = pd.to_datetime(staff.loc[dated.index, "joined_on"], format="%d/%m/%Y")
    assert (left <= FOLLOW_UP_END).all(), "later leaving dates are not in the extract yet"
    assert (left > joined.clip(lower=PILOT)).all()


def test_validates_without_survival_issues(declared: tuple[Protocol, TrialData]) -> None:
    _, data = declared
    columns = {"joined_on", "left_on", "leaving_reason", "time_to_leaving"}
    assert not [w for w in data.warnings if w.location.column in columns]
    staff = data.frame("staff")
    assert staff["time_to_leaving"].notna().all()
    assert set(staff["time_to_leaving_event"].unique()) == {0.0, 1.0, 2.0}


def test_leavers_are_not_attrition(declared: tuple[Protocol, TrialData]) -> None:
    _, data = declared
    rows = data.attrition.to_frame().query("outcome == 'time_to_leaving'")
    assert (rows["followed_up"] == rows["assigned"]).all()
    assert rows["attrition"].eq(0).all()
    assert data.frame("staff")["time_to_leaving_event"].eq(1).sum() > 500


def test_control_event_rate_recovered(declared: tuple[Protocol, TrialData]) -> None:
    protocol, data = declared
    staff = data.frame("staff")
    control = staff[staff["arm"] == "usual"]
    share = _km_event_share(
        control["time_to_leaving"].to_numpy(), control["time_to_leaving_event"].to_numpy(), 365
    )
    rate = protocol.outcome("time_to_leaving").assumptions.rate  # type: ignore[union-attr]
    # about 2,400 staff in 300 teams: Monte Carlo SE ≈ 0.009; 0.03 is over 3 SE
    assert share == pytest.approx(rate, abs=0.03), "control share leaving by the horizon"


def test_shares_of_joiners_and_transfers(declared: tuple[Protocol, TrialData]) -> None:
    _, data = declared
    staff = data.frame("staff")
    joined = pd.to_datetime(staff["joined_on"], format="%d/%m/%Y")
    assert (joined > PILOT).mean() == pytest.approx(JOINER_SHARE, abs=0.015)
    transfers = _km_event_share(
        staff["time_to_leaving"].to_numpy(),
        staff["time_to_leaving_event"].replace({1.0: 0.0, 2.0: 1.0}).to_numpy(),
        365,
    )
    assert transfers == pytest.approx(COMPETING_SHARE, abs=0.015), "transfers by the horizon"


@pytest.mark.parametrize("scale", [1.0, 0.0, -1.0])
def test_hazard_ratio_recovered_by_cox(scale: float, tmp_path: Path) -> None:
    """Cause-specific Cox model, team-robust SEs: log HR = scale × log(declared HR)."""
    lifelines = pytest.importorskip("lifelines")
    protocol = _protocol()
    staff = _simulate(protocol, tmp_path, scale=scale).frame("staff")
    frame = pd.DataFrame(
        {
            "time": staff["time_to_leaving"],
            "left": staff["time_to_leaving_event"].eq(1).astype(int),
            "treated": staff["arm"].eq("budget").astype(int),
            "team": staff["team_id"],
        }
    )
    fit = lifelines.CoxPHFitter().fit(frame, "time", "left", cluster_col="team")
    estimate, se = fit.params_["treated"], fit.standard_errors_["treated"]
    expected = scale * math.log(0.7)
    # ~950 events: robust SE ≈ 0.07; the team frailty (variance 0.087) attenuates the
    # marginal log HR by well under 0.01 at a 20 % event rate
    assert abs(estimate - expected) < 3 * se, f"log HR {estimate:.3f} vs {expected:.3f}"


def test_control_rows_do_not_depend_on_effect_scale() -> None:
    units, arms, _ = _units(24)
    protocol = _protocol()
    a = fabricate(protocol, units, arms, rng=np.random.default_rng(5), effect_scale=1.0)
    b = fabricate(protocol, units, arms, rng=np.random.default_rng(5), effect_scale=-1.0)
    control = a["staff"]["team_id"].map(arms).eq("usual")
    columns = ["joined_on", "left_on", "leaving_reason"]
    pd.testing.assert_frame_equal(
        a["staff"].loc[control, columns], b["staff"].loc[control, columns]
    )
    assert not a["staff"].loc[~control, "left_on"].equals(b["staff"].loc[~control, "left_on"])


def test_team_frailty_gives_the_declared_icc_of_log_time(tmp_path: Path) -> None:
    """Followed for 73 years, nearly everyone leaves: one-way ANOVA ICC of log(days)."""
    data = yaml.safe_load(SURVIVAL.read_text(encoding="utf-8"))
    outcome = next(o for o in data["outcomes"] if o["name"] == "time_to_leaving")
    outcome["assumptions"].update(icc=0.3, rate=0.6)
    outcome["survival"]["follow_up_end"] = "2100-03-01"
    outcome["survival"]["competing_reasons"] = []
    protocol = Protocol.model_validate(data, context={"defer_rules": True})
    staff = _simulate(protocol, tmp_path, n=400, scale=0.0).frame("staff")
    assert staff["time_to_leaving_event"].eq(1).mean() > 0.99
    log_time = np.log(staff["time_to_leaving"])
    groups = log_time.groupby(staff["team_id"].astype(str))
    sizes = groups.size()
    within = groups.var(ddof=1).mul(sizes - 1).sum() / (len(log_time) - len(sizes))
    m0 = (len(log_time) - (sizes**2).sum() / len(log_time)) / (len(sizes) - 1)
    between = (groups.mean() - log_time.mean()).pow(2).mul(sizes).sum() / (len(sizes) - 1)
    icc = (between - within) / m0 / ((between - within) / m0 + within)
    # 400 teams of about 8: sampling SE of the ICC ≈ 0.03
    assert icc == pytest.approx(0.3, abs=0.08)


def test_marginal_control_rate_is_solved_over_the_frailty() -> None:
    sd = frailty_sd(0.2)
    log_h = control_log_hazard(0.2, sd, 365)
    assert 1 - marginal_survival(log_h, sd, 365) == pytest.approx(0.2, abs=1e-9)
    rng = np.random.default_rng(0)
    hazards = np.exp(log_h + sd * rng.standard_normal(400_000))
    drawn = np.mean(rng.exponential(1 / hazards) <= 365)
    assert drawn == pytest.approx(0.2, abs=0.003), "Monte Carlo check of the quadrature"
    assert math.exp(log_h) * 365 < -math.log(0.8), "frailty: conditional hazard below marginal"


def test_hazard_ratio_from_rmst_effect_when_not_declared() -> None:
    hazard, horizon, effect = -math.log(0.8) / 365, 365.0, 20.0
    hr = rmst_hazard_ratio(effect, hazard, horizon)

    def rmst(h: float) -> float:
        return (1 - math.exp(-h * horizon)) / h

    assert rmst(hazard * hr) - rmst(hazard) == pytest.approx(effect, rel=1e-6)
    assert hr < 1, "more days in post means a lower hazard of leaving"

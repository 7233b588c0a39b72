"""The fabricated spend ledger: linked to the allocation and the other frames, within the
pilot's working days, reproducible, and with the declared rates of breaches and misuse."""

from __future__ import annotations

import holidays as calendars
import numpy as np
import pandas as pd
import pytest
from numpy.polynomial.hermite_e import hermegauss
from scipy import optimize, special

from trialkit.diagnose import fabricate
from trialkit.diagnose import spend_details as details
from trialkit.diagnose import spend_ledger as ledger

N_UNITS = 400
EXCLUDED = {"cash", "package_funded", "staff_gift"}


def _holidays() -> np.ndarray:
    days = calendars.country_holidays("GB", subdiv="ENG", years=[2027, 2028])
    return np.array(sorted(days), dtype="datetime64[D]")


def _units(n: int = N_UNITS) -> tuple[pd.DataFrame, pd.Series]:
    units = pd.DataFrame(
        {
            "team_id": [f"T{i:04d}" for i in range(n)],
            "locality": "A",
            "caseload": 1.0,
            "imd_score": 1.0,
            "team_size": 1.0,
        }
    )
    arms = pd.Series(np.where(np.arange(n) % 2 == 0, "usual", "budget"), index=units.team_id)
    return units, arms


def _with_spending(protocol, **update):
    return protocol.model_copy(update={"spending": protocol.spending.model_copy(update=update)})


@pytest.fixture(scope="module")
def big(flagship):
    units, arms = _units()
    frames = fabricate(flagship, units, arms, rng=np.random.default_rng(5))
    spend = frames["spend"].assign(arm=lambda f: arms.loc[f.team_id].to_numpy())
    return frames, spend, arms


def _allowed(spend: pd.DataFrame) -> pd.DataFrame:
    return spend[~spend["category"].isin(EXCLUDED)]


def test_every_column_of_the_contract_in_order(big, flagship):
    _, spend, _ = big
    c = flagship.spending.columns
    assert list(spend.columns[:-1]) == [
        "spend_id",
        "team_id",
        c.worker,
        c.client,
        c.date,
        c.amount,
        c.currency,
        c.category,
        c.justification,
        c.justified_on,
        c.verdict,
        c.loss,
    ]
    assert spend["spend_id"].is_unique and spend["spend_id"].iloc[0] == "SP00001"
    assert set(spend["currency"]) == {"GBP"}
    assert set(spend["review_verdict"]) == {"appropriate", "poor_value", "misuse", "fraud"}


def test_workers_and_clients_exist_in_the_spending_unit(big):
    frames, spend, _ = big
    staff = set(zip(frames["staff"]["staff_id"], frames["staff"]["team_id"], strict=True))
    clients = set(zip(frames["client"]["client_id"], frames["client"]["team_id"], strict=True))
    pairs = zip(spend["staff_id"], spend["team_id"], strict=True)
    assert all(pair in staff for pair in pairs), "every worker is staff of the same team"
    pairs = zip(spend["client_id"], spend["team_id"], strict=True)
    assert all(pair in clients for pair in pairs), "every client is a client of the same team"
    per_client = spend.groupby("client_id")["staff_id"].nunique()
    assert (per_client == 1).all(), "each client's spends are made by the allocated worker"


def test_no_spend_in_control_teams_or_teams_that_did_not_take_it_up(big):
    frames, spend, arms = big
    assert set(spend["arm"]) == {"budget"}
    took = frames["team"].set_index("team_id")["budget_used"]
    assert set(spend["team_id"]) <= set(took.index[took == 1])
    assert spend["team_id"].nunique() == int(took[arms == "budget"].sum())


def test_declared_contamination_spends_a_little_in_control_teams(flagship):
    units, arms = _units()
    protocol = _with_spending(flagship, control_may_spend=True)
    frames = fabricate(protocol, units, arms, rng=np.random.default_rng(5))
    clients = frames["client"].assign(arm=arms.loc[frames["client"].team_id].to_numpy())
    receipt = clients["client_id"].isin(frames["spend"]["client_id"]).groupby(clients["arm"])
    shares = receipt.mean()
    # control: CONTROL_RECEIPT of 100 teams' clients (team effects): about ± 0.01
    assert shares["usual"] == pytest.approx(ledger.CONTROL_RECEIPT, abs=0.02)
    assert shares["budget"] > 0.5


def test_spend_and_justification_dates_are_working_days_in_the_pilot(big, flagship):
    _, spend, _ = big
    spent = pd.to_datetime(spend["spent_on"], format="%Y-%m-%d")
    start, end = flagship.dates.intervention_start, flagship.dates.intervention_end
    assert spent.min() >= pd.Timestamp(start) and spent.max() <= pd.Timestamp(end)
    assert spent.is_monotonic_increasing, "spend ids follow the date order"
    holidays = _holidays()
    days = spent.to_numpy(dtype="datetime64[D]")
    assert np.is_busday(days, holidays=holidays).all(), "no weekend or bank holiday spends"
    justified = pd.to_datetime(spend["justified_on"], format="%Y-%m-%d")
    known = justified.notna()
    assert (justified[known] > spent[known]).all()
    assert np.is_busday(justified[known].to_numpy(dtype="datetime64[D]"), holidays=holidays).all()
    working = pd.Series(
        np.busday_count(
            np.arange("2027-03", "2027-09", dtype="datetime64[M]"),
            np.arange("2027-04", "2027-10", dtype="datetime64[M]"),
            holidays=holidays,
        ),
        index=range(3, 9),
    )
    per_day = spent.dt.month.value_counts().sort_index() / working
    # even over the pilot once teams have started (no pile-up at the end)
    assert per_day.loc[4:].max() < 1.25 * per_day.loc[4:].min()
    assert per_day.loc[3] < per_day.loc[4:].mean(), "teams start spending over March"


def test_same_seed_same_bytes_other_seed_other_ledger(flagship, flagship_units):
    arms = pd.Series(["usual", "budget"] * 12, index=flagship_units.team_id)

    def csv(seed: int) -> str:
        frames = fabricate(flagship, flagship_units, arms, rng=np.random.default_rng(seed))
        return frames["spend"].to_csv(index=False)

    assert csv(9) == csv(9)
    assert csv(9) != csv(10)


def _receipt_model(clients: pd.DataFrame):
    """The logit-normal receipt model, integrated independently: its intercept and the
    expected share of receivers for given equity shifts."""
    nodes, weights = hermegauss(60)
    weights = weights / weights.sum()
    sd = np.hypot(ledger.TEAM_SD, ledger.WORKER_SD)

    def share(a: float, shift: np.ndarray) -> float:
        return float(np.mean(special.expit(a + shift[:, None] + sd * nodes) @ weights))

    shift = np.zeros(len(clients))
    for column in ("most_deprived", "age_75_plus"):
        shift += ledger.EQUITY_SHIFT * (clients[column].astype(str) != "0").to_numpy()
    return optimize.brentq(lambda a: share(a, shift) - ledger.RECEIPT, -10, 10), share


@pytest.fixture(scope="module")
def many(flagship):
    units, arms = _units(1000)
    return fabricate(flagship, units, arms, rng=np.random.default_rng(6))


def test_receipt_rate_and_equity_gap(many):
    frames = many
    spend = frames["spend"]
    took = frames["team"].set_index("team_id")["budget_used"]
    clients = frames["client"][frames["client"]["team_id"].map(took).eq(1)]
    received = clients["client_id"].isin(spend["client_id"])
    # 450 teams, team and worker effects on the logit: SD of the share 0.007 over 12 seeds
    # (mean 0.596: clients whose worker left before the team's first spend cannot receive)
    assert received.mean() == pytest.approx(ledger.RECEIPT, abs=0.025)
    a, share = _receipt_model(clients)
    deprived = clients["most_deprived"].astype(str) == "1"
    old = clients["age_75_plus"].astype(str) == "1"
    gap = received[deprived].mean() - received[~deprived].mean()
    # expected gap, with the age mix held as drawn; about 3,400 deprived and 10,000 other
    # clients: binomial SE of the gap 0.0095; over 12 seeds its error had SD 0.012, mean 0.002
    expected = share(a, ledger.EQUITY_SHIFT * (1 + old[deprived].to_numpy())) - share(
        a, ledger.EQUITY_SHIFT * old[~deprived].to_numpy()
    )
    assert expected < -0.03, "a modest gap, by design"
    assert gap == pytest.approx(expected, abs=0.035), "receipt gap of the most deprived"


def test_spends_per_team_near_the_declared_size(big, flagship):
    frames, spend, arms = big
    took = frames["team"].set_index("team_id")["budget_used"]
    per_team = len(spend) / took[arms == "budget"].sum()
    declared = flagship.level("spend").per_unit.mean
    # caps stop some later spends on a client: a little under the declared mean
    assert 0.8 * declared < per_team <= 1.02 * declared
    several = spend.groupby("client_id").size()
    assert (several > 1).mean() > 0.4, "many receivers get several spends"


def test_amounts_are_skewed_in_pence_within_the_caps(big):
    _, spend, _ = big
    amount = spend["amount"]
    assert 40 <= amount.median() <= 60
    assert amount.mean() > amount.median() and amount.quantile(0.99) > 2.5 * amount.median()
    assert (amount >= 1).all()
    assert np.allclose(amount * 100, np.round(amount * 100), atol=1e-6), "whole pence"
    breach = amount > 150  # single spends above the per-client-per-month cap
    # about 6,700 spends: binomial SE 0.0009
    assert breach.mean() == pytest.approx(details.BREACH_RATE, abs=0.0025)


def test_cumulative_caps_are_broken_only_by_breaching_spends(big):
    _, spend, _ = big
    month = spend["spent_on"].str[:7]
    big_one = spend["amount"] > 150
    for keys, cap in (
        (["client_id"], 300),
        (["client_id", month], 150),
        (["staff_id", month], 1500),
        (["team_id", month], 6000),
    ):
        grouped = spend.groupby(keys)
        over = grouped["amount"].sum() > cap + 1e-9
        with_breach = big_one.groupby([spend[k] if isinstance(k, str) else k for k in keys]).any()
        assert over.sum() <= with_breach[over].sum(), f"cap {cap} broken without a breach"
    assert (spend.groupby("client_id")["amount"].sum() > 300).sum() >= 1


def test_rule_breaking_rates(big):
    _, spend, _ = big
    n = len(spend)  # about 6,700 spends: binomial SEs of 0.0012, 0.0021, 0.0009
    assert spend["category"].isin(EXCLUDED).mean() == pytest.approx(
        details.EXCLUDED_RATE, abs=0.004
    )
    missing = spend["justified_on"].isna()
    assert (missing == spend["justification"].isna()).all()
    assert missing.mean() == pytest.approx(details.MISSING_RATE, abs=0.003)
    spent = pd.to_datetime(spend["spent_on"]).to_numpy(dtype="datetime64[D]")
    justified = pd.to_datetime(spend["justified_on"][~missing]).to_numpy(dtype="datetime64[D]")
    waited = np.busday_count(spent[~missing.to_numpy()], justified, holidays=_holidays())
    assert (waited >= 1).all()
    assert (waited > 5).mean() == pytest.approx(details.LATE_RATE, abs=0.007), "late share"
    assert n > 5000


def test_verdict_rates_and_loss(big):
    _, spend, _ = big
    allowed = _allowed(spend)
    verdict = allowed["review_verdict"]
    # poor value: exactly POOR_VALUE_RATE per spend (binomial SE 0.003)
    assert verdict.eq("poor_value").mean() == pytest.approx(details.POOR_VALUE_RATE, abs=0.01)
    # misuse: mean propensity MISUSE_MEAN, but clustered in about 1,400 workers (SE ~0.004)
    misuse = verdict.isin(["misuse", "fraud"])
    assert misuse.mean() == pytest.approx(ledger.MISUSE_MEAN, abs=0.012)
    fraud = (spend["review_verdict"] == "fraud").sum() / spend["review_verdict"].isin(
        ["misuse", "fraud"]
    ).sum()
    assert fraud == pytest.approx(details.FRAUD_SHARE, abs=0.06)
    excluded = spend[spend["category"].isin(EXCLUDED)]["review_verdict"]
    assert excluded.isin(["misuse", "fraud"]).mean() > 0.2, "rule-breaking judged harshly"
    amount, loss = spend["amount"], spend["loss"]
    by = spend["review_verdict"]
    assert (loss[by == "appropriate"] == 0).all()
    assert np.allclose(loss[by.isin(["misuse", "fraud"])], amount[by.isin(["misuse", "fraud"])])
    poor = by == "poor_value"
    assert ((loss[poor] > 0) & (loss[poor] < amount[poor])).all()


def _top_share(worker: np.ndarray, misuse: np.ndarray, top: float = 0.01) -> float:
    """Share of misuse cases made by the ``top`` share of spending workers (most cases first)."""
    cases = pd.Series(misuse).groupby(worker).sum().sort_values(ascending=False)
    return float(cases.iloc[: max(1, round(top * len(cases)))].sum() / cases.sum())


def test_misuse_is_concentrated_in_few_workers(big):
    _, spend, _ = big
    allowed = _allowed(spend)
    worker = allowed["staff_id"].to_numpy()
    misuse = allowed["review_verdict"].isin(["misuse", "fraud"]).to_numpy()
    observed = _top_share(worker, misuse)
    # the same cases spread over spends at random (same workers, same count): the top 1% of
    # about 1,200 workers then hold about 15% of some 120 cases (0.13-0.17 over 5 seeds)
    spread = _top_share(worker, np.random.default_rng(0).permutation(misuse))
    assert spread < 0.25
    assert observed > 0.35, f"top 1% of workers hold {observed:.0%} of misuse"


def test_without_client_and_worker_levels_the_ledger_drops_those_columns(flagship):
    units, arms = _units(40)
    protocol = _with_spending(flagship, client_level=None, worker_level=None)
    frames = fabricate(protocol, units, arms, rng=np.random.default_rng(1))
    spend = frames["spend"]
    assert "client_id" not in spend and "staff_id" not in spend
    assert len(spend) > 0 and set(arms.loc[spend["team_id"]]) == {"budget"}


def test_the_simulated_ledger_validates_with_only_the_intended_findings(tmp_path):
    """simulate → validate: no data error, and each compliance finding is one the
    fabrication meant (counted here independently from the file)."""
    from trialkit import api

    files = api.simulate("council_discretionary_budget", tmp_path)
    data = [f for f in files if f.parent.name == "data"]
    checked = api.validate_files(
        "council_discretionary_budget", tmp_path / "allocation.csv", data
    ).spending
    got = pd.Series([f.rule for f in checked.findings]).value_counts().to_dict()
    s = pd.read_csv(tmp_path / "data" / "spend.csv", dtype=str, keep_default_na=False)
    amount = s["amount"].astype(float)
    missing = (s["justification"] == "") | (s["justified_on"] == "")
    spent = s["spent_on"].to_numpy(dtype="datetime64[D]")
    justified = np.where(missing, s["spent_on"], s["justified_on"]).astype("datetime64[D]")
    late = ~missing & (np.busday_count(spent, justified, holidays=_holidays()) > 5)
    month = s["spent_on"].str[:7]

    def over(keys: list, cap: float) -> int:  # spends taking a running total over its cap
        return int((amount.groupby(keys).cumsum() > cap + 1e-6).sum())

    assert s["spent_on"].is_monotonic_increasing  # so running totals follow the file order
    want = {
        "late_justification": int(late.sum()),
        "missing_justification": int(missing.sum()),
        "excluded_category": int(s["category"].isin(EXCLUDED).sum()),
        "cap_per_client": over([s["client_id"]], 300),
        "cap_per_client_per_period": over([s["client_id"], month], 150),
        "cap_per_worker_per_period": over([s["staff_id"], month], 1500),
        "cap_per_unit_per_period": over([s["team_id"], month], 6000),
    }
    assert got == {rule: n for rule, n in want.items() if n}
    assert 0 < sum(got.values()) < 0.1 * len(s), "a few findings, not none and not many"

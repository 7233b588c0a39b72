"""A small synthetic pilot with a coded spend ledger, as ``validate`` hands it on.

16 teams (8 usual, 8 budget) in two blocks, 5 workers and 10–20 clients each; budget
teams spend on about half their clients (deprived and older clients more often), control
teams on a few (declared contamination), amounts skewed and a few at or over the £300
cap. Clients have a baseline, an age and an outcome that falls with the money spent.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.spending.ledger import Ledger
from trialkit.protocol.arms import DiscretionaryBudget, SpendCategory
from trialkit.protocol.spending import SpendColumns

START = dt.date(2027, 3, 1)
CAP = 300.0
CATEGORIES = (
    SpendCategory(name="transport", label="Transport"),
    SpendCategory(name="social", label="Social activity"),
    SpendCategory(name="cash", label="Cash given to a client", allowed=False),
)


def budget() -> DiscretionaryBudget:
    return DiscretionaryBudget(
        cap_per_client=CAP,
        categories=CATEGORIES,
        allowed_uses=("Transport",),
        justification_detail="A note.",
        review="Peer review.",
    )


def _teams(rng: np.random.Generator) -> pd.DataFrame:
    teams = pd.DataFrame(
        {
            "team_id": [f"T{i:02d}" for i in range(1, 17)],
            "arm": ["usual", "budget"] * 8,
            "block": ["North"] * 8 + ["South"] * 8,
        }
    )
    return teams.assign(cluster=teams["team_id"], size=rng.integers(10, 21, 16))


def _clients(rng: np.random.Generator, teams: pd.DataFrame) -> pd.DataFrame:
    rows = teams.loc[teams.index.repeat(teams["size"])].reset_index(drop=True)
    n = len(rows)
    rows["client_id"] = [f"CL{i:04d}" for i in range(1, n + 1)]
    rows["most_deprived"] = np.where(rng.random(n) < 0.3, "1", "0")
    rows["age_75_plus"] = pd.Series(np.where(rng.random(n) < 0.45, "1", "0")).where(
        rng.random(n) > 0.05
    )  # a few clients with the subgroup missing
    rows["age"] = rng.normal(74, 10, n).round(1)
    rows["baseline"] = rng.normal(6.4, 1.8, n).round(1)
    return rows.drop(columns="size")


def _spends(rng: np.random.Generator, clients: pd.DataFrame) -> pd.DataFrame:
    treated = clients["arm"] == "budget"
    chance = np.where(treated, 0.35 + 0.25 * (clients["most_deprived"] == "1"), 0.04)
    receiving = clients[rng.random(len(clients)) < chance]
    per_client = rng.integers(1, 5, len(receiving))
    rows = receiving.loc[receiving.index.repeat(per_client)].reset_index(drop=True)
    n = len(rows)
    amount = np.minimum(rng.gamma(1.5, 45.0, n).round(2) + 5, 200.0)
    spent_on = pd.Timestamp(START) + pd.to_timedelta(rng.integers(0, 180, n), unit="D")
    return pd.DataFrame(
        {
            "spend_id": [f"SP{i:05d}" for i in range(1, n + 1)],
            "team_id": rows["team_id"],
            "staff_id": rows["team_id"] + "-W" + pd.Series(rng.integers(1, 6, n)).astype(str),
            "client_id": rows["client_id"],
            "spent_on": spent_on,
            "amount": amount,
            "category": rng.choice(["transport", "social", "cash"], n, p=[0.6, 0.35, 0.05]),
            "review_verdict": rng.choice(
                ["appropriate", "poor_value", "misuse", "fraud"], n, p=[0.9, 0.06, 0.03, 0.01]
            ),
            "arm": rows["arm"],
            "block": rows["block"],
            "cluster": rows["cluster"],
            "period": spent_on.strftime("%Y-%m"),
        }
    )


def _reviewed(rng: np.random.Generator, spends: pd.DataFrame) -> pd.DataFrame:
    """Losses as reviewers record them; a few spends not reviewed yet."""
    verdict = spends["review_verdict"]
    share = verdict.map({"appropriate": 0.0, "poor_value": 0.3, "misuse": 1.0, "fraud": 1.0})
    spends = spends.assign(loss=(spends["amount"] * share).round(2))
    pending = rng.random(len(spends)) < 0.08
    spends.loc[pending, ["review_verdict", "loss"]] = None
    return spends


def _at_cap(spends: pd.DataFrame) -> pd.DataFrame:
    """Top up the first two budget clients to exactly the cap, and a third over it."""
    extra = []
    budget_clients = spends.loc[spends["arm"] == "budget", "client_id"].unique()[:3]
    for i, client in enumerate(budget_clients):
        row = spends[spends["client_id"] == client].iloc[[0]].copy()
        total = spends.loc[spends["client_id"] == client, "amount"].sum()
        row["amount"] = CAP - total + (25.0 if i == 2 else 0.0)
        row["spend_id"] = f"SPX{i}"
        extra.append(row)
    return pd.concat([spends, *extra], ignore_index=True)


@pytest.fixture(scope="session")
def ledger() -> Ledger:
    rng = np.random.default_rng(20270301)
    teams = _teams(rng)
    clients = _clients(rng, teams)
    spends = _reviewed(rng, _at_cap(_spends(rng, clients)))
    workers = pd.DataFrame(
        {"staff_id": [f"{t}-W{k}" for t in teams["team_id"] for k in range(1, 6)]}
    )
    workers["team_id"] = workers["staff_id"].str[:3]
    workers = workers.merge(teams[["team_id", "arm"]], on="team_id")
    spent = clients["client_id"].map(spends.groupby("client_id")["amount"].sum()).fillna(0)
    clients["outcome"] = clients["baseline"] * 0.6 - 0.004 * spent + rng.normal(0, 1, len(clients))
    clients.loc[rng.random(len(clients)) < 0.1, "outcome"] = np.nan  # missing surveys
    clients, spends = _categorical(clients), _categorical(spends)
    return Ledger(
        spends=spends,
        columns=SpendColumns(),
        unit="team_id",
        units=teams[["team_id", "arm"]],
        workers=workers,
        clients=clients,
        budgets={"usual": None, "budget": budget()},
        start=START,
    )


def _categorical(frame: pd.DataFrame) -> pd.DataFrame:
    """``arm``, ``block`` and ``cluster`` as validate codes them (categoricals)."""
    return frame.astype({c: "category" for c in ("arm", "block", "cluster")})


def _dense_cr2() -> ModuleType:
    path = Path(__file__).parents[3] / "reference" / "estimate" / "dense_cr2.py"
    spec = importlib.util.spec_from_file_location("dense_cr2_reference", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def dense_cr2() -> ModuleType:
    """The naive CR2 + Bell–McCaffrey df of tests/reference/estimate/dense_cr2.py."""
    return _dense_cr2()

"""Per-group review counts, and the misuse model's rows built from them."""

from __future__ import annotations

import pandas as pd
import pytest

from trialkit.analyse.spending_model import misuse_model_rows, months_covered
from trialkit.estimate.spending.ledger import Ledger, group_counts
from trialkit.protocol import Protocol


def _budget(ledger: Ledger) -> pd.DataFrame:
    return ledger.spends[ledger.spends["arm"] == "budget"]


@pytest.mark.parametrize(("level", "column"), [("worker", "staff_id"), ("unit", "team_id")])
def test_group_counts_match_direct_tallies(ledger: Ledger, level: str, column: str) -> None:
    counts = group_counts(ledger, level)
    spends = _budget(ledger)
    reviewed = spends.dropna(subset=["review_verdict"])
    cases = reviewed[reviewed["review_verdict"].isin(["misuse", "fraud"])]
    people = ledger.workers if level == "worker" else ledger.units
    assert people is not None
    assert set(counts.groups) == set(people.loc[people["arm"] == "budget", column])
    for group, n, y in zip(counts.groups, counts.reviewed, counts.cases, strict=True):
        assert n == int((reviewed[column] == group).sum()), group
        assert y == int((cases[column] == group).sum()), group
    assert counts.spends == len(spends)
    assert counts.losses == pytest.approx(cases["loss"].tolist())


def test_months_covered_is_the_intervention_period(flagship: Protocol, ledger: Ledger) -> None:
    assert flagship.dates is not None
    days = (flagship.dates.intervention_end - flagship.dates.intervention_start).days + 1
    assert months_covered(flagship, ledger) == pytest.approx(days / (365.25 / 12))
    assert months_covered(flagship.model_copy(update={"dates": None}), ledger) == (
        pytest.approx((_span(ledger) + 1) / (365.25 / 12))
    )


def _span(ledger: Ledger) -> int:
    spent = ledger.spends["spent_on"]
    return int((spent.max() - spent.min()).days)


def test_misuse_model_rows_carry_the_ledger_counts(flagship: Protocol, ledger: Ledger) -> None:
    notes: list[str] = []
    rows = misuse_model_rows(flagship, ledger, draws=100, chains=2, tune=100, notes=notes)
    assert [r.level for r in rows] == ["worker", "unit"], notes
    for row in rows:
        counts = group_counts(ledger, row.level)
        assert (row.groups, row.spends, row.cases) == (
            len(counts.groups),
            sum(counts.reviewed),
            sum(counts.cases),
        )
        assert row.tolerance == flagship.costs.misuse.tolerance  # type: ignore[union-attr]


def test_one_chain_gives_a_note_not_a_row(flagship: Protocol, ledger: Ledger) -> None:
    notes: list[str] = []
    assert misuse_model_rows(flagship, ledger, draws=50, chains=1, tune=50, notes=notes) == ()
    assert len(notes) == 2 and all("--chains 2" in n for n in notes)

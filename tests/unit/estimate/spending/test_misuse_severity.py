"""Misuse by severity and net of green tape: rows, weights, notes and refusals."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from trialkit.analyse.spending_rows import GreenTapeRow, ReviewRow, SeverityRow
from trialkit.errors import EstimationError
from trialkit.estimate.spending.misuse import (
    misuse_totals,
    net_of_green_tape,
    severity_estimates,
)
from trialkit.estimate.spending.review import review_design
from trialkit.protocol import bundled_path, load_protocol
from trialkit.protocol.spending import GreenTape
from trialkit.randomise.audit import AuditSample, draw_audit_sample

TAPE = GreenTape(description="panel", requests_per_unit=10, hours_per_request=2, cost_per_hour=30)


def spends(n: int = 300, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    verdict = rng.choice(
        ["appropriate", "poor_value", "misuse", "fraud"], n, p=[0.8, 0.1, 0.07, 0.03]
    )
    amount = np.round(rng.lognormal(4, 0.8, n), 2)
    return pd.DataFrame(
        {
            "spend_id": [f"S{i:04d}" for i in range(n)],
            "staff_id": rng.choice(list("ABCDEFGH"), n),
            "arm": rng.choice(["budget", "budget_plus"], n),
            "amount": amount,
            "category": rng.choice(["x", "y"], n),
            "review_verdict": verdict,
            "loss": np.where(np.isin(verdict, ["misuse", "fraud"]), amount, 0.0),
        }
    )


def audit_of(frame: pd.DataFrame, size: int = 120) -> AuditSample:
    base = load_protocol(bundled_path("council_discretionary_budget"))
    assert base.spending is not None
    review = base.spending.review.model_copy(update={"coverage": "sample", "sample_size": size})
    protocol = base.model_copy(
        update={"spending": base.spending.model_copy(update={"review": review})}
    )
    return draw_audit_sample(protocol, frame, seed=1)


def design_of(frame: pd.DataFrame, audit: AuditSample | None = None):  # type: ignore[no-untyped-def]
    return review_design(frame, audit=audit, id_column="spend_id", verdict_column="review_verdict")


def test_rows_fit_the_results_document() -> None:
    frame = spends()
    audit = audit_of(frame)
    design = design_of(frame, audit)
    rows = severity_estimates(frame, design=design, cluster="staff_id", months=6)
    assert [r.verdict for r in rows] == ["appropriate", "poor_value", "misuse", "fraud"]
    for row in rows:
        SeverityRow.model_validate(asdict(row))
        assert row.rate_ci[0] <= row.rate <= row.rate_ci[1] <= 1
        assert 0 <= row.loss_ci[0] <= row.loss <= row.loss_ci[1]
    assert sum(r.rate for r in rows) == pytest.approx(1.0)
    info = ReviewRow.model_validate(asdict(design.info("peer panel")))
    assert (info.design, info.spends, info.reviewed, info.strata, info.sample_seed) == (
        "stratified_sample",
        300,
        120,
        len(audit.strata),
        1,
    )
    green = net_of_green_tape(
        frame,
        design=design,
        green_tape=TAPE,
        cluster="staff_id",
        units={"budget": 5, "budget_plus": 4},
    )
    for row in green:
        GreenTapeRow.model_validate(asdict(row))


def test_green_tape_is_saved_minus_loss_and_arms_add_up() -> None:
    frame = spends()
    design = design_of(frame, audit_of(frame))
    green = net_of_green_tape(
        frame,
        design=design,
        green_tape=TAPE,
        cluster="staff_id",
        units={"budget": 5, "budget_plus": 4},
    )
    _, total = misuse_totals(frame, design=design, cluster="staff_id")
    assert sum(g.misuse_loss for g in green) == pytest.approx(total.estimate, rel=1e-12)
    for g in green:
        assert g.cost_per_unit == 600.0 and g.saved == 600.0 * g.units
        assert g.net == pytest.approx(g.saved - g.misuse_loss)
        assert g.net_ci == pytest.approx(
            (g.saved - g.misuse_loss_ci[1], g.saved - g.misuse_loss_ci[0])
        )


def test_sampled_spends_carry_inverse_probability_weights_and_the_rest_none() -> None:
    frame = spends()
    audit = audit_of(frame)
    design = design_of(frame, audit)
    prob = dict(zip(audit.spend_id, audit.inclusion_probability, strict=True))
    expected = frame["spend_id"].map(lambda s: 1 / prob[s] if s in prob else 0.0)
    np.testing.assert_allclose(design.weight, expected.to_numpy(), rtol=1e-12)
    assert design.weight.sum() == pytest.approx(len(frame))
    assert any("reviewed outside the audit sample" in n for n in design.notes)


def test_drawn_spends_awaiting_a_verdict_are_stood_for_by_their_stratum() -> None:
    frame = spends()
    audit = audit_of(frame)
    waiting = list(audit.spend_id[:5])
    drawn = frame["spend_id"].isin(audit.spend_id) & ~frame["spend_id"].isin(waiting)
    frame = frame.assign(review_verdict=frame["review_verdict"].where(drawn))
    design = design_of(frame, audit)
    assert design.reviewed == audit.size - 5
    assert design.weight.sum() == pytest.approx(len(frame))
    assert any("5 of the 120 spends drawn" in n for n in design.notes)


def test_a_census_with_unreviewed_spends_weights_the_reviewed_ones_up() -> None:
    frame = spends(100)
    frame.loc[:9, "review_verdict"] = None
    design = design_of(frame)
    assert design.design == "census" and design.reviewed == 90
    np.testing.assert_allclose(design.weight[10:], 100 / 90)
    assert "10 of 100 spends have no review verdict yet" in design.notes[0]
    rows = severity_estimates(frame, design=design, cluster="staff_id", months=12)
    reviewed = frame["review_verdict"].iloc[10:]
    assert rows[2].rate == pytest.approx((reviewed == "misuse").mean())


def test_no_verdict_at_all_is_refused() -> None:
    frame = spends(20).assign(review_verdict=None)
    with pytest.raises(EstimationError, match="no spend in the ledger has a review verdict"):
        design_of(frame)


def test_parameters_are_checked() -> None:
    frame = spends(50)
    design = design_of(frame)
    with pytest.raises(ValueError, match="'months' parameter must be positive"):
        severity_estimates(frame, design=design, cluster="staff_id", months=0)
    with pytest.raises(ValueError, match="'ci_level' parameter must be in"):
        severity_estimates(frame, design=design, cluster="staff_id", months=6, ci_level=95)


def test_no_case_seen_in_a_sample_still_bounds_the_rate_and_loss_above() -> None:
    frame = spends().assign(review_verdict="appropriate", loss=0.0)
    design = design_of(frame, audit_of(frame))
    fraud = severity_estimates(frame, design=design, cluster="staff_id", months=6)[3]
    assert fraud.rate == 0 and fraud.rate_ci[0] == 0 < fraud.rate_ci[1] < 0.2
    assert fraud.loss == 0 and fraud.loss_ci[1] > 0


def test_verdicts_are_read_stripped_and_categorical_arms_as_text() -> None:
    # Verdicts with stray spaces count as their verdict, and a categorical arm column
    # selects each arm's spends as its text does: the same estimates as the clean frame.
    frame = spends()
    design = design_of(frame)
    messy = frame.assign(
        review_verdict=" " + frame["review_verdict"] + "  ",
        arm=frame["arm"].astype("category"),
    )
    for clean, padded in [
        (
            severity_estimates(frame, design=design, cluster="staff_id", months=6),
            severity_estimates(messy, design=design, cluster="staff_id", months=6),
        ),
        (
            net_of_green_tape(
                frame, design=design, green_tape=TAPE, units={"budget": 3}, cluster="staff_id"
            ),
            net_of_green_tape(
                messy, design=design, green_tape=TAPE, units={"budget": 3}, cluster="staff_id"
            ),
        ),
    ]:
        assert [asdict(r) for r in clean] == [asdict(r) for r in padded]
    assert severity_estimates(frame, design=design, cluster="staff_id", months=6)[2].spends > 0

"""Batched designs hold each simulation's observed rows, with little padding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trialkit._core.rng import RawStream
from trialkit.diagnose.batched import BatchedFit, fit_cr2
from trialkit.diagnose.fabricate import fabricate_units
from trialkit.diagnose.generate import compile_design, draw_outcome
from trialkit.diagnose.layout import MAX_PADDING, ObservedRows, design_arrays
from trialkit.protocol import load_protocol

FLAGSHIP = Path(__file__).resolve().parents[3] / "protocols" / "council_discretionary_budget.yaml"


@pytest.fixture(scope="module")
def drawn() -> tuple[np.ndarray, ObservedRows]:
    protocol = load_protocol(FLAGSHIP)
    design = compile_design(protocol, fabricate_units(protocol, rng=np.random.default_rng(3)))
    arms = np.concatenate(list(design.scheme.draw_many(RawStream(8), 30)), axis=0)
    draw = draw_outcome(design, protocol.outcome("loneliness"), arms, np.random.default_rng(9))
    return draw.mask, design_arrays(design, draw)


def test_rows_are_each_simulations_observed_rows_in_cluster_order(drawn) -> None:
    mask, rows = drawn
    observed = rows.mask.sum(axis=1)
    np.testing.assert_array_equal(observed, mask.reshape(len(mask), -1).sum(axis=1))
    # observed rows come first, then padding; clusters ascend over each simulation's rows
    assert (np.diff(rows.mask.astype(int), axis=1) <= 0).all()
    assert (np.diff(rows.cluster, axis=1) >= 0).all()
    assert not rows.x[~rows.mask].any() and not rows.y[~rows.mask].any()


def test_groups_cover_every_simulation_once_within_the_padding_limit(drawn) -> None:
    _, rows = drawn
    for limit in (0.0, 0.05, MAX_PADDING):
        groups = list(rows.groups(limit))
        picks = np.concatenate([pick for pick, _ in groups])
        np.testing.assert_array_equal(np.sort(picks), np.arange(len(rows.mask)))
        assert all(part.padding <= limit + 1e-12 for _, part in groups)
    assert len(list(rows.groups(0.0))) > 1  # the draw's sizes differ between simulations


def test_fits_by_group_equal_one_fit_of_all(drawn) -> None:
    _, rows = drawn
    whole = fit_cr2(rows.x, rows.y, rows.mask, rows.cluster, rows.clusters)
    parts = [
        (pick, fit_cr2(p.x, p.y, p.mask, p.cluster, p.clusters)) for pick, p in rows.groups(0.0)
    ]
    combined = BatchedFit.combine(parts, len(rows.mask))
    for field in ("estimate", "std_error", "df"):
        np.testing.assert_allclose(
            getattr(combined, field), getattr(whole, field), rtol=1e-12, err_msg=field
        )

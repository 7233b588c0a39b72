"""A census of spends: how often the misuse interval covers the spending process's rate.

With every spend reviewed the ledger's own misuse count is known exactly; the interval is
about the process that generated it (workers like these, spending like this), with a
cluster-robust variance on workers. Misuse that sits with few workers leaves few
effective clusters, so no interval built on that variance can be nominal when it is
extreme: this records how close the mid-p gamma interval comes, and that it does better
than the Wald interval it replaced (which also reaches below zero).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.spending.misuse import misuse_totals
from trialkit.estimate.spending.review import review_design

SIMS = 400
WORKERS = 95
MEAN_RATE = 0.02


def _coverage(concentration: float, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    gamma = wald = 0
    for _ in range(SIMS):
        rates = rng.beta(MEAN_RATE * concentration, (1 - MEAN_RATE) * concentration, WORKERS)
        workers = np.repeat(np.arange(WORKERS), 1 + rng.poisson(4, WORKERS))
        case = rng.random(workers.size) < rates[workers]
        spends = pd.DataFrame(
            {
                "spend_id": [f"S{i}" for i in range(workers.size)],
                "staff_id": workers.astype(str),
                "amount": 11.0,
                "category": "a",
                "review_verdict": np.where(case, "misuse", "appropriate"),
                "loss": case * 1.0,
            }
        )
        design = review_design(
            spends, audit=None, id_column="spend_id", verdict_column="review_verdict"
        )
        count, _ = misuse_totals(spends, design=design, cluster="staff_id")
        truth = MEAN_RATE * workers.size
        gamma += count.ci_low <= truth <= count.ci_high
        half = 1.959964 * count.std_error
        wald += count.estimate - half <= truth <= count.estimate + half
    return gamma / SIMS, wald / SIMS


@pytest.mark.slow
def test_census_interval_near_nominal_unless_misuse_sits_with_very_few_workers() -> None:
    moderate, moderate_wald = _coverage(10.0, seed=8)  # measured 0.9325 (Wald 0.91)
    extreme, extreme_wald = _coverage(1.0, seed=8)  # measured 0.8575 (Wald 0.8275)
    assert moderate >= 0.91, moderate
    assert moderate >= moderate_wald and extreme >= extreme_wald
    assert extreme >= 0.82, extreme

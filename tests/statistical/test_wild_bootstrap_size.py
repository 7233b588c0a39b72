"""Type-I error of the wild cluster bootstrap (restricted, Webb weights) at alpha = 0.05.

Each replication draws cluster sizes uniformly from 5 to 60, treats half the clusters, and
adds cluster effects (SD 0.5) and unit errors (SD 1) to a prognostic covariate, with no
effect. With 20 clusters the test is at its level (asserted: 3.5–6.5% over 2,000
replications, 399 draws each). With fewer clusters it is not, in this design: separate runs
of 2,000 replications (999 draws) rejected 8.3% at G = 6 and 6.8% at G = 8, where CR3 and
CR2 with Bell–McCaffrey df covered 94.4–95.1% (tests/statistical/test_few_cluster_coverage.py,
test_few_cluster_registered.py, which also bounds the bootstrap's size there). So the plan
shows it only as a check beside the registered CR2 result when clusters are few
(:mod:`trialkit.estimate.frequentist.few_clusters`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.frequentist.wild import wild_cluster_bootstrap

pytestmark = pytest.mark.slow

REPS = 2000


def test_wild_cluster_bootstrap_size_with_20_clusters() -> None:
    rng = np.random.default_rng(2008)
    g = 20
    rejected = 0
    for rep in range(REPS):
        sizes = rng.integers(5, 61, g)
        team = np.repeat(np.arange(g), sizes)
        arm = rng.permutation(np.arange(g) < g // 2).astype(int)[team]
        x = rng.normal(size=team.size)
        y = x + rng.normal(0, 0.5, g)[team] + rng.normal(size=team.size)
        frame = pd.DataFrame({"y": y, "arm": arm, "x": x, "team": team})
        res = wild_cluster_bootstrap(
            frame, "y", "arm", cluster="team", covariates=["x"], draws=399, seed=rep
        )
        rejected += res.p_value <= 0.05
    print(f"wild cluster bootstrap size at G = 20: {rejected / REPS:.4f}")  # shown with -s
    assert 0.035 <= rejected / REPS <= 0.065, f"size {rejected / REPS:.4f}"

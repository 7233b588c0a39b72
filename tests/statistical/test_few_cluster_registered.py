"""The registered few-cluster inference (CR2 with Bell–McCaffrey df) and its wild bootstrap
check, at 6 and 8 clusters of unequal size (issue 15's "few-cluster method" coverage).

Same design as ``test_few_cluster_coverage.py`` (CR3): cluster sizes uniform on 5–60, half
the clusters treated (complete randomisation), cluster effects SD 0.5, unit errors SD 1, a
prognostic covariate, constant effect 0.5. Each case runs ``REPS`` = 4,000 replications
(Monte Carlo SE of a 95% coverage about 0.34 points) and asserts 95 ± 1.5% for CR2-BM.
The same replications test ``effect = 0.5`` (true) with the restricted wild cluster bootstrap
(Webb weights, 399 draws): its rejection rate is the size of the check the report shows
beside CR2; it is printed and only bounded (≤ 11%), because at 6–8 clusters the studentised
wild bootstrap over-rejects (Canay, Santos & Shaikh 2021; wild.py's docstring).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate import ols
from trialkit.estimate.frequentist.wild import wild_cluster_bootstrap

pytestmark = pytest.mark.slow

REPS = 4000
TAU = 0.5


def _trial(rng: np.random.Generator, g: int) -> pd.DataFrame:
    sizes = rng.integers(5, 61, g)
    cluster = np.repeat(np.arange(g), sizes)
    arm = rng.permutation(np.arange(g) < g // 2).astype(int)[cluster]
    x = rng.normal(size=cluster.size)
    y = x + TAU * arm + rng.normal(0, 0.5, g)[cluster] + rng.normal(size=cluster.size)
    return pd.DataFrame({"y": y, "arm": arm, "x": x, "team": cluster})


@pytest.mark.parametrize("g", [6, 8])
def test_cr2_bell_mccaffrey_covers_and_the_bootstrap_size_is_bounded(g: int) -> None:
    rng = np.random.default_rng(1500 + g)
    hits = rejected = 0
    for rep in range(REPS):
        frame = _trial(rng, g)
        e = ols(frame, "y", "arm", covariates=["x"], cluster="team").effect()
        assert e.df < g - 1, "CR2 intervals use Bell–McCaffrey df"
        hits += e.ci_low <= TAU <= e.ci_high
        null = frame.assign(y=frame.y - TAU * frame.arm)
        boot = wild_cluster_bootstrap(
            null, "y", "arm", cluster="team", covariates=["x"], draws=399, seed=rep
        )
        rejected += boot.p_value <= 0.05
    coverage, size = hits / REPS, rejected / REPS
    print(f"G = {g}: CR2-BM coverage {coverage:.4f}, wild bootstrap size {size:.4f}")
    assert 0.935 <= coverage <= 0.965, f"CR2-BM coverage at G = {g}: {coverage:.4f}"
    assert size <= 0.11, f"wild bootstrap size at G = {g}: {size:.4f}"

"""Fixtures for Bayesian plumbing tests: fake fits (no sampling) and small data sets."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from trialkit._core.provenance import Provenance
from trialkit.estimate.bayesian.diagnostics import diagnose
from trialkit.estimate.bayesian.priors import Prior
from trialkit.estimate.bayesian.results import BayesianFit
from trialkit.estimate.bayesian.summarise import Thresholds
from trialkit.protocol.vocabulary import Direction

MakeFit = Callable[..., BayesianFit]


@pytest.fixture
def make_fit() -> MakeFit:
    """Build a :class:`BayesianFit` from given draws of a normal-family effect."""
    import arviz as az

    def _make(
        draws: dict[str, np.ndarray],
        *,
        outcome: str = "y",
        direction: Direction = "higher_is_better",
        mid: float | None = None,
        harm_margin: float = 0.0,
        control: str = "control",
    ) -> BayesianFit:
        terms = list(draws)
        stacked = np.stack([np.asarray(v).reshape(1, -1) for v in draws.values()], axis=-1)
        idata = az.from_dict(
            posterior={"beta": stacked}, dims={"beta": ["term"]}, coords={"term": terms}
        )
        th = Thresholds(direction=direction, mid=mid, harm_margin=harm_margin)
        arms = tuple(t.split("[")[-1].rstrip("]") for t in terms)
        return BayesianFit(
            outcome=outcome,
            family="normal",
            terms=tuple(terms),
            arms=arms,
            control=control,
            scales=("difference",),
            idata=idata,
            diagnostics=diagnose(idata, ["beta"]),
            effect_prior=Prior(sigma=1.0),
            prior_note="",
            thresholds=th,
            sampler="fake",
            provenance=Provenance(seed=0),
            frame=pd.DataFrame(),
        )

    return _make


@pytest.fixture(scope="session")
def cluster_frame() -> pd.DataFrame:
    """A three-arm cluster trial with a covariate and two blocks (40 teams × 10)."""
    rng = np.random.default_rng(11)
    team = np.repeat(np.arange(40), 10)
    arm = np.array(["control", "budget", "coach"])[team % 3]
    x = rng.normal(size=team.size)
    noise = rng.normal(0, 0.3, 40)[team] + rng.normal(size=team.size)
    y = 0.5 * (arm == "budget") + 0.4 * x + noise
    return pd.DataFrame({"y": y, "arm": arm, "team": team, "x1": x, "blk": team % 2})

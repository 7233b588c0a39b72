"""The lean nutpie callbacks sample exactly as nutpie's own, and leave nutpie unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from trialkit.estimate.bayesian import compile as lean

pytest.importorskip("nutpie")


def _model():  # type: ignore[no-untyped-def]
    """Shared data, a transformed parameter and a wall where the log density is -inf."""
    import pymc as pm
    import pytensor.tensor as pt

    y = np.random.default_rng(3).normal(0.3, 1.0, 40)
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 1.0)
        sigma = pm.HalfNormal("sigma", 2.0)
        pm.Potential("wall", pt.switch(mu > 0.6, -np.inf, 0.0))
        pm.Deterministic("mu_twice", 2 * mu)
        pm.Normal("y", mu, sigma, observed=pm.Data("y_obs", y))
    return model


def _draws(compiled) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    import nutpie

    idata = nutpie.sample(compiled, draws=200, tune=200, chains=2, seed=5, progress_bar=False)
    out = {k: idata.posterior[k].values for k in ("mu", "sigma", "mu_twice")}
    out["diverging"] = idata.sample_stats["diverging"].values
    return out


def test_lean_callbacks_match_nutpies_own_draw_for_draw() -> None:
    import nutpie
    import nutpie.compile_pymc as internals

    assert lean.lean_callbacks_available(), "nutpie's callback builders changed: see compile.py"
    own = internals._make_c_logp_func, internals._make_c_expand_func
    model = _model()
    ours = _draws(lean.compile_for_nutpie(model))
    assert (internals._make_c_logp_func, internals._make_c_expand_func) == own
    theirs = _draws(nutpie.compile_pymc_model(model))
    for name, values in theirs.items():
        np.testing.assert_array_equal(ours[name], values, err_msg=name)
    assert ours["mu"].max() <= 0.6  # the wall held: -inf evaluations were rejected
    assert ours["diverging"].any()  # ... and reported as nutpie reports them


def test_shared_data_can_be_swapped_after_compiling() -> None:
    compiled = lean.compile_for_nutpie(_model())
    shifted = _draws(compiled.with_data(y_obs=np.full(40, -2.0)))
    assert shifted["mu"].mean() < -1.0

"""trialkit's compiled kernels against PyMC's own log density, gradient and variables.

For every family, with three arms, a covariate, blocks, periods and clusters (both
parametrisations), at random unconstrained points: the kernel's log density equals
``model.compile_logp()`` (constants and Jacobians included), its gradient equals
``model.compile_dlogp()``, and its expansion equals the model's constrained variables
and deterministics.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from trialkit.estimate.bayesian import density
from trialkit.estimate.bayesian.design import DesignData, Family, prepare
from trialkit.estimate.bayesian.models import Parametrisation, build_model
from trialkit.estimate.bayesian.priors import ModelPriors, Prior, model_priors

RNG = np.random.default_rng(8)
N = 90
FRAME = pd.DataFrame(
    {
        "arm": np.tile(["control", "a", "b"], N // 3),
        "x1": RNG.normal(size=N),
        "x2": RNG.normal(2, 3, size=N),
        "team": np.repeat(np.arange(15), N // 15),
        "block": np.tile(["n", "s", "e", "w", "c"], N // 5),
        "period": np.tile([0, 1, 2], N // 3),
        "score": RNG.normal(10, 2, size=N),
        "done": RNG.integers(0, 2, N),
        "count": RNG.poisson(3, N),
        "likert": RNG.integers(1, 6, N),
    }
)
COLUMN = {
    "normal": "score",
    "student_t": "score",
    "logistic": "done",
    "ordered_logistic": "likert",
    "poisson": "count",
    "negative_binomial": "count",
}
CASES = [
    (family, how, effect)
    for family in COLUMN
    for how in ("non_centred", "centred")
    for effect in ("normal", "student_t")
    if how == "non_centred" or effect == "normal"
]


def _setup(
    family: Family, how: Parametrisation, effect: str, *, cluster: bool = True
) -> tuple[DesignData, ModelPriors]:
    data = prepare(
        FRAME,
        COLUMN[family],
        "arm",
        covariates=["x1", "x2"],
        cluster="team" if cluster else None,
        blocks="block",
        period="period",
        family=family,
    )
    prior = Prior(distribution=effect, mu=0.31, sigma=0.83, nu=4.1)  # type: ignore[arg-type]
    priors = model_priors(data, family, prior, scale=1.73, scale_note="test", centre=9.37)
    return data, priors


def _pymc_point(model, data: DesignData, family: Family, theta: np.ndarray) -> dict:  # type: ignore[no-untyped-def]
    """The kernel's ``theta`` as PyMC's dict of unconstrained value variables."""
    point, i = {}, 0
    order = ["beta", "gamma", "block_effect", "period_effect", "centred_intercept",
             "cluster_sd_log__", "cluster_z", "cluster_u", "sigma_log__", "nu_log__",
             "centred_cutpoints_ordered__", "inv_dispersion_log__"]  # fmt: skip
    shapes = model.initial_point()
    for name in order:
        if name in shapes:
            size = int(np.size(shapes[name]))
            point[name] = theta[i : i + size].reshape(np.shape(shapes[name]))
            i += size
    assert i == theta.size
    return point


@pytest.mark.parametrize(("family", "how", "effect"), CASES)
def test_kernel_matches_pymc_log_density_gradient_and_variables(
    family: Family, how: Parametrisation, effect: str
) -> None:
    from trialkit.estimate.bayesian import kernels

    data, priors = _setup(family, how, effect)
    model = build_model(data, family, priors, parametrisation=how)
    buffer = density.pack(data, family, priors, how)
    theta0 = density.initial_point(buffer, data, family, priors, seed=3)
    logp = model.compile_logp(mode="FAST_COMPILE")
    dlogp = model.compile_dlogp(mode="FAST_COMPILE")
    unobserved = {v.name: v for v in model.unobserved_value_vars}
    names = [v.name for v in density.variables(data, family, how)]
    values = model.compile_fn(
        [unobserved[n] for n in names], inputs=model.value_vars, mode="FAST_COMPILE"
    )
    rng = np.random.default_rng(5)
    offsets = []
    for _ in range(4):
        theta = theta0 + 0.3 * rng.normal(size=theta0.size)
        point = _pymc_point(model, data, family, theta)
        status, value, grad = kernels.evaluate(density.FAMILY_CODE[family], theta, buffer)
        assert status == 0
        offsets.append(value - float(logp(point)))
        expected = np.concatenate([np.ravel(g) for g in _split(dlogp(point), model, point)])
        np.testing.assert_allclose(grad, expected, rtol=1e-8, atol=1e-8)
        expanded = np.concatenate([np.ravel(v) for v in values(point)])
        np.testing.assert_allclose(
            kernels.expand_values(theta, buffer), expanded, rtol=1e-10, atol=1e-12
        )
    # Differences between points agree to rounding; the level agrees to PyMC's float32
    # constants (it keeps round prior scales such as 2.5 as float32 and takes their logs in
    # float32, ~1e-8 each; the kernel's constants are float64).
    assert np.ptp(offsets) < 1e-9 * abs(float(logp(point)))
    assert abs(offsets[0]) < 1e-6


def _split(flat: np.ndarray, model, point: dict) -> list[np.ndarray]:  # type: ignore[no-untyped-def]
    """PyMC's raveled gradient (in ``model.value_vars`` order) in the kernel's order."""
    pieces, i = {}, 0
    for var in model.value_vars:
        size = int(np.size(point[var.name]))
        pieces[var.name] = flat[i : i + size]
        i += size
    return [pieces[name] for name in point]


@pytest.mark.parametrize("family", list(COLUMN))
def test_overflow_is_a_status_code_not_an_exception(
    family: Family, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A C callback cannot raise: overflow and division by zero must reach nutpie as a
    non-finite status (numba's numpy error model), never as an exception numba swallows."""
    import sys

    from trialkit.estimate.bayesian import kernels

    swallowed: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", swallowed.append)
    data, priors = _setup(family, "non_centred", "normal")
    buffer = density.pack(data, family, priors, "non_centred")
    statuses = set()
    for value in (800.0, -800.0):
        theta = np.full(int(buffer[13]), value)
        statuses.add(kernels.evaluate(density.FAMILY_CODE[family], theta, buffer)[0])
    assert swallowed == []
    assert statuses <= {0, 3, 4} and statuses & {3, 4}


def test_ordered_probabilities_keep_their_digits_far_in_the_upper_tail() -> None:
    """P(y = k) = expit(a) - expit(b) with a, b near 40: the naive difference is 0."""
    from scipy import special

    from trialkit.estimate.bayesian import kernels

    data, priors = _setup("ordered_logistic", "non_centred", "normal", cluster=False)
    buffer = density.pack(data, "ordered_logistic", priors, "non_centred")
    theta = np.zeros(int(buffer[13]))
    q = int(buffer[1])
    theta[q:] = [40.0, np.log(1.0), np.log(1.0), np.log(1.0)]  # cutpoints 40, 41, 42, 43
    _, value, grad = kernels.evaluate(density.FAMILY_CODE["ordered_logistic"], theta, buffer)
    cut = np.concatenate([[-np.inf], 40.0 + np.arange(4), [np.inf]])
    k = data.y.astype(int)
    p = special.expit(-cut[k]) - special.expit(-cut[k + 1])  # upper tails: exact here
    prior = -0.5 * ((40.0 + np.arange(4) - np.asarray(priors.cutpoint_mu)) / 2.5) ** 2
    effects = -0.5 * (0.31 / 0.83) ** 2 * data.T.shape[1]  # theta's effects are 0
    expected = np.log(p).sum() + prior.sum() + effects + float(buffer[8])
    assert np.isfinite(grad).all()
    assert value == pytest.approx(expected, rel=1e-12)


def test_kernels_compile_uncached_where_numba_cannot_cache() -> None:
    """A function numba has nowhere to cache (here: source without a file) still compiles."""
    from trialkit.estimate.bayesian import kernels

    namespace: dict[str, object] = {}
    exec("def plus_one(x):\n    return x + 1.0\n", namespace)
    assert kernels._jit(namespace["plus_one"])(1.0) == 2.0  # type: ignore[arg-type]


def test_installed_nutpie_takes_the_kernels() -> None:
    """Otherwise fits fall back silently to compiling PyTensor's graph (slow to compile):
    this fails so that a nutpie release renaming its compiled-model fields is noticed."""
    from trialkit.estimate.bayesian.compile import kernels_available

    assert kernels_available()


@pytest.mark.parametrize("cluster", [True, False])
@pytest.mark.parametrize(
    ("how", "effect"),
    [("non_centred", "normal"), ("non_centred", "student_t"), ("centred", "normal")],
)
def test_summarised_normal_rows_give_the_same_density_and_gradient(
    how: Parametrisation, effect: str, cluster: bool
) -> None:
    """A normal model evaluated from its rows' sufficient statistics (as large data are)
    has the row-by-row kernel's log density, gradient and variables at random points."""
    from trialkit.estimate.bayesian import kernels

    data, priors = _setup("normal", how, effect, cluster=cluster)
    rows = density.pack(data, "normal", priors, how, summarise=False)
    summary = density.pack(data, "normal", priors, how, summarise=True)
    assert summary.size < rows.size and summary[15] == data.n_obs and summary[0] == 0
    theta0 = density.initial_point(rows, data, "normal", priors, seed=3)
    rng = np.random.default_rng(11)
    for _ in range(6):
        theta = theta0 + 0.5 * rng.normal(size=theta0.size)
        status, value, grad = kernels.evaluate(0, theta, rows)
        status_s, value_s, grad_s = kernels.evaluate(0, theta, summary)
        assert status == status_s == 0
        assert value_s == pytest.approx(value, rel=1e-11, abs=1e-9)
        np.testing.assert_allclose(grad_s, grad, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(
            kernels.expand_values(theta, summary), kernels.expand_values(theta, rows), rtol=1e-15
        )


def test_large_normal_data_are_summarised_by_default() -> None:
    data, priors = _setup("normal", "non_centred", "normal")
    assert density.pack(data, "normal", priors, "non_centred")[15] == 0  # 90 rows
    big = FRAME.sample(density.SUMMARISE_ROWS, replace=True, random_state=1)
    large = prepare(big, "score", "arm", covariates=["x1"], cluster="team", family="normal")
    buffer = density.pack(large, "normal", priors_for(large), "non_centred")
    assert buffer[15] == density.SUMMARISE_ROWS and buffer.size < 1_000


def priors_for(data: DesignData) -> ModelPriors:
    prior = Prior(distribution="normal", mu=0.0, sigma=1.0)  # type: ignore[arg-type]
    return model_priors(data, "normal", prior, scale=1.0, scale_note="test", centre=10.0)


def _repeating(rows: int, seed: int = 4) -> pd.DataFrame:
    """Binary outcomes whose design rows repeat: arms, a binary covariate, blocks, teams."""
    rng = np.random.default_rng(seed)
    team = rng.integers(0, 40, rows)
    return pd.DataFrame(
        {
            "arm": np.array(["control", "a", "b"])[team % 3],
            "lives_alone": rng.integers(0, 2, rows),
            "team": team,
            "block": np.array(["n", "s"])[team % 2],
            "done": rng.integers(0, 2, rows),
        }
    )


@pytest.mark.parametrize("cluster", [True, False])
@pytest.mark.parametrize("how", ["non_centred", "centred"])
def test_binomial_cells_give_the_rows_density_and_gradient(
    how: Parametrisation, cluster: bool
) -> None:
    """A logistic model evaluated on its binomial cells (as large data whose rows repeat
    are) has the row-by-row kernel's log density, gradient and variables at random points:
    the same posterior."""
    from trialkit.estimate.bayesian import kernels

    frame = _repeating(3000)
    data = prepare(
        frame, "done", "arm", covariates=["lives_alone"], cluster="team" if cluster else None,
        blocks="block", family="logistic",
    )  # fmt: skip
    prior = Prior(distribution="normal", mu=0.2, sigma=0.9)  # type: ignore[arg-type]
    priors = model_priors(data, "logistic", prior, scale=1.0, scale_note="test", centre=0.0)
    rows = density.pack(data, "logistic", priors, how, cells=False)
    cells = density.pack(data, "logistic", priors, how, cells=True)
    assert cells[6] == density.BINOMIAL_CELLS and cells[0] < data.n_obs / 10
    theta0 = density.initial_point(rows, data, "logistic", priors, seed=3)
    rng = np.random.default_rng(12)
    for _ in range(6):
        theta = theta0 + 0.5 * rng.normal(size=theta0.size)
        status, value, grad = kernels.evaluate(2, theta, rows)
        status_c, value_c, grad_c = kernels.evaluate(density.BINOMIAL_CELLS, theta, cells)
        assert status == status_c == 0
        assert value_c == pytest.approx(value, rel=1e-11)
        np.testing.assert_allclose(grad_c, grad, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(
            kernels.expand_values(theta, cells), kernels.expand_values(theta, rows), rtol=1e-15
        )


def test_large_repeating_logistic_data_are_taken_by_cells_by_default() -> None:
    prior = Prior(distribution="normal", mu=0.0, sigma=1.0)  # type: ignore[arg-type]
    small = prepare(_repeating(900), "done", "arm", cluster="team", family="logistic")
    priors = model_priors(small, "logistic", prior, scale=1.0, scale_note="test", centre=0.0)
    assert density.pack(small, "logistic", priors, "non_centred")[6] == 2  # rows
    large = prepare(_repeating(density.SUMMARISE_ROWS), "done", "arm", covariates=["lives_alone"],
                    cluster="team", family="logistic")  # fmt: skip
    buffer = density.pack(large, "logistic", priors, "non_centred")
    assert buffer[6] == density.BINOMIAL_CELLS and buffer[0] <= 40 * 2
    # a continuous covariate: every row its own cell, so the rows are kept
    frame = _repeating(density.SUMMARISE_ROWS).assign(age=np.arange(density.SUMMARISE_ROWS) / 7)
    continuous = prepare(frame, "done", "arm", covariates=["age"], cluster="team",
                         family="logistic")  # fmt: skip
    assert density.pack(continuous, "logistic", priors, "non_centred")[6] == 2

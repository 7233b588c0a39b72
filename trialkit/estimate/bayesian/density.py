"""The PyMC model's log density as flat numbers for trialkit's compiled kernels (numpy only).

:mod:`.models` defines each model in PyMC. For sampling with nutpie, trialkit evaluates the
same log density (priors, likelihood and the Jacobians of PyMC's transforms, constants
included) and its gradient in fixed numba kernels (:mod:`.kernels`) instead of compiling
PyTensor's graph for every model: those kernels compile once per process whatever the data,
which takes a first fit from about 30 s to about 10 s with empty caches. The tests check
the kernels' log density and gradient against PyMC's own at random points, for every family,
with arms, covariates, blocks, periods and both cluster parametrisations.

Everything a kernel needs is packed into one float64 buffer (:func:`pack`); the unconstrained
parameter vector ``theta`` is laid out as::

    w (q: effects, slopes, block and period effects) | centred_intercept (not for ordered)
    | log cluster_sd, cluster_z or cluster_u (J, with clusters)
    | family: log sigma [, log nu] | cutpoints, ordered transform (K-1) | log inv_dispersion

and the kernel's expansion (the posterior draws nutpie stores) as :func:`variables` lists.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from .design import DesignData, Family
from .models import Parametrisation
from .priors import ModelPriors

FAMILY_CODE: dict[str, int] = {
    "normal": 0,
    "student_t": 1,
    "logistic": 2,
    "ordered_logistic": 3,
    "poisson": 4,
    "negative_binomial": 5,
}
HEADER = 16  # slots before the arrays; see pack()
#: The family code of a logistic model evaluated on its binomial cells (see :func:`pack`).
BINOMIAL_CELLS = 6
_LOG_2PI = float(np.log(2 * np.pi))


@dataclass(frozen=True, slots=True)
class Variable:
    """One posterior variable of the expansion: name, shape and dims (as in the PyMC model)."""

    name: str
    size: int
    dims: tuple[str, ...] = ()
    deterministic: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        """``()`` for a scalar, ``(size,)`` otherwise."""
        return (self.size,) if self.dims else ()


def _blocks(data: DesignData) -> list[tuple[str, np.ndarray, str]]:
    return [
        ("beta", data.T, "term"),
        ("gamma", data.X, "covariate"),
        ("block_effect", data.B, "block_dummy"),
        ("period_effect", data.P, "period_dummy"),
    ]


def _n_extra(family: Family, data: DesignData) -> int:
    k = len(data.categories)
    return {"normal": 1, "student_t": 2, "ordered_logistic": k - 1, "negative_binomial": 1}.get(
        family, 0
    )


def n_dim(data: DesignData, family: Family) -> int:
    """Length of the unconstrained parameter vector ``theta``."""
    q = sum(int(M.shape[1]) for _, M, _ in _blocks(data))
    clusters = 0 if data.n_clusters is None else 1 + data.n_clusters
    return int(q + (family != "ordered_logistic") + clusters + _n_extra(family, data))


def variables(data: DesignData, family: Family, how: Parametrisation) -> list[Variable]:
    """The posterior variables the kernel's expansion writes, in order."""
    out = [Variable(name, M.shape[1], (dim,)) for name, M, dim in _blocks(data) if M.shape[1]]
    if family != "ordered_logistic":
        out += [Variable("centred_intercept", 1), Variable("intercept", 1, deterministic=True)]
    if data.n_clusters is not None:
        name = "cluster_u" if how == "centred" else "cluster_z"
        out += [Variable("cluster_sd", 1), Variable(name, data.n_clusters, ("cluster",))]
    if family in ("normal", "student_t"):
        out.append(Variable("sigma", 1))
    if family == "student_t":
        out.append(Variable("nu", 1))
    if family == "ordered_logistic":
        k = len(data.categories) - 1
        out += [
            Variable("centred_cutpoints", k, ("cutpoint",)),
            Variable("cutpoints", k, ("cutpoint",), deterministic=True),
        ]
    if family == "negative_binomial":
        out.append(Variable("inv_dispersion", 1))
    return out


def _constant(data: DesignData, family: Family, priors: ModelPriors, sds: np.ndarray) -> float:
    """Log normalising constants that do not depend on the parameters."""
    eff = priors.effect
    k = data.T.shape[1]
    c = -0.5 * _LOG_2PI * (len(sds) - k) - float(np.log(sds[k:]).sum())
    if eff.distribution == "student_t":
        nu = eff.nu or 3.0
        c += k * float(
            special.gammaln((nu + 1) / 2)
            - special.gammaln(nu / 2)
            - 0.5 * np.log(nu * np.pi)
            - np.log(eff.sigma)
        )
    else:
        c += k * (-0.5 * _LOG_2PI - float(np.log(eff.sigma)))
    if family != "ordered_logistic":
        c += -0.5 * _LOG_2PI - float(np.log(priors.intercept_sigma))
    if data.n_clusters is not None:
        c += float(np.log(2.0)) - 0.5 * _LOG_2PI - float(np.log(priors.cluster_sd_sigma))
        c += -0.5 * _LOG_2PI * data.n_clusters
    n = data.n_obs
    if family in ("normal", "student_t"):
        c += -float(np.log(priors.scale))  # Exponential(1 / scale): log rate
    if family == "normal":
        c += -0.5 * _LOG_2PI * n
    elif family == "student_t":
        c += 2 * float(np.log(0.1)) - float(special.gammaln(2.0))  # nu ~ Gamma(2, 0.1)
    elif family == "ordered_logistic":
        c += (len(data.categories) - 1) * (-0.5 * _LOG_2PI - float(np.log(2.5)))
    elif family in ("poisson", "negative_binomial"):
        c += -float(special.gammaln(data.y + 1).sum())
    if family == "negative_binomial":
        c += float(np.log(2.0)) - 0.5 * _LOG_2PI  # inv_dispersion ~ HalfNormal(1)
    return float(c)


#: A normal model with at least this many rows is evaluated from sufficient statistics
#: (:func:`summarise_rows`): the same density, at a cost that no longer grows with the rows.
SUMMARISE_ROWS = 20_000


def summarise_rows(y: np.ndarray, Z: np.ndarray, cluster: np.ndarray | None, J: int) -> np.ndarray:
    """A normal likelihood's sufficient statistics, as the summarised kernel reads them.

    ``[y'y, 1'y, ybar, Z'y (q), Z'1 (q), Z'Z (q x q), C'y (J), C'1 (J), Z'C (q x J)]``,
    with ``y`` centred at ``ybar`` (the kernel shifts the intercept to match) and ``C`` the
    cluster indicators.
    """
    ybar = float(y.mean()) if y.size else 0.0
    yc = y - ybar
    parts = [np.array([yc @ yc, yc.sum(), ybar]), Z.T @ yc, Z.sum(axis=0), (Z.T @ Z).ravel()]
    if J > 0 and cluster is not None:
        codes = np.asarray(cluster, dtype=np.int64)
        cz = np.stack([np.bincount(codes, weights=Z[:, j], minlength=J) for j in range(Z.shape[1])])
        parts += [
            np.bincount(codes, weights=yc, minlength=J),
            np.bincount(codes, minlength=J).astype(float),
            cz.ravel(),
        ]
    return np.concatenate(parts)


def binomial_cells(
    y: np.ndarray, Z: np.ndarray, cluster: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The cells of a logistic model's rows: its distinct design rows within each cluster.

    Returns each cell's design row, cluster code, successes and trials (rows), cells in
    the order their first row comes; ``None`` when there are more than half as many cells
    as rows (a continuous covariate: nothing to gain). The rows' Bernoulli likelihood is
    the cells' binomial one without its constant, to the last bits of the sums.
    """
    n = y.size
    key, radix = np.zeros(n, dtype=np.int64), 1
    columns = [Z[:, j] for j in range(Z.shape[1])]
    if cluster is not None:
        columns.append(np.asarray(cluster))
    for column in columns:
        codes, uniques = pd.factorize(column)
        if len(uniques) > n // 2:
            return None
        if radix * len(uniques) >= 2**62:  # recode the cells so far before they overflow
            key, seen = pd.factorize(key)
            radix = len(seen)
        key = key * len(uniques) + codes
        radix *= len(uniques)
    cell, distinct = pd.factorize(key)
    if len(distinct) > n // 2:
        return None
    first = np.empty(len(distinct), dtype=np.int64)
    first[cell[::-1]] = np.arange(n - 1, -1, -1)  # each cell's first row
    trials = np.bincount(cell, minlength=len(distinct)).astype(float)
    successes = np.bincount(cell, weights=y, minlength=len(distinct))
    clusters = np.zeros(len(distinct)) if cluster is None else np.asarray(cluster, float)[first]
    return Z[first], clusters, successes, trials


def pack(
    data: DesignData,
    family: Family,
    priors: ModelPriors,
    how: Parametrisation,
    *,
    summarise: bool | None = None,
    cells: bool | None = None,
) -> np.ndarray:
    """Everything the kernels need, in one float64 buffer.

    Header (slot: meaning): 0 n, 1 q, 2 effects (leading columns of ``w`` with the effect
    prior), 3 clusters J (0: none), 4 centred clusters, 5 categories K (0: not ordered),
    6 family code, 7 effect prior's nu (0: normal), 8 log constants, 9-10 intercept prior
    mean and SD, 11 cluster SD prior scale, 12 sigma prior rate, 13 theta length,
    14 expansion length, 15 n when the rows are summarised (else 0). Then ``y`` (n), ``Z``
    (n x q, column by column), cluster codes (n), prior means (q), prior SDs (q), centring
    means (q), cutpoint prior means (K-1). A normal model summarises its rows (``summarise``;
    by default from :data:`SUMMARISE_ROWS` rows): slot 0 is then 0, the three row arrays are
    empty and :func:`summarise_rows`'s statistics follow the other arrays. A logistic model
    whose rows repeat is evaluated on its binomial cells (``cells``; by default from
    :data:`SUMMARISE_ROWS` rows, where :func:`binomial_cells` finds at most half as many
    cells): slot 6 is then :data:`BINOMIAL_CELLS`, slot 0 the number of cells, ``y`` their
    successes, ``Z`` and the cluster codes theirs, and their trials follow the other arrays.
    """
    Z = np.column_stack([M for _, M, _ in _blocks(data)])
    k, p = data.T.shape[1], data.X.shape[1]
    q = Z.shape[1]
    means = Z.mean(axis=0)
    means[k : k + p] = 0.0  # covariates are centred in design; not part of the shift
    Zc = Z - means
    mu = np.zeros(q)
    mu[:k] = priors.effect.mu
    sds = np.concatenate(
        [
            np.full(k, priors.effect.sigma),
            np.asarray(priors.slope_sigma, dtype=float),
            np.full(q - k - p, priors.fixed_sigma),
        ]
    )
    J = data.n_clusters or 0
    K = len(data.categories)
    header = np.zeros(HEADER)
    header[:15] = [
        data.n_obs,
        q,
        k,
        J,
        float(how == "centred"),
        K,
        FAMILY_CODE[family],
        (priors.effect.nu or 3.0) if priors.effect.distribution == "student_t" else 0.0,
        _constant(data, family, priors, sds),
        priors.intercept_mu,
        priors.intercept_sigma,
        priors.cluster_sd_sigma,
        1.0 / priors.scale,
        n_dim(data, family),
        sum(v.size for v in variables(data, family, how)),
    ]
    cluster = np.zeros(data.n_obs) if data.cluster_idx is None else data.cluster_idx
    cut_mu = np.asarray(priors.cutpoint_mu, dtype=float)
    y = data.y.astype(float)
    if summarise is None:
        summarise = family == "normal" and data.n_obs >= SUMMARISE_ROWS
    if summarise:
        if family != "normal":
            raise ValueError(f"only a normal likelihood is summarised, not {family}")
        header[0], header[15] = 0, data.n_obs
        summary = summarise_rows(y, Zc, data.cluster_idx, J)
        return np.ascontiguousarray(np.concatenate([header, mu, sds, means, cut_mu, summary]))
    if cells is None:
        cells = family == "logistic" and data.n_obs >= SUMMARISE_ROWS
    if cells:
        if family != "logistic":
            raise ValueError(f"only a logistic likelihood is taken by cells, not {family}")
        found = binomial_cells(y, Zc, data.cluster_idx)
        if found is not None:
            rows_z, codes, successes, trials = found
            header[0], header[6] = trials.size, BINOMIAL_CELLS
            arrays = [successes, rows_z.T.ravel(), codes, mu, sds, means, cut_mu, trials]
            return np.ascontiguousarray(np.concatenate([header, *arrays]))
    rows = [y, Zc.T.ravel(), np.asarray(cluster, dtype=float)]
    return np.ascontiguousarray(np.concatenate([header, *rows, mu, sds, means, cut_mu]))


def initial_point(
    buffer: np.ndarray, data: DesignData, family: Family, priors: ModelPriors, seed: int
) -> np.ndarray:
    """A starting point: prior centres, jittered by Uniform(-1, 1) as PyMC's default init."""
    theta = np.zeros(int(buffer[13]))
    theta[: data.T.shape[1]] = priors.effect.mu
    i = int(buffer[1])  # after the q coefficients
    if family != "ordered_logistic":
        theta[i] = priors.intercept_mu
        i += 1
    if data.n_clusters is not None:
        theta[i] = np.log(priors.cluster_sd_sigma * np.sqrt(2 / np.pi))
        i += 1 + data.n_clusters
    if family in ("normal", "student_t"):
        theta[i] = np.log(priors.scale)
    if family == "student_t":
        theta[i + 1] = np.log(20.0)  # the Gamma(2, 0.1) prior's mean
    if family == "ordered_logistic":
        cut = np.maximum.accumulate(np.asarray(priors.cutpoint_mu)) + 0.01 * np.arange(
            len(priors.cutpoint_mu)
        )
        theta[i] = cut[0]
        theta[i + 1 : i + len(cut)] = np.log(np.diff(cut))
    rng = np.random.default_rng(seed)
    return theta + rng.uniform(-1.0, 1.0, theta.size)

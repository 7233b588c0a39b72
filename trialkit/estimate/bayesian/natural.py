"""Natural-unit effects from link-scale posteriors (numpy, after sampling).

For link-scale families each posterior draw gives every unit's linear predictor without
treatment (``base``: intercept, covariates, blocks, periods and its cluster's intercept).
Setting each unit to arm ``k`` in turn and averaging over the trial's own units gives the
sample-average effect in natural units (g-computation):

* logistic: ``risk_difference = mean_i[σ(base_i + β_k) − σ(base_i)]``;
* ordered logistic: ``mean_difference`` of expected category values, with
  ``E[Y | η] = v_0 + Σ_c (v_{c+1} − v_c) σ(η − cut_c)``;
* Poisson / negative binomial: ``rate_ratio = exp(β_k)`` and
  ``rate_difference = mean_i[exp(base_i) (exp(β_k) − 1)]``.

Computed here rather than inside the PyMC model, so the sampler's graph (and its compile
time) stays minimal; draws are processed in chunks to bound memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from .design import DesignData, Family

_CHUNK = 256


def _flat(posterior: Any, name: str, width: int) -> np.ndarray:
    """Posterior draws of ``name`` as ``(chain * draw, width)``; zeros if absent."""
    if name not in posterior or width == 0:
        n = posterior.sizes["chain"] * posterior.sizes["draw"]
        return np.zeros((n, width))
    values = np.asarray(posterior[name].values, dtype=float)
    return values.reshape(values.shape[0] * values.shape[1], width)


def _base(posterior: Any, data: DesignData, sl: slice) -> np.ndarray:
    """``(draws in sl, n)`` linear predictor without treatment."""
    base = _flat(posterior, "gamma", data.X.shape[1])[sl] @ data.X.T
    base += _flat(posterior, "block_effect", data.B.shape[1])[sl] @ data.B.T
    base += _flat(posterior, "period_effect", data.P.shape[1])[sl] @ data.P.T
    if "intercept" in posterior:
        base += _flat(posterior, "intercept", 1)[sl]
    if data.cluster_idx is not None and data.n_clusters is not None:
        if "cluster_z" in posterior:
            u = _flat(posterior, "cluster_z", data.n_clusters) * _flat(posterior, "cluster_sd", 1)
        else:
            u = _flat(posterior, "cluster_u", data.n_clusters)
        base += u[sl][:, data.cluster_idx]
    return np.asarray(base)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(special.expit(x))


def _expected_category(eta: np.ndarray, cut: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``E[Y]`` up to the constant ``v_0``; ``eta`` (d, n), ``cut`` (d, K-1)."""
    return np.asarray((_sigmoid(eta[..., None] - cut[:, None, :]) * steps).sum(axis=-1))


def natural_effects(posterior: Any, data: DesignData, family: Family) -> dict[str, np.ndarray]:
    """Natural-unit effect draws, each shaped ``(chain, draw, term)``.

    Returns an empty dict for ``normal`` and ``student_t`` (``beta`` is already natural).
    """
    if family in ("normal", "student_t"):
        return {}
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    k = len(data.terms)
    beta = _flat(posterior, "beta", k)
    out = np.empty((chains * draws, k))
    cut = _flat(posterior, "cutpoints", max(len(data.categories) - 1, 0))
    steps = np.diff(np.asarray(data.categories, dtype=float))
    for start in range(0, chains * draws, _CHUNK):
        sl = slice(start, min(start + _CHUNK, chains * draws))
        base = _base(posterior, data, sl)
        for j in range(k):
            treated = base + beta[sl, j : j + 1]
            if family == "logistic":
                diff = _sigmoid(treated) - _sigmoid(base)
            elif family == "ordered_logistic":
                diff = _expected_category(treated, cut[sl], steps) - _expected_category(
                    base, cut[sl], steps
                )
            else:
                diff = np.exp(base) * (np.exp(beta[sl, j : j + 1]) - 1.0)
            out[sl, j] = diff.mean(axis=1)
    shaped = out.reshape(chains, draws, k)
    if family == "logistic":
        return {"risk_difference": shaped}
    if family == "ordered_logistic":
        return {"mean_difference": shaped}
    return {"rate_ratio": np.exp(beta).reshape(chains, draws, k), "rate_difference": shaped}

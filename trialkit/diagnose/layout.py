"""The plan's design matrices for simulated draws, laid out by analysis cluster.

``x`` is ``(S, G, m, k)``: simulation, cluster of the analysis, slot within the cluster,
column. Columns are what the plan's estimator builds: ``[1, T, Z]`` for ``ols`` or
``[1, T, Zc, T Zc]`` for ``lin``, with ``Z`` the covariates (baseline included) and block
indicators, covariates that do not vary dropped; unobserved slots are zero.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from trialkit.diagnose.generate import (
    Draw,
    FloatArray,
    IntArray,
    SimulationDesign,
    draw_outcome,
)
from trialkit.estimate.frequentist.plan_estimators import RegressionModel, plan_estimator
from trialkit.protocol.outcomes import Outcome


def simulate_outcome(
    design: SimulationDesign, outcome: Outcome, arms: IntArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Draw ``outcome`` for each assignment and build the plan's design matrices.

    Parameters
    ----------
    design
        The compiled design variant.
    outcome
        The outcome (with assumptions) to simulate.
    arms
        ``(S, n_units)`` arm indices (the protocol's arm order), one row per simulation.
    rng
        Generator for the outcome data.

    Returns
    -------
    tuple
        ``x (S, G, m, k)``, ``y (S, G, m)`` and ``mask (S, G, m)`` (see
        :func:`design_arrays`).
    """
    return design_arrays(design, draw_outcome(design, outcome, arms, rng))


def design_arrays(
    design: SimulationDesign, draw: Draw
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """The plan's design matrices for a draw, grouped by analysis cluster.

    Returns ``x (S, G, m, k)``, ``y (S, G, m)`` and ``mask (S, G, m)``, zero where not
    observed; column 1 of ``x`` is the treatment indicator.
    """
    p = design.protocol
    s, n, m = draw.y.shape
    control = next(i for i, arm in enumerate(p.arms) if arm.control)
    t = np.broadcast_to((draw.arms != control)[..., None], (s, n, m)).astype(np.float64)
    z = list(draw.covariates.values())
    if design.blocks is not None:
        z += [
            np.broadcast_to((design.blocks == b)[None, :, None], (s, n, m)).astype(float)
            for b in range(1, int(design.blocks.max()) + 1)
        ]
    x = _matrix(plan_estimator(p.analysis.frequentist.estimator).refit, t, z, draw.mask)
    return _by_cluster(design, x, draw.y, draw.mask)


def _matrix(
    model: RegressionModel, t: FloatArray, z: list[FloatArray], mask: NDArray[np.bool_]
) -> FloatArray:
    """``[1, T, Z]`` (ols) or ``[1, T, Zc, T Zc]`` (lin), zero on unobserved rows."""
    s, n, m = t.shape
    p = len(z)
    lin = model == "lin"
    x = np.empty((s, n * m, 2 + p * (2 if lin else 1)))
    x[..., 0] = 1.0
    x[..., 1] = t.reshape(s, -1)
    flat = mask.reshape(s, -1)
    count = np.maximum(flat.sum(axis=1), 1)
    for j, column in enumerate(z):
        values = column.reshape(s, -1)
        high = np.where(flat, values, -np.inf).max(axis=1)
        low = np.where(flat, values, np.inf).min(axis=1)
        centre = np.einsum("sr,sr->s", values, flat) / count if lin else 0.0
        # the plan drops covariates that do not vary in the analysed rows
        keep = (high > low).astype(np.float64)[:, None]
        x[..., 2 + j] = (values - np.asarray(centre)[..., None]) * keep
        if lin:
            np.multiply(x[..., 2 + j], x[..., 1], out=x[..., 2 + p + j])
    x *= flat[..., None]
    return x.reshape(s, n, m, -1)


def _by_cluster(
    design: SimulationDesign, x: FloatArray, y: FloatArray, mask: NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Regroup unit slots ``(S, n, m)`` into analysis clusters ``(S, G, u m)``."""
    codes = design.clusters
    if np.array_equal(codes, np.arange(len(codes))):
        return x, y, mask
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    width = int(counts.max())
    slot = np.arange(len(codes)) - np.repeat(np.cumsum(counts) - counts, counts)
    index = np.full((len(counts), width), -1)
    index[codes[order], slot] = order
    s, _, m, k = x.shape
    pad = index < 0
    take = np.where(pad, 0, index)
    xg = np.where(pad[None, :, :, None, None], 0.0, x[:, take]).reshape(
        s, len(counts), width * m, k
    )
    yg = np.where(pad[None, :, :, None], 0.0, y[:, take]).reshape(s, len(counts), width * m)
    mg = np.where(pad[None, :, :, None], False, mask[:, take]).reshape(s, len(counts), width * m)
    return xg, yg, mg

"""The plan's design matrices for simulated draws, as each simulation's observed rows.

Each simulation's observed rows are laid out one after another, grouped by analysis
cluster (ascending), and the simulations are stacked: ``x`` is ``(S, R, k)`` with ``R``
the most observed rows of any simulation; the rows after a simulation's own are zero with
``mask`` False (padding changes nothing: no leverage, no residual, no score). Draws come
as a grid of every unit's largest possible size (``(S, n, m)``, most slots empty), so
keeping only observed rows is what keeps the batched fit's work near the data's size.
Columns are what the plan's estimator builds: ``[1, T, Z]`` for ``ols`` or
``[1, T, Zc, T Zc]`` for ``lin``, with ``Z`` the covariates (baseline included) and block
indicators, covariates that do not vary dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

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

#: The most padding one batched fit carries: simulations are fitted in groups of similar
#: size so that at most this share of the rows fitted are padding.
MAX_PADDING = 0.2


@dataclass(frozen=True, slots=True, eq=False)
class ObservedRows:
    """Each simulation's observed rows, grouped by analysis cluster.

    Attributes
    ----------
    x
        ``(S, R, k)`` design matrices; column 1 is the treatment indicator.
    y
        ``(S, R)`` outcomes.
    mask
        ``(S, R)``: which rows are observed (the first ones of each simulation).
    cluster
        ``(S, R)`` analysis cluster code of each row, ascending within a simulation.
    clusters
        Number of analysis clusters ``G``.
    """

    x: FloatArray
    y: FloatArray
    mask: NDArray[np.bool_]
    cluster: IntArray
    clusters: int

    @property
    def padding(self) -> float:
        """Share of the ``S x R`` rows that are padding (not an observed row)."""
        return 1.0 - float(self.mask.mean()) if self.mask.size else 0.0

    def groups(self, max_padding: float = MAX_PADDING) -> Iterator[tuple[IntArray, ObservedRows]]:
        """The simulations in groups of similar size, each padded by at most ``max_padding``.

        Yields each group's simulation indexes and its rows, cut to its largest simulation
        (largest first); all simulations at once, without a copy, where that is enough.
        """
        count = self.mask.sum(axis=1)
        order = np.argsort(-count, kind="stable")
        start = 0
        while start < len(order):
            width = max(int(count[order[start]]), 1)
            stop = start
            total = 0
            while stop < len(order):
                grown = total + int(count[order[stop]])
                if stop > start and grown < (1.0 - max_padding) * (stop - start + 1) * width:
                    break
                total, stop = grown, stop + 1
            if start == 0 and stop == len(order):
                yield np.arange(len(order)), self
                return
            pick = order[start:stop]
            yield (
                pick,
                ObservedRows(
                    self.x[pick, :width],
                    self.y[pick, :width],
                    self.mask[pick, :width],
                    self.cluster[pick, :width],
                    self.clusters,
                ),
            )
            start = stop


def simulate_outcome(
    design: SimulationDesign, outcome: Outcome, arms: IntArray, rng: np.random.Generator
) -> ObservedRows:
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
    ObservedRows
        The observed rows of every simulation (see :func:`design_arrays`).
    """
    return design_arrays(design, draw_outcome(design, outcome, arms, rng))


def design_arrays(design: SimulationDesign, draw: Draw) -> ObservedRows:
    """The plan's design matrices for a draw's observed rows, grouped by analysis cluster."""
    p = design.protocol
    s, n, m = draw.y.shape
    control = next(i for i, arm in enumerate(p.arms) if arm.control)
    order = np.argsort(design.clusters, kind="stable")  # units grouped by cluster
    # Every slot observed and the units in cluster order already (an individually
    # randomised trial without attrition): the rows are the slots as they are.
    as_drawn = bool(draw.mask.all()) and bool(np.all(order == np.arange(n)))
    flat = draw.mask.reshape(s, n * m) if as_drawn else draw.mask[:, order].reshape(s, n * m)
    count = flat.sum(axis=1)
    width = max(int(count.max()), 1)
    # each simulation's observed slots first, in cluster order
    take = (
        np.broadcast_to(np.arange(n * m), (s, n * m))
        if as_drawn
        else np.argsort(~flat, axis=1, kind="stable")[:, :width]
    )
    mask = np.arange(width)[None, :] < count[:, None]

    def rows(values: NDArray[np.generic]) -> FloatArray:
        grid = np.broadcast_to(values, (s, n, m))
        if as_drawn:
            return np.array(grid.reshape(s, n * m), dtype=np.float64)
        grid = grid[:, order].reshape(s, n * m)
        return np.asarray(np.take_along_axis(grid, take, axis=1), dtype=np.float64)

    t = rows(draw.arms[..., None] != control)
    z = [rows(c) for c in draw.covariates.values()]
    if design.blocks is not None:
        z += [
            rows((design.blocks == b)[None, :, None])
            for b in range(1, int(design.blocks.max()) + 1)
        ]
    x = _matrix(plan_estimator(p.analysis.frequentist.estimator).refit, t, z, mask)
    g = int(design.clusters.max()) + 1
    cluster = np.where(mask, design.clusters[order][take // m], g - 1)
    return ObservedRows(x, np.where(mask, rows(draw.y), 0.0), mask, cluster, g)


def _matrix(
    model: RegressionModel, t: FloatArray, z: list[FloatArray], mask: NDArray[np.bool_]
) -> FloatArray:
    """``[1, T, Z]`` (ols) or ``[1, T, Zc, T Zc]`` (lin), zero on rows not observed."""
    p = len(z)
    lin = model == "lin"
    x = np.empty((*t.shape, 2 + p * (2 if lin else 1)))
    x[..., 0] = 1.0
    x[..., 1] = t
    count = np.maximum(mask.sum(axis=1), 1)
    full = bool(mask.all())  # every row observed: nothing to leave out or zero
    for j, values in enumerate(z):
        high = (values if full else np.where(mask, values, -np.inf)).max(axis=1)
        low = (values if full else np.where(mask, values, np.inf)).min(axis=1)
        centre = np.einsum("sr,sr->s", values, mask) / count if lin else 0.0
        # the plan drops covariates that do not vary in the analysed rows
        keep = (high > low).astype(np.float64)[:, None]
        x[..., 2 + j] = (values - np.asarray(centre)[..., None]) * keep
        if lin:
            np.multiply(x[..., 2 + j], x[..., 1], out=x[..., 2 + p + j])
    if not full:
        x *= mask[..., None]
    return x

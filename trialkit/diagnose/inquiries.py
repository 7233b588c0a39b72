"""Estimands of each simulated data set, computed from its potential outcomes.

DeclareDesign's inquiries: every simulated row carries both potential outcomes on the
observed scale (after rounding and clipping, :func:`~trialkit.diagnose.generate.draw_outcome`),
so the true effect of a simulation is known exactly, whatever the outcome's type. With
``Y_i(0)``, ``Y_i(1)`` a row's outcomes without and with the intervention, ``C_u`` whether
its unit takes the intervention up when offered (everyone, unless the protocol declares
non-compliance) and ``R`` the rows of the population (before attrition, which is at
random):

* ITT (intention to treat): ``mean_{i in R} C_u(i) (Y_i(1) - Y_i(0))``: offering the
  intervention changes only the outcomes of units that take it up (exclusion restriction).
* CACE (complier average causal effect): ``mean_{i in R, C_u(i)} (Y_i(1) - Y_i(0))``.

For a count analysed as a rate per unit of exposure the means are ratios of sums, the sum
of the differences over the rows' total exposure, as the plan's ratio-of-means rates are.
Every treated arm gets the same declared effect, so a multi-arm design's arms share them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from trialkit.diagnose.generate import Draw, FloatArray

#: Key suffix of the complier average causal effect inquiry of an outcome.
CACE = ":cace"


def itt_estimand(draw: Draw) -> FloatArray:
    """The ITT of each simulation in ``draw``: ``(S,)``."""
    gain, exists = _gain(draw)
    if draw.complier is not None:
        gain = gain * draw.complier[..., None]
    return _mean(gain, exists, draw.exposure)


def cace_estimand(draw: Draw) -> FloatArray:
    """The CACE of each simulation in ``draw``: ``(S,)`` (the ITT when all comply)."""
    gain, exists = _gain(draw)
    if draw.complier is not None:
        exists = exists & draw.complier[..., None]
    return _mean(gain, exists, draw.exposure)


def _gain(draw: Draw) -> tuple[FloatArray, NDArray[np.bool_]]:
    if draw.y0 is None or draw.y1 is None or draw.exists is None:
        raise ValueError("The draw carries no potential outcomes.")
    return draw.y1 - draw.y0, draw.exists


def _mean(gain: FloatArray, where: NDArray[np.bool_], exposure: FloatArray | None) -> FloatArray:
    weight = where if exposure is None else where * exposure
    total = np.where(where, gain, 0.0).sum(axis=(1, 2))
    size = np.asarray(weight, dtype=np.float64).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(size > 0, total / np.maximum(size, 1e-300), np.nan))

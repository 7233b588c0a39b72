"""Compiled kernels for randomisation inference: sums of ``G`` over assignments.

:func:`rule_sums` draws count-rule assignments (the sampler in :mod:`.sampler`, fed by
the PCG64 streams of :mod:`.pcg64`: a draw depends on the seed and its index only,
never on how many threads run) and adds each randomisation unit's precomputed row
``G[r, arm]`` into the sums of the arm's dummy, so memory is ``O(units + draws)``.
:func:`table_sums` does the same over given assignments (exact enumeration).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import prange
from numpy.typing import NDArray

from trialkit.estimate.frequentist.ri.pcg64 import chunk_states
from trialkit.estimate.frequentist.ri.sampler import rule_sums_kernel


def _table_sums_impl(table: Any, G: Any, g_arm: Any, dummy_of: Any, n_dummies: Any) -> Any:
    width = G.shape[2]
    out = np.zeros((table.shape[0], n_dummies, width))
    for d in prange(table.shape[0]):
        for r in range(table.shape[1]):
            arm = table[d, r]
            dj = dummy_of[arm]
            if dj >= 0:
                ga = g_arm[arm]
                for w in range(width):
                    out[d, dj, w] += G[r, ga, w]
    return out


_table_sums: Any = numba.njit(cache=True, nogil=True, parallel=True)(_table_sums_impl)


def rule_sums(
    seed: int,
    n_draws: int,
    *,
    strata: NDArray[np.int64],
    floors: NDArray[np.int64],
    cum: NDArray[np.int64],
    total: int,
    arm_order: NDArray[np.int64],
    G: NDArray[np.float64],
    g_arm: NDArray[np.int64],
    dummy_of: NDArray[np.int64],
    n_dummies: int,
    boundary: int = 0,
) -> NDArray[np.float64]:
    """Sums ``(n_draws, n_dummies, width + 2)`` of ``G`` over count-rule draws.

    Parameters
    ----------
    seed
        Seed of the draws; chunk ``c`` uses ``SeedSequence(seed, spawn_key=(c,))``.
    n_draws
        Number of assignments to draw.
    strata
        Stratum code of each randomisation unit.
    floors, cum, total
        The count rule's floors ``(S, K)``, cumulative remainders ``(S, K + 1)`` and the
        sum of the ratios ``W``.
    arm_order
        Order in which arms take shuffled positions; the last arm's units are never
        visited when its dummy is ``-1`` (the control arm), which halves the work.
    G
        ``(units, L, width)``: what unit ``r`` adds to its arm's dummy when given arm ``k``
        is ``G[r, g_arm[k]]`` (``L = 1`` unless the contribution depends on the arm, as in
        a stepped wedge, where it counts only the rows exposed from that step on).
    g_arm
        Layer of ``G`` of each arm.
    dummy_of
        Dummy index of each arm, ``-1`` for none.
    n_dummies
        Number of dummies.
    boundary
        The last two output columns count, per dummy, the units given its arms and those
        among them numbered below ``boundary`` (units observed in treatment, when they
        are numbered first), so those sums need no memory of their own.
    """
    if len(strata) >= 2**31:
        raise ValueError("the compiled sampler handles fewer than 2³¹ randomisation units")
    order = np.argsort(strata, kind="stable").astype(np.int32)
    offsets = np.searchsorted(strata[order], np.arange(floors.shape[0] + 1)).astype(np.int64)
    out: NDArray[np.float64] = rule_sums_kernel(
        chunk_states(seed, n_draws),
        n_draws,
        order,
        offsets,
        floors,
        cum,
        np.int64(total),
        arm_order.astype(np.int64),
        np.ascontiguousarray(G, dtype=np.float64),
        g_arm.astype(np.int64),
        dummy_of.astype(np.int64),
        n_dummies,
        np.int64(boundary),
    )
    return out


def table_sums(
    table: NDArray[np.int64],
    G: NDArray[np.float64],
    g_arm: NDArray[np.int64],
    dummy_of: NDArray[np.int64],
    n_dummies: int,
) -> NDArray[np.float64]:
    """Sums ``(n, n_dummies, width)`` of ``G`` over given assignments ``table (n, units)``."""
    out: NDArray[np.float64] = _table_sums(
        np.ascontiguousarray(table, dtype=np.int64),
        np.ascontiguousarray(G, dtype=np.float64),
        g_arm.astype(np.int64),
        dummy_of.astype(np.int64),
        n_dummies,
    )
    return out

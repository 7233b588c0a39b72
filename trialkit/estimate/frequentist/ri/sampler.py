"""Compiled count-rule sampler for randomisation inference: draws straight into sums.

Per stratum, arm counts come from one raw word ``u = word mod W`` by the systematic-sampling
rule that :mod:`trialkit.randomise._counts` documents, then a uniformly random arrangement
with those counts (a partial Fisher–Yates shuffle). Instead of storing the assignment, each
randomisation unit's precomputed row ``G[r, arm]`` is added into the sums of the arm's dummy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from numba import prange

from trialkit.estimate.frequentist.ri.pcg64 import CHUNK, bounded32, step

_jit = numba.njit(cache=True, nogil=True)


def _count_draw_impl(
    hi: Any, lo: Any, ihi: Any, ilo: Any, s: Any, floors: Any, cum: Any, total: Any, counts: Any
) -> Any:
    """Arm counts of stratum ``s`` from one raw word (``_counts.counts``, one stratum)."""
    hi, lo, word = step(hi, lo, ihi, ilo)
    u = np.int64(word % np.uint64(total))
    prev = -((u - cum[s, 0]) // total)
    for k in range(floors.shape[1]):
        nxt = -((u - cum[s, k + 1]) // total)
        counts[k] = floors[s, k] + nxt - prev
        prev = nxt
    return hi, lo


_count_draw: Any = _jit(_count_draw_impl)


def _add_values_impl(
    out: Any, d: Any, dj: Any, pos: Any, stop: Any, shuffled: Any, flags: Any
) -> Any:
    """Add the shuffled values at ``pos … stop − 1`` into draw ``d``'s sums of dummy ``dj``;
    return how many are flagged (numbered below the boundary)."""
    acc, below = 0.0, 0
    for i in range(pos, stop):
        acc += shuffled[i]
        below += flags[i]
    out[d, dj, 0] += acc
    return below


def _add_units_impl(
    out: Any, d: Any, dj: Any, pos: Any, stop: Any, work: Any, G: Any, layer: Any, boundary: Any
) -> Any:
    """Add the rows ``G[r, layer]`` of the units ``r`` at ``pos … stop − 1`` into draw
    ``d``'s sums of dummy ``dj``; return how many are numbered below ``boundary``."""
    below = 0
    for i in range(pos, stop):
        r = work[i]
        below += r < boundary
        for w in range(G.shape[2]):
            out[d, dj, w] += G[r, layer, w]
    return below


# Inlined where called: each build of the chunk kernel keeps only the branch it takes.
_inline = numba.njit(cache=True, nogil=True, inline="always")
_add_values: Any = _inline(_add_values_impl)
_add_units: Any = _inline(_add_units_impl)


def _chunk_kernel(by_value: bool) -> Callable[..., None]:
    """The draws of one stream; ``by_value`` is fixed when compiled (one kernel, two builds).

    By unit (``by_value=False``) the units' numbers are shuffled and each selected unit's
    row ``G[r, g_arm[arm]]`` is read. By value (one layer of one column) the values
    themselves are shuffled, with the flags ``unit < boundary`` beside them, so the
    selected values lie side by side and are read without scattered loads. Both make the
    same draws (the same stream, counts and swaps) and write the same sums
    ``[Σ G…, count, below]``.
    """

    def chunk(
        out: Any,
        d0: Any,
        d1: Any,
        state: Any,
        members: Any,
        offsets: Any,
        floors: Any,
        cum: Any,
        total: Any,
        arm_order: Any,
        G: Any,
        values: Any,
        g_arm: Any,
        dummy_of: Any,
        boundary: Any,
    ) -> None:
        n_arms, width = floors.shape[1], G.shape[2]
        hi, lo, ihi, ilo = state[0], state[1], state[2], state[3]
        buf, full = np.uint64(0), False
        work = members[:0].copy() if by_value else members.copy()
        shuffled = values[members] if by_value else values[:0].copy()
        flags = (members < boundary).astype(np.int8) if by_value else np.empty(0, np.int8)
        counts = np.empty(n_arms, dtype=np.int64)
        for d in range(d0, d1):
            for s in range(offsets.shape[0] - 1):
                hi, lo = _count_draw(hi, lo, ihi, ilo, s, floors, cum, total, counts)
                first, n_s = offsets[s], offsets[s + 1] - offsets[s]
                for i in range(n_s - counts[arm_order[n_arms - 1]]):
                    hi, lo, buf, full, j = bounded32(
                        hi, lo, ihi, ilo, buf, full, np.uint64(n_s - i)
                    )
                    a, b = first + i, first + i + np.int64(j)
                    if by_value:
                        shuffled[a], shuffled[b] = shuffled[b], shuffled[a]
                        if boundary > 0:  # flags are only needed for a sharp null or an interval
                            flags[a], flags[b] = flags[b], flags[a]
                    else:
                        work[a], work[b] = work[b], work[a]
                pos = first
                for q in range(n_arms):
                    arm = arm_order[q]
                    dj, stop = dummy_of[arm], pos + counts[arm]
                    if dj >= 0:
                        if by_value:
                            below = _add_values(out, d, dj, pos, stop, shuffled, flags)
                        else:
                            below = _add_units(out, d, dj, pos, stop, work, G, g_arm[arm], boundary)
                        out[d, dj, width] += counts[arm]
                        out[d, dj, width + 1] += below
                    pos = stop

    return chunk


_chunk_by_unit: Any = _jit(_chunk_kernel(by_value=False))
_chunk_by_value: Any = _jit(_chunk_kernel(by_value=True))


def _rule_sums_impl(
    states: Any,
    n_draws: Any,
    members: Any,
    offsets: Any,
    floors: Any,
    cum: Any,
    total: Any,
    arm_order: Any,
    G: Any,
    g_arm: Any,
    dummy_of: Any,
    n_dummies: Any,
    boundary: Any,
) -> Any:
    out = np.zeros((n_draws, n_dummies, G.shape[2] + 2))
    by_value = G.shape[1] == 1 and G.shape[2] == 1
    values = np.ascontiguousarray(G[:, 0, 0])
    for c in prange(states.shape[0]):
        d0, d1 = c * CHUNK, min((c + 1) * CHUNK, n_draws)
        args = (members, offsets, floors, cum, total, arm_order, G, values, g_arm, dummy_of)
        if by_value:
            _chunk_by_value(out, d0, d1, states[c], *args, boundary)
        else:
            _chunk_by_unit(out, d0, d1, states[c], *args, boundary)
    return out


#: Sums ``(n_draws, n_dummies, width + 2)`` of ``G`` over count-rule draws (see
#: :func:`trialkit.estimate.frequentist.ri.kernels.rule_sums`).
rule_sums_kernel: Any = numba.njit(cache=True, nogil=True, parallel=True)(_rule_sums_impl)

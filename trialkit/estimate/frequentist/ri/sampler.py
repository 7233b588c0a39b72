"""Compiled count-rule sampler for randomisation inference: draws straight into sums.

Per stratum, arm counts come from one raw word ``u = word mod W`` by the systematic-sampling
rule that :mod:`trialkit.randomise._counts` documents, then a uniformly random arrangement
with those counts (a partial Fisher–Yates shuffle). Instead of storing the assignment, each
randomisation unit's precomputed row ``G[r, arm]`` is added into the sums of the arm's dummy.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numba import prange

from trialkit.estimate.frequentist.ri_pcg64 import CHUNK, _bounded32, _step

_jit = numba.njit(cache=True, nogil=True)


def _count_draw(
    hi: Any, lo: Any, ihi: Any, ilo: Any, s: Any, floors: Any, cum: Any, total: Any, counts: Any
) -> Any:
    """Arm counts of stratum ``s`` from one raw word (``_counts.counts``, one stratum)."""
    hi, lo, word = _step(hi, lo, ihi, ilo)
    u = np.int64(word % np.uint64(total))
    prev = -((u - cum[s, 0]) // total)
    for k in range(floors.shape[1]):
        nxt = -((u - cum[s, k + 1]) // total)
        counts[k] = floors[s, k] + nxt - prev
        prev = nxt
    return hi, lo


_count_draw_j: Any = _jit(_count_draw)


def _chunk_impl(
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
    g_arm: Any,
    dummy_of: Any,
    boundary: Any,
) -> None:
    """Draws ``d0 … d1 − 1`` from one stream (a plain function: LLVM optimises it fully)."""
    n_arms, width = floors.shape[1], G.shape[2]
    hi, lo, ihi, ilo = state[0], state[1], state[2], state[3]
    buf, full = np.uint64(0), False
    work = members.copy()
    counts = np.empty(n_arms, dtype=np.int64)
    for d in range(d0, d1):
        for s in range(offsets.shape[0] - 1):
            hi, lo = _count_draw_j(hi, lo, ihi, ilo, s, floors, cum, total, counts)
            first, n_s = offsets[s], offsets[s + 1] - offsets[s]
            for i in range(n_s - counts[arm_order[n_arms - 1]]):
                hi, lo, buf, full, j = _bounded32(hi, lo, ihi, ilo, buf, full, np.uint64(n_s - i))
                a, b = first + i, first + i + np.int64(j)
                work[a], work[b] = work[b], work[a]
            pos = first
            for q in range(n_arms):
                arm = arm_order[q]
                dj, ga, stop = dummy_of[arm], g_arm[arm], pos + counts[arm]
                if dj >= 0:
                    below = 0
                    for i in range(pos, stop):
                        r = work[i]
                        below += r < boundary
                        for w in range(width):
                            out[d, dj, w] += G[r, ga, w]
                    out[d, dj, width] += counts[arm]
                    out[d, dj, width + 1] += below
                pos = stop


_chunk: Any = _jit(_chunk_impl)


def _chunk_values_impl(
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
    values: Any,
    dummy_of: Any,
    boundary: Any,
) -> None:
    """As :func:`_chunk_impl` for one column per unit, shuffling the values themselves.

    The same draws (the same stream, counts and swaps), but the selected values then lie
    side by side, so no scattered reads; the flags ``unit < boundary`` move with them.
    """
    n_arms = floors.shape[1]
    hi, lo, ihi, ilo = state[0], state[1], state[2], state[3]
    buf, full = np.uint64(0), False
    wv = values[members]
    wf = (members < boundary).astype(np.int8)
    counts = np.empty(n_arms, dtype=np.int64)
    for d in range(d0, d1):
        for s in range(offsets.shape[0] - 1):
            hi, lo = _count_draw_j(hi, lo, ihi, ilo, s, floors, cum, total, counts)
            first, n_s = offsets[s], offsets[s + 1] - offsets[s]
            for i in range(n_s - counts[arm_order[n_arms - 1]]):
                hi, lo, buf, full, j = _bounded32(hi, lo, ihi, ilo, buf, full, np.uint64(n_s - i))
                a, b = first + i, first + i + np.int64(j)
                wv[a], wv[b] = wv[b], wv[a]
                if boundary > 0:  # flags are only needed for a sharp null or an interval
                    wf[a], wf[b] = wf[b], wf[a]
            pos = first
            for q in range(n_arms):
                arm = arm_order[q]
                dj, stop = dummy_of[arm], pos + counts[arm]
                if dj >= 0:
                    acc, below = 0.0, 0
                    for i in range(pos, stop):
                        acc += wv[i]
                        below += wf[i]
                    out[d, dj, 0] += acc
                    out[d, dj, 1] += counts[arm]
                    out[d, dj, 2] += below
                pos = stop


_chunk_values: Any = _jit(_chunk_values_impl)


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
        if by_value:
            _chunk_values(
                out,
                d0,
                d1,
                states[c],
                members,
                offsets,
                floors,
                cum,
                total,
                arm_order,
                values,
                dummy_of,
                boundary,
            )
        else:
            _chunk(
                out,
                d0,
                d1,
                states[c],
                members,
                offsets,
                floors,
                cum,
                total,
                arm_order,
                G,
                g_arm,
                dummy_of,
                boundary,
            )
    return out


_rule_sums: Any = numba.njit(cache=True, nogil=True, parallel=True)(_rule_sums_impl)

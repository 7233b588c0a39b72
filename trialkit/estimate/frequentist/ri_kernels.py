"""Compiled kernels for randomisation inference: PCG64 streams, count-rule draws, sums.

Randomness comes from PCG64 (O'Neill 2014) implemented here bit for bit as NumPy's
``PCG64``: every chunk of :data:`CHUNK` draws gets its own stream,
``PCG64(SeedSequence(seed, spawn_key=(chunk,)))``, so a draw depends on the seed and its
index only, never on how many threads run the chunks. Uniform integers on ``[0, s)`` use
Lemire's (2019) multiply-and-reject method, which is exactly unbiased.

:func:`rule_sums` samples count-rule assignments from the distribution that
:mod:`trialkit.randomise._counts` documents: per stratum, arm counts from one raw word
``u = word mod W`` by the same systematic-sampling rule, then a uniformly random
arrangement with those counts (a partial Fisher–Yates shuffle). Instead of storing the
assignment, it adds each randomisation unit's precomputed row ``G[r, arm]`` into the sums
of the arm's dummy, so memory is ``O(units + draws)``.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba import prange
from numba.core import types
from numba.extending import intrinsic
from numpy.typing import NDArray

#: Draws per stream; fixed, so results do not depend on the number of threads.
CHUNK = 64

_MUL_HI = np.uint64(0x2360ED051FC65DA4)
_MUL_LO = np.uint64(0x4385DF649FCCF645)
_MASK = (1 << 64) - 1


def _mulhi_typer(typingctx: Any, a: Any, b: Any) -> Any:
    """High 64 bits of the 128-bit product of two uint64 (one LLVM ``mul i128``)."""
    sig = types.uint64(types.uint64, types.uint64)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        wide = ir.IntType(128)
        prod = builder.mul(builder.zext(args[0], wide), builder.zext(args[1], wide))
        return builder.trunc(builder.lshr(prod, ir.Constant(wide, 64)), ir.IntType(64))

    return sig, codegen


_mulhi: Any = intrinsic(_mulhi_typer)
_jit = numba.njit(cache=True, nogil=True)


def _step_impl(hi: Any, lo: Any, ihi: Any, ilo: Any) -> Any:
    """Advance PCG64's 128-bit LCG and return ``(hi, lo, XSL-RR output)``."""
    new_lo = lo * _MUL_LO
    new_hi = _mulhi(lo, _MUL_LO) + hi * _MUL_LO + lo * _MUL_HI
    s_lo = new_lo + ilo
    carry = np.uint64(1) if s_lo < new_lo else np.uint64(0)
    s_hi = new_hi + ihi + carry
    v = s_hi ^ s_lo
    rot = s_hi >> np.uint64(58)
    out = (v >> rot) | (v << ((np.uint64(64) - rot) & np.uint64(63)))
    return s_hi, s_lo, out


_step: Any = _jit(_step_impl)


def _bounded_impl(hi: Any, lo: Any, ihi: Any, ilo: Any, s: Any) -> Any:
    """Unbiased integer on ``[0, s)`` by Lemire's method: ``(hi, lo, value)``."""
    hi, lo, x = _step(hi, lo, ihi, ilo)
    low = x * s
    if low < s:
        threshold = (np.uint64(0) - s) % s
        while low < threshold:
            hi, lo, x = _step(hi, lo, ihi, ilo)
            low = x * s
    return hi, lo, _mulhi(x, s)


_bounded: Any = _jit(_bounded_impl)

_LOW32 = np.uint64(0xFFFFFFFF)
_TWO32 = np.uint64(1 << 32)


def _bounded32_impl(hi: Any, lo: Any, ihi: Any, ilo: Any, buf: Any, full: Any, s: Any) -> Any:
    """Unbiased integer on ``[0, s)``, ``s < 2³²``, from 32-bit halves of raw words.

    Lemire's method on 32 bits: each raw word serves two draws (low half first, as NumPy's
    ``next_uint32``), halving the generator's work. Returns ``(hi, lo, buf, full, value)``.
    """
    while True:
        if full:
            x, full = buf >> np.uint64(32), False
        else:
            hi, lo, buf = _step(hi, lo, ihi, ilo)
            x, full = buf & _LOW32, True
        m = x * s
        low = m & _LOW32
        if low >= s or low >= (_TWO32 - s) % s:
            return hi, lo, buf, full, m >> np.uint64(32)


_bounded32: Any = _jit(_bounded32_impl)


def _raw_impl(state: Any, n: Any) -> Any:
    hi, lo, ihi, ilo = state[0], state[1], state[2], state[3]
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        hi, lo, out[i] = _step(hi, lo, ihi, ilo)
    return out


#: ``raw(state, n)``: ``n`` raw words from a ``(hi, lo, inc_hi, inc_lo)`` state (tests).
raw_words: Any = _jit(_raw_impl)


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


def chunk_states(seed: int, n_draws: int) -> NDArray[np.uint64]:
    """PCG64 state ``(hi, lo, inc_hi, inc_lo)`` of each chunk's stream, ``(n_chunks, 4)``."""
    n_chunks = -(-n_draws // CHUNK)
    out = np.empty((n_chunks, 4), dtype=np.uint64)
    for c in range(n_chunks):
        st = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(c,))).state["state"]
        s, inc = int(st["state"]), int(st["inc"])
        out[c] = (s >> 64, s & _MASK, inc >> 64, inc & _MASK)
    return out


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
    out: NDArray[np.float64] = _rule_sums(
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

"""PCG64 (O'Neill 2014) compiled bit for bit as NumPy's ``PCG64``, for the RI kernels.

Every chunk of :data:`CHUNK` draws gets its own stream,
``PCG64(SeedSequence(seed, spawn_key=(chunk,)))``, so a draw depends on the seed and its
index only, never on how many threads run the chunks. Uniform integers on ``[0, s)`` use
Lemire's (2019) multiply-and-reject method, which is exactly unbiased.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
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


step: Any = _jit(_step_impl)

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
            hi, lo, buf = step(hi, lo, ihi, ilo)
            x, full = buf & _LOW32, True
        m = x * s
        low = m & _LOW32
        if low >= s or low >= (_TWO32 - s) % s:
            return hi, lo, buf, full, m >> np.uint64(32)


bounded32: Any = _jit(_bounded32_impl)


def _raw_impl(state: Any, n: Any) -> Any:
    hi, lo, ihi, ilo = state[0], state[1], state[2], state[3]
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        hi, lo, out[i] = step(hi, lo, ihi, ilo)
    return out


#: ``raw(state, n)``: ``n`` raw words from a ``(hi, lo, inc_hi, inc_lo)`` state (tests).
raw_words: Any = _jit(_raw_impl)


def chunk_states(seed: int, n_draws: int) -> NDArray[np.uint64]:
    """PCG64 state ``(hi, lo, inc_hi, inc_lo)`` of each chunk's stream, ``(n_chunks, 4)``."""
    n_chunks = -(-n_draws // CHUNK)
    out = np.empty((n_chunks, 4), dtype=np.uint64)
    for c in range(n_chunks):
        st = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(c,))).state["state"]
        s, inc = int(st["state"]), int(st["inc"])
        out[c] = (s >> 64, s & _MASK, inc >> 64, inc & _MASK)
    return out

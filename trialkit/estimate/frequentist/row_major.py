"""Designs written row-major in one compiled pass over the rows.

The least-squares products and CR2's pass over each cluster's rows run fastest on a
row-major (C-ordered) design. NumPy fills such an array a column at a time, striding
through all of it once per column (several times slower at 10^6 rows than writing a
column-major one); a compiled loop writes each row's cells together, in one pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from trialkit.estimate.frequentist._design import FloatArray, IntArray


def _stack(out: Any, block: Any, start: int, shift: Any, factor: Any) -> None:
    """Write ``(block - shift) * factor`` into ``out[:, start:]``, row by row (compiled)."""
    n, width = block.shape
    for i in range(n):
        for c in range(width):
            out[i, start + c] = (block[i, c] - shift[c]) * factor[c]


def _moments(block: Any) -> tuple[Any, Any]:
    """Each column's mean and the inverse of its SD (1 for a constant column; compiled)."""
    n, width = block.shape
    means, inverse = np.zeros(width), np.ones(width)
    for c in range(width):
        total = 0.0
        for i in range(n):
            total += block[i, c]
        means[c] = total / n
        squares = 0.0
        for i in range(n):
            squares += (block[i, c] - means[c]) ** 2
        if squares > 0.0:
            inverse[c] = 1.0 / np.sqrt(squares / n)
    return means, inverse


def _lin(x: Any, arm_codes: Any, covariates: Any, means: Any, fe_codes: Any, n_arms: int) -> None:
    """Write Lin's design into ``x`` row by row (compiled; see :func:`lin_design`)."""
    n, p = covariates.shape
    k = means.shape[0]
    start = 1 + n_arms
    for i in range(n):
        x[i, 0] = 1.0
        for j in range(n_arms):
            x[i, 1 + j] = 1.0 if arm_codes[i] == j + 1 else 0.0
        for c in range(p):
            x[i, start + c] = covariates[i, c] - means[c]
        for c in range(p, k):
            x[i, start + c] = (1.0 if fe_codes[i] == c - p + 1 else 0.0) - means[c]
        for j in range(n_arms):
            column = start + k * (j + 1)
            for c in range(k):
                x[i, column + c] = x[i, 1 + j] * x[i, start + c]


def _signature(name: str) -> Any:
    """Each kernel's one signature: its inputs of any layout, writeable or read-only (one
    compiled version, read from numba's cache on disk, instead of one per kind met)."""
    from numba import types

    out = types.Array(types.float64, 2, "C")
    matrix = types.Array(types.float64, 2, "A", readonly=True)
    vector = types.Array(types.float64, 1, "A", readonly=True)
    codes = types.Array(types.int64, 1, "A", readonly=True)
    return {
        "_stack": types.void(out, matrix, types.int64, vector, vector),
        "_moments": types.UniTuple(types.Array(types.float64, 1, "C"), 2)(matrix),
        "_lin": types.void(out, codes, matrix, vector, codes, types.int64),
    }[name]


_compiled: dict[str, Callable[..., Any]] = {}


def _kernel(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` compiled by numba for its signature (once per process; cached on disk)."""
    if fn.__name__ not in _compiled:
        import numba

        _compiled[fn.__name__] = numba.njit(_signature(fn.__name__), cache=True, nogil=True)(fn)
    return _compiled[fn.__name__]


def stack_rows(
    n_obs: int, *blocks: FloatArray, standardise: Sequence[bool] | None = None
) -> FloatArray:
    """``numpy.column_stack`` of 1-d columns and 2-d blocks into a row-major array.

    ``standardise`` (one flag per block) centres and scales a block's columns to mean 0
    and SD 1 as they are written (a constant column is only centred), with no copy of the
    block made on the way.
    """
    columns = [np.asarray(block, dtype=np.float64).reshape(n_obs, -1) for block in blocks]
    flags = standardise if standardise is not None else [False] * len(columns)
    out = np.empty((n_obs, sum(c.shape[1] for c in columns)))
    start = 0
    for column, scaled in zip(columns, flags, strict=True):
        width = column.shape[1]
        if width and n_obs:
            shift, factor = (
                _kernel(_moments)(column) if scaled else (np.zeros(width), np.ones(width))
            )
            _kernel(_stack)(out, column, start, shift, factor)
        start += width
    return out


def lin_design(
    arm_codes: IntArray,
    covariates: FloatArray,
    means: FloatArray,
    fe_codes: IntArray | None,
    n_arms: int,
) -> FloatArray:
    """Lin's design, row-major: intercept, arm indicators (arm codes 1..n_arms; 0 is the
    control), the centred columns (covariates, then indicators of fixed-effect codes 1..,
    minus ``means``), then each arm's indicator times the centred columns."""
    k = means.shape[0]
    x = np.empty((covariates.shape[0], 1 + n_arms * (k + 1) + k))
    codes = np.zeros(1, dtype=np.int64) if fe_codes is None else fe_codes.astype(np.int64)
    _kernel(_lin)(
        x,
        arm_codes.astype(np.int64),
        np.asarray(covariates, dtype=np.float64),
        np.asarray(means, dtype=np.float64),
        codes,
        n_arms,
    )
    return x

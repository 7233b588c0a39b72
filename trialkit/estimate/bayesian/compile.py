"""Compile a PyMC model for nutpie, with lean numba entry points.

``nutpie.compile_pymc_model`` turns the model's log density and its gradient into numba C
callbacks that nutpie's Rust sampler calls without the GIL. Those callbacks copy the
gradient with ``out[...] = grad`` and test it with ``np.all(np.isfinite(out))``; typing
and lowering those array expressions costs numba 4-6 seconds the first time in a process,
and the callbacks cannot be cached on disk. The callbacks here do the same with plain loops
and return the same status codes (0 ok, 1 exception, 3 non-finite gradient, 4 non-finite
log density; -1/-2 for the expand function), so a first fit in a process starts sampling
about 5 seconds sooner (measured on the benchmark's hierarchical model: 32 s instead of
36 s with every compile cache empty, 16 s instead of 21.5 s with PyTensor's cache filled),
and its draws are bit-for-bit those of nutpie's own callbacks (tested).

Only the two callback builders are swapped, for the duration of one
``compile_pymc_model`` call; everything else (graph rewrites, shared data, initial points,
the sampler) is nutpie's. If a nutpie release renames these internals, trialkit falls
back to nutpie's own callbacks (:func:`lean_callbacks_available` says which is in use).

:func:`compile_kernels` builds nutpie's compiled model around trialkit's own kernels
(:mod:`.kernels`) instead, with no PyTensor graph at all; ``bayes`` uses it by default.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from . import density
from .design import DesignData, Family
from .models import Parametrisation, model_coords
from .priors import ModelPriors

_LOGP_PARAMS = ["n_dim", "logp_fn", "user_data", "shared_logp", "shared_data"]
_EXPAND_PARAMS = ["n_dim", "n_expanded", "expand_fn", "user_data", "shared_vars", "shared_data"]
_LOCK = threading.Lock()


def _internals() -> Any:
    import nutpie.compile_pymc as internals

    return internals


def lean_callbacks_available() -> bool:
    """Whether the installed nutpie has the callback builders this module replaces."""
    cp = _internals()
    try:
        return (
            callable(getattr(cp, "make_extraction_fn", None))
            and list(inspect.signature(cp._make_c_logp_func).parameters) == _LOGP_PARAMS
            and list(inspect.signature(cp._make_c_expand_func).parameters) == _EXPAND_PARAMS
        )
    except AttributeError:
        return False


def _logp_callback(
    n_dim: int, logp_fn: Any, user_data: Any, shared_logp: Any, shared_data: Any
) -> tuple[Callable[..., int], Any]:
    import numba

    extract = _internals().make_extraction_fn(logp_fn, shared_data, shared_logp, user_data.dtype)
    double_ptr = numba.types.CPointer(numba.types.double)
    signature = numba.types.int64(
        numba.types.uint64, double_ptr, double_ptr, double_ptr, numba.types.voidptr
    )

    def logp_numba(dim: int, x_: Any, out_: Any, logp_: Any, user_data_: Any) -> int:
        if dim != n_dim:
            return -1
        x = numba.carray(x_, (n_dim,))
        out = numba.carray(out_, (n_dim,))
        logp = numba.carray(logp_, (1,))
        try:
            value, grad = extract(x, user_data_)
        except Exception:  # a failed evaluation is a status code for nutpie
            return 1
        logp[0] = value
        finite = True
        for i in range(n_dim):
            out[i] = grad[i]
            finite = finite and np.isfinite(grad[i])
        if not finite:
            return 3
        if not np.isfinite(value):
            return 4
        return 0

    return logp_numba, signature


def _expand_callback(
    n_dim: int, n_expanded: int, expand_fn: Any, user_data: Any, shared_vars: Any, shared_data: Any
) -> tuple[Callable[..., int], Any]:
    import numba

    extract = _internals().make_extraction_fn(expand_fn, shared_data, shared_vars, user_data.dtype)
    double_ptr = numba.types.CPointer(numba.types.double)
    signature = numba.types.int64(
        numba.types.uint64, numba.types.uint64, double_ptr, double_ptr, numba.types.voidptr
    )

    def expand_numba(dim: int, expanded: int, x_: Any, out_: Any, user_data_: Any) -> int:
        if dim != n_dim or expanded != n_expanded:
            return -1
        x = numba.carray(x_, (n_dim,))
        out = numba.carray(out_, (n_expanded,))
        try:
            (values,) = extract(x, user_data_)
        except Exception:  # a failed evaluation is a status code for nutpie
            return -2
        for i in range(n_expanded):
            out[i] = values[i]
        return 0

    return expand_numba, signature


@contextmanager
def _lean_callbacks() -> Iterator[None]:
    cp = _internals()
    with _LOCK:
        saved = cp._make_c_logp_func, cp._make_c_expand_func
        cp._make_c_logp_func, cp._make_c_expand_func = _logp_callback, _expand_callback
        try:
            yield
        finally:
            cp._make_c_logp_func, cp._make_c_expand_func = saved


def compile_for_nutpie(model: Any) -> Any:
    """``nutpie.compile_pymc_model(model)``, with the lean callbacks when available."""
    import nutpie

    if not lean_callbacks_available():
        return nutpie.compile_pymc_model(model)
    with _lean_callbacks():
        return nutpie.compile_pymc_model(model)


def kernels_available() -> bool:
    """Whether the installed nutpie takes trialkit's kernels (its compiled-model class)."""
    import nutpie.compile_pymc as internals

    fields = getattr(internals.CompiledPyMCModel, "__dataclass_fields__", {})
    return {"compiled_logp_func", "user_data", "shape_info", "initial_point_func"} <= set(fields)


def compile_kernels(
    data: DesignData, family: Family, priors: ModelPriors, how: Parametrisation
) -> Any:
    """A nutpie model sampling trialkit's compiled kernels (:mod:`.kernels`) on ``data``."""
    import nutpie.compile_pymc as internals
    import pandas as pd

    from . import kernels

    buffer = density.pack(data, family, priors, how)
    buffer.flags.writeable = False
    variables = density.variables(data, family, how)
    coords = {k: pd.Index(v) for k, v in model_coords(data).items()}
    coords["unconstrained_parameter"] = pd.Index([f"theta_{i}" for i in range(int(buffer[13]))])
    names = [v.name for v in variables]
    shapes = [v.shape for v in variables]
    return internals.CompiledPyMCModel(
        _n_dim=int(buffer[13]),
        dims={v.name: v.dims for v in variables if v.dims},
        _coords=coords,
        _shapes=dict(zip(names, shapes, strict=True)),
        compiled_logp_func=kernels.log_density_callback(int(buffer[6])),  # 6: binomial cells
        compiled_expand_func=kernels.expand_callback(),
        initial_point_func=lambda seed: density.initial_point(buffer, data, family, priors, seed),
        shared_data={},
        user_data=buffer,
        n_expanded=int(buffer[14]),
        shape_info=(names, None, shapes),
        logp_func=None,
        expand_func=None,
    )

"""BLAS on one thread for a stage (threadpoolctl), with the libraries looked up once.

The plan's products are tall and thin (n x k, k about ten) or small and batched: threaded
BLAS gains little on them and loses much when the machine's cores are busy (a million-row
``analyse`` on two cores: 78 s with threads, about 43 s without), and ``diagnose`` runs
its chunks side by side instead. ``threadpoolctl.threadpool_limits`` finds the loaded BLAS
libraries afresh on every call (about 3 ms): once per simulated chunk, that was a tenth of
a 1,000-simulation diagnosis. A controller is made once per process instead, after
NumPy's and SciPy's BLAS are loaded, and each stage only sets and restores the limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any


@cache
def _controller() -> Any:
    """threadpoolctl's controller of the BLAS libraries loaded, or ``None`` without it."""
    try:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    import numpy  # noqa: F401  (their BLAS libraries loaded before they are looked up)
    import scipy.linalg  # noqa: F401

    return ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread inside; the previous limits restored after."""
    controller = _controller()
    if controller is None:  # pragma: no cover
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield

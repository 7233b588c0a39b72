"""Randomness built on PCG64's raw stream, stable across NumPy releases.

NumPy may change the algorithms behind ``Generator.permutation``, ``choice`` and
``shuffle`` in feature releases, but a bit generator's raw output for a given seed is
fixed. Every draw that decides an allocation is therefore derived here from
``PCG64(seed).random_raw`` with our own, versioned transformations.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Bump when any transformation below changes; recorded with each allocation.
ALGORITHM_VERSION = "pcg64-raw-1"

_TWO_TO_MINUS_53 = 1.0 / 9007199254740992.0


class RawStream:
    """A reproducible stream of uniforms and sort keys from PCG64's raw 64-bit output.

    Parameters
    ----------
    seed
        A non-negative integer seed.

    Examples
    --------
    >>> s = RawStream(42)
    >>> u = s.uniforms(3)
    >>> bool(((u >= 0) & (u < 1)).all())
    True
    """

    def __init__(self, seed: int) -> None:
        if seed < 0:
            raise ValueError(f"The 'seed' parameter must be a non-negative integer. Got {seed}.")
        self.seed = seed
        self._bitgen = np.random.PCG64(seed)

    def raw(self, n: int) -> NDArray[np.uint64]:
        """``n`` raw 64-bit words."""
        return np.asarray(self._bitgen.random_raw(n), dtype=np.uint64)

    def uniforms(self, n: int) -> NDArray[np.float64]:
        """``n`` uniforms on [0, 1) with 53 random bits each."""
        return (self.raw(n) >> np.uint64(11)).astype(np.float64) * _TWO_TO_MINUS_53

    def permutation(self, n: int) -> NDArray[np.int64]:
        """A uniformly random permutation of ``range(n)`` (argsort of random 64-bit keys).

        Ties among 64-bit keys have probability below n²/2⁶⁵ and are broken by position
        (stable sort), so the result is deterministic.
        """
        return np.argsort(self.raw(n), kind="stable").astype(np.int64)

    def generator(self) -> np.random.Generator:
        """A NumPy Generator on a child stream, for simulation (not for allocations)."""
        return np.random.Generator(np.random.PCG64(self.raw(4)))

"""Matched pairs: units (or clusters) paired on covariates within blocks, then split 1:1."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import numpy as np

from trialkit.errors import RandomisationError
from trialkit.protocol.vocabulary import SchemeName
from trialkit.randomise.schemes._base import RuleScheme
from trialkit.randomise.units import FloatArray, IntArray, Units, ru_covariates

PairingMethod = Literal["mahalanobis", "sorted"]


def whiten(x: FloatArray) -> FloatArray:
    """Centre ``x`` and rotate it so Euclidean distance is Mahalanobis distance.

    Directions without variation are dropped (a pseudo-inverse), so a constant covariate
    does no harm.
    """
    xc = x - x.mean(axis=0)
    if len(x) < 2:
        return np.asarray(xc, dtype=np.float64)
    cov = np.atleast_2d(np.cov(xc, rowvar=False))
    values, vectors = np.linalg.eigh(cov)
    keep = values > 1e-12 * max(float(values.max()), 1e-300)
    return np.asarray(xc @ vectors[:, keep] / np.sqrt(values[keep]), dtype=np.float64)


def _greedy(z: FloatArray) -> list[tuple[int, ...]]:
    """Greedy nearest neighbour: the first unpaired unit takes its nearest unpaired one."""
    m = len(z)
    dist = ((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=-1)
    free = np.ones(m, dtype=bool)
    out: list[tuple[int, ...]] = []
    for i in range(m):
        if not free[i]:
            continue
        free[i] = False
        candidates = np.flatnonzero(free)
        if candidates.size == 0:
            out.append((i,))
            break
        j = int(candidates[np.argmin(dist[i, candidates])])
        free[j] = False
        out.append((i, j))
    return out


def form_pairs(x: FloatArray, block: IntArray, method: PairingMethod) -> IntArray:
    """Pair code (0, 1, …) of each canonical randomisation unit, pairs formed within blocks.

    An odd unit left over in a block forms a pair of its own and is randomised 1:1.
    """
    z = whiten(x)
    pair = np.empty(len(block), dtype=np.int64)
    code = 0
    for b in np.unique(block):
        members = np.flatnonzero(block == b)
        if method == "sorted":
            keys = tuple(z[members, j] for j in range(z.shape[1] - 1, -1, -1))
            ranked = members[np.lexsort(keys)] if keys else members
            groups = [tuple(range(i, min(i + 2, len(ranked)))) for i in range(0, len(ranked), 2)]
            members = ranked
        else:
            groups = _greedy(z[members])
        for group in groups:
            pair[members[list(group)]] = code
            code += 1
    return pair


class MatchedPairs(RuleScheme):
    """Pairs formed on covariates within blocks; one unit of each pair to each of two arms.

    Pairs are formed deterministically from the covariates, in canonical order: with
    ``"mahalanobis"`` the first unpaired unit takes its nearest unpaired neighbour in
    Mahalanobis distance (greedy); with ``"sorted"`` units are sorted on the covariates and
    neighbours paired. With clusters, clusters are paired on their covariate means. A unit
    left over in an odd-sized block is randomised on its own with probability 1/2.

    Parameters
    ----------
    units
        The units, with ``covariates`` (and optionally blocks and clusters).
    method
        ``"mahalanobis"`` (default) or ``"sorted"``.

    Examples
    --------
    >>> from trialkit._core.rng import RawStream
    >>> units = Units(ids=np.arange(4), covariates=np.array([[0.0], [10.0], [0.1], [10.2]]))
    >>> scheme = MatchedPairs(units)
    >>> scheme.pairs().tolist()
    [1, 2, 1, 2]
    >>> arms = scheme.draw(RawStream(5))
    >>> int(arms[0] + arms[2]), int(arms[1] + arms[3])
    (1, 1)
    """

    name: ClassVar[SchemeName] = "matched_pairs"
    optional_blocks: ClassVar[bool] = True
    optional_clusters: ClassVar[bool] = True
    check_block_size: ClassVar[bool] = False

    def __init__(self, units: Units, *, method: PairingMethod = "mahalanobis") -> None:
        super().__init__(units, ratios=(1, 1))
        if method not in ("mahalanobis", "sorted"):
            raise RandomisationError(
                "The 'method' parameter of MatchedPairs must be `mahalanobis` or `sorted`. "
                f"Got {method!r} instead."
            )
        self.method: PairingMethod = method
        self._pair: IntArray | None = None

    def _strata(self) -> tuple[IntArray, int]:
        if self._pair is None:
            lay = self.layout
            self._pair = form_pairs(ru_covariates(self.units, lay), lay.ru_block, self.method)
        return self._pair, int(self._pair.max()) + 1 if len(self._pair) else 0

    def pairs(self) -> IntArray:
        """The pair number (1, 2, …) of each unit, in the order the units were given."""
        strata, _ = self._strata()
        return strata[self.layout.unit_ru] + 1

    def parameters(self) -> dict[str, Any]:
        return {
            "ratios": [1, 1],
            "method": self.method,
            "covariates": list(self.units.covariate_names),
        }

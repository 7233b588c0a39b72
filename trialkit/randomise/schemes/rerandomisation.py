"""Rerandomisation (Morgan & Rubin 2012): redraw until Mahalanobis balance passes a threshold."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from trialkit._core.rng import RawStream
from trialkit.errors import RandomisationError
from trialkit.protocol.vocabulary import SchemeName
from trialkit.randomise._counts import ENUMERATION_LIMIT
from trialkit.randomise.schemes._base import BATCH_ELEMENTS, RuleScheme, Scheme
from trialkit.randomise.schemes.blocked import BlockedRandomisation
from trialkit.randomise.schemes.blocked_cluster import BlockedClusterRandomisation
from trialkit.randomise.schemes.cluster import ClusterRandomisation
from trialkit.randomise.schemes.complete import CompleteRandomisation
from trialkit.randomise.schemes.matched_pairs import whiten
from trialkit.randomise.units import FloatArray, IntArray, Units, ru_covariates

#: Accepted draws used to estimate probabilities when they are not known by symmetry.
PROBABILITY_DRAWS = 2_000


def mahalanobis(z: FloatArray, arms: IntArray, n_arms: int) -> FloatArray:
    """Morgan–Rubin balance ``M`` of each assignment (row of ``arms``) on whitened ``z``.

    ``M = Σ_k n_k (z̄_k − z̄)ᵀ(z̄_k − z̄)``; for two arms this is
    ``(x̄₁ − x̄₀)ᵀ [S (1/n₁ + 1/n₀)]⁻¹ (x̄₁ − x̄₀)``, asymptotically χ² with
    ``(arms − 1) × covariates`` degrees of freedom under randomisation.
    """
    first = 1 if n_arms == 2 else 0
    out = np.zeros(arms.shape[0])
    for k in range(first, n_arms):
        member = arms == k
        sums = member.astype(np.float64) @ z
        n_k = member.sum(axis=1)
        scale = 1.0 / n_k + (1.0 / (arms.shape[1] - n_k) if n_arms == 2 else 0.0)
        out += (sums**2).sum(axis=1) * scale
    return out


def base_scheme(units: Units, ratios: tuple[int, ...]) -> RuleScheme:
    """The scheme rerandomisation redraws from: blocked and/or cluster when the units have them."""
    if units.clusters is not None:
        if units.blocks is not None:
            return BlockedClusterRandomisation(units, ratios=ratios)
        return ClusterRandomisation(units, ratios=ratios)
    if units.blocks is not None:
        return BlockedRandomisation(units, ratios=ratios)
    return CompleteRandomisation(units, ratios=ratios)


class Rerandomisation(Scheme):
    """Draws of a base scheme, kept only when Mahalanobis balance ``M ≤ threshold``.

    The base is complete, blocked, cluster or blocked-cluster randomisation, according to
    whether the units have blocks and clusters. The criterion (statistic, threshold, base)
    is recorded, so randomisation inference redraws from the same restricted set with
    :meth:`draw_many`. Accepted draws are the base's candidate draws that pass, in order,
    whatever the batch size.

    With equal ratios every unit's probability is exactly ``1/arms``: relabelling the arms
    cyclically maps accepted assignments to accepted ones with the same probability. With
    unequal ratios the restriction can move probabilities: :meth:`probabilities` computes
    them exactly by enumeration when the base has at most 100,000 assignments, and
    otherwise estimates them from ``PROBABILITY_DRAWS`` accepted draws of a fixed stream
    (seed 0); ``parameters()["probabilities"]`` says which.

    Parameters
    ----------
    units
        The units, with ``covariates`` to balance (cluster means are used for clusters).
    ratios
        Whole-number share of each arm.
    acceptance
        Share of base draws to accept; sets ``threshold`` as the χ² quantile.
    max_draws
        Most candidate draws tried for one accepted draw before giving up.
    threshold
        The largest acceptable ``M``; overrides ``acceptance`` when given.

    Raises
    ------
    RandomisationError
        When drawing, if no candidate passes within ``max_draws``.

    Examples
    --------
    >>> from trialkit._core.rng import RawStream
    >>> x = np.arange(20, dtype=float).reshape(10, 2) ** 1.5
    >>> scheme = Rerandomisation(Units(ids=np.arange(10), covariates=x), acceptance=0.2)
    >>> arms = scheme.draw(RawStream(11))
    >>> bool(scheme.criterion(arms[None, :])[0] <= scheme.threshold)
    True
    """

    name: ClassVar[SchemeName] = "rerandomisation"
    optional_blocks: ClassVar[bool] = True
    optional_clusters: ClassVar[bool] = True

    def __init__(
        self,
        units: Units,
        *,
        ratios: tuple[int, ...] = (1, 1),
        acceptance: float = 0.05,
        max_draws: int = 1_000_000,
        threshold: float | None = None,
    ) -> None:
        super().__init__(units, ratios=ratios)
        if not 0 < acceptance <= 1:
            raise RandomisationError(
                "The 'acceptance' parameter of Rerandomisation must be in "
                f"(0, 1]. Got {acceptance!r} instead."
            )
        if max_draws < 1:
            raise RandomisationError(
                "The 'max_draws' parameter of Rerandomisation must be a "
                f"positive whole number. Got {max_draws!r} instead."
            )
        self.acceptance = acceptance
        self.max_draws = max_draws
        self._threshold = threshold
        self.base = base_scheme(units, self.ratios)
        self._z: FloatArray | None = None

    @property
    def z(self) -> FloatArray:
        """Whitened covariates of the canonical randomisation units."""
        if self._z is None:
            self._z = whiten(ru_covariates(self.units, self.base.layout))
        return self._z

    @property
    def threshold(self) -> float:
        """The largest acceptable Mahalanobis balance ``M``."""
        if self._threshold is not None:
            return self._threshold
        df = (self.n_arms - 1) * self.z.shape[1]
        return float(stats.chi2.ppf(self.acceptance, df))

    @property
    def words_per_draw(self) -> int:
        return self.base.words_per_draw

    def criterion(self, assignments: IntArray) -> FloatArray:
        """``M`` of each assignment, given as arm indices of units ``(n, n_units)``."""
        lay = self.base.layout
        first = np.empty(lay.n_ru, dtype=np.int64)
        first[lay.unit_ru] = np.arange(self.units.n_units)
        return mahalanobis(self.z, np.atleast_2d(assignments)[:, first], self.n_arms)

    def _probability_method(self) -> str:
        if len(set(self.ratios)) == 1:
            return "exact by symmetry"
        if self.base.count_assignments() <= ENUMERATION_LIMIT:
            return "exact by enumeration"
        return f"estimated from {PROBABILITY_DRAWS} accepted draws (seed 0)"

    def parameters(self) -> dict[str, Any]:
        return {
            "ratios": list(self.ratios),
            "base": self.base.name,
            "covariates": list(self.units.covariate_names),
            "statistic": "mahalanobis",
            "acceptance": self.acceptance,
            "threshold": self.threshold,
            "max_draws": self.max_draws,
            "probabilities": self._probability_method(),
        }

    def probabilities(self) -> FloatArray:
        """Each unit's probability of each arm under the restriction.

        Exact by symmetry with equal ratios; otherwise exact by enumerating the base's
        assignments when there are at most 100,000, else estimated (see the class notes).
        """
        method = self._probability_method()
        if method == "exact by symmetry":
            return self.base.probabilities()
        if method == "exact by enumeration":
            table, prob = self.enumerate_assignments()
            return np.stack(
                [(prob[:, None] * (table == k)).sum(axis=0) for k in range(self.n_arms)], axis=1
            )
        freq = np.zeros((self.units.n_units, self.n_arms))
        for batch in self.draw_many(RawStream(0), PROBABILITY_DRAWS):
            for k in range(self.n_arms):
                freq[:, k] += (batch == k).sum(axis=0)
        return freq / PROBABILITY_DRAWS

    def _assign_ru(self, raw: np.ndarray[Any, np.dtype[np.uint64]]) -> IntArray:
        raise NotImplementedError  # draws go through draw_many's candidate loop

    def draw_many(
        self, stream: RawStream, n: int, *, batch_size: int | None = None
    ) -> Iterator[IntArray]:
        """Yield ``n`` accepted assignments in batches ``(batch, n_units)``.

        Candidates are drawn and evaluated in batches; memory stays proportional to
        ``n_units × batch``.
        """
        width, lay = self.words_per_draw, self.base.layout
        most = max(1, min(BATCH_ELEMENTS // max(width, 1), self.max_draws))
        threshold, got, since = self.threshold, 0, 0
        tried, passed_total = 0, 0
        while got < n:
            # Size batches to the draws still needed at the acceptance seen so far.
            rate = max(passed_total, 1) / tried if tried else self.acceptance
            size = batch_size or min(most, max(16, math.ceil(1.2 * (n - got) / rate)))
            raw = stream.raw(size * width).reshape(size, width)
            candidates = self.base._assign_ru(raw)
            passed = np.flatnonzero(mahalanobis(self.z, candidates, self.n_arms) <= threshold)
            tried, passed_total = tried + size, passed_total + passed.size
            if passed.size == 0 and since + size > self.max_draws:
                raise RandomisationError(
                    f"rerandomisation found no draw with Mahalanobis balance M ≤ "
                    f"{threshold:.4g} within its limit of {self.max_draws:,} draws. Fix: raise "
                    "`acceptance` (or `max_draws`), or balance on fewer covariates."
                )
            since = size - 1 - int(passed[-1]) if passed.size else since + size
            take = passed[: n - got]
            if take.size:
                yield candidates[take][:, lay.unit_ru]
                got += take.size

    def draw_seeds(self, seeds: Sequence[int]) -> IntArray:
        """One accepted draw per seed (a loop: the number of candidates varies)."""
        rows = [self.draw(RawStream(int(s))) for s in seeds]
        return np.stack(rows) if rows else np.zeros((0, self.units.n_units), np.int64)

    def count_assignments(self) -> int:
        table, _ = self._enumerate_ru()
        return len(table)

    def _enumerate_ru(self) -> tuple[IntArray, FloatArray]:
        base = self.base
        total = base.count_assignments()
        if total > ENUMERATION_LIMIT:
            raise RandomisationError(
                f"the base scheme has {total:,} assignments, too many to enumerate and filter. "
                "Fix: sample accepted assignments with draw_many instead."
            )
        table, prob = base._enumerate_ru()
        keep = mahalanobis(self.z, table, self.n_arms) <= self.threshold
        return table[keep], prob[keep] / prob[keep].sum()

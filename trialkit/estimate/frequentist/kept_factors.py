"""Factorisations kept for the next fit on the same design.

An analysis fits many outcomes on one design (every outcome of a level adjusted for the same
covariates; an ITT and its first stage). Inside :func:`reusing_factorisations`, a design
equal, element for element, to one factorised recently is not factorised again
(:func:`~.lstsq.fit_lstsq` asks :func:`kept`), a design built from the same inputs is not
even built again (:func:`kept_design`, by its :class:`DesignKey`), and what depends on the
design alone (CR2's cluster eigenpairs) is kept beside it (``KeptFactor.extras``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from trialkit.estimate.frequentist._design import FloatArray


@dataclass(frozen=True, slots=True, eq=False)
class DesignKey:
    """What a design is built from: its builder and the builder's inputs.

    Two keys with the same builder and element-for-element equal inputs stand for equal
    designs, so a design kept under one (:func:`reusing_factorisations`) is found again by
    :func:`kept_design` without building it (Lin's design of every outcome of a level).
    """

    builder: str
    inputs: tuple[np.ndarray | None, ...]

    def same_as(self, other: DesignKey) -> bool:
        """Same builder, equal inputs."""
        return (
            self.builder == other.builder
            and len(self.inputs) == len(other.inputs)
            and all(_same(a, b) for a, b in zip(self.inputs, other.inputs, strict=True))
        )


@dataclass(frozen=True, slots=True, eq=False)
class KeptFactor:
    """A design's CholeskyQR2 factors: ``Q = sqrt(w) X @ basis`` and ``sqrt(w) X / scale = Q r``."""

    x: FloatArray
    weights: FloatArray | None
    basis: FloatArray
    r: FloatArray
    scale: FloatArray
    key: DesignKey | None = None
    extras: dict[str, Any] = field(default_factory=dict)  # what depends on the design alone


#: Designs larger than this (bytes) are kept one at a time: the last one factorised.
LARGE_DESIGN = 1 << 24
#: Smaller designs kept beside it (the most recent).
SMALL_DESIGNS = 4

#: The factorisations kept for reuse, most recent first, while
#: :func:`reusing_factorisations` is in force.
_KEPT: ContextVar[list[KeptFactor] | None] = ContextVar("trialkit_kept_factors", default=None)


@contextmanager
def reusing_factorisations() -> Iterator[None]:
    """Within this block a design equal to one factorised recently is not factorised again.

    Kept by reference until the block ends or newer designs replace them: the last large
    design (over :data:`LARGE_DESIGN` bytes), so that the memory this costs is one design,
    and the last :data:`SMALL_DESIGNS` smaller ones. Only designs nobody can change are
    kept: arrays that own their data and are read-only (the estimators' own designs are
    made so); any other design is factorised as usual.
    """
    token = _KEPT.set([])
    try:
        yield
    finally:
        _KEPT.reset(token)


def kept(x: FloatArray, weights: FloatArray | None) -> KeptFactor | None:
    """The kept factorisation of exactly ``x`` (and ``weights``), if there is one."""
    for factor in _KEPT.get() or ():
        if _same(factor.x, x) and _same(factor.weights, weights):
            return factor
    return None


def kept_design(key: DesignKey) -> FloatArray | None:
    """The kept design built from ``key``'s inputs (see :class:`DesignKey`), if any."""
    for factor in _KEPT.get() or ():
        if factor.key is not None and factor.key.same_as(key):
            return factor.x
    return None


def make_room_for(nbytes: int) -> None:
    """Let go of the kept large design before a new design of ``nbytes`` bytes is built
    or factorised, when it is large too: kept, it would replace the old one anyway, and
    the peak memory then holds one large design and its factors, not two."""
    held = _KEPT.get()
    if held is not None and nbytes > LARGE_DESIGN:
        held[:] = [f for f in held if f.x.nbytes <= LARGE_DESIGN]


def _same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    """Element-for-element equality; a few rows first, so that most designs differ fast."""
    if a is None or b is None or a is b:
        return a is b
    if a.shape != b.shape:
        return False
    step = max(1, a.shape[0] // 64)
    return bool(np.array_equal(a[::step], b[::step]) and np.array_equal(a, b))


def keep(factor: KeptFactor) -> KeptFactor | None:
    """Keep ``factor`` (and return it) where :func:`reusing_factorisations` is in force and
    its design cannot change; ``None`` otherwise. Its key is kept only if its inputs are
    read-only too (else the design is found by comparing it, not by its key)."""
    held = _KEPT.get()
    x = factor.x
    if held is None or not x.flags.owndata or x.flags.writeable:
        return None
    if factor.key is not None and any(
        a is not None and a.flags.writeable for a in factor.key.inputs
    ):
        factor = replace(factor, key=None)
    large = x.nbytes > LARGE_DESIGN
    others = [f for f in held if (f.x.nbytes > LARGE_DESIGN) != large]
    same_size = [f for f in held if (f.x.nbytes > LARGE_DESIGN) == large]
    held[:] = [factor, *same_size[: 0 if large else SMALL_DESIGNS - 1], *others]
    return factor

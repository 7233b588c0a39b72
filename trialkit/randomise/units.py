"""The units a scheme randomises, and their canonical order.

Allocations must not depend on the order of rows in a units file, so every scheme works on
*randomisation units* (the units themselves, or whole clusters) numbered in a canonical
order: sorted by block label, then by unit id (or cluster label). Labels are compared as
the arrays given; :func:`trialkit.randomise.allocate` turns them into text first, so an id
read from a CSV file and the same id typed into a DataFrame give the same allocation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from trialkit.errors import RandomisationError
from trialkit.randomise._select import canonical_positions, group_order

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

#: Integer labels spanning at most this many values per label (plus a margin) are
#: coded and ordered by counting, in ``O(n + span)``, instead of by hashing or sorting.
_SPAN_PER_LABEL = 4


@dataclass(frozen=True, slots=True, eq=False)
class Units:
    """Units to randomise, in the order given, with their blocks, clusters and covariates.

    Attributes
    ----------
    ids
        One id per unit; must be unique.
    blocks
        The block label of each unit, or ``None`` when the design has no blocks.
    clusters
        The cluster label of each unit, or ``None`` when units are randomised one by one.
    covariates
        An ``(n_units, n_covariates)`` array of baseline covariates, or ``None``.
    covariate_names
        Names of the covariate columns, in order.

    Examples
    --------
    >>> u = Units(ids=np.array(["a", "b", "c", "d"]), blocks=np.array(["x", "x", "y", "y"]))
    >>> u.n_units
    4
    """

    ids: NDArray[Any]
    blocks: NDArray[Any] | None = None
    clusters: NDArray[Any] | None = None
    covariates: FloatArray | None = None
    covariate_names: tuple[str, ...] = ()

    @property
    def n_units(self) -> int:
        """Number of units."""
        return len(self.ids)

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        id_column: str,
        block_columns: Sequence[str] = (),
        cluster_column: str | None = None,
        covariates: Sequence[str] = (),
    ) -> Units:
        """Take units from a DataFrame's columns (no validation; see ``read_units``).

        Several block columns are combined into one label joined by ``" / "``.
        """
        blocks = None
        if block_columns:
            parts = [frame[c].astype(str).str.strip() for c in block_columns]
            label = parts[0]
            for part in parts[1:]:
                label = label + " / " + part
            blocks = label.to_numpy(dtype=object)
        clusters = None if cluster_column is None else frame[cluster_column].to_numpy()
        cov = None
        if covariates:
            numbers = frame[list(covariates)].apply(pd.to_numeric, errors="coerce")
            cov = numbers.to_numpy(dtype=np.float64)
        return cls(
            ids=frame[id_column].to_numpy(),
            blocks=blocks,
            clusters=clusters,
            covariates=cov,
            covariate_names=tuple(covariates),
        )


@dataclass(frozen=True, slots=True, eq=False)
class Layout:
    """Randomisation units in canonical order.

    Attributes
    ----------
    unit_ru
        For each unit (in the order given), the canonical index of its randomisation unit.
    ru_block
        For each canonical randomisation unit, the code of its block (all 0 without blocks).
    block_labels
        Block labels, sorted; ``block_labels[code]``.
    n_ru
        Number of randomisation units.
    """

    unit_ru: IntArray
    ru_block: IntArray
    block_labels: tuple[str, ...]
    n_ru: int


def _small_ints(values: NDArray[Any]) -> tuple[IntArray, int, int] | None:
    """Offsets from the minimum, the minimum and the span of integer labels in a small range.

    ``None`` for other labels (text, floats, 64-bit unsigned, or a wide range).
    """
    kind, size = values.dtype.kind, values.dtype.itemsize
    if values.ndim != 1 or values.size == 0 or kind not in "iu" or (kind == "u" and size == 8):
        return None
    lo, hi = int(values.min()), int(values.max())
    span = hi - lo + 1
    if span > _SPAN_PER_LABEL * values.size + 1024:
        return None
    as_int = values.astype(np.int64, copy=False)
    return (as_int if lo == 0 else as_int - lo), lo, span


def _codes(values: ArrayLike, what: str) -> tuple[IntArray, NDArray[Any]]:
    """Codes of the sorted distinct labels (``pd.factorize(values, sort=True)``), and labels."""
    array = np.asarray(values)
    small = _small_ints(array)
    if small is not None:
        offset, lo, span = small
        present = np.bincount(offset, minlength=span) > 0
        code_of = np.cumsum(present, dtype=np.int64) - 1
        return code_of[offset], (np.flatnonzero(present) + lo).astype(array.dtype)
    codes, labels = pd.factorize(array, sort=True)
    if (codes < 0).any():
        raise RandomisationError(
            f"{int((codes < 0).sum())} unit(s) have no {what} label. Fix: give every unit a {what}."
        )
    return codes.astype(np.int64), np.asarray(labels)


def _label_order(values: NDArray[Any]) -> IntArray:
    """``np.argsort(values, kind="stable")``, by counting for integers in a small range."""
    small = _small_ints(values)
    if small is None:
        return np.argsort(values, kind="stable").astype(np.int64)
    offset, _, span = small
    if np.bincount(offset, minlength=span).max() > 1:  # repeated ids: ties by position
        return group_order(offset, span)[0]
    slot = np.full(span, -1, dtype=np.int64)
    slot[offset] = np.arange(len(offset), dtype=np.int64)
    return slot[slot >= 0]


def _canonical(block_of: IntArray, label_order: IntArray, n_blocks: int) -> IntArray:
    """Canonical position of each item sorted by (block code, label).

    ``label_order`` lists the items by label (ties by position), so taking them in that
    order into their blocks' slots orders them by block, and by label within each block.
    """
    return canonical_positions(block_of, label_order, n_blocks)


def layout(units: Units, *, use_blocks: bool, use_clusters: bool) -> Layout:
    """Number the randomisation units of ``units`` canonically.

    Raises
    ------
    RandomisationError
        If a cluster is spread over two blocks, or a needed column is missing.
    """
    n = units.n_units
    if use_blocks and units.blocks is None:
        raise RandomisationError(
            "this scheme needs block labels, but the units have none. Fix: give each unit a block."
        )
    if use_clusters and units.clusters is None:
        raise RandomisationError(
            "this scheme needs cluster labels, but the units have none. "
            "Fix: give each unit a cluster."
        )
    if use_clusters and units.clusters is not None:
        return _cluster_layout(units, units.clusters, use_blocks=use_blocks)
    block, block_labels = _blocks(units, use_blocks=use_blocks)
    position = _canonical(block, _label_order(np.asarray(units.ids)), len(block_labels))
    ru_block = np.empty(n, dtype=np.int64)
    ru_block[position] = block
    return Layout(unit_ru=position, ru_block=ru_block, block_labels=block_labels, n_ru=n)


def _blocks(units: Units, *, use_blocks: bool) -> tuple[IntArray, tuple[str, ...]]:
    """Block code of each unit and the block labels (one block ``""`` without blocks)."""
    if use_blocks and units.blocks is not None:
        block, labels = _codes(units.blocks, "block")
        return block, tuple(str(x) for x in labels)
    return np.zeros(units.n_units, dtype=np.int64), ("",)


def _cluster_layout(units: Units, clusters: NDArray[Any], *, use_blocks: bool) -> Layout:
    try:
        cluster, cluster_labels = _codes(clusters, "cluster")
    except RandomisationError:
        _blocks(units, use_blocks=use_blocks)  # a missing block label is reported first
        raise
    n_clusters = len(cluster_labels)
    coded = _cluster_blocks(units, cluster, n_clusters) if use_blocks else None
    if coded is None:
        coded = _checked_cluster_blocks(units, cluster, cluster_labels, use_blocks=use_blocks)
    cluster_block, block_labels = coded
    position = _canonical(cluster_block, np.arange(n_clusters, dtype=np.int64), len(block_labels))
    ru_block = np.empty(n_clusters, dtype=np.int64)
    ru_block[position] = cluster_block
    return Layout(
        unit_ru=position[cluster], ru_block=ru_block, block_labels=block_labels, n_ru=n_clusters
    )


def _cluster_blocks(
    units: Units, cluster: IntArray, n_clusters: int
) -> tuple[IntArray, tuple[str, ...]] | None:
    """Block code of each cluster, coding one block label per cluster rather than per unit.

    ``None`` when a cluster's units differ in block label or one is missing: then
    :func:`_checked_cluster_blocks` codes every unit's label and says what is wrong.
    """
    blocks = np.asarray(units.blocks)
    per_cluster = np.empty(n_clusters, dtype=blocks.dtype)
    per_cluster[cluster] = blocks
    if np.asarray(per_cluster[cluster] != blocks).any():
        return None
    try:
        code, labels = _codes(per_cluster, "block")
    except RandomisationError:
        return None
    return code, tuple(str(x) for x in labels)


def _checked_cluster_blocks(
    units: Units, cluster: IntArray, cluster_labels: NDArray[Any], *, use_blocks: bool
) -> tuple[IntArray, tuple[str, ...]]:
    block, block_labels = _blocks(units, use_blocks=use_blocks)
    cluster_block = np.zeros(len(cluster_labels), dtype=np.int64)
    if use_blocks:
        cluster_block[cluster] = block
        spread = cluster_block[cluster] != block
        if spread.any():
            bad = sorted({str(x) for x in cluster_labels[np.unique(cluster[spread])]})
            raise RandomisationError(
                f"cluster(s) {', '.join(bad[:5])} lie in more than one block; a cluster must be "
                "randomised whole, so all its units need the same block. "
                "Fix: correct the block of those units, or block on a cluster-level column."
            )
    return cluster_block, block_labels


def ru_covariates(units: Units, lay: Layout) -> FloatArray:
    """Covariates of each canonical randomisation unit (cluster means for clusters)."""
    if units.covariates is None or units.covariates.shape[1] == 0:
        raise RandomisationError(
            "this scheme needs covariates, but none were given. "
            "Fix: name the covariate columns in the protocol."
        )
    x = np.asarray(units.covariates, dtype=np.float64)
    if not np.isfinite(x).all():
        raise RandomisationError(
            "covariates contain missing or non-finite values. "
            "Fix: fill them in the units file before randomising."
        )
    if lay.n_ru == units.n_units:
        out = np.empty_like(x)
        out[lay.unit_ru] = x
        return out
    size = np.bincount(lay.unit_ru, minlength=lay.n_ru).astype(np.float64)
    cols = [
        np.bincount(lay.unit_ru, weights=x[:, j], minlength=lay.n_ru) / size
        for j in range(x.shape[1])
    ]
    return np.column_stack(cols)

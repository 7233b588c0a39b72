"""Data protection: keyed pseudonyms for ids, and small-cell suppression for publication.

Pseudonyms are HMAC-SHA256 of the id under a key the caller holds; without the key they
cannot be reversed or recomputed, and trialkit never writes the key anywhere.

Count tables meant for publication have every cell below the threshold suppressed
(primary suppression) and then further cells (secondary suppression) until no suppressed
cell can be worked out from the row and column totals: a suppressed cell is recoverable
exactly when it is fixed by the linear system of published totals, which is tested with
the rank of that system.
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

#: Shortest key accepted for pseudonyms (bytes).
MIN_KEY_BYTES = 16


def pseudonym(value: str, key: bytes) -> str:
    """The keyed pseudonym of one id: hex HMAC-SHA256, first 20 characters.

    Examples
    --------
    >>> pseudonym("C001", b"0123456789abcdef") == pseudonym("C001", b"0123456789abcdef")
    True
    """
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def pseudonymise(frame: pd.DataFrame, columns: Sequence[str], *, key: bytes) -> pd.DataFrame:
    """A copy of ``frame`` with ``columns`` replaced by keyed pseudonyms.

    Parameters
    ----------
    frame
        The data; not changed.
    columns
        Id columns to replace (missing ids stay missing).
    key
        Secret key of at least 16 bytes, kept by the caller and never written by trialkit.

    Returns
    -------
    pandas.DataFrame
        The copy.

    Raises
    ------
    ValueError
        If the key is shorter than 16 bytes.
    """
    if not isinstance(key, bytes) or len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"The 'key' parameter of pseudonymise must be at least {MIN_KEY_BYTES} bytes. "
            f"Got {len(key) if isinstance(key, bytes) else type(key).__name__} instead."
        )
    out = frame.copy()
    for column in columns:
        values = out[column]
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        mapped = np.array([pseudonym(str(u), key) for u in uniques] + [None], dtype=object)
        out[column] = pd.Series(mapped[codes], index=out.index, dtype=object)
    return out


def _recoverable(mask: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Which suppressed cells are fixed by the published row and column totals."""
    cells = np.argwhere(mask)
    out = np.zeros_like(mask)
    if len(cells) == 0:
        return out
    n_rows, n_cols = mask.shape
    system = np.zeros((n_rows + n_cols, len(cells)))
    for k, (i, j) in enumerate(cells):
        system[i, k] = 1.0
        system[n_rows + j, k] = 1.0
    rank = np.linalg.matrix_rank(system)
    for k, (i, j) in enumerate(cells):
        probe = np.zeros((1, len(cells)))
        probe[0, k] = 1.0
        if np.linalg.matrix_rank(np.vstack([system, probe])) == rank:
            out[i, j] = True
    return out


def _protect(values: NDArray[np.float64], mask: NDArray[np.bool_], i: int, j: int) -> None:
    """Suppress the cheapest path closing a cycle through cell (i, j).

    Rows and columns are the nodes of a bipartite graph and cells its edges; a cell lies
    on a cycle of suppressed cells exactly when it cannot be recovered from the totals.
    The cheapest path from row ``i`` to column ``j`` (without the cell itself) costs the
    counts of the cells it newly suppresses; zero cells cost far more, because a zero on
    the cycle would let non-negativity pin the cell down.
    """
    n_rows, n_cols = mask.shape

    def cost(r: int, c: int) -> float:
        if mask[r, c]:
            return 0.0
        return float(values[r, c]) if values[r, c] > 0 else 1e12

    # Nodes: rows 0..n_rows-1, columns n_rows..n_rows+n_cols-1.
    best = {i: 0.0}
    previous: dict[int, int] = {}
    queue = [(0.0, i)]
    while queue:
        dist, node = heapq.heappop(queue)
        if dist > best.get(node, math.inf):
            continue
        if node < n_rows:
            steps = [(n_rows + c, cost(node, c)) for c in range(n_cols) if (node, c) != (i, j)]
        else:
            c = node - n_rows
            steps = [(r, cost(r, c)) for r in range(n_rows) if (r, c) != (i, j)]
        for nxt, weight in steps:
            if dist + weight < best.get(nxt, math.inf):
                best[nxt] = dist + weight
                previous[nxt] = node
                heapq.heappush(queue, (dist + weight, nxt))
    node = n_rows + j
    while node != i:
        back = previous[node]
        r, c = (back, node - n_rows) if back < n_rows else (node, back - n_rows)
        mask[r, c] = True
        node = back


def suppression_mask(table: pd.DataFrame, threshold: int = 10) -> pd.DataFrame:
    """Which cells to suppress: counts in 1..threshold−1, then secondary cells.

    Parameters
    ----------
    table
        Non-negative whole counts, at least 2 × 2 (totals are not part of it).
    threshold
        Smallest count published (default 10).

    Returns
    -------
    pandas.DataFrame
        Booleans shaped like ``table``; True means suppress.

    Raises
    ------
    ValueError
        If the table is smaller than 2 × 2 or holds negative or missing counts.
    """
    values = table.to_numpy(dtype=float)
    if values.ndim != 2 or min(values.shape) < 2:
        raise ValueError(
            "The 'table' parameter of suppression_mask must be at least 2 × 2 "
            f"(totals would reveal every cell). Got {values.shape} instead."
        )
    if np.isnan(values).any() or (values < 0).any():
        raise ValueError(
            "The 'table' parameter of suppression_mask must hold non-negative "
            "counts with none missing."
        )
    mask = (values > 0) & (values < threshold)
    while True:
        recoverable = np.argwhere(_recoverable(mask))
        if len(recoverable) == 0:
            break
        i, j = recoverable[0]
        _protect(values, mask, int(i), int(j))
    return pd.DataFrame(mask, index=table.index, columns=table.columns)


def suppress_small_cells(table: pd.DataFrame, threshold: int = 10) -> pd.DataFrame:
    """A count table for publication: small cells suppressed, totals from the true counts.

    Parameters
    ----------
    table
        Non-negative whole counts (rows × columns), without totals.
    threshold
        Smallest count published (default 10).

    Returns
    -------
    pandas.DataFrame
        Nullable integers with suppressed cells missing, plus a ``Total`` column and row.

    Examples
    --------
    >>> t = pd.DataFrame({"a": [3, 40, 50], "b": [30, 41, 52]}, index=["x", "y", "z"])
    >>> out = suppress_small_cells(t)
    >>> int(out.isna().sum().sum())
    4
    """
    mask = suppression_mask(table, threshold)
    counts = table.astype("Int64")
    published = counts.mask(mask.to_numpy())
    published["Total"] = counts.sum(axis=1)
    published.loc["Total"] = [*counts.sum(axis=0).tolist(), int(counts.to_numpy().sum())]
    return published.astype("Int64")

"""Text columns read straight from their Arrow buffers: blank cells and ids to trim.

pandas keeps text read from a CSV in Arrow arrays: one buffer of bytes and one of offsets.
Whether a value is blank, or starts or ends with a space, shows in its first and last
byte, so a million values are judged by looking at two million bytes, without copying a
string. Bytes that may be part of a space (control characters, the space, anything not
ASCII) send the few values holding them to Arrow's own Unicode-aware functions, so the
answers are exactly those of ``str.strip`` and ``pyarrow.compute.utf8_is_space``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

BoolArray = NDArray[np.bool_]


def arrow_chunks(series: pd.Series) -> list[Any] | None:
    """The Arrow string arrays holding ``series`` (``None``: not Arrow-backed text)."""
    if not pd.api.types.is_string_dtype(series.dtype) or series.dtype == object:
        return None
    import pyarrow as pa  # type: ignore[import-untyped]

    try:
        array = pa.array(series.array)
    except (TypeError, ValueError, pa.ArrowException):
        return None
    if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        return None
    return list(array.chunks) if isinstance(array, pa.ChunkedArray) else [array]


def _edges(chunk: Any) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.int64]]:
    """Each value's first and last byte (0 where empty) and its length in bytes."""
    import pyarrow as pa

    _, offsets_buffer, data_buffer = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    raw = np.frombuffer(offsets_buffer, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
    offsets = np.asarray(raw, dtype=np.int64)
    start = offsets[:-1]
    length = offsets[1:] - start
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else None
    if data is None or not len(data):
        empty = np.zeros(len(chunk), dtype=np.uint8)
        return empty, empty, np.asarray(length, dtype=np.int64)
    has = length > 0
    first = np.where(has, data[np.minimum(start, len(data) - 1)], 0).astype(np.uint8)
    last = np.where(has, data[np.clip(start + length - 1, 0, len(data) - 1)], 0).astype(np.uint8)
    return first, last, np.asarray(length, dtype=np.int64)


def _plain(byte: NDArray[np.uint8]) -> BoolArray:
    """Printable ASCII other than the space: never part of whitespace in any encoding rule."""
    return np.asarray((byte > 0x20) & (byte < 0x7F), dtype=bool)


def _valid(chunk: Any) -> BoolArray:
    if not chunk.null_count:
        return np.ones(len(chunk), dtype=bool)
    return np.asarray(chunk.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def blank_text(series: pd.Series) -> BoolArray | None:
    """True where a value is missing, empty or only whitespace (``None``: not Arrow text).

    Examples
    --------
    >>> blank_text(pd.Series(["a", "", "  ", None, "\\u00a0", " b"], dtype="str")).tolist()
    [False, True, True, True, True, False]
    """
    chunks = arrow_chunks(series)
    if chunks is None:
        return None
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    parts = []
    for chunk in chunks:
        first, _, length = _edges(chunk)
        valid = _valid(chunk)
        blank = ~(_plain(first) & valid)  # a plain first byte: not blank
        unsure = np.flatnonzero(blank & valid & (length > 0))
        if unsure.size:
            spaces = pc.utf8_is_space(chunk.take(unsure)).fill_null(True)
            blank[unsure] = np.asarray(spaces.to_numpy(zero_copy_only=False), dtype=bool)
        parts.append(blank)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def needs_trimming(series: pd.Series) -> bool:
    """Whether some value may start or end with whitespace (``True`` when unsure).

    Examples
    --------
    >>> needs_trimming(pd.Series(["C1", "C2", None], dtype="str"))
    False
    >>> needs_trimming(pd.Series(["C1", "C2 "], dtype="str"))
    True
    """
    chunks = arrow_chunks(series)
    if chunks is None:
        return True
    for chunk in chunks:
        first, last, length = _edges(chunk)
        plain = _plain(first) & _plain(last)
        if not bool(np.all(plain | (length == 0) | ~_valid(chunk))):
            return True
    return False

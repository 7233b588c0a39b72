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


def _buffers(chunk: Any) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
    """A string array's offsets (one more than its values) and its bytes."""
    import pyarrow as pa

    _, offsets_buffer, data_buffer = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    raw = np.frombuffer(offsets_buffer, dtype=width)[chunk.offset : chunk.offset + len(chunk) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else None
    return np.asarray(raw, dtype=np.int64), np.zeros(0, np.uint8) if data is None else data


def _plain_firsts(chunk: Any) -> tuple[BoolArray, BoolArray]:
    """Whether each value's first byte is plain (``False`` where it is empty) and whether
    it has one, read with the offsets' own width (no copy of a million offsets)."""
    import pyarrow as pa

    _, offsets_buffer, data_buffer = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets: NDArray[Any] = np.frombuffer(offsets_buffer, dtype=width)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ]
    start = offsets[:-1]
    has = offsets[1:] > start
    if data_buffer is None or not len(data_buffer):
        return np.zeros(len(chunk), dtype=bool), has
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    if _all_plain(data[int(offsets[0]) : int(offsets[-1])]):  # ids: every byte is plain
        return has, has
    if has.all():  # every value has a first byte, at its offset
        return _plain(data[start]), has
    first = np.where(has, data[np.minimum(start, len(data) - 1)], 0).astype(np.uint8)
    return _plain(first), has


def _plain(byte: NDArray[np.uint8]) -> BoolArray:
    """Printable ASCII other than the space: never part of whitespace in any encoding rule."""
    return np.asarray((byte > 0x20) & (byte < 0x7F), dtype=bool)


#: Which bytes :func:`_plain` calls plain, as a table looked up by byte.
_PLAIN_BYTES = _plain(np.arange(256, dtype=np.uint8))


def _all_plain(data: NDArray[np.uint8]) -> bool:
    """Whether every byte is plain (:func:`_plain`): two passes of the processor's vector
    units over the bytes, cheaper than looking up each value's first and last byte."""
    return not len(data) or (int(data.min()) > 0x20 and int(data.max()) < 0x7F)


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
        plain, has = _plain_firsts(chunk)
        valid = _valid(chunk)
        blank = ~(plain & valid)  # a plain first byte: not blank
        unsure = np.flatnonzero(blank & valid & has)
        if unsure.size:
            spaces = pc.utf8_is_space(chunk.take(unsure)).fill_null(True)
            blank[unsure] = np.asarray(spaces.to_numpy(zero_copy_only=False), dtype=bool)
        parts.append(blank)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def short_keys(series: pd.Series) -> NDArray[np.uint64] | None:
    """Each value as one 64-bit number, when every value is at most 7 bytes long (``None``
    otherwise, or when the column is not Arrow text): its bytes, then its length in the
    top byte (255: missing). Equal numbers, equal values; short ids (``C123456``) are then
    looked up as numbers, which hashes several times faster than text.

    Examples
    --------
    >>> keys = short_keys(pd.Series(["C1", "C12", "C1", None], dtype="str"))
    >>> [hex(k) for k in keys.tolist()]
    ['0x200000000003143', '0x300000000323143', '0x200000000003143', '0xff00000000000000']
    """
    chunks = arrow_chunks(series)
    if chunks is None:
        return None
    parts = []
    for chunk in chunks:
        packed = _packed(chunk)
        if packed is None:
            return None
        parts.append(packed)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)


#: Masks keeping the first n bytes of a little-endian word, n = 0 … 7.
_FIRST_BYTES = np.array([(1 << (8 * n)) - 1 for n in range(8)], dtype=np.uint64)


def _packed(chunk: Any) -> NDArray[np.uint64] | None:
    """:func:`short_keys` of one chunk, read a word at a time: the 8 bytes at each value's
    offset, cut to its length, in a few passes over a million ids (offsets at their own
    width, the words masked and tagged in place)."""
    import pyarrow as pa

    _, offsets_buffer, data_buffer = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets: NDArray[Any] = np.frombuffer(offsets_buffer, dtype=width)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ]
    start = offsets[:-1]
    length = np.diff(offsets)
    valid = _valid(chunk) if chunk.null_count else None
    if valid is not None:
        length = np.where(valid, length, 0)
    if len(length) and int(length.max()) > 7:
        return None
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else None
    size = 0 if data is None else len(data)
    padded = np.zeros(size + 8, dtype=np.uint8)
    padded[:size] = data if data is not None else padded[:0]
    # words[i]: the 8 bytes from byte i on (little-endian), unaligned.
    words = np.ndarray((size + 1,), dtype="<u8", buffer=padded, strides=(1,))
    key: NDArray[np.uint64] = words[start]
    key &= _FIRST_BYTES[length]
    tag = length.astype(np.uint64)  # the length in the top byte; 255: missing
    if valid is not None:
        tag[~valid] = 255
    tag <<= np.uint64(56)
    key |= tag
    return key


def empty_text(series: pd.Series) -> BoolArray | None:
    """True where a value is missing or ``""`` (``None``: not Arrow text).

    Examples
    --------
    >>> empty_text(pd.Series(["a", "", " ", None], dtype="str")).tolist()
    [False, True, False, True]
    """
    chunks = arrow_chunks(series)
    if chunks is None:
        return None
    parts = [(_lengths(chunk) == 0) | ~_valid(chunk) for chunk in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def _lengths(chunk: Any) -> NDArray[np.int64]:
    offsets, _ = _buffers(chunk)
    return np.asarray(offsets[1:] - offsets[:-1], dtype=np.int64)


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
    return not all(_plain_ends(chunk) for chunk in chunks)


def _plain_ends(chunk: Any) -> bool:
    """Whether every value of a string array that is given and not empty starts and ends
    with a plain byte: the first and last bytes read straight from the offsets (those
    of the values that count only, when some are missing or empty)."""
    _, offsets_buffer, data_buffer = chunk.buffers()
    if data_buffer is None or not len(chunk):
        return True
    import pyarrow as pa

    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets: NDArray[Any] = np.frombuffer(offsets_buffer, dtype=width)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ]
    data = np.frombuffer(data_buffer, dtype=np.uint8)
    if _all_plain(data[int(offsets[0]) : int(offsets[-1])]):  # ids: no byte to trim at all
        return True
    start, end = offsets[:-1], offsets[1:]
    counted = end > start
    if chunk.null_count:
        counted &= _valid(chunk)
    if not counted.all():
        start, end = start[counted], end[counted]
    return bool(_PLAIN_BYTES[data[start]].all() and _PLAIN_BYTES[data[end - 1]].all())


def factorize_text(series: pd.Series) -> tuple[NDArray[np.int64], Any]:
    """``pd.factorize(series, use_na_sentinel=True)``; a text column holding one value on
    every row (a ledger's currency) is told by its bytes, without hashing a million values.

    Examples
    --------
    >>> codes, uniques = factorize_text(pd.Series(["GBP", "GBP"], dtype="str"))
    >>> codes.tolist(), uniques.tolist()
    ([0, 0], ['GBP'])
    """
    chunks = [chunk for chunk in arrow_chunks(series) or [] if len(chunk)]
    if chunks and all(_holds_only(chunk, chunks[0]) for chunk in chunks):
        first = pd.factorize(series.iloc[:1], use_na_sentinel=True)[1]
        return np.zeros(len(series), dtype=np.int64), first
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), uniques


def _holds_only(chunk: Any, first: Any) -> bool:
    """Whether every value of ``chunk`` is given and equal to the first value of ``first``
    (a chunk of the same column; neither empty): its last value first, then the lengths,
    then the bytes."""
    if chunk.null_count or first.null_count:
        return False
    value: bytes = first[0].as_py().encode()
    if chunk[len(chunk) - 1].as_py().encode() != value:
        return False
    import pyarrow as pa

    _, offsets_buffer, data_buffer = chunk.buffers()
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets: NDArray[Any] = np.frombuffer(offsets_buffer, dtype=width)[
        chunk.offset : chunk.offset + len(chunk) + 1
    ]
    size = len(value)
    if int(offsets[-1] - offsets[0]) != size * len(chunk):
        return False
    if not size:  # every value empty
        return True
    if not bool((np.diff(offsets) == size).all()):
        return False
    data = np.frombuffer(data_buffer, dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
    return bytes(data) == value * len(chunk)  # one comparison of memory, not per value

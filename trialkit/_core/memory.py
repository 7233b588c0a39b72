"""How a large stage takes memory for its arrays (glibc on Linux; elsewhere nothing).

numpy takes each array from ``malloc``. glibc maps an array over its mmap threshold (at
most 32 MiB) fresh from the system and unmaps it when it is freed, so a million-row plan,
which makes and frees gigabytes of n x k arrays one after another, pays for every array's
pages again on first touch. numpy also asks the kernel for huge pages for each large
array (``madvise``), and where free memory is fragmented (a page cache full of the data
just read) the kernel compacts memory to find them before the write can go on. Measured
on a 2-core VM: writing a new 88 MB array took 110-330 ms with huge pages, about 40 ms
without, and 10 ms into pages the process had used before.

:func:`reusing_freed_pages` keeps large arrays in glibc's heap, in small pages, for the
length of a stage, so that a freed array's pages serve the next one, and
:func:`return_freed_memory` hands what is free back to the system between stages
(``malloc_trim``), so that one stage's peak does not sit on the last one's remains.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import cache

#: ``mallopt`` parameters (malloc.h).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: Where glibc's own adjustment takes its thresholds in a process that frees large arrays
#: (``DEFAULT_MMAP_THRESHOLD_MAX`` on 64 bits, and the trim threshold at twice it): they
#: are left there after a stage, as setting them turns that adjustment off for good.
SETTLED_MMAP_THRESHOLD = 32 * 1024 * 1024
SETTLED_TRIM_THRESHOLD = 2 * SETTLED_MMAP_THRESHOLD
#: The largest value ``mallopt`` takes (a C int): arrays over 2 GiB are still mapped.
IN_HEAP_UP_TO = 2**31 - 1

_lock = threading.Lock()
_depth = 0


@cache
def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has ``mallopt`` and ``malloc_trim``)."""
    with suppress(OSError):
        libc = ctypes.CDLL(None)
        if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim"):
            return libc
    return None


def return_freed_memory() -> None:
    """Give the memory freed so far back to the system (glibc's ``malloc_trim``)."""
    libc = _glibc()
    if libc is not None:
        libc.malloc_trim(0)


def _huge_pages(wanted: bool) -> bool | None:
    """Whether numpy asks for huge pages for large arrays, set to ``wanted``; the setting
    before (``None`` where this numpy has no such setting)."""
    from numpy._core import multiarray

    setting = getattr(multiarray, "_set_madvise_hugepage", None)  # numpy's own switch
    return None if setting is None else bool(setting(wanted))


@contextmanager
def reusing_freed_pages() -> Iterator[None]:
    """Inside, large arrays come from glibc's heap in small pages, and freed memory stays
    in the heap for the next array.

    On leaving, the freed memory goes back to the system, numpy's huge-page setting is
    restored, and glibc's thresholds are left where its own adjustment takes a process
    that frees large arrays (:data:`SETTLED_MMAP_THRESHOLD`): that adjustment cannot be
    turned back on, and its starting values (128 KiB) would map every later array of the
    process afresh. Nested uses keep the outermost's settings.
    """
    global _depth
    libc = _glibc()
    with _lock:
        outermost = libc is not None and _depth == 0
        _depth += 1
        if outermost and libc is not None:
            libc.mallopt(M_MMAP_THRESHOLD, IN_HEAP_UP_TO)
            libc.mallopt(M_TRIM_THRESHOLD, IN_HEAP_UP_TO)
            huge = _huge_pages(False)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if outermost and libc is not None:
                if huge is not None:
                    _huge_pages(huge)
                libc.mallopt(M_MMAP_THRESHOLD, SETTLED_MMAP_THRESHOLD)
                libc.mallopt(M_TRIM_THRESHOLD, SETTLED_TRIM_THRESHOLD)
                libc.malloc_trim(0)

"""Large arrays in glibc's heap inside a stage (trialkit._core.memory)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from trialkit._core import memory


def _in_heap(array: np.ndarray) -> bool:
    """Whether ``array``'s data lies in the process's ``[heap]`` mapping."""
    address = array.ctypes.data
    for line in Path("/proc/self/maps").read_text().splitlines():
        span, *rest = line.split()
        low, high = (int(part, 16) for part in span.split("-"))
        if low <= address < high:
            return bool(rest) and rest[-1] == "[heap]"
    return False


needs_glibc = pytest.mark.skipif(
    memory._glibc() is None or not Path("/proc/self/maps").exists(),
    reason="glibc on Linux only",
)


@needs_glibc
def test_large_arrays_come_from_the_heap_inside_and_are_mapped_again_after() -> None:
    size = 64 << 20  # over glibc's largest mmap threshold: mapped on its own by default
    with memory.reusing_freed_pages():
        inside = np.ones(size // 8)
        assert _in_heap(inside)
        with memory.reusing_freed_pages():  # nested: the outer settings hold
            assert _in_heap(np.ones(size // 8))
        assert _in_heap(np.ones(size // 8))
    del inside
    assert not _in_heap(np.ones(size // 8))


def test_numpys_huge_page_setting_is_restored() -> None:
    before = memory._huge_pages(True)
    try:
        with memory.reusing_freed_pages():
            if memory._glibc() is not None:
                assert memory._huge_pages(False) is False  # off inside
        assert memory._huge_pages(True) is True  # on again after
    finally:
        if before is not None:
            memory._huge_pages(before)


def test_an_error_inside_leaves_the_defaults_restored() -> None:
    with pytest.raises(RuntimeError), memory.reusing_freed_pages():
        raise RuntimeError("stage failed")
    assert memory._depth == 0

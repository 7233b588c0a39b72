"""BLAS on one thread for a stage, with the libraries looked up once (trialkit._core.blas)."""

from __future__ import annotations

from threadpoolctl import threadpool_info

from trialkit._core import blas


def _blas_threads() -> list[int]:
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_one_thread_inside_and_the_limits_restored_after() -> None:
    blas._controller()  # NumPy's and SciPy's BLAS loaded, as by any stage that uses it
    before = _blas_threads()
    with blas.one_blas_thread():
        assert set(_blas_threads()) == {1}
        with blas.one_blas_thread():  # nested: still one
            assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_the_libraries_are_looked_up_once() -> None:
    assert blas._controller() is blas._controller()

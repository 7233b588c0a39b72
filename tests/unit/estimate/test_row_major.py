"""Row-major designs written by the compiled pass equal NumPy's column-by-column ones."""

from __future__ import annotations

import numpy as np

from trialkit.estimate.frequentist.row_major import lin_design, stack_rows


def test_stack_rows_equals_column_stack_in_every_layout() -> None:
    rng = np.random.default_rng(1)
    n = 1000
    blocks = (
        np.ones(n),
        np.asfortranarray(rng.normal(size=(n, 3))),
        rng.normal(size=(n, 2)),
        np.empty((n, 0)),
        rng.normal(size=(2 * n, 1))[::2],  # a strided view
    )
    out = stack_rows(n, *blocks)
    assert out.flags.c_contiguous
    np.testing.assert_array_equal(out, np.column_stack(blocks))


def test_lin_design_equals_the_numpy_construction() -> None:
    rng = np.random.default_rng(2)
    n, p, levels, n_arms = 500, 3, 4, 2
    arm_codes = rng.integers(0, n_arms + 1, n)
    covariates = np.asfortranarray(rng.normal(size=(n, p)))
    fe_codes = rng.integers(0, levels, n)
    indicators = (fe_codes[:, None] == np.arange(1, levels)).astype(float)
    centred = np.column_stack([covariates, indicators])
    means = rng.normal(size=p + levels - 1)  # any centring
    centred = centred - means
    dummies = (arm_codes[:, None] == np.arange(1, n_arms + 1)).astype(float)
    expected = np.column_stack(
        [np.ones(n), dummies, centred, *(dummies[:, [j]] * centred for j in range(n_arms))]
    )
    got = lin_design(arm_codes, covariates, means, fe_codes, n_arms)
    assert got.flags.c_contiguous
    np.testing.assert_array_equal(got, expected)
    no_blocks = lin_design(arm_codes, covariates, means[:p], None, n_arms)
    keep = [0, 1, 2, *range(3, 3 + p)]
    np.testing.assert_array_equal(no_blocks[:, : 3 + p], expected[:, keep])


def test_stack_rows_standardises_the_blocks_asked_for() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    covariates = np.asfortranarray(rng.normal(50.0, 4.0, size=(n, 3)))
    covariates[:, 1] = 7.0  # constant: centred only
    other = rng.normal(size=(n, 2))
    out = stack_rows(n, np.ones(n), covariates, other, standardise=[False, True, False])
    sd = covariates.std(axis=0)
    sd[sd == 0] = 1.0
    expected = np.column_stack([np.ones(n), (covariates - covariates.mean(axis=0)) / sd, other])
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(out[:, 4:], other)  # the others exactly as they were


def test_read_only_inputs_are_read() -> None:
    rng = np.random.default_rng(4)
    block = rng.normal(size=(50, 2))
    block.flags.writeable = False  # pandas' copy-on-write arrays and kept designs are so
    codes = np.arange(50) % 2
    codes.flags.writeable = False
    np.testing.assert_array_equal(stack_rows(50, block, standardise=[False]), block)
    got = lin_design(codes, block, np.zeros(2), None, 1)
    np.testing.assert_array_equal(got[:, 2:4], block)

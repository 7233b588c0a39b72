"""One battery run on every scheme: shapes, determinism, batches, enumeration, order."""

from __future__ import annotations

from typing import get_args

import numpy as np
import pytest

from trialkit._core.rng import RawStream
from trialkit.randomise.schemes import SCHEMES, Scheme, SchemeName
from trialkit.randomise.units import Units


def test_registry_holds_every_scheme_name() -> None:
    assert set(SCHEMES) == set(get_args(SchemeName))
    for name, cls in SCHEMES.items():
        assert cls.name == name


def test_probabilities_shape_and_rows_sum_to_one(scheme: Scheme) -> None:
    p = scheme.probabilities()
    assert p.shape == (scheme.units.n_units, scheme.n_arms)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-12)


def test_draw_is_deterministic_and_in_range(scheme: Scheme) -> None:
    a = scheme.draw(RawStream(123))
    b = scheme.draw(RawStream(123))
    assert a.shape == (scheme.units.n_units,)
    assert ((a >= 0) & (a < scheme.n_arms)).all()
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("batch_size", [1, 3, None])
def test_draw_many_does_not_depend_on_batch_size(scheme: Scheme, batch_size: int | None) -> None:
    reference = np.concatenate(list(scheme.draw_many(RawStream(9), 7, batch_size=2)))
    batches = list(scheme.draw_many(RawStream(9), 7, batch_size=batch_size))
    if batch_size is not None and scheme.name != "rerandomisation":
        assert all(len(b) <= batch_size for b in batches)
    np.testing.assert_array_equal(np.concatenate(batches), reference)
    np.testing.assert_array_equal(scheme.draw(RawStream(9)), reference[0])


def test_draw_many_equals_draws_one_at_a_time(scheme: Scheme) -> None:
    if scheme.name == "rerandomisation":
        pytest.skip("each draw() discards the rest of its candidate batch")
    stream = RawStream(9)
    one_by_one = np.stack([scheme.draw(stream) for _ in range(7)])
    np.testing.assert_array_equal(
        np.concatenate(list(scheme.draw_many(RawStream(9), 7))), one_by_one
    )


def test_draw_seeds_equals_one_stream_per_seed(scheme: Scheme) -> None:
    seeds = [0, 1, 2, 77]
    expected = np.stack([scheme.draw(RawStream(s)) for s in seeds])
    np.testing.assert_array_equal(scheme.draw_seeds(seeds), expected)


def test_enumeration_reproduces_declared_probabilities(scheme: Scheme) -> None:
    table, prob = scheme.enumerate_assignments()
    assert len(table) == scheme.count_assignments() == len({tuple(r) for r in table})
    assert prob.sum() == pytest.approx(1.0, abs=1e-12)
    marginal = np.stack(
        [(prob[:, None] * (table == k)).sum(axis=0) for k in range(scheme.n_arms)], axis=1
    )
    np.testing.assert_allclose(marginal, scheme.probabilities(), atol=1e-12)


def test_every_draw_is_a_possible_assignment(scheme: Scheme) -> None:
    table, prob = scheme.enumerate_assignments()
    possible = {tuple(r) for r, p in zip(table, prob, strict=True) if p > 0}
    for batch in scheme.draw_many(RawStream(5), 50):
        assert all(tuple(r) in possible for r in batch)


def test_allocation_does_not_depend_on_row_order(scheme: Scheme) -> None:
    u = scheme.units
    order = np.random.default_rng(1).permutation(u.n_units)
    shuffled = Units(
        ids=u.ids[order],
        blocks=None if u.blocks is None else u.blocks[order],
        clusters=None if u.clusters is None else u.clusters[order],
        covariates=None if u.covariates is None else u.covariates[order],
        covariate_names=u.covariate_names,
    )
    twin = type(scheme).__new__(type(scheme))
    twin.__dict__.update(scheme.__dict__)
    twin.units, twin._layout = shuffled, None
    for attr in ("_rule", "_pair", "_z"):
        if hasattr(twin, attr):
            setattr(twin, attr, None)
    if hasattr(twin, "base"):
        twin.base = type(scheme.base)(shuffled, ratios=scheme.ratios)  # type: ignore[attr-defined]
    a = dict(zip(u.ids, scheme.draw(RawStream(31)), strict=True))
    b = dict(zip(shuffled.ids, twin.draw(RawStream(31)), strict=True))
    assert a == b


def test_parameters_are_json_ready(scheme: Scheme) -> None:
    import json

    assert json.loads(json.dumps(scheme.parameters())) == scheme.parameters()

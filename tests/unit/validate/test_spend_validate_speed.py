"""Shortcuts taken to validate a million-row spend ledger give exactly what the plain
computations give (issue 14: validate within 3× of reading the file)."""

from __future__ import annotations

import hashlib
from itertools import pairwise
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from trialkit._core.files import sha256_file
from trialkit.protocol.model import Protocol
from trialkit.validate.spending_calendar import distinct_days, period_label
from trialkit.validate.spending_caps import _combined, _dense
from trialkit.validate.spending_data import LedgerSource, _periods
from trialkit.validate.stage import _sha256
from trialkit.validate.texts import factorize_text

#: A few values, so that a column often holds one of them on every row.
FEW = st.sampled_from(["GBP", "EUR", "", "GB", "GBPX", "é", "ab\x00"])


def _series(texts: list[str | None], *, cuts: list[int], large: bool) -> pd.Series:
    """Texts as an Arrow-backed ``str`` column in chunks (some empty), the first sliced."""
    kind = pa.large_string() if large else pa.string()
    array = pa.array(["x", *texts], type=kind).slice(1)  # a chunk with an offset
    bounds = sorted({0, len(texts), *(min(c, len(texts)) for c in cuts)})
    chunks = [array.slice(a, b - a) for a, b in pairwise(bounds)] or [array]
    return pd.Series(pd.array(pa.chunked_array(chunks, type=kind), dtype="str"))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.one_of(st.none(), FEW), max_size=30),
    st.lists(st.integers(0, 30), max_size=4),
    st.booleans(),
    st.booleans(),
)
def test_factorize_text_is_pandas_factorize(
    texts: list[str | None], cuts: list[int], large: bool, same: bool
) -> None:
    if same and texts:  # one value on every row: the shortcut's case
        texts = [texts[0] or "GBP"] * len(texts)
    series = _series(texts, cuts=cuts, large=large)
    codes, uniques = factorize_text(series)
    expected_codes, expected_uniques = pd.factorize(series, use_na_sentinel=True)
    assert codes.dtype == np.int64
    assert codes.tolist() == expected_codes.tolist()
    assert type(uniques) is type(expected_uniques)
    assert uniques.dtype == expected_uniques.dtype
    assert uniques.tolist() == expected_uniques.tolist()


def test_factorize_text_of_other_columns_is_pandas_factorize() -> None:
    for series in (pd.Series(["a", 1, None], dtype=object), pd.Series([2.0, 2.0])):
        codes, uniques = factorize_text(series)
        expected_codes, expected_uniques = pd.factorize(series, use_na_sentinel=True)
        assert codes.tolist() == expected_codes.tolist()
        assert uniques.equals(expected_uniques)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 50), min_size=1, max_size=30),
    st.integers(0, 3),
    st.integers(-3, 3),
)
def test_dense_and_combined_keys_group_as_the_pairs_do(
    first: list[int], width: int, shift: int
) -> None:
    a = np.array(first, dtype=np.int64) + max(shift, 0)
    given = a.copy()
    b = (np.arange(len(a), dtype=np.int64) * 7) % (width + 1)
    dense = _dense(a)
    assert dense.min() == 0 and dense.max() < 4 * len(a) + 1  # from 0, without wide gaps
    assert (pd.factorize(dense)[0] == pd.factorize(a)[0]).all()  # the same groups
    pairs = pd.factorize(pd.Series(list(zip(a.tolist(), b.tolist(), strict=True))))[0]
    combined = _combined(dense, b)
    assert (pd.factorize(combined)[0] == pairs).all()  # equal keys, equal pairs
    assert (a == given).all() and (_dense(a) == dense).all()  # no key given is changed


def _with_control_budget(protocol: Protocol, period: str) -> Protocol:
    """The flagship with a budget of ``period`` in its control arm too."""
    budget = next(a.intervention.discretionary_budget for a in protocol.arms if not a.control)
    assert budget is not None
    arms = [
        a.model_copy(
            update={
                "intervention": a.intervention.model_copy(
                    update={"discretionary_budget": budget.model_copy(update={"period": period})}
                )
            }
        )
        if a.control
        else a
        for a in protocol.arms
    ]
    return protocol.model_copy(update={"arms": arms})


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-1, 1), st.one_of(st.none(), st.integers(0, 800))), max_size=40),
    st.sampled_from([None, "month", "quarter", "week", "year"]),
)
def test_period_labels_are_each_spends_by_its_arms_budget(
    protocol: Protocol, spends: list[tuple[int, int | None]], control: str | None
) -> None:
    """Each spend's period label by its own arm's budget period (the first budget's for a
    unit outside the allocation), none without a date; equal codes for equal labels."""
    if control is not None:
        protocol = _with_control_budget(protocol, control)
    arm_names = tuple(a.id for a in protocol.arms)
    arm = np.array([s[0] for s in spends], dtype=np.int64)
    day = np.array(
        [
            np.datetime64("NaT") if s[1] is None else np.datetime64("2027-01-01") + s[1]
            for s in spends
        ],
        dtype="datetime64[D]",
    )
    source = LedgerSource(
        file="spend.csv",
        raw=pd.DataFrame(index=range(len(spends))),
        unit=arm,
        arm=arm,
        arm_names=arm_names,
        workers=None,
        clients=None,
    )
    text, code = _periods(source, protocol, distinct_days(day), pd.RangeIndex(len(spends)))
    default = next(b.period for a in protocol.arms if (b := a.intervention.discretionary_budget))
    expected = []
    for a, d in zip(arm.tolist(), day.tolist(), strict=True):
        budget = protocol.budget(arm_names[a]) if a >= 0 else None
        kind = budget.period if budget is not None else default
        expected.append(None if d is None else period_label(d, kind))
    assert [None if pd.isna(t) else t for t in text.tolist()] == expected
    assert ((code < 0) == np.isnat(day)).all()
    dated = code >= 0
    labels = np.array(expected, dtype=object)[dated]
    assert (pd.factorize(code[dated])[0] == pd.factorize(labels)[0]).all()


def test_data_files_hash_as_sha256_file_does(tmp_path: Path) -> None:
    """Mapped pages give the same digest as the file read in chunks: empty, small, large."""
    rng = np.random.default_rng(14)
    for name, data in (
        ("empty.csv", b""),
        ("small.csv", b"team_id,x\nT01,1\n"),
        ("large.csv", rng.integers(0, 256, 3 * (1 << 20) + 17, dtype=np.uint8).tobytes()),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        assert _sha256(path) == sha256_file(path) == hashlib.sha256(data).hexdigest()

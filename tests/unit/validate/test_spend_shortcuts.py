"""Shortcuts of the spend ledger's checks give exactly what the plain computations give:
working days from a table of day pairs, findings set through their slots, names, currencies
and the pilot's window judged on distinct values, workers numbered without hashing, ids
read as numbers a word at a time, ids in rising order known unique without sorting, caps
judged only in groups over the lowest cap."""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple, fields
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialkit.protocol.model import Protocol
from trialkit.validate import SpendFinding, spending_calendar
from trialkit.validate.coding import blank_mask
from trialkit.validate.schema import duplicated
from trialkit.validate.spending import worker_labels
from trialkit.validate.spending_calendar import working_days
from trialkit.validate.spending_caps import TOLERANCE, over_cap
from trialkit.validate.spending_data import LedgerSource
from trialkit.validate.spending_rules import _made
from trialkit.validate.spending_values import currencies, names, spent_on
from trialkit.validate.texts import short_keys

#: Ids of one to eight bytes: ASCII, multi-byte letters, the empty id, NUL.
TEXT = ["a", "Z", "7", "-", " ", "é", "☃", "𝔘", "\x00", "\xff"]


def _dates(n: int, seed: int) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-12-01") + rng.integers(0, 90, n).astype("timedelta64[D]")
    end = start + rng.integers(-10, 30, n).astype("timedelta64[D]")  # some before the spend
    start[::11], end[::13] = np.datetime64("NaT"), np.datetime64("NaT")
    return pd.Series(start.astype("datetime64[ns]")), pd.Series(end.astype("datetime64[ns]"))


def test_working_days_from_day_pairs_equal_the_count_per_spend() -> None:
    start, end = _dates(3000, seed=3)
    paired = working_days(start, end, calendar="GB-ENG")
    with mock.patch.object(spending_calendar, "PAIRS", 0):  # too many pairs: per spend
        per_spend = working_days(start, end, calendar="GB-ENG")
    np.testing.assert_array_equal(paired, per_spend)  # NaN in the same places
    assert np.isnan(paired).sum() == (start.isna() | end.isna()).sum()
    assert (paired < 0).any() and (paired > 0).any()


def test_findings_set_through_slots_equal_findings_made_by_init() -> None:
    rows = [
        ("late_justification", "P1", "spend.csv", 12, "justified_on", "T01", "budget", "W1",
         12.5, 5.0, 9.0, None, "justified 9 working days after the spend."),
        ("cap_per_client", "P2", "spend.csv", 13, "amount", "T02", "", None,
         400.0, 300.0, 400.0, "2027-03", "over the cap."),
    ]  # fmt: skip
    made = _made([list(column) for column in zip(*rows, strict=True)])
    expected = [SpendFinding(*row) for row in rows]
    assert made == expected
    assert [repr(f) for f in made] == [repr(f) for f in expected]
    assert [astuple(f) for f in made] == rows
    assert len(fields(SpendFinding)) == len(rows[0])  # every field set


@pytest.mark.parametrize("required", [True, False])
def test_names_equal_a_lookup_row_by_row(required: bool) -> None:
    declared = ("transport", "social_activity")
    raw = pd.Series(
        ["Transport", "social activity", "bus", None, "  ", "transport", "Social-Activity"],
        dtype="str",
    )
    text, codes, issues = names(
        raw, declared, file="f.csv", column="category", what="category", fix="x.",
        required=required,
    )  # fmt: skip
    key = {"transport": 0, "social_activity": 1}
    expected = [
        key.get(str(v).strip().casefold().replace(" ", "_").replace("-", "_"), -1)
        if isinstance(v, str)
        else -1
        for v in raw
    ]
    assert codes.tolist() == expected
    assert text.tolist()[:2] == ["transport", "social_activity"] and pd.isna(text[2])
    unknown = [i.location.row for i in issues if "is not a category" in i.message]
    empty = [i.location.row for i in issues if "is empty" in i.message]
    assert unknown == [4]  # "bus", spreadsheet row 4
    assert empty == ([5, 6] if required else [])
    clean = pd.Series(["transport", "Transport"], dtype="str")
    assert names(
        clean, declared, file="f.csv", column="c", what="category", fix="x.", required=True
    )[2] == []  # fmt: skip


def test_currencies_flag_only_other_codes_of_known_units() -> None:
    raw = pd.Series(["GBP", "gbp ", "EUR", None, "EUR"], dtype="str")
    arm = np.array([0, 0, 0, 0, -1])  # the last spend's unit is unknown: not judged
    issues = currencies(raw, arm, ["GBP"], file="f.csv", column="currency")
    assert [i.location.row for i in issues] == [4]
    assert currencies(raw.iloc[:2], arm[:2], ["GBP"], file="f.csv", column="currency") == []


def test_the_window_judged_on_distinct_dates_equals_judging_each_spend(
    protocol: Protocol,
) -> None:
    assert protocol.dates is not None
    first = protocol.dates.intervention_start
    last = protocol.dates.end
    texts = [
        first.isoformat(),
        (first - dt.timedelta(days=1)).isoformat(),
        "",
        None,
        "not a date",
        last.isoformat(),
        (last + dt.timedelta(days=1)).strftime("%d/%m/%Y"),
        (first - dt.timedelta(days=1)).isoformat(),
    ]
    raw = pd.Series(texts, dtype="str")
    where = {"file": "f.csv", "column": "spent_on"}
    distinct = spent_on(raw, protocol, factorized=pd.factorize(raw), **where)
    each = spent_on(raw, protocol, **where)  # no factorization: every spend compared
    pd.testing.assert_series_equal(distinct[0], each[0])
    assert [str(i) for i in distinct[1]] == [str(i) for i in each[1]]
    rows = sorted(i.location.row for i in distinct[1] if "before the budget" in i.message)
    assert rows == [3, 9]
    assert [i.location.row for i in distinct[1] if "after the trial" in i.message] == [8]


def test_workers_numbered_by_first_spend_as_factorize_numbers_them() -> None:
    positions = np.random.default_rng(5).integers(0, 40, 500)
    ids = pd.Series([f"S{p}" for p in positions], dtype="str")
    fast = worker_labels(ids, pseudonymised=True, positions=positions)
    plain = worker_labels(ids, pseudonymised=True)  # ids hashed
    np.testing.assert_array_equal(fast.codes, plain.codes)
    assert fast.labels == plain.labels
    assert worker_labels(ids, pseudonymised=False, positions=positions).labels == tuple(
        f"W{k + 1:02d}" for k in range(len(plain.labels))
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.text(alphabet=st.sampled_from(TEXT), max_size=8)), max_size=30
    ),
    st.integers(0, 30),
    st.booleans(),
)
def test_ids_read_a_word_at_a_time_give_the_keys_read_byte_by_byte(
    texts: list[str | None], cut: int, large: bool
) -> None:
    kind = pa.large_string() if large else pa.string()
    array = pa.array(["x", *texts], type=kind).slice(1)  # a chunk with an offset
    cut = min(cut, len(texts))
    series = pd.Series(
        pd.array(pa.chunked_array([array.slice(0, cut), array.slice(cut)], type=kind), dtype="str")
    )
    words = short_keys(series)
    encoded = [None if t is None else t.encode("utf-8") for t in texts]
    if any(b is not None and len(b) > 7 for b in encoded):
        assert words is None
        return
    bytewise = [  # its bytes, then its length in the top byte (255: missing)
        255 << 56 if b is None else int.from_bytes(b, "little") | len(b) << 56 for b in encoded
    ]
    assert words is not None and words.tolist() == bytewise


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(["misuse", " ", None, "\u00a0", "fraud", "", "\x1f"], dtype="str"),
        pd.Series(["misuse", " ", None, 3, "", "\t"], dtype=object),
        pd.Series([np.nan, np.nan, 1.0]),  # an empty verdict column reads as numbers
    ],
)
def test_blank_verdicts_from_distinct_values_equal_blank_cells(column: pd.Series) -> None:
    source = LedgerSource(
        file="f.csv",
        raw=pd.DataFrame({"review_verdict": column}),
        unit=np.zeros(len(column), dtype=np.int64),
        arm=np.zeros(len(column), dtype=np.int64),
        arm_names=("budget",),
        workers=None,
        clients=None,
    )
    expected = blank_mask(column)
    assert source.blank_values("review_verdict").tolist() == expected.tolist()
    assert expected.any() and not expected.all()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.text(alphabet=st.sampled_from(TEXT), max_size=4)), max_size=30
    ),
    st.booleans(),
)
def test_duplicated_ids_in_rising_order_or_not_are_those_pandas_marks(
    texts: list[str | None], rising: bool
) -> None:
    if rising:  # shorter first, then byte by byte: the order ids numbered in turn have
        texts = sorted(texts, key=lambda t: (t is None, len(t.encode()) if t else 0, t or ""))
    series = pd.Series(texts, dtype="str")
    expected = (series.duplicated(keep=False) & series.notna()).tolist()  # missing: not ids
    assert duplicated(series).tolist() == expected


def test_ids_numbered_in_file_order_are_unique_and_one_repeat_is_found() -> None:
    ids = pd.Series([f"P{i}" for i in range(1200)], dtype="str")
    assert not duplicated(ids).any()
    ids[700] = "P699"
    assert np.flatnonzero(duplicated(ids)).tolist() == [699, 700]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 1500).map(lambda p: p / 100),  # amount
            st.integers(0, 5),  # group
            st.sampled_from([np.nan, 10.0, 20.0, 30.0]),  # cap of the spend's arm
            st.integers(0, 9),  # day
        ),
        max_size=40,
    )
)
def test_spends_over_a_cap_are_those_of_every_group_judged(
    spends: list[tuple[float, int, float, int]],
) -> None:
    amount = np.array([s[0] for s in spends], dtype=np.float64)
    key = np.array([s[1] for s in spends], dtype=np.int64)
    cap = np.array([s[2] for s in spends], dtype=np.float64)
    day = np.datetime64("2027-03-01") + np.array([s[3] for s in spends], dtype="timedelta64[D]")
    over, total = over_cap(amount, key, cap, day)
    # Every group judged: spends whose group's whole total is over their cap, then
    # running totals among them in date order.
    counted = np.where(np.isnan(cap), 0.0, amount)
    suspects = np.flatnonzero(np.bincount(key, weights=counted)[key] > cap + TOLERANCE)
    expected = np.full(len(spends), np.nan)
    order = suspects[np.argsort(day[suspects], kind="stable")]
    for group in np.unique(key[order]):
        rows = order[key[order] == group]
        expected[rows] = np.cumsum(counted[rows])
    assert over.tolist() == suspects[expected[suspects] > cap[suspects] + TOLERANCE].tolist()
    np.testing.assert_allclose(total, expected, rtol=1e-12)  # pandas sums with Kahan's method

"""The spend ledger's fast paths give exactly what the plain computations give: blank text
and ids to trim read from Arrow's buffers, working days and period labels per distinct day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st
from spend_ledgers import CLIENTS_PER_TEAM, STAFF_PER_TEAM, data_errors, every_rule
from validate_frames import Writer, make_allocation, make_clients, make_spend, make_staff

from trialkit import validate
from trialkit.errors import DataValidationError
from trialkit.protocol.model import Protocol
from trialkit.validate import SpendFinding, early, spending_values
from trialkit.validate.spending_calendar import (
    distinct_days,
    period_label,
    public_holidays,
    working_days,
)
from trialkit.validate.spending_values import positions_in
from trialkit.validate.texts import blank_text, empty_text, needs_trimming, short_keys

#: Characters that make blank and trimming hard: ASCII and Unicode spaces, control
#: characters Python counts as spaces, multi-byte letters.
TRICKY = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\u00a0", "\u2003", "\u3000"]
LETTERS = ["a", "Z", "7", "-", "é", "☃", "𝔘", "\x00", "\x7f"]
values = st.lists(
    st.one_of(st.none(), st.text(alphabet=st.sampled_from(TRICKY + LETTERS), max_size=6)),
    max_size=40,
)


def _series(texts: list[str | None], *, cut: int, large: bool) -> pd.Series:
    """Texts as an Arrow-backed ``str`` column: several chunks, the first sliced."""
    kind = pa.large_string() if large else pa.string()
    array = pa.array(["x", *texts], type=kind).slice(1)  # a chunk with an offset
    chunks = [array.slice(0, cut), array.slice(cut)]
    return pd.Series(pd.array(pa.chunked_array(chunks, type=kind), dtype="str"))


@settings(max_examples=300, deadline=None)
@given(values, st.integers(0, 40), st.booleans())
def test_blank_text_is_arrow_utf8_is_space(texts: list[str | None], cut: int, large: bool) -> None:
    series = _series(texts, cut=min(cut, len(texts)), large=large)
    array = pa.array(texts, type=pa.string())
    expected = pc.or_kleene(pc.equal(pc.utf8_length(array), 0), pc.utf8_is_space(array))
    found = blank_text(series)
    assert found is not None
    assert found.tolist() == expected.fill_null(True).to_pylist()


@settings(max_examples=200, deadline=None)
@given(values, st.integers(0, 40), st.booleans())
def test_empty_text_is_missing_or_empty(texts: list[str | None], cut: int, large: bool) -> None:
    series = _series(texts, cut=min(cut, len(texts)), large=large)
    found = empty_text(series)
    assert found is not None
    assert found.tolist() == [t is None or t == "" for t in texts]


@settings(max_examples=300, deadline=None)
@given(values, st.integers(0, 40), st.booleans())
def test_ids_need_trimming_when_a_given_id_starts_or_ends_with_a_byte_not_plain(
    texts: list[str | None], cut: int, large: bool
) -> None:
    series = _series(texts, cut=min(cut, len(texts)), large=large)
    ends = [(b[0], b[-1]) for t in texts if t and (b := t.encode("utf-8"))]
    assert needs_trimming(series) == any(not 0x20 < c < 0x7F for pair in ends for c in pair)


@settings(max_examples=300, deadline=None)
@given(values, st.integers(0, 40), st.booleans())
def test_no_id_that_strip_would_change_is_missed(
    texts: list[str | None], cut: int, large: bool
) -> None:
    series = _series(texts, cut=min(cut, len(texts)), large=large)
    if not needs_trimming(series):
        assert series.str.strip().equals(series)
        assert all(t is None or t == t.strip() for t in texts)


@settings(max_examples=300, deadline=None)
@given(values, values, st.integers(0, 40), st.booleans())
def test_ids_looked_up_as_numbers_are_found_where_arrow_finds_them(
    texts: list[str | None], known: list[str | None], cut: int, wide: bool
) -> None:
    series = _series(texts, cut=min(cut, len(texts)), large=wide)
    ids = pd.Index([k for k in dict.fromkeys(known) if k is not None], dtype="str")
    expected = pc.index_in(
        pa.array(texts, type=pa.string()), value_set=pa.array(list(ids), type=pa.string())
    )
    for large in (0, 1 << 30):  # short ids looked up as numbers, then as text
        with mock.patch.object(spending_values, "LARGE_ID_SET", large):
            found = positions_in(series, ids)
        assert found.tolist() == expected.fill_null(-1).to_pylist()
    keys = short_keys(series)
    if keys is None:  # only for values longer than 7 bytes
        assert any(t is not None and len(t.encode()) > 7 for t in texts)
    else:  # equal keys exactly for equal values
        pairs = list(zip(keys.tolist(), texts, strict=True))
        assert all((a == b) == (s == u) for a, s in pairs for b, u in pairs)


def test_plain_ids_need_no_trimming_and_blank_is_none_off_arrow() -> None:
    assert not needs_trimming(pd.Series(["C1", "C22", "", None], dtype="str"))
    assert needs_trimming(pd.Series(["C1", "\u00a0C2"], dtype="str"))
    assert blank_text(pd.Series(["a", " "], dtype=object)) is None


def test_working_days_match_busday_count_row_by_row() -> None:
    rng = np.random.default_rng(7)
    start = np.datetime64("2026-11-20") + rng.integers(0, 500, 400).astype("timedelta64[D]")
    end = start + rng.integers(-20, 40, 400).astype("timedelta64[D]")
    start[::37], end[::41] = np.datetime64("NaT"), np.datetime64("NaT")
    found = working_days(pd.Series(start), pd.Series(end), calendar="GB-ENG")
    holidays = public_holidays("GB-ENG", range(2026, 2030))
    one = np.timedelta64(1, "D")
    for s, e, f in zip(start, end, found, strict=True):
        if np.isnat(s) or np.isnat(e):
            assert np.isnan(f)
        else:
            assert f == np.busday_count(s + one, e + one, holidays=holidays), (s, e)


def test_distinct_days_give_each_day_its_label() -> None:
    days = np.array(
        ["2027-12-31", "NaT", "2027-01-04", "2028-01-01", "2027-12-31"], dtype="datetime64[D]"
    )
    distinct, at = distinct_days(days)
    assert [str(d) for d in distinct] == ["2027-01-04", "2027-12-31", "2028-01-01"]
    assert at.tolist() == [1, -1, 0, 2, 1]
    labels = [period_label(d, "week") for d in distinct.tolist()]
    assert labels == ["2027-W01", "2027-W52", "2027-W52"]  # ISO weeks cross the year
    assert period_label(dt.date(2027, 12, 31), "quarter") == "2027-Q4"


def _outcome(
    protocol: Protocol, paths: list[Path]
) -> tuple[tuple[str, ...], dict[str, pd.DataFrame], tuple[SpendFinding, ...]]:
    """What validation gives (data or the located issues)."""
    try:
        data = validate.outcomes(protocol, make_allocation(), paths)
    except DataValidationError as exc:
        return tuple(str(i) for i in exc.issues), {}, ()
    assert data.spending is not None
    return tuple(str(w) for w in data.warnings), dict(data.frames), data.spending.findings


def _ledgers() -> list[pd.DataFrame]:
    duplicated = make_spend()
    duplicated.loc[3, "spend_id"] = duplicated.loc[2, "spend_id"]
    return [every_rule()[0], data_errors(), duplicated]


def test_work_started_early_gives_what_the_checks_compute(
    protocol: Protocol, write_data: Writer
) -> None:
    for ledger in _ledgers():
        paths = write_data(
            make_clients(CLIENTS_PER_TEAM), staff=make_staff(STAFF_PER_TEAM), spend=ledger
        )
        with mock.patch.object(early, "EARLY_ROWS", 0):  # every file's ids in the background
            issues, frames, findings = _outcome(protocol, paths)
        expected_issues, expected_frames, expected_findings = _outcome(protocol, paths)
        assert issues == expected_issues and findings == expected_findings
        assert frames.keys() == expected_frames.keys()
        for name, frame in frames.items():
            pd.testing.assert_frame_equal(frame, expected_frames[name])

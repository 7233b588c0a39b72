"""Keyed pseudonyms and small-cell suppression."""

from __future__ import annotations

import pandas as pd
import pytest

from trialkit.validate.privacy import pseudonymise, suppress_small_cells, suppression_mask

KEY = b"k" * 32


def test_pseudonyms_are_keyed_and_consistent() -> None:
    frame = pd.DataFrame({"client_id": ["C1", "C2", "C1", None]})
    a = pseudonymise(frame, ["client_id"], key=KEY)
    b = pseudonymise(frame, ["client_id"], key=b"other key of 16+ bytes")
    ours, theirs = a["client_id"].tolist(), b["client_id"].tolist()
    assert ours[0] == ours[2] != "C1"
    assert ours[0] != theirs[0]
    assert ours[3] is None
    assert frame["client_id"].tolist()[0] == "C1"


def test_short_key_refused() -> None:
    with pytest.raises(ValueError, match=r"at least 16 bytes\. Got 3 instead"):
        pseudonymise(pd.DataFrame({"x": ["a"]}), ["x"], key=b"abc")


def test_single_small_cell_gets_a_partner_in_its_row_and_column() -> None:
    table = pd.DataFrame({"a": [3, 40, 50], "b": [30, 41, 52]}, index=["x", "y", "z"])
    mask = suppression_mask(table)
    assert mask.loc["x", "a"]
    assert mask.sum(axis=1).isin([0, 2, 3]).all() and mask.sum(axis=0).isin([0, 2, 3]).all()
    published = suppress_small_cells(table)
    assert published.loc["Total", "Total"] == 216
    assert published["a"].isna().tolist() == [True, True, False, False]


def test_no_small_cells_nothing_suppressed() -> None:
    table = pd.DataFrame({"a": [30, 40], "b": [30, 41]})
    assert not suppression_mask(table).to_numpy().any()


def test_tables_too_small_are_refused() -> None:
    with pytest.raises(ValueError, match="at least 2 × 2"):
        suppression_mask(pd.DataFrame({"a": [3, 40]}))

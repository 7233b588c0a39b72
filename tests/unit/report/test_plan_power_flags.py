"""The flagship's pre-analysis plan flags the outcomes its pilot cannot detect."""

from __future__ import annotations

import re

import pytest

from trialkit.design import power_by_units
from trialkit.protocol import bundled_path, load_protocol
from trialkit.report import render_plan


@pytest.fixture(scope="module")
def html() -> str:
    protocol = load_protocol(bundled_path("council_discretionary_budget"))
    return render_plan(protocol, power=power_by_units(protocol).to_frame())


def _table_row(html: str, label_start: str) -> str:
    start = html.index("<caption>Power and minimum detectable effects")
    table = html[start : html.index("</table>", start)]
    match = re.search(rf'<tr><th scope="row">{re.escape(label_start)}.*?</tr>', table)
    assert match, f"no power row for {label_start}"
    return match.group(0)


def test_cost_of_care_flagged_in_the_plan(html: str) -> None:
    row = _table_row(html, "Cost of formal care")
    assert "<strong>Under-powered</strong>" in row
    assert re.search(r'data-label="Power">0\.0[5-7]<', row), "power about 0.06"
    assert 'data-label="Hoped-for effect">-150<' in row
    assert 'data-label="Unit">GBP<' in row
    note = html[html.index('id="under-powered"') :]
    note = note[: note.index("</p>")]
    assert (
        "Cost of formal care in the six months after referral (power 0.06; MDE -1,477 GBP "
        "against a hoped-for -150 GBP)" in note
    )


def test_detectable_outcome_not_flagged(html: str) -> None:
    row = _table_row(html, "Loneliness")
    assert 'data-label="Flag">—<' in row


def test_alpha_and_units_stated(html: str) -> None:
    assert "two-sided α = 0.05; effects in each outcome's own unit</caption>" in html
    row = _table_row(html, "Intends to leave")
    assert 'data-label="Unit">percentage points<' in row
    assert 'data-label="Hoped-for effect">-8.0<' in row, "a risk difference of -0.08"

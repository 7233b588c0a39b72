"""The stepped-wedge schematic, drawn from a real stepped-wedge allocation."""

from __future__ import annotations

import re

import pytest

from trialkit import api
from trialkit.protocol import bundled_path, load_protocol
from trialkit.report.figures import (
    Figure,
    build_figures,
    stepped_wedge_plot,
    stepped_wedge_spec,
)


def _svg_text(fig: Figure) -> str:
    """The SVG's text, one space between elements (matplotlib writes a line per element)."""
    parts = re.findall(r"<text[^>]*>(?:\s*<!--.*?-->)?\s*([^<]*?)\s*</text>", str(fig.svg), re.S)
    return " ".join(parts)


@pytest.fixture(scope="module")
def figure(tmp_path_factory: pytest.TempPathFactory) -> Figure:
    tmp = tmp_path_factory.mktemp("sw")
    path = bundled_path("mission_clarity_stepped_wedge")
    protocol = load_protocol(path)
    units = api.simulate_units(path, tmp / "units.csv")
    allocation = api.randomise(path, units, tmp / "allocation.csv")
    sw = protocol.design.stepped_wedge
    assert sw is not None and allocation.step is not None
    steps = [int(s) for s in allocation.step]
    spec = stepped_wedge_spec(steps, sw.periods, unit=protocol.units.name)
    return stepped_wedge_plot(spec)


def test_table_has_one_row_per_sequence_and_a_column_per_period(figure: Figure) -> None:
    assert figure.columns[:3] == ("Sequence", "Teams", "First intervention period")
    assert figure.columns[3:] == tuple(f"Period {p}" for p in range(1, 6))
    assert [r[:3] for r in figure.rows] == [
        ("Sequence 1", "3", "Period 2"),
        ("Sequence 2", "3", "Period 3"),
        ("Sequence 3", "3", "Period 4"),
        ("Sequence 4", "3", "Period 5"),
    ]
    assert [r[3:] for r in figure.rows] == [
        ("C", "I", "I", "I", "I"),
        ("C", "C", "I", "I", "I"),
        ("C", "C", "C", "I", "I"),
        ("C", "C", "C", "C", "I"),
    ]


def test_cells_carry_text_not_only_colour(figure: Figure) -> None:
    svg = str(figure.svg)
    letters = re.findall(r"<text[^>]*>\s*(?:<!--[^>]*-->\s*)?([CI])\s*</text>", svg)
    assert sorted(letters) == sorted("C" * 10 + "I" * 10), "each of 20 cells says C or I"
    assert "Sequence 1 (3 teams)" in _svg_text(figure)
    assert "C = Control; I = Intervention" in _svg_text(figure)


def test_description_names_every_switch(figure: Figure) -> None:
    assert 'role="img"' in str(figure.svg)
    assert "4 sequences" in figure.description
    assert "Sequence 4 (3) from Period 5" in figure.description
    assert "12 of 12 teams" in figure.description


def test_build_figures_draws_it_when_its_data_is_present() -> None:
    spec = stepped_wedge_spec([1, 2], 3)
    drawn = build_figures({"stepped_wedge": spec})
    assert isinstance(drawn["stepped_wedge"], Figure)
    assert "stepped_wedge" not in build_figures({})


def test_a_sequence_that_never_switches_says_so() -> None:
    spec = {
        "sequences": [{"label": "Waiting list", "clusters": 1, "exposed": [False, False]}],
        "periods": ["Spring", "Summer"],
    }
    fig = stepped_wedge_plot(spec)
    assert fig.rows == (("Waiting list", "1", "never", "C", "C"),)
    assert "Waiting list (1 cluster)" in _svg_text(fig)

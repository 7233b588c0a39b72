"""Every figure's text stays legible on a phone: at least 11 CSS px in a 390 px viewport.

An inline SVG scales to its container, so text drawn at ``s`` units in a viewBox ``w``
units wide shows at ``s * container / w`` CSS px. The container is the viewport less the
page's side padding (2 x 1.25rem = 40 px), which is stricter than the viewport itself.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

import pytest

from trialkit.report import figures
from trialkit.report.figures import Figure

PHONE_CONTAINER_PX = 390 - 40
MIN_PX = 11.0

_rng = random.Random(7)
_LONG = "Mean deprivation score of the team's area (IMD)"


def _intervals(n: int) -> list[dict[str, Any]]:
    return [
        {"label": f"{_LONG} {i}", "estimate": 0.1 * i, "low": 0.1 * i - 0.3, "high": 0.1 * i + 0.3}
        for i in range(n)
    ]


SPECS: dict[str, Callable[[], Figure | None]] = {
    "love_plot": lambda: figures.love_plot(
        {"rows": [{"label": _LONG, "value": 0.21}, {"label": "Age", "value": -0.03}]}
    ),
    "forest_plot": lambda: figures.forest_plot(
        {
            "rows": [
                dict(r, raw=[r["estimate"], r["low"], r["high"]], unit="points")
                for r in _intervals(3)
            ]
        }
    ),
    "subgroup_plot": lambda: figures.subgroup_plot(
        {"rows": _intervals(4), "outcome": "Loneliness (UCLA 3-item scale)", "unit": "points"}
    ),
    "posterior_plot": lambda: figures.posterior_plot(
        {
            "label": "Loneliness (UCLA 3-item scale)",
            "unit": "points",
            "draws": [_rng.gauss(-0.3, 0.2) for _ in range(400)],
            "mid": 0.5,
            "rope": 0.2,
            "lower_is_better": True,
            "summary": {"mean": -0.3, "ci_low": -0.7, "ci_high": 0.1, "p_benefit": 0.93},
        }
    ),
    "randomisation_plot": lambda: figures.randomisation_plot(
        {
            "label": "Loneliness (UCLA 3-item scale)",
            "null": [_rng.gauss(0, 0.2) for _ in range(500)],
            "observed": -0.3,
            "p_value": 0.07,
        }
    ),
    "misuse_plot": lambda: figures.misuse_plot(
        {
            "alpha": 11,
            "beta": 372,
            "tolerance": 0.05,
            "cases": 10,
            "reviewed": 381,
            "p_above": 0.015,
        }
    ),
    "power_plot": lambda: figures.power_plot(
        [
            {
                "outcome": o,
                "n_units": n,
                "power": min(1.0, n / 40),
                "role": "primary",
                "target_power": 0.8,
            }
            for o in ("loneliness", "wellbeing")
            for n in (12, 24, 36)
        ],
        {"loneliness": "Loneliness (UCLA 3-item scale)", "wellbeing": "Mental wellbeing"},
    ),
    "survival_plot": lambda: figures.survival_plot(
        {
            "outcome": "Time to leaving",
            "event": "leaving",
            "horizon": 365,
            "arms": [
                {
                    "label": "Usual practice",
                    "times": [30, 90, 200, 300],
                    "survival": [0.97, 0.9, 0.85, 0.8],
                },
                {
                    "label": "Discretionary budget",
                    "times": [60, 150, 320],
                    "survival": [0.98, 0.94, 0.9],
                },
            ],
            "at_risk": {
                "times": [0, 180, 365],
                "rows": [
                    {
                        "label": "Usual practice",
                        "counts": [96, 85, 76],
                        "survival": [1.0, 0.9, 0.8],
                    },
                    {
                        "label": "Discretionary budget",
                        "counts": [95, 89, 85],
                        "survival": [1.0, 0.94, 0.9],
                    },
                ],
            },
        }
    ),
    "stepped_wedge_plot": lambda: figures.stepped_wedge_plot(
        figures.stepped_wedge_spec([1, 1, 2, 2, 3, 3, 4, 4], 5, unit="team")
    ),
}


def _font_sizes(svg: str) -> list[float]:
    sizes = re.findall(r"font-size:\s*([\d.]+)px", svg)
    sizes += re.findall(r"font:[^;\"]*?([\d.]+)px", svg)
    return [float(s) for s in sizes]


def _viewbox_width(svg: str) -> float:
    found = re.search(r'viewBox="[\d.\-]+ [\d.\-]+ ([\d.]+) [\d.]+"', svg)
    assert found, "the SVG has no viewBox, so it cannot scale to its container"
    return float(found.group(1))


def test_every_builder_has_a_spec() -> None:
    builders = {n for n in figures.__all__ if n.endswith("_plot")}
    assert builders == set(SPECS), "add a synthetic spec for each new figure builder"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_text_is_at_least_11px_on_a_phone(name: str) -> None:
    fig = SPECS[name]()
    assert fig is not None
    svg = str(fig.svg)
    sizes = _font_sizes(svg)
    assert sizes, f"{name}: no text found in the SVG (text must stay text, not paths)"
    width = _viewbox_width(svg)
    smallest = min(sizes) * PHONE_CONTAINER_PX / width
    assert smallest >= MIN_PX, (
        f"{name}: smallest text {min(sizes):g} units in a {width:g}-unit viewBox shows at "
        f"{smallest:.1f} px in a {PHONE_CONTAINER_PX} px container; needs {MIN_PX} px"
    )


@pytest.mark.parametrize("name", sorted(SPECS))
def test_text_is_not_oversized_on_a_desktop(name: str) -> None:
    # style.css caps figure SVGs at 34rem (544 px) wide; body text is 18 px.
    fig = SPECS[name]()
    assert fig is not None
    svg = str(fig.svg)
    largest = max(_font_sizes(svg)) * 544 / _viewbox_width(svg)
    assert 14 <= largest <= 24, f"{name}: text shows at {largest:.1f} px on a desktop"

"""Labels are drawn as the text they are: no math text, no LaTeX (issue 20, item 5)."""

from __future__ import annotations

from typing import Any

import pytest

from trialkit.report.figures._draw import draw_bytes, draw_svg

LABELS = ["$\\frac{1}$ lonely", "cost $5 and $6", "$x^2$", "100% of $"]


def _plot(label: str) -> Any:
    def plot(ax: Any) -> None:
        ax.plot([0, 1], [0, 1], label=label)
        ax.set_title(label)
        ax.set_xlabel(label)
        ax.legend()

    return plot


@pytest.mark.parametrize("label", LABELS)
def test_svg_keeps_a_math_like_label_verbatim(label: str) -> None:
    svg = draw_svg("plain", _plot(label), size=(4, 3))
    escaped = label.replace("&", "&amp;").replace("<", "&lt;")
    assert svg.count(escaped) >= 3, f"{label!r} not drawn as plain text"


@pytest.mark.parametrize("label", LABELS)
def test_png_draws_a_math_like_label_without_parsing(label: str) -> None:
    assert draw_bytes(_plot(label), fmt="png", size=(4, 3)).startswith(b"\x89PNG")

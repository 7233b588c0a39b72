"""Drawing with matplotlib (Agg) into inline, deterministic, accessible SVG.

The only module of trialkit that imports matplotlib, lazily inside each function, so
``import trialkit`` stays fast. SVG output is reproducible: a fixed ``svg.hashsalt`` per
figure, no date or creator metadata, text kept as text, ids prefixed per figure.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from markupsafe import Markup, escape

INK, BLUE, GREEN, RED, GREY = "#0b0c0c", "#1d70b8", "#00703c", "#d4351c", "#505a5f"
LIGHT = "#b1b4b6"

#: Figure width in inches (360 SVG units). Narrow on purpose: a phone shows the SVG about
#: 350 CSS px wide, so 12-unit text stays near 11.7 px there; the stylesheet caps the width
#: on a desktop (34rem) so that the same text is about 18 px, the size of the body text.
WIDTH = 5.0
#: The one font size, in SVG units (points), for every label, tick and legend.
FONT = 12.0
#: Characters per line for wrapped tick labels and axis titles at ``FONT``.
LABEL_CHARS = 22
TITLE_CHARS = 48


def wrap(text: str, width: int = LABEL_CHARS) -> str:
    """Break ``text`` into lines of at most ``width`` characters (long words kept whole)."""
    return "\n".join(textwrap.wrap(text, width, break_long_words=False)) or text


def row_height(labels: Sequence[str]) -> float:
    """Inches per plotted row, enough for the tallest wrapped label among ``labels``."""
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    return 0.2 + 0.21 * lines


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure: inline SVG, text alternative and data table."""

    id: str
    title: str
    description: str
    svg: Markup
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


#: Labels come from protocols: draw them as the text they are. A label such as
#: ``$\frac{1}$`` is not math text to parse (a parse error would stop the report), nor
#: LaTeX to run.
PLAIN_TEXT: dict[str, Any] = {"text.usetex": False, "text.parse_math": False}


def draw_svg(name: str, plot: Callable[[Any], None], *, size: tuple[float, float]) -> str:
    """Draw ``plot(ax)`` on a new figure and return it as SVG text.

    Parameters
    ----------
    name
        Salt for matplotlib's SVG ids, so the same figure always gets the same ids.
    plot
        Draws on the axes it is given.
    size
        Figure size in inches.

    Returns
    -------
    str
        The SVG document, without a date.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    rc: dict[str, Any] = {
        "svg.hashsalt": f"trialkit-{name}",
        "svg.fonttype": "none",
        "font.family": "sans-serif",
        "font.sans-serif": ["Arial", "Helvetica", "DejaVu Sans"],
        "font.size": FONT,
        "axes.labelsize": FONT,
        "xtick.labelsize": FONT,
        "ytick.labelsize": FONT,
        "legend.fontsize": FONT,
        "axes.edgecolor": GREY,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "path.simplify": False,
        **PLAIN_TEXT,
    }
    with plt.rc_context(cast(Any, rc)):
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        try:
            plot(ax)
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        finally:
            plt.close(fig)
    return buffer.getvalue()


def _inline(svg: str, fig_id: str, title: str, description: str) -> Markup:
    """Strip the XML prologue and metadata; add role, title and desc for screen readers."""
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\s(width|height)="[\d.]+pt"', "", svg, count=2)
    # matplotlib numbers its ids per figure; prefix them so several figures share a page.
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{fig_id}-\1"', svg)
    svg = re.sub(r'(xlink:href|href)="#([^"]+)"', rf'\1="#{fig_id}-\2"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{fig_id}-\1)", svg)
    head = (
        f'<svg role="img" aria-labelledby="{fig_id}-title {fig_id}-desc" '
        f'class="chart" focusable="false"'
    )
    svg = svg.replace("<svg", head, 1)
    close = svg.index(">") + 1
    inner = (
        f'<title id="{fig_id}-title">{escape(title)}</title>'
        f'<desc id="{fig_id}-desc">{escape(description)}</desc>'
    )
    return Markup(svg[:close] + inner + svg[close:])


def make_figure(
    fig_id: str,
    title: str,
    description: str,
    svg: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
) -> Figure:
    """Bundle SVG text with its accessible title, description and data table."""
    return Figure(
        fig_id,
        title,
        description,
        _inline(svg, fig_id, title, description),
        tuple(columns),
        tuple(tuple(r) for r in rows),
    )


def draw_bytes(plot: Callable[[Any], None], *, fmt: str, size: tuple[float, float]) -> bytes:
    """Draw ``plot(ax)`` and return the image in ``fmt`` (``png``, ``pdf``...) as bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    with plt.rc_context(cast(Any, PLAIN_TEXT)):
        fig, ax = plt.subplots(figsize=size, layout="constrained")
        try:
            plot(ax)
            buffer = io.BytesIO()
            fig.savefig(buffer, format=fmt, dpi=150, metadata={"Software": None})
        finally:
            plt.close(fig)
    return buffer.getvalue()

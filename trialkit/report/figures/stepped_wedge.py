"""The stepped-wedge schematic: which sequence of clusters is under which condition when."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from trialkit.report.figures._draw import (
    BLUE,
    FONT,
    GREY,
    INK,
    WIDTH,
    Figure,
    draw_svg,
    make_figure,
    wrap,
)

_CONTROL_FILL = "#f3f2f1"


def stepped_wedge_spec(
    steps: Iterable[int], periods: int, *, period_label: str = "Period", unit: str = "cluster"
) -> dict[str, Any]:
    """The schematic's spec from each cluster's crossover step.

    A cluster at step ``s`` (1-based) is under control in periods ``0 .. s-1`` and under
    the intervention from period index ``s`` on, as :mod:`trialkit.diagnose` simulates it.

    Parameters
    ----------
    steps
        One crossover step per cluster (an allocation's ``step`` column).
    periods
        Number of measurement periods (``design.stepped_wedge.periods``).
    period_label
        Word for a period in the column labels.
    unit
        Singular noun for a cluster ("team"); the plural adds an "s".

    Returns
    -------
    dict
        ``{"sequences": [...], "periods": [...], "unit": ..., "units": ...}``.

    Examples
    --------
    >>> spec = stepped_wedge_spec([1, 2, 2], 3, unit="team")
    >>> [(s["label"], s["clusters"], s["exposed"]) for s in spec["sequences"]]
    [('Sequence 1', 1, [False, True, True]), ('Sequence 2', 2, [False, False, True])]
    """
    counts = Counter(int(s) for s in steps)
    return {
        "sequences": [
            {
                "label": f"Sequence {i}",
                "clusters": counts[step],
                "exposed": [p >= step for p in range(periods)],
            }
            for i, step in enumerate(sorted(counts), start=1)
        ],
        "periods": [f"{period_label} {p + 1}" for p in range(periods)],
        "unit": unit,
        "units": f"{unit}s",
    }


def _row_label(seq: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    n = int(seq["clusters"])
    noun = spec.get("unit", "cluster") if n == 1 else spec.get("units", "clusters")
    return f"{seq['label']} ({n} {noun})"


def _tick_label(seq: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    """The row label with its count on a line of its own: "Sequence 1" / "(3 teams)"."""
    name, _, count = _row_label(seq, spec).rpartition(" (")
    return f"{wrap(name, 18)}\n({count}"


def _first(exposed: list[bool], periods: list[str]) -> str:
    return next((periods[i] for i, e in enumerate(exposed) if e), "never")


def stepped_wedge_plot(spec: Mapping[str, Any]) -> Figure:
    """Sequences (rows) by periods (columns), each cell control ("C") or intervention ("I").

    Parameters
    ----------
    spec
        ``sequences``: a list of ``{"label", "clusters", "exposed"}`` with one boolean per
        period; ``periods``: the period labels. Optional ``unit``/``units`` name a cluster
        ("team"/"teams") and ``control``/``intervention`` name the conditions.

    Returns
    -------
    Figure
        The schematic, its description and a table with one C/I column per period.
    """
    seqs = list(spec["sequences"])
    periods = [str(p) for p in spec["periods"]]
    control = str(spec.get("control", "Control"))
    treated = str(spec.get("intervention", "Intervention"))
    labels = [_tick_label(s, spec) for s in seqs]

    def plot(ax: Any) -> None:
        from matplotlib.patches import Rectangle

        n = len(seqs)
        for r, seq in enumerate(seqs):
            y = n - 1 - r
            for c, exposed in enumerate(seq["exposed"]):
                fill, ink = (BLUE, "#ffffff") if exposed else (_CONTROL_FILL, INK)
                ax.add_patch(
                    Rectangle((c - 0.46, y - 0.42), 0.92, 0.84, facecolor=fill, edgecolor=GREY)
                )
                ax.text(
                    c,
                    y,
                    "I" if exposed else "C",
                    ha="center",
                    va="center",
                    color=ink,
                    fontsize=FONT,
                    fontweight="bold",
                )
        ax.set_xlim(-0.5, len(periods) - 0.5)
        ax.set_ylim(-0.5, n - 0.5)
        ax.set_yticks(range(n)[::-1], labels)
        ax.set_xticks(range(len(periods)), [wrap(p, 8) for p in periods])
        ax.xaxis.tick_top()
        ax.tick_params(length=0)
        for side in ("left", "bottom", "top", "right"):
            ax.spines[side].set_visible(False)
        ax.set_xlabel(f"C = {control}; I = {treated}", color=INK)

    height = 1.3 + 0.5 * len(seqs)
    return make_figure(
        "fig-stepped-wedge",
        "When each sequence switches to the intervention (stepped wedge)",
        _describe(seqs, periods, spec, treated),
        draw_svg("stepped-wedge", plot, size=(WIDTH, height)),
        (
            "Sequence",
            str(spec.get("units", "clusters")).capitalize(),
            "First intervention period",
            *periods,
        ),
        [
            (
                str(s["label"]),
                str(s["clusters"]),
                _first(list(s["exposed"]), periods),
                *("I" if e else "C" for e in s["exposed"]),
            )
            for s in seqs
        ],
    )


def _describe(
    seqs: list[Mapping[str, Any]], periods: list[str], spec: Mapping[str, Any], treated: str
) -> str:
    total = sum(int(s["clusters"]) for s in seqs)
    units = spec.get("units", "clusters")
    steps = "; ".join(
        f"{s['label']} ({s['clusters']}) from {_first(list(s['exposed']), periods)}" for s in seqs
    )
    last = sum(int(s["clusters"]) for s in seqs if s["exposed"] and s["exposed"][-1])
    return (
        f"Grid of {len(seqs)} sequences of {units} by {len(periods)} periods; each cell is "
        f"marked C (control) or I ({treated.lower()}). Sequences switch to the "
        f"{treated.lower()} in turn and never switch back: {steps}. In the last period "
        f"{last} of {total} {units} receive it."
    )

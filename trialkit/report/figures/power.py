"""The power curve: power by number of randomised units."""

from __future__ import annotations

from typing import Any

from trialkit.report.figures._draw import (
    BLUE,
    FONT,
    GREEN,
    GREY,
    INK,
    RED,
    WIDTH,
    Figure,
    draw_bytes,
    draw_svg,
    make_figure,
)


def power_curve_figure(frame: Any, *, fmt: str = "svg") -> str | bytes:
    """Power by number of randomised units, one line per (primary) outcome.

    Parameters
    ----------
    frame
        A power table as a data frame with ``outcome``, ``n_units`` and ``power`` columns
        (and optionally ``role`` and ``target_power``); primary outcomes are drawn when a
        ``role`` column marks any.
    fmt
        ``"svg"`` (text, deterministic) or any other matplotlib format such as ``"png"``.

    Returns
    -------
    str or bytes
        SVG text, or the image bytes for other formats.
    """
    plot = _plotter(frame.to_dict(orient="records"))
    if fmt == "svg":
        return draw_svg("power", plot, size=(6.5, 3.5))
    return draw_bytes(plot, fmt=fmt, size=(6.5, 3.5))


def _series(rows: list[dict[str, Any]]) -> dict[str, list[tuple[float, float]]]:
    if any(r.get("role") == "primary" for r in rows):
        rows = [r for r in rows if r.get("role") == "primary"]
    series: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        if r.get("n_units") is None or r.get("power") is None:
            continue
        series.setdefault(str(r["outcome"]), []).append((float(r["n_units"]), float(r["power"])))
    return {name: sorted(points) for name, points in series.items()}


def _plotter(rows: list[dict[str, Any]], labels: dict[str, str] | None = None) -> Any:
    series = _series(rows)
    target = next((float(r["target_power"]) for r in rows if r.get("target_power")), None)

    def plot(ax: Any) -> None:
        styles = ("-", "--", "-.", ":")
        for i, (name, points) in enumerate(series.items()):
            xs, ys = zip(*points, strict=True)
            ax.plot(
                xs,
                ys,
                marker="o",
                linestyle=styles[i % 4],
                color=(BLUE, INK, GREEN, RED)[i % 4],
                label=(labels or {}).get(name, name.replace("_", " ")),
            )
        if target:
            ax.axhline(target, color=GREY, linestyle=":", linewidth=1, label=f"Target {target:g}")
        ax.set_ylim(0, 1)
        ax.set_xlabel("Number of randomised units")
        ax.set_ylabel("Power")
        # Below the axes, one entry a line: beside or inside, it hides the curves at 5 in.
        ax.legend(
            frameon=False, fontsize=FONT, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=1
        )

    return plot


def power_plot(rows: list[dict[str, Any]], labels: dict[str, str]) -> Figure | None:
    """The power curve for the plan, with its data table; ``None`` with one size only.

    Parameters
    ----------
    rows
        Power rows with ``outcome``, ``n_units`` and ``power`` (``role`` optional).
    labels
        Outcome labels by name, for the table.
    """
    series = _series(rows)
    if not series or all(len({x for x, _ in pts}) < 2 for pts in series.values()):
        return None
    table = [
        (labels.get(name, name), f"{x:g}", f"{y:.2f}")
        for name, pts in series.items()
        for x, y in pts
    ]
    summary = "; ".join(
        f"{labels.get(name, name)}: power {pts[0][1]:.2f} with {pts[0][0]:g} units to "
        f"{pts[-1][1]:.2f} with {pts[-1][0]:g}"
        for name, pts in series.items()
    )
    return make_figure(
        "fig-power",
        "Power by number of randomised units",
        f"Line chart of statistical power against the number of randomised units. {summary}.",
        draw_svg("power", _plotter(rows, labels), size=(WIDTH, 3.2 + 0.25 * len(series))),
        ("Outcome", "Units", "Power"),
        table,
    )

"""The power curve: power by number of randomised units."""

from __future__ import annotations

from typing import Any

from trialkit.report.figures._draw import BLUE, GREEN, GREY, INK, RED, draw_bytes, draw_svg


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
    rows = frame.to_dict(orient="records")
    if any(r.get("role") == "primary" for r in rows):
        rows = [r for r in rows if r.get("role") == "primary"]
    series: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        series.setdefault(str(r["outcome"]), []).append((float(r["n_units"]), float(r["power"])))
    target = next((float(r["target_power"]) for r in rows if r.get("target_power")), None)

    def plot(ax: Any) -> None:
        styles = ("-", "--", "-.", ":")
        for i, (name, points) in enumerate(series.items()):
            xs, ys = zip(*sorted(points), strict=True)
            ax.plot(
                xs,
                ys,
                marker="o",
                linestyle=styles[i % 4],
                color=(BLUE, INK, GREEN, RED)[i % 4],
                label=name.replace("_", " "),
            )
        if target:
            ax.axhline(target, color=GREY, linestyle=":", linewidth=1, label=f"Target {target:g}")
        ax.set_ylim(0, 1)
        ax.set_xlabel("Number of randomised units")
        ax.set_ylabel("Power")
        ax.legend(frameon=False, fontsize=8)

    if fmt == "svg":
        return draw_svg("power", plot, size=(6.5, 3.5))
    return draw_bytes(plot, fmt=fmt, size=(6.5, 3.5))

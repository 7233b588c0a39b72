"""The staff section's Kaplan–Meier plot: share still in post over time, with numbers at risk."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trialkit.report.figures._draw import BLUE, GREY, INK, WIDTH, Figure, draw_svg, make_figure

_STYLES = ((INK, "-"), (BLUE, "--"), (GREY, ":"), (BLUE, "-."))


def survival_plot(spec: Mapping[str, Any]) -> Figure:
    """Kaplan–Meier curves by arm, different line styles (never colour alone).

    ``spec``: ``outcome`` (label), ``event`` (what ends follow-up, e.g. "leaving"),
    ``horizon`` (days), ``arms``: ``[{label, times, survival}]`` (the step functions), and
    ``at_risk``: ``{times, rows: [{label, counts, survival}]}`` (numbers still at risk and
    the share without the event at each time, for the table beneath the plot).
    """
    arms = list(spec["arms"])
    at_risk = spec["at_risk"]
    horizon = float(spec["horizon"])

    def plot(ax: Any) -> None:
        for i, arm in enumerate(arms):
            colour, style = _STYLES[i % len(_STYLES)]
            ax.step(
                [0.0, *arm["times"]],
                [1.0, *arm["survival"]],
                where="post",
                color=colour,
                linestyle=style,
                linewidth=2,
                label=arm["label"],
            )
        ax.axvline(horizon, color=GREY, linestyle=":", linewidth=1)
        ax.set_xlim(0, horizon * 1.02)
        ax.set_ylim(max(0.0, min(min(a["survival"] or [1.0]) for a in arms) - 0.05), 1.01)
        ax.set_xlabel("Days since the start of follow-up")
        ax.set_ylabel(f"Share without {spec['event']}")
        ax.legend(loc="lower left", frameon=False)

    last = [f"{r['label']} {100 * r['survival'][-1]:.0f}%" for r in at_risk["rows"]]
    desc = (
        f"Step plot of the share of staff without {spec['event']} over "
        f"{horizon:.0f} days, by arm. At {at_risk['times'][-1]:g} days: " + "; ".join(last) + "."
    )
    table = [
        (f"{r['label']}, day {t:g}", str(n), f"{100 * s:.1f}%")
        for r in at_risk["rows"]
        for t, n, s in zip(at_risk["times"], r["counts"], r["survival"], strict=True)
    ]
    return make_figure(
        "fig-survival",
        f"{spec['outcome']}: Kaplan–Meier curves",
        desc,
        draw_svg("survival", plot, size=(WIDTH, 3.6)),
        ("Arm and day", "Still at risk", f"Without {spec['event']}"),
        table,
    )

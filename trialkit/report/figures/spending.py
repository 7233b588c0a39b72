"""The spending section's figures: spend per client, categories, months, misuse, net, dose.

Each takes the data from :func:`trialkit.report.spending_figdata.spending_figures` and
returns a :class:`~trialkit.report.figures._draw.Figure` whose data table holds the same
numbers. Marker shapes and hatching carry meaning as well as colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from trialkit.report.figures._draw import (
    BLUE,
    FONT,
    GREY,
    INK,
    LIGHT,
    RED,
    TITLE_CHARS,
    WIDTH,
    Figure,
    draw_svg,
    make_figure,
    row_height,
    wrap,
)
from trialkit.report.words import estimated_share, few, money

_LINES = ((INK, "-", "o"), (BLUE, "--", "s"), (GREY, ":", "^"))


def _money_axis(ax: Any, currency: str, axis: str = "x", *, ticks: int = 4) -> None:
    """Money tick labels, at most ``ticks`` of them, none cut off at the plot's right edge."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator

    formatter = FuncFormatter(lambda v, _: money(v, currency, signed=True).replace("-", "−"))
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(formatter)
    low, high = ax.get_xlim() if axis == "x" else ax.get_ylim()
    values = [v for v in MaxNLocator(ticks).tick_values(low, high) if low <= v <= high]
    if axis == "x" and len(values) > 2 and values[-1] > high - 0.08 * (high - low):
        values = values[:-1]  # its label would run past the right edge of the figure
    target.set_major_locator(FixedLocator(values))


def _bar_row(labels: Sequence[str]) -> float:
    """Inches per bar: room for the tallest label, and no more (a long chart prints small)."""
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    return max(0.42, 0.2 * lines + 0.08)


def per_client_plot(spec: Mapping[str, Any]) -> Figure:
    """Spend per client receiving any: 10th–90th percentile line, quartile box, median."""
    rows, cur = list(spec["rows"]), spec["currency"]
    labels = [wrap(r["label"]) for r in rows]

    def plot(ax: Any) -> None:
        for y, r in zip(range(len(rows))[::-1], rows, strict=True):
            q = r["q"]
            ax.plot([q[0], q[4]], [y, y], color=GREY, linewidth=2)
            ax.broken_barh([(q[1], q[3] - q[1])], (y - 0.25, 0.5), facecolors=LIGHT, edgecolors=INK)
            ax.plot([q[2], q[2]], [y - 0.25, y + 0.25], color=INK, linewidth=3)
            if r["mean"] is not None:
                ax.plot(
                    [r["mean"]],
                    [y],
                    marker="D",
                    color=BLUE,
                    markersize=7,
                    linestyle="none",
                    label="Mean" if y == len(rows) - 1 else None,
                )
        ax.set_yticks(list(range(len(rows))[::-1]), labels)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        top = max(max(r["q"][4], r["mean"] or 0.0) for r in rows)
        ax.set_xlim(0, 1.1 * top)
        _money_axis(ax, cur)
        ax.set_xlabel("Spent on one client who received any")

    desc = " ".join(
        f"{r['label']}: median {money(r['q'][2], cur)}, half between {money(r['q'][1], cur)} "
        f"and {money(r['q'][3], cur)}, 10% above {money(r['q'][4], cur)}"
        + (f", mean {money(r['mean'], cur)}." if r["mean"] is not None else ".")
        for r in rows
    )
    names = ("10th percentile", "25th", "Median", "75th", "90th percentile")
    table = [
        (f"{r['label']}: {n}", money(v, cur))
        for r in rows
        for n, v in zip(names, r["q"], strict=True)
    ]
    table += [(f"{r['label']}: mean", money(r["mean"], cur)) for r in rows if r["mean"] is not None]
    return make_figure(
        "fig-spend-per-client",
        "How much each client received",
        desc,
        draw_svg("spend-per-client", plot, size=(WIDTH, 1.9 + row_height(labels) * len(rows))),
        ("Arm and statistic", "Spent per client"),
        table,
    )


def category_plot(spec: Mapping[str, Any]) -> Figure:
    """Total spent by category (one bar per arm); excluded categories hatched in red."""
    rows, arms, cur = list(spec["rows"]), list(spec["arms"]), spec["currency"]
    labels = [wrap(r["label"] + ("" if r["allowed"] else " ✗"), 26) for r in rows]
    height = 0.8 / len(arms)

    def plot(ax: Any) -> None:
        ys = list(range(len(rows))[::-1])
        for i, arm in enumerate(arms):
            offset = (len(arms) - 1) / 2 * height - i * height
            ax.barh(
                [y + offset for y in ys],
                [r["totals"][i] for r in rows],
                height=height,
                color=[BLUE if r["allowed"] else RED for r in rows],
                hatch=[None if r["allowed"] else "//" for r in rows],
                alpha=1.0 if i == 0 else 0.55,
                edgecolor=INK,
                linewidth=0.5,
                label=arm if len(arms) > 1 else None,
            )
        top = max(max(r["totals"]) for r in rows)
        for y, r in zip(ys, rows, strict=True):  # the amount beside its bar
            ax.text(
                r["totals"][0] + 0.02 * top,
                y + (len(arms) - 1) / 2 * height,
                money(r["totals"][0], cur),
                va="center",
                color=INK,
            )
        ax.set_xlim(0, 1.45 * top)
        ax.set_yticks(ys, labels)
        ax.set_xlabel("Total spent")
        _money_axis(ax, cur, ticks=3)
        if len(arms) > 1:
            ax.legend(frameon=False, loc="lower right")
        if not all(r["allowed"] for r in rows):
            ax.text(
                1.0,
                1.0,
                "✗ red, hatched: not allowed",
                transform=ax.transAxes,
                ha="right",
                va="bottom",
                color=RED,
            )

    desc = (
        "Bar chart of the total spent in each category. "
        + "; ".join(
            f"{r['label']}: {money(r['totals'][0], cur)} ({estimated_share(r['shares'][0])})"
            + ("" if r["allowed"] else ", not allowed")
            for r in rows
        )
        + "."
    )
    table = [
        (
            f"{r['label']}{'' if len(arms) == 1 else ', ' + arm}",
            "Yes" if r["allowed"] else "No",
            f"{r['spends'][i]:,}",
            money(r["totals"][i], cur),
            estimated_share(r["shares"][i]),
        )
        for r in rows
        for i, arm in enumerate(arms)
    ]
    return make_figure(
        "fig-spend-categories",
        "What the money was spent on",
        desc,
        draw_svg("spend-categories", plot, size=(WIDTH, 1.3 + _bar_row(labels) * len(rows))),
        ("Category", "Allowed", "Spends", "Total", "Share of total"),
        table,
    )


def period_plot(spec: Mapping[str, Any]) -> Figure:
    """Total spent in each budget period, one line per arm with spends."""
    periods, lines, cur = list(spec["periods"]), list(spec["arms"]), spec["currency"]

    def plot(ax: Any) -> None:
        xs = list(range(len(periods)))
        for i, line in enumerate(lines):
            colour, style, marker = _LINES[i % len(_LINES)]
            ax.plot(
                xs,
                line["totals"],
                color=colour,
                linestyle=style,
                marker=marker,
                linewidth=2,
                label=line["label"],
            )
        step = max(1, len(periods) // 6)
        ax.set_xticks(xs[::step], [wrap(p, 4) for p in periods[::step]])
        ax.set_ylim(bottom=0)
        _money_axis(ax, cur, "y")
        ax.set_xlabel(f"Budget period ({spec['period']})")
        ax.set_ylabel("Total spent")
        if len(lines) > 1:
            ax.legend(frameon=False, loc="best")

    desc = f"Line chart of the total spent in each {spec['period']}. " + " ".join(
        f"{line['label']}: "
        + ", ".join(f"{p} {money(t, cur)}" for p, t in zip(periods, line["totals"], strict=True))
        + "."
        for line in lines
    )
    table = [
        (f"{p}{'' if len(lines) == 1 else ', ' + line['label']}", f"{s:,}", money(t, cur))
        for line in lines
        for p, s, t in zip(periods, line["spends"], line["totals"], strict=True)
    ]
    return make_figure(
        "fig-spend-periods",
        "When the money was spent",
        desc,
        draw_svg("spend-periods", plot, size=(WIDTH, 3.2)),
        ("Period", "Spends", "Total"),
        table,
    )


def _intervals(ax: Any, rows: Sequence[Mapping[str, Any]], key: str) -> None:
    ys = list(range(len(rows))[::-1])
    for y, r in zip(ys, rows, strict=True):
        low, high = r[f"{key}_ci"]
        ax.plot([low, high], [y, y], color=BLUE, linewidth=2)
        ax.plot([r[key]], [y], marker="D", color=INK, markersize=6, linestyle="none")
    ax.set_yticks(ys, [r["label"] for r in rows])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.set_xlim(left=0)


def severity_plot(spec: Mapping[str, Any]) -> Figure:
    """Misuse as a distribution: the rate and the money lost for each verdict, with intervals."""
    rows, cur = list(spec["rows"]), spec["currency"]
    level = f"{100 * spec['ci_level']:.0f}%"

    def plot(ax: Any) -> None:
        fig = ax.figure
        ax.remove()
        top, bottom = fig.subplots(2, 1)
        _intervals(top, rows, "rate")
        from matplotlib.ticker import PercentFormatter

        top.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=1))
        top.set_xlabel("Share of all spends")
        _intervals(bottom, rows, "loss")
        _money_axis(bottom, cur)
        bottom.set_xlabel("Money lost")

    desc = (
        f"Two dot-and-interval plots, {level} intervals. "
        + "; ".join(
            f"{r['label']}: {r['spends']:,} spends, rate {estimated_share(r['rate'], places=1)} "
            f"({estimated_share(r['rate_ci'][0], places=1)} to "
            f"{estimated_share(r['rate_ci'][1], places=1)}), lost {money(r['loss'], cur)} "
            f"({money(r['loss_ci'][0], cur)} to {money(r['loss_ci'][1], cur)})"
            for r in rows
        )
        + "."
    )
    table = [
        (
            r["label"],
            f"{r['spends']:,}",
            estimated_share(r["rate"], places=1),
            f"{estimated_share(r['rate_ci'][0], places=1)} to "
            f"{estimated_share(r['rate_ci'][1], places=1)}",
            money(r["loss"], cur),
            f"{money(r['loss_ci'][0], cur)} to {money(r['loss_ci'][1], cur)}",
        )
        for r in rows
    ]
    return make_figure(
        "fig-spend-severity",
        "Waste, misuse and fraud: how often, how much",
        desc,
        draw_svg("spend-severity", plot, size=(WIDTH, 4.2)),
        ("Verdict", "Spends", "Rate", f"Rate {level} CI", "Lost", f"Lost {level} CI"),
        table,
    )


def net_plot(spec: Mapping[str, Any]) -> Figure:
    """Green tape saved against the loss to misuse, and the net, with intervals."""
    rows, cur = list(spec["rows"]), spec["currency"]
    labels = [wrap(r["label"]) for r in rows]
    marks = {"saved": ("o", BLUE), "loss": ("X", RED), "net": ("D", INK)}

    def cell(v: float | None) -> str:
        return "—" if v is None else money(v, cur, signed=True).replace("-", "−")

    def plot(ax: Any) -> None:
        ys = list(range(len(rows))[::-1])
        ax.axvline(0, color=INK, linewidth=0.8)
        for y, r in zip(ys, rows, strict=True):
            marker, colour = marks[r["kind"]]
            if r["low"] is not None:
                ax.plot([r["low"], r["high"]], [y, y], color=colour, linewidth=2)
            ax.plot(
                [r["estimate"]], [y], marker=marker, color=colour, markersize=8, linestyle="none"
            )
            ax.annotate(
                cell(r["estimate"]),
                (r["estimate"], y),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                va="bottom",
                color=INK,
            )
        ax.set_yticks(ys, labels)
        ax.set_ylim(-0.6, len(rows) - 0.2)
        ends = [v for r in rows for v in (r["estimate"], r["low"], r["high"]) if v is not None]
        span = max(ends) - min(0.0, *ends)
        ax.set_xlim(min(0.0, *ends) - 0.15 * span, max(ends) + 0.15 * span)
        _money_axis(ax, cur)
        ax.set_xlabel(
            wrap(
                f"Money over the pilot, all {spec['units']} {spec['unit']}s with the budget",
                TITLE_CHARS,
            )
        )

    desc = (
        "Dot-and-interval plot in money. "
        + "; ".join(
            f"{r['label']}: {cell(r['estimate'])}"
            + (f" ({cell(r['low'])} to {cell(r['high'])})" if r["low"] is not None else "")
            for r in rows
        )
        + ". A net interval wholly right of zero means the approval time "
        "saved was more than misuse cost."
    )
    table = [
        (
            r["label"],
            cell(r["estimate"]),
            f"{cell(r['low'])} to {cell(r['high'])}" if r["low"] is not None else "exact",
        )
        for r in rows
    ]
    return make_figure(
        "fig-spend-net",
        "Misuse against the green tape it replaced",
        desc,
        draw_svg("spend-net", plot, size=(WIDTH, 1.4 + row_height(labels) * len(rows))),
        ("Quantity", "Amount", "95% CI"),
        table,
    )


def dose_plot(spec: Mapping[str, Any]) -> Figure:
    """Exploratory, not causal: mean outcome of clients in bands of spend per client."""
    bins, cur = list(spec["bins"]), spec["currency"]
    factor = 100.0 if spec["binary"] else 1.0
    unit = "%" if spec["binary"] else spec["unit"]

    def band(b: Mapping[str, Any]) -> str:
        if b["low"] == b["high"] == 0:
            return "None"
        return f"{money(b['low'], cur)}–{money(b['high'], cur)}"

    def plot(ax: Any) -> None:
        xs = list(range(len(bins)))
        ax.plot(
            xs,
            [factor * b["mean"] for b in bins],
            color=GREY,
            linestyle=":",
            marker="o",
            markerfacecolor=BLUE,
            markeredgecolor=INK,
            markersize=8,
        )
        ax.set_xticks(xs, [wrap(band(b), 9) for b in bins])
        ax.set_xlabel("Spent on the client")
        ax.set_ylabel(wrap(f"Mean {spec['outcome']} ({unit})", 28))
        ax.set_title(
            "Exploratory: not causal", loc="left", color=RED, fontweight="bold", fontsize=FONT
        )

    desc = (
        f"Dot plot of the mean {spec['outcome']} of clients by how much was spent on "
        "them. Exploratory, not causal: clients who received more may have differed "
        "to begin with. "
        + "; ".join(
            f"{band(b)}: {factor * b['mean']:.2f} ({few(b['clients'])} clients)" for b in bins
        )
        + "."
        + (
            f" {spec['suppressed']} band(s) with fewer than 5 clients are not shown."
            if spec["suppressed"]
            else ""
        )
    )
    table = [(band(b), few(b["clients"]), f"{factor * b['mean']:.2f}") for b in bins]
    return make_figure(
        "fig-spend-dose",
        f"Exploratory, not causal: {spec['outcome']} by money spent",
        desc,
        draw_svg("spend-dose", plot, size=(WIDTH, 3.4)),
        ("Spent on the client", "Clients", f"Mean {spec['outcome']}"),
        table,
    )


#: Figure makers by the key :func:`~trialkit.report.spending_figdata.spending_figures` uses.
SPENDING_FIGURES = {
    "spend_per_client": per_client_plot,
    "spend_categories": category_plot,
    "spend_periods": period_plot,
    "spend_severity": severity_plot,
    "spend_net": net_plot,
    "spend_dose": dose_plot,
}

"""Report figures: matplotlib (Agg) drawn to inline, deterministic, accessible SVG.

matplotlib is imported lazily inside :func:`_draw`, so ``import trialkit`` stays fast. Each
figure is returned as a :class:`Figure` with its SVG, a title and description for screen
readers, and the data table printed beneath it. SVG output is reproducible: a fixed
``svg.hashsalt`` per figure, no date or creator metadata, text kept as text.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from markupsafe import Markup, escape

from trialkit.report.tables import fmt, fmt_p

#: Colours with at least 4.5:1 contrast on white (GOV.UK palette).
INK, BLUE, GREEN, RED, GREY = "#0b0c0c", "#1d70b8", "#00703c", "#d4351c", "#505a5f"
LIGHT = "#b1b4b6"


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure: inline SVG, text alternative and data table."""

    id: str
    title: str
    description: str
    svg: Markup
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _draw(name: str, plot: Callable[[Any], None], *, size: tuple[float, float]) -> str:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    rc: dict[str, Any] = {
        "svg.hashsalt": f"trialkit-{name}",
        "svg.fonttype": "none",
        "font.family": "sans-serif",
        "font.sans-serif": ["Arial", "Helvetica", "DejaVu Sans"],
        "font.size": 10,
        "axes.edgecolor": GREY,
        "axes.labelcolor": INK,
        "xtick.color": INK,
        "ytick.color": INK,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "path.simplify": False,
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


def _figure(
    fig_id: str,
    title: str,
    description: str,
    svg: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
) -> Figure:
    return Figure(
        fig_id,
        title,
        description,
        _inline(svg, fig_id, title, description),
        tuple(columns),
        tuple(tuple(r) for r in rows),
    )


def love_plot(spec: Mapping[str, Any]) -> Figure:
    """Standardised baseline differences with the WWC 0.05 and 0.25 lines."""
    rows = list(spec["rows"])
    height = 1.2 + 0.32 * len(rows)

    def plot(ax: Any) -> None:
        ys = range(len(rows))[::-1]
        for x, style in ((0.05, ":"), (0.25, "--")):
            for sign in (-1, 1):
                ax.axvline(sign * x, color=GREY, linestyle=style, linewidth=1)
        ax.axvline(0, color=INK, linewidth=0.8)
        values = [r["value"] for r in rows]
        colours = [GREEN if abs(v) <= 0.05 else BLUE if abs(v) <= 0.25 else RED for v in values]
        markers = ["o" if abs(v) <= 0.05 else "s" if abs(v) <= 0.25 else "X" for v in values]
        for y, v, c, m in zip(ys, values, colours, markers, strict=True):
            ax.plot([v], [y], marker=m, color=c, markersize=7, linestyle="none")
        ax.set_yticks(list(ys), [r["label"] for r in rows])
        limit = max(0.3, *(abs(v) * 1.15 for v in values))
        ax.set_xlim(-limit, limit)
        ax.set_xlabel("Standardised difference (intervention minus control), in SDs")
        ax.text(0.25, len(rows) - 0.4, " 0.25", color=GREY, fontsize=8)
        ax.text(0.05, len(rows) - 0.4, " 0.05", color=GREY, fontsize=8)

    worst = max(rows, key=lambda r: abs(r["value"]))
    desc = (
        f"Dot plot of the standardised difference between arms for {len(rows)} baseline "
        f"covariates. The largest is {worst['label']} at {worst['value']:.3f}. Dotted lines "
        "mark ±0.05 and dashed lines ±0.25, the What Works Clearinghouse thresholds."
    )
    table = [(r["label"], f"{r['value']:.3f}") for r in rows]
    return _figure(
        "fig-love",
        "Baseline balance (love plot)",
        desc,
        _draw("love", plot, size=(7.0, height)),
        ("Covariate", "Std. difference"),
        table,
    )


def _interval_plot(ax: Any, rows: Sequence[Mapping[str, Any]], xlabel: str) -> None:
    ys = range(len(rows))[::-1]
    ax.axvline(0, color=INK, linewidth=0.8)
    for y, r in zip(ys, rows, strict=True):
        ax.plot([r["low"], r["high"]], [y, y], color=BLUE, linewidth=2)
        ax.plot([r["estimate"]], [y], marker="D", color=INK, markersize=6)
    ax.set_yticks(list(ys), [r["label"] for r in rows])
    ax.set_xlabel(xlabel)


def forest_plot(spec: Mapping[str, Any]) -> Figure:
    """Every outcome's effect, standardised and oriented so that right means better."""
    rows = list(spec["rows"])

    def plot(ax: Any) -> None:
        _interval_plot(ax, rows, "Effect in standard deviations (right of zero = better)")
        lo, hi = ax.get_xlim()
        ax.text(hi, -0.9, "better →", ha="right", color=GREEN, fontsize=9)
        ax.text(lo, -0.9, "← worse", ha="left", color=RED, fontsize=9)
        ax.set_ylim(-1.2, len(rows) - 0.5)

    better = [r["label"] for r in rows if r["low"] > 0]
    desc = (
        f"Forest plot of {len(rows)} outcome effects in standard-deviation units, oriented so "
        f"that positive is better, with 95% intervals. Intervals wholly on the better side: "
        f"{', '.join(better) if better else 'none'}."
    )
    table = [
        (
            r["label"],
            fmt(r["raw"][0]),
            f"{fmt(r['raw'][1])} to {fmt(r['raw'][2])}",
            r["unit"] or "—",
            f"{r['estimate']:.2f}",
        )
        for r in rows
    ]
    return _figure(
        "fig-forest",
        "Effects on every outcome (forest plot)",
        desc,
        _draw("forest", plot, size=(7.0, 1.4 + 0.36 * len(rows))),
        ("Outcome", "Effect", "95% CI", "Unit", "Effect (SD, + = better)"),
        table,
    )


def subgroup_plot(spec: Mapping[str, Any]) -> Figure:
    """Equity subgroups: the primary effect within each pre-specified group."""
    rows = list(spec["rows"])

    def plot(ax: Any) -> None:
        _interval_plot(ax, rows, f"Effect on {spec['outcome']} ({spec['unit'] or 'units'})")

    desc = (
        f"Effects on {spec['outcome']} within {len(rows)} subgroups, with 95% intervals: "
        + "; ".join(f"{r['label']} {r['estimate']:.2f}" for r in rows)
        + "."
    )
    table = [(r["label"], fmt(r["estimate"]), f"{fmt(r['low'])} to {fmt(r['high'])}") for r in rows]
    return _figure(
        "fig-subgroups",
        "Effects by citizen group (equity)",
        desc,
        _draw("subgroups", plot, size=(7.0, 1.3 + 0.36 * len(rows))),
        ("Group", "Effect", "95% CI"),
        table,
    )


def posterior_plot(spec: Mapping[str, Any]) -> Figure:
    """Posterior of the primary effect with zero, the MID and the ROPE marked."""
    draws = list(spec["draws"])
    mid, rope, lower = spec.get("mid"), spec.get("rope"), spec.get("lower_is_better", False)
    unit = spec.get("unit") or "units"

    def plot(ax: Any) -> None:
        if rope:
            ax.axvspan(
                -rope, rope, color=LIGHT, alpha=0.5, label=f"Too small to matter (±{rope:g})"
            )
        ax.hist(
            draws,
            bins=40,
            color=BLUE,
            alpha=0.85,
            edgecolor="white",
            linewidth=0.3,
            label="Posterior draws",
        )
        ax.axvline(0, color=INK, linewidth=1, label="No effect")
        if mid:
            ax.axvline(
                -mid if lower else mid,
                color=GREEN,
                linestyle="--",
                linewidth=1.5,
                label=f"Smallest change that matters ({'-' if lower else '+'}{mid:g})",
            )
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlabel(f"Effect on {spec['label']} ({unit})")
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))

    s = spec.get("summary") or {}
    desc = (
        f"Histogram of {len(draws)} posterior draws of the effect on {spec['label']}. "
        f"Mean {fmt(s.get('mean'))}, 95% credible interval {fmt(s.get('ci_low'))} to "
        f"{fmt(s.get('ci_high'))}. Probability of benefit {_pc(s.get('p_benefit'))}; of at "
        f"least the minimum important difference {_pc(s.get('p_mid'))}; inside the region of "
        f"practical equivalence {_pc(s.get('p_rope'))}."
    )
    names = {
        "mean": "Mean",
        "median": "Median",
        "sd": "SD",
        "ci_low": "95% CrI low",
        "ci_high": "95% CrI high",
        "p_benefit": "P(benefit)",
        "p_mid": "P(≥ MID)",
        "p_harm": "P(harm)",
        "p_rope": "P(in ROPE)",
    }
    table = [(names[k], _pc(v) if k.startswith("p_") else fmt(v)) for k, v in s.items()]
    return _figure(
        "fig-posterior",
        f"How sure we are: the effect on {spec['label']}",
        desc,
        _draw("posterior", plot, size=(7.5, 3.0)),
        ("Statistic", "Value"),
        table,
    )


def _pc(value: Any) -> str:
    return "—" if not isinstance(value, int | float) else f"{100 * value:.1f}%"


def randomisation_plot(spec: Mapping[str, Any], index: int = 0) -> Figure:
    """The randomisation (permutation) distribution with the observed statistic."""
    null, observed = list(spec["null"]), float(spec["observed"])

    def plot(ax: Any) -> None:
        ax.hist(
            null,
            bins=40,
            color=LIGHT,
            edgecolor=GREY,
            linewidth=0.3,
            label="Effects under re-randomisation if the reform did nothing",
        )
        ax.axvline(observed, color=RED, linewidth=2, label=f"Observed effect ({observed:.2f})")
        ax.axvline(-observed, color=RED, linewidth=1, linestyle=":", label="Its mirror image")
        ax.set_xlabel(f"Effect on {spec['label']}")
        ax.set_ylabel("Number of draws")
        ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))

    beyond = sum(abs(v) >= abs(observed) for v in null)
    desc = (
        f"Histogram of {len(null)} effects from re-running the allocation when the reform has "
        f"no effect. {beyond} of them are at least as far from zero as the observed "
        f"{observed:.2f}; randomisation p-value {fmt_p(spec.get('p_value'))}."
    )
    counts = _bin_counts(null, 12)
    return _figure(
        f"fig-ri-{index}",
        f"Randomisation distribution: {spec['label']}",
        desc,
        _draw(f"ri-{index}", plot, size=(7.5, 2.8)),
        ("Effect from", "to", "Draws"),
        counts,
    )


def _bin_counts(values: Sequence[float], bins: int) -> list[tuple[str, str, str]]:
    low, high = min(values), max(values)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int((v - low) / width), bins - 1)] += 1
    return [
        (f"{low + i * width:.2f}", f"{low + (i + 1) * width:.2f}", str(c))
        for i, c in enumerate(counts)
    ]


def build_figures(data: Mapping[str, Any]) -> dict[str, Any]:
    """Draw every figure in ``data`` (from :func:`trialkit.report.figdata.figure_data`)."""
    makers: dict[str, Callable[[Mapping[str, Any]], Figure]] = {
        "love": love_plot,
        "forest": forest_plot,
        "posterior": posterior_plot,
        "subgroups": subgroup_plot,
    }
    out: dict[str, Any] = {k: makers[k](v) for k, v in data.items() if k in makers}
    out["randomisation"] = [
        randomisation_plot(s, i) for i, s in enumerate(data.get("randomisation", []))
    ]
    return out


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
        return _draw("power", plot, size=(6.5, 3.5))
    return _draw_bytes(plot, fmt=fmt, size=(6.5, 3.5))


def _draw_bytes(plot: Callable[[Any], None], *, fmt: str, size: tuple[float, float]) -> bytes:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=size, layout="constrained")
    try:
        plot(ax)
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=150, metadata={"Software": None})
    finally:
        plt.close(fig)
    return buffer.getvalue()

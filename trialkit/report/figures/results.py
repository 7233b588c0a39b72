"""The results report's figures: love plot, forest plot, subgroups, posterior, randomisation."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trialkit.report.figures._draw import (
    BLUE,
    FONT,
    GREEN,
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
from trialkit.report.figures.spending import SPENDING_FIGURES
from trialkit.report.figures.stepped_wedge import stepped_wedge_plot
from trialkit.report.figures.survival import survival_plot
from trialkit.report.tables import fmt, fmt_p


def love_plot(spec: Mapping[str, Any]) -> Figure:
    """Standardised baseline differences with the WWC 0.05 and 0.25 lines."""
    rows = list(spec["rows"])
    labels = [wrap(r["label"]) for r in rows]
    height = 1.5 + row_height(labels) * len(rows)

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
        ax.set_yticks(list(ys), labels)
        limit = max(0.3, *(abs(v) * 1.15 for v in values))
        ax.set_xlim(-limit, limit)
        ax.set_xlabel(
            wrap("Standardised difference (intervention minus control), in SDs", TITLE_CHARS)
        )
        ax.set_ylim(-0.6, len(rows) - 0.1)
        for x in (0.05, 0.25):
            ax.text(x, len(rows) - 0.5, f"{x:g}", color=GREY, fontsize=FONT, ha="center")

    worst = max(rows, key=lambda r: abs(r["value"]))
    desc = (
        f"Dot plot of the standardised difference between arms for {len(rows)} baseline "
        f"covariates. The largest is {worst['label']} at {worst['value']:.3f}. Dotted lines "
        "mark ±0.05 and dashed lines ±0.25, the What Works Clearinghouse thresholds."
    )
    table = [(r["label"], f"{r['value']:.3f}") for r in rows]
    return make_figure(
        "fig-love",
        "Baseline balance (love plot)",
        desc,
        draw_svg("love", plot, size=(WIDTH, height)),
        ("Covariate", "Std. difference"),
        table,
    )


def _interval_plot(ax: Any, rows: Sequence[Mapping[str, Any]], xlabel: str) -> None:
    ys = range(len(rows))[::-1]
    ax.axvline(0, color=INK, linewidth=0.8)
    for y, r in zip(ys, rows, strict=True):
        ax.plot([r["low"], r["high"]], [y, y], color=BLUE, linewidth=2)
        ax.plot([r["estimate"]], [y], marker="D", color=INK, markersize=6)
    ax.set_yticks(list(ys), [wrap(r["label"]) for r in rows])
    ax.set_xlabel(wrap(xlabel, TITLE_CHARS))


def _interval_height(rows: Sequence[Mapping[str, Any]]) -> float:
    return 1.4 + row_height([wrap(r["label"]) for r in rows]) * len(rows)


def _legend_below(ax: Any) -> None:
    """One legend entry a line under the axes: a phone-width figure has no room beside."""
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(
        handles,
        [wrap(label, TITLE_CHARS) for label in labels],
        frameon=False,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.3),
        ncol=1,
    )


def forest_plot(spec: Mapping[str, Any]) -> Figure:
    """Every outcome's effect, standardised and oriented so that right means better."""
    rows = list(spec["rows"])

    def plot(ax: Any) -> None:
        _interval_plot(ax, rows, "Effect in standard deviations (right of zero = better)")
        lo, hi = ax.get_xlim()
        ax.text(hi, -0.9, "better →", ha="right", color=GREEN, fontsize=FONT)
        ax.text(lo, -0.9, "← worse", ha="left", color=RED, fontsize=FONT)
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
    return make_figure(
        "fig-forest",
        "Effects on every outcome (forest plot)",
        desc,
        draw_svg("forest", plot, size=(WIDTH, _interval_height(rows) + 0.3)),
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
    return make_figure(
        "fig-subgroups",
        "Effects by citizen group (equity)",
        desc,
        draw_svg("subgroups", plot, size=(WIDTH, _interval_height(rows))),
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
        ax.set_xlabel(wrap(f"Effect on {spec['label']} ({unit})", TITLE_CHARS))
        _legend_below(ax)

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
    return make_figure(
        "fig-posterior",
        f"How sure we are: the effect on {spec['label']}",
        desc,
        draw_svg("posterior", plot, size=(WIDTH, 4.6)),
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
            color="#8a9094",
            edgecolor=GREY,
            linewidth=0.3,
            label="Effects by chance alone (re-randomised, no effect)",
        )
        ax.axvline(observed, color=RED, linewidth=2, label=f"Observed effect ({observed:.2f})")
        ax.axvline(-observed, color=RED, linewidth=1, linestyle=":", label="Its mirror image")
        ax.set_xlabel(wrap(f"Effect on {spec['label']}", TITLE_CHARS))
        ax.set_ylabel("Number of draws")
        _legend_below(ax)

    beyond = sum(abs(v) >= abs(observed) for v in null)
    desc = (
        f"Histogram of {len(null)} effects from re-running the allocation when the reform has "
        f"no effect. {beyond} of them are at least as far from zero as the observed "
        f"{observed:.2f}; randomisation p-value {fmt_p(spec.get('p_value'))}."
    )
    counts = _bin_counts(null, 12)
    return make_figure(
        f"fig-ri-{index}",
        f"Randomisation distribution: {spec['label']}",
        desc,
        draw_svg(f"ri-{index}", plot, size=(WIDTH, 4.4)),
        ("Effect from", "to", "Draws"),
        counts,
    )


def _beta_density(x: float, a: float, b: float) -> float:
    if x <= 0 or x >= 1:
        return 0.0
    log_norm = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    return math.exp(log_norm + (a - 1) * math.log(x) + (b - 1) * math.log1p(-x))


def misuse_plot(spec: Mapping[str, Any]) -> Figure:
    """Posterior of the misuse rate (a beta distribution) against the tolerance."""
    a, b, tol = float(spec["alpha"]), float(spec["beta"]), spec.get("tolerance")
    judged = spec.get("judged", "unjustified")
    mean = a / (a + b)
    sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
    top = min(1.0, max(mean + 5 * sd, (tol or 0) * 1.6))
    xs = [top * i / 400 for i in range(401)]
    ys = [_beta_density(x, a, b) for x in xs]

    def plot(ax: Any) -> None:
        ax.plot([100 * x for x in xs], ys, color=BLUE, linewidth=2, label="Plausible misuse rates")
        if tol is not None:
            above = [(100 * x, y) for x, y in zip(xs, ys, strict=True) if x >= tol]
            if above:
                ax.fill_between(
                    [p for p, _ in above],
                    [y for _, y in above],
                    color=RED,
                    alpha=0.35,
                    hatch="//",
                    label="Above the tolerance",
                )
            ax.axvline(
                100 * tol,
                color=RED,
                linestyle="--",
                linewidth=1.5,
                label=f"Tolerance ({100 * tol:g}%)",
            )
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_xlim(0, 100 * top)
        ax.set_xlabel(f"Share of spends judged {judged} (%)")
        _legend_below(ax)

    p_above = spec.get("p_above")
    desc = (
        f"Curve of plausible misuse rates after {spec.get('cases')} of {spec.get('reviewed')} "
        f"cases were judged {judged}: mean {100 * mean:.1f}%. "
        + (f"Tolerance {100 * tol:g}%; probability above it {_pc(p_above)}." if tol else "")
    )
    table = [
        (f"Cases judged {judged}", f"{spec.get('cases')} of {spec.get('reviewed')}"),
        ("Mean rate", f"{100 * mean:.1f}%"),
        ("Tolerance", f"{100 * tol:g}%" if tol is not None else "—"),
        ("P(rate above tolerance)", _pc(p_above)),
    ]
    return make_figure(
        "fig-misuse",
        "How much misuse: the rate against the tolerance",
        desc,
        draw_svg("misuse", plot, size=(WIDTH, 4.2)),
        ("Statistic", "Value"),
        table,
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
        "misuse": misuse_plot,
        "stepped_wedge": stepped_wedge_plot,
        "survival": survival_plot,
        **SPENDING_FIGURES,
    }
    out: dict[str, Any] = {k: makers[k](v) for k, v in data.items() if k in makers}
    out["randomisation"] = [
        randomisation_plot(s, i) for i, s in enumerate(data.get("randomisation", []))
    ]
    return out

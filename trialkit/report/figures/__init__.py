"""Report figures as inline SVG with text alternatives and data tables.

matplotlib is imported only in :mod:`trialkit.report.figures._draw`, lazily. Each figure
builder returns a :class:`Figure`: its SVG, a title and description for screen readers,
and the data table printed beneath it.
"""

from trialkit.report.figures._draw import Figure
from trialkit.report.figures.power import power_curve_figure, power_plot
from trialkit.report.figures.results import (
    build_figures,
    forest_plot,
    love_plot,
    misuse_plot,
    posterior_plot,
    randomisation_plot,
    subgroup_plot,
)
from trialkit.report.figures.stepped_wedge import stepped_wedge_plot, stepped_wedge_spec
from trialkit.report.figures.survival import survival_plot

__all__ = [
    "Figure",
    "build_figures",
    "forest_plot",
    "love_plot",
    "misuse_plot",
    "posterior_plot",
    "power_curve_figure",
    "power_plot",
    "randomisation_plot",
    "stepped_wedge_plot",
    "stepped_wedge_spec",
    "subgroup_plot",
    "survival_plot",
]

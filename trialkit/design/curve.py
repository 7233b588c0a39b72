"""Power curves: a solver evaluated over a grid of sizes and effects, as one table.

The report and ``trialkit power --plot`` draw these tables; nothing is plotted here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

from trialkit.design._checks import InvalidParameterError
from trialkit.design.results import PowerCurve, PowerResult


def power_curve(
    solver: Callable[..., PowerResult],
    grid: Mapping[str, Sequence[float]],
    **fixed: object,
) -> PowerCurve:
    """Evaluate ``solver`` at every point of the grid (the Cartesian product of ``grid``).

    Parameters
    ----------
    solver
        One of :func:`solve_individual`, :func:`solve_cluster`, :func:`solve_stepped_wedge`.
    grid
        Parameter name → values, e.g. ``{"clusters": range(10, 62, 4), "effect": [0.2, 0.3]}``.
        Names are the solver's own (``effect``, ``n``, ``clusters``, ``cluster_size``,
        ``power``, ``icc``, ...).
    **fixed
        The solver's other arguments, fixed across the grid.

    Returns
    -------
    PowerCurve
        One :class:`PowerResult` per grid point; ``to_frame()`` has ``grid_<name>`` columns.

    Raises
    ------
    InvalidParameterError
        When the grid is empty or names a parameter also given in ``fixed``.

    Examples
    --------
    >>> from trialkit.design.cluster import solve_cluster
    >>> curve = power_curve(solve_cluster, {"clusters": [20, 40]}, effect=0.3,
    ...                     cluster_size=20, icc=0.05)
    >>> [round(p, 3) for p in curve.to_frame()["power"]]
    [0.529, 0.842]
    """
    if not grid or any(len(values) == 0 for values in grid.values()):
        raise InvalidParameterError(
            "The 'grid' parameter of power_curve must map each parameter to at least one "
            f"value. Got {dict(grid)!r} instead."
        )
    clash = sorted(set(grid) & set(fixed))
    if clash:
        raise InvalidParameterError(
            f"The parameters {clash} of power_curve are both in 'grid' and fixed. Fix: give "
            "each parameter in one place only."
        )
    names = tuple(grid)
    points = tuple(itertools.product(*(grid[name] for name in names)))
    rows = tuple(solver(**fixed, **dict(zip(names, point, strict=True))) for point in points)
    as_floats = tuple(tuple(float(value) for value in point) for point in points)
    return PowerCurve(rows=rows, varied=names, grid=as_floats)

"""The What Works Clearinghouse attrition boundary (cautious and optimistic).

For each overall attrition rate (whole percent, 0–65) the table gives the highest
differential attrition (percentage points) at which a randomised sample still has *low*
attrition. Above the boundary, or beyond the table, attrition is *high*.

Source and its limits
---------------------
WWC *Standards Handbook* v4.1 (2020), Table II.1, "Highest differential attrition rate
for a sample to maintain low attrition, by overall attrition rate, under 'optimistic' and
'cautious' assumptions". The WWC *Procedures and Standards Handbook* v5.0 (2022) keeps
this boundary. The values below were transcribed from the table as reproduced in the
CRAN package baselinr (``R/attrition_boundary.R``, zl1212-ship-it/baselinr); the
handbook's own PDF could not be consulted when this was written, so check them against
it before relying on a borderline verdict. Under the cautious boundary an overall
attrition of 58 % or more is high whatever the differential.
"""

from __future__ import annotations

import math
from typing import Literal

Boundary = Literal["cautious", "optimistic"]
AttritionVerdict = Literal["low", "high"]

# Index = overall attrition in whole percent (0..65); values in percentage points.
CAUTIOUS: tuple[float, ...] = (
    5.7,
    5.8,
    5.9,
    5.9,
    6.0,
    6.1,
    6.2,
    6.3,
    6.3,
    6.3,
    6.3,
    6.2,
    6.2,
    6.1,
    6.0,
    5.9,
    5.9,
    5.8,
    5.7,
    5.5,
    5.4,
    5.3,
    5.2,
    5.1,
    4.9,
    4.8,
    4.7,
    4.5,
    4.4,
    4.3,
    4.1,
    4.0,
    3.8,
    3.6,
    3.5,
    3.3,
    3.2,
    3.1,
    2.9,
    2.8,
    2.6,
    2.5,
    2.3,
    2.1,
    2.0,
    1.8,
    1.6,
    1.5,
    1.3,
    1.2,
    1.0,
    0.9,
    0.7,
    0.6,
    0.4,
    0.3,
    0.2,
    0.0,
)  # 0..57; 58 % and above is high attrition under the cautious boundary
OPTIMISTIC: tuple[float, ...] = (
    10.0,
    10.1,
    10.2,
    10.3,
    10.4,
    10.5,
    10.7,
    10.8,
    10.9,
    10.9,
    10.9,
    10.9,
    10.9,
    10.8,
    10.8,
    10.7,
    10.6,
    10.5,
    10.3,
    10.2,
    10.0,
    9.9,
    9.7,
    9.5,
    9.4,
    9.2,
    9.0,
    8.8,
    8.6,
    8.4,
    8.2,
    8.0,
    7.8,
    7.6,
    7.4,
    7.2,
    7.0,
    6.7,
    6.5,
    6.3,
    6.0,
    5.8,
    5.6,
    5.3,
    5.1,
    4.9,
    4.6,
    4.4,
    4.2,
    3.9,
    3.7,
    3.5,
    3.2,
    3.0,
    2.8,
    2.6,
    2.3,
    2.1,
    1.9,
    1.6,
    1.4,
    1.1,
    0.9,
    0.7,
    0.5,
    0.3,
)  # 0..65

_TABLES = {"cautious": CAUTIOUS, "optimistic": OPTIMISTIC}


def max_differential(overall: float, boundary: Boundary) -> float | None:
    """Highest differential attrition (a proportion) still low at this overall rate.

    ``overall`` is a proportion; it is rounded to the nearest whole percent, the table's
    step. Returns ``None`` where the overall rate lies beyond the table (always high).

    Examples
    --------
    >>> max_differential(0.30, "cautious"), max_differential(0.30, "optimistic")
    (0.041, 0.082)
    >>> max_differential(0.60, "cautious") is None
    True
    """
    table = _TABLES[boundary]
    if not math.isfinite(overall) or overall < 0:
        return None
    percent = math.floor(overall * 100 + 0.5)
    if percent >= len(table):
        return None
    return round(table[percent] / 100, 4)


def attrition_verdict(overall: float, differential: float, boundary: Boundary) -> AttritionVerdict:
    """``"low"`` if ``differential`` is within the boundary at ``overall``, else ``"high"``.

    Examples
    --------
    >>> attrition_verdict(0.30, 0.06, "cautious"), attrition_verdict(0.30, 0.06, "optimistic")
    ('high', 'low')
    """
    limit = max_differential(overall, boundary)
    if limit is None or not math.isfinite(differential):
        return "high"
    return "low" if abs(differential) <= limit + 1e-9 else "high"

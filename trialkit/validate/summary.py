"""Issues as a person reads them: labelled, counted by severity, repeated rows grouped.

The same rule failing in the same column on many rows is printed once, with a count and
the first few rows; the issues table (``--report``) still lists every row. Each printed
line is one error, warning or finding, so the counts never disagree with the lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from trialkit.errors import Issue, Severity

#: More issues than this for one rule in one column are printed as one grouped line.
GROUP_FROM = 3
#: Rows named in a grouped line.
ROWS_SHOWN = 5

_MORE = re.compile(r"^([\d,]+) more rows")

_Key = tuple[Severity, str | None, str | None, str | None, str | None, str | None]


def _key(issue: Issue) -> _Key | None:
    where = issue.location
    if where.column is None:
        return None
    return (issue.severity, where.file, where.sheet, where.column, issue.fix, issue.expected)


def _more_rows(issue: Issue) -> int:
    """The count of an issue standing for rows not listed one by one ("1,500 more rows …"),
    or 0 for an ordinary issue."""
    match = _MORE.match(issue.message)
    return int(match.group(1).replace(",", "")) if issue.location.row is None and match else 0


def grouped(issues: Iterable[Issue]) -> list[tuple[Issue, tuple[int, ...], int]]:
    """Each issue with the rows it stands for and how many rows in all.

    An issue printed alone has ``()`` and 1 (0 when it has no row); the first issue of a
    group has every row of its group, and the count adds the rows not listed one by one
    (the rest of the group, and that summary, are left out).
    """
    items = list(issues)
    rows: dict[_Key, list[int]] = {}
    unlisted: dict[_Key, int] = {}
    for issue in items:
        key = _key(issue)
        if key is None:
            continue
        if issue.location.row is not None:
            rows.setdefault(key, []).append(int(issue.location.row))
        elif _more_rows(issue):
            unlisted[key] = unlisted.get(key, 0) + _more_rows(issue)
    big = {k for k, v in rows.items() if len(v) + unlisted.get(k, 0) > GROUP_FROM}
    out: list[tuple[Issue, tuple[int, ...], int]] = []
    done: set[_Key] = set()
    for issue in items:
        key = _key(issue)
        if key is None or key not in big:
            out.append((issue, (), int(issue.location.row is not None)))
        elif key not in done and issue.location.row is not None:
            done.add(key)
            out.append((issue, tuple(rows[key]), len(rows[key]) + unlisted.get(key, 0)))
    return out


def _line(issue: Issue, rows: Sequence[int], total: int) -> str:
    if not rows:
        return f"{issue.severity}: {issue}"
    listed = ", ".join(map(str, rows[:ROWS_SHOWN]))
    listed_all = "all" if total == len(rows) else f"the first {len(rows):,}"
    more = f", … (first {ROWS_SHOWN} shown; {listed_all} in --report)" if total > ROWS_SHOWN else ""
    first = replace(issue.location, row=None)
    text = f"{total:,} rows: {listed}{more}. Row {rows[0]}: {issue.message}"
    if issue.fix:
        text += f" Fix: {issue.fix}"
    return f"{issue.severity}: {first}: {text}"


def counts(lines: Sequence[tuple[Issue, tuple[int, ...], int]]) -> str:
    """``"3 errors, 1 warning"``: the printed lines of each severity.

    Examples
    --------
    >>> counts([(Issue("a"), (), 0), (Issue("b"), (), 0), (Issue("c", severity="warning"), (), 0)])
    '2 errors, 1 warning'
    """
    parts = []
    for severity in ("error", "warning", "finding"):
        n = sum(1 for issue, _, _ in lines if issue.severity == severity)
        if n or severity == "error":
            parts.append(f"{n} {severity}{'' if n == 1 else 's'}")
    return ", ".join(parts)


def summary_lines(issues: Iterable[Issue]) -> tuple[str, list[str]]:
    """The counts and the labelled lines, errors first, then warnings and findings.

    Examples
    --------
    >>> from trialkit.errors import Location
    >>> rows = [Issue("bad", Location("a.csv", row=r, column="x")) for r in range(2, 9)]
    >>> head, lines = summary_lines([*rows, Issue("odd", severity="warning")])
    >>> head
    '1 error, 1 warning'
    >>> print(lines[0])  # doctest: +NORMALIZE_WHITESPACE
    error: a.csv, column "x": 7 rows: 2, 3, 4, 5, 6, … (first 5 shown; all in --report).
    Row 2: bad
    >>> print(lines[1])
    warning: odd
    """
    order = {"error": 0, "warning": 1, "finding": 2}
    ranked = sorted(issues, key=lambda i: order[i.severity])
    lines = grouped(ranked)
    return counts(lines), [_line(issue, rows, total) for issue, rows, total in lines]

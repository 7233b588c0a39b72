"""Issues as a person reads them: labelled, counted by severity, repeated rows grouped.

The same rule failing in the same column on many rows is printed once, with a count and
the first few rows; the issues table (``--report``) still lists every row. Each printed
line is one error, warning or finding, so the counts never disagree with the lines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from trialkit.errors import Issue, Severity

#: More issues than this for one rule in one column are printed as one grouped line.
GROUP_FROM = 3
#: Rows named in a grouped line.
ROWS_SHOWN = 5

_Key = tuple[Severity, str | None, str | None, str | None, str | None, str | None]


def _key(issue: Issue) -> _Key | None:
    where = issue.location
    if where.row is None or where.column is None:
        return None
    return (issue.severity, where.file, where.sheet, where.column, issue.fix, issue.expected)


def grouped(issues: Iterable[Issue]) -> list[tuple[Issue, tuple[int, ...]]]:
    """Each issue with the rows it stands for: ``()`` for an issue printed alone, every row
    of its group for the first issue of a group (the rest of the group is left out)."""
    items = list(issues)
    groups: dict[_Key, list[int]] = {}
    for issue in items:
        key = _key(issue)
        if key is not None:
            groups.setdefault(key, []).append(int(issue.location.row or 0))
    out: list[tuple[Issue, tuple[int, ...]]] = []
    done: set[_Key] = set()
    for issue in items:
        key = _key(issue)
        if key is None or len(groups[key]) <= GROUP_FROM:
            out.append((issue, ()))
        elif key not in done:
            done.add(key)
            out.append((issue, tuple(groups[key])))
    return out


def _line(issue: Issue, rows: Sequence[int]) -> str:
    if not rows:
        return f"{issue.severity}: {issue}"
    listed = ", ".join(map(str, rows[:ROWS_SHOWN]))
    more = f", … (first {ROWS_SHOWN} shown; all in --report)" if len(rows) > ROWS_SHOWN else ""
    first = replace(issue.location, row=None)
    text = f"{len(rows)} rows: {listed}{more}. Row {rows[0]}: {issue.message}"
    if issue.fix:
        text += f" Fix: {issue.fix}"
    return f"{issue.severity}: {first}: {text}"


def counts(lines: Sequence[tuple[Issue, tuple[int, ...]]]) -> str:
    """``"3 errors, 1 warning"``: the printed lines of each severity.

    Examples
    --------
    >>> counts([(Issue("a"), ()), (Issue("b"), ()), (Issue("c", severity="warning"), ())])
    '2 errors, 1 warning'
    """
    parts = []
    for severity in ("error", "warning", "finding"):
        n = sum(1 for issue, _ in lines if issue.severity == severity)
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
    return counts(lines), [_line(issue, rows) for issue, rows in lines]

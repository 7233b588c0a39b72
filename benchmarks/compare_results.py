"""Compare two ``results.json`` files value by value: numbers to a relative 1e-10.

A change meant only to be faster must leave the demo's results as they were (issue 19):
run ``trialkit demo --out before`` on the old code and ``--out after`` on the new, then::

    python benchmarks/compare_results.py before/results/results.json after/results/results.json

Fields that differ between any two runs (times, versions, input hashes, registration and
provenance records) are skipped; every other value must be equal (numbers to a relative
1e-10, NaN equal to NaN). Prints the count compared and the first differences, and exits
1 when any value differs.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

SKIPPED = {
    "created_utc",
    "registered_utc",
    "trialkit_version",
    "versions",
    "inputs",
    "protocol_hash",
    "registration",
    "provenance",
}


def differences(a: Any, b: Any, path: str = "") -> tuple[int, list[str]]:
    """How many values were compared, and where ``a`` and ``b`` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        count, found = 0, []
        for key in sorted(set(a) | set(b)):
            if key in SKIPPED:
                continue
            if key not in a or key not in b:
                found.append(f"{path}/{key}: only in one file")
                continue
            n, more = differences(a[key], b[key], f"{path}/{key}")
            count, found = count + n, found + more
        return count, found
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return 0, [f"{path}: {len(a)} items against {len(b)}"]
        count, found = 0, []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            n, more = differences(x, y, f"{path}[{i}]")
            count, found = count + n, found + more
        return count, found
    if isinstance(a, float) and isinstance(b, float):
        same = a == b or (math.isnan(a) and math.isnan(b))
        same = same or abs(a - b) <= 1e-10 * max(1.0, abs(a))
        return 1, [] if same else [f"{path}: {a!r} against {b!r}"]
    return 1, [] if a == b else [f"{path}: {a!r} against {b!r}"]


def main() -> int:
    """Compare the two files named on the command line."""
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    with open(sys.argv[1], encoding="utf-8") as one, open(sys.argv[2], encoding="utf-8") as two:
        count, found = differences(json.load(one), json.load(two))
    print(f"{count:,} values compared; {len(found)} differ")
    for line in found[:10]:
        print(f"  {line}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())

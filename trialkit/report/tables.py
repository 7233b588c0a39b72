"""Results-file rows as display rows: formatted numbers, labels and verdict words.

Every function takes plain rows from ``results.json`` and tolerates absent keys: a missing
number is shown as an em dash, never an error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

Row = Mapping[str, Any]
DASH = "—"


def fmt(value: Any, digits: int = 2) -> str:
    """A number for a table: thousands separators for large values, a dash when absent.

    Examples
    --------
    >>> fmt(-0.6123), fmt(4100.0), fmt(None), fmt(0.00042, 3)
    ('-0.61', '4,100', '—', '0.000')
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return DASH if value in (None, "") else str(value)
    if not math.isfinite(value):
        return DASH
    if isinstance(value, int) or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def fmt_p(value: Any) -> str:
    """A p-value: three decimals, "<0.001" below that.

    Examples
    --------
    >>> fmt_p(0.0004), fmt_p(0.1234), fmt_p(None)
    ('<0.001', '0.123', '—')
    """
    if not isinstance(value, int | float) or isinstance(value, bool):
        return DASH
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def fmt_ci(low: Any, high: Any, digits: int = 2) -> str:
    """An interval as "low to high"."""
    if low is None or high is None:
        return DASH
    return f"{fmt(low, digits)} to {fmt(high, digits)}"


def digits_for(values: Sequence[Any]) -> int:
    """Decimals that suit a set of values: 0 above 100, 1 above 10, else 2 (3 below 0.1)."""
    sizes = [abs(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    size = max(sizes, default=1.0)
    return 0 if size >= 100 else 1 if size >= 10 else 2 if size >= 0.1 else 3


def _verdict(word: Any) -> dict[str, str]:
    """A verdict word with a symbol so it never relies on colour alone."""
    text = str(word or DASH).replace("_", " ")
    text = text[:1].upper() + text[1:]
    low = text.lower()
    if low.startswith(("not", "fail", "high")) or "does not" in low:
        return {"text": text, "tone": "bad", "icon": "✗"}
    if "adjust" in low or "reservation" in low:
        return {"text": text, "tone": "warn", "icon": "!"}
    if low.startswith(("satisf", "low", "pass", "meets", "met")):
        return {"text": text, "tone": "good", "icon": "✓"}
    return {"text": text, "tone": "neutral", "icon": ""}


def verdict(word: Any) -> dict[str, str]:
    """Public alias of the verdict mapping used by templates."""
    return _verdict(word)


def flow_rows(
    flow: Row | None, arm_labels: Mapping[str, str], order: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """One column per arm of the CONSORT flow in protocol order, counts as text."""
    arms = (flow or {}).get("arms") or {}
    ids = [a for a in order if a in arms] + [a for a in arms if a not in order]
    rows = []
    for arm_id in ids:
        counts = arms[arm_id]
        c = dict(counts)
        size = ""
        if c.get("mean_cluster_size") is not None:
            size = f"mean {fmt(c.get('mean_cluster_size'), 1)}"
            if c.get("min_cluster_size") is not None:
                size += f", range {c.get('min_cluster_size')}–{c.get('max_cluster_size')}"
        reasons = c.get("lost_reasons") or []
        rows.append(
            {
                "arm": arm_labels.get(arm_id, arm_id),
                "c": _Dashed({k: fmt(v) for k, v in c.items()}),
                "size": size,
                "reasons": [
                    str(r.get("reason", r)) if isinstance(r, Mapping) else str(r) for r in reasons
                ]
                if isinstance(reasons, list)
                else [],
                "excluded": bool(c.get("clusters_excluded") or c.get("individuals_excluded")),
            }
        )
    return rows


class _Dashed(dict[str, str]):
    """Counts by name; an absent count shows as a dash."""

    def __missing__(self, key: str) -> str:
        return DASH


def balance_rows(rows: Sequence[Row], arm_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Baseline balance: label, level, arm means, standardised difference, WWC verdict."""
    out = []
    for row in rows:
        means = row.get("means") or {}
        binary = row.get("kind") == "binary"
        out.append(
            {
                "label": row.get("label") or row.get("covariate", DASH),
                "level": row.get("level", DASH),
                "means": [
                    f"{100 * float(means[a]):.1f}%" if binary and a in means else fmt(means.get(a))
                    for a in arm_ids
                ],
                "std_diff": fmt(row.get("std_diff"), 3),
                "verdict": _verdict(row.get("verdict")),
            }
        )
    return out


def attrition_rows(
    rows: Sequence[Row], arm_ids: Sequence[str], labels: Mapping[str, str] | None = None
) -> list[dict[str, Any]]:
    """One row per outcome and level: each arm's attrition, overall, differential, WWC.

    Overall and differential attrition are computed from the arm rows when the results
    file does not give them; the WWC verdicts are shown only when given.
    """
    groups: dict[tuple[str, str], dict[str, Row]] = {}
    for row in rows:
        key = (str(row.get("outcome", DASH)), str(row.get("level", DASH)))
        groups.setdefault(key, {})[str(row.get("arm"))] = row
    out = []
    for (outcome, level), arms in groups.items():
        first = next(iter(arms.values()))
        rates = [_num(r.get("attrition")) for r in arms.values()]
        known = [r for r in rates if r is not None]
        assigned = sum(_num(r.get("assigned")) or 0.0 for r in arms.values())
        analysed = sum(_num(r.get("analysed")) or 0.0 for r in arms.values())
        overall = _num(first.get("overall"))
        if overall is None and assigned:
            overall = 1 - analysed / assigned
        differential = _num(first.get("differential"))
        if differential is None and len(known) >= 2:
            differential = max(known) - min(known)
        out.append(
            {
                "outcome": (labels or {}).get(outcome, outcome),
                "level": level,
                "arms": [
                    {
                        "assigned": fmt((arms.get(a) or {}).get("assigned")),
                        "analysed": fmt((arms.get(a) or {}).get("analysed")),
                        "attrition": _pct((arms.get(a) or {}).get("attrition")),
                    }
                    for a in arm_ids
                ],
                "overall": _pct(overall),
                "differential": _pct(differential),
                "cautious": _verdict(_attrition_word(first.get("wwc_cautious"))),
                "optimistic": _verdict(_attrition_word(first.get("wwc_optimistic"))),
            }
        )
    return out


def _num(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    return float(value) if ok else None


def _attrition_word(value: Any) -> str:
    if isinstance(value, bool):
        return "Low" if value else "High"
    if value in (None, ""):
        return DASH
    text = str(value)
    return text.capitalize() if text.lower() in ("low", "high") else text


def _pct(value: Any, places: int = 1) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return DASH
    return f"{100 * value:.{places}f}%"


def pct(value: Any, places: int = 1) -> str:
    """A share as a percentage for tables, a dash when absent."""
    return _pct(value, places)


def subgroup_rows(rows: Sequence[Row], labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """Subgroup estimates with the equity flag and heterogeneity p-value."""
    digits = digits_for([r.get("estimate") for r in rows])
    return [
        {
            "outcome": labels.get(str(r.get("outcome")), str(r.get("outcome", DASH))),
            "subgroup": r.get("label") or r.get("subgroup", DASH),
            "equity": bool(r.get("equity")),
            "level": {"1": "Yes", "0": "No"}.get(
                str(r.get("level_value")), str(r.get("level_value", DASH))
            ),
            "n": fmt(r.get("n")),
            "estimate": fmt(r.get("estimate"), digits),
            "ci": fmt_ci(r.get("ci_low"), r.get("ci_high"), digits),
            "heterogeneity_p": fmt_p(r.get("heterogeneity_p")),
        }
        for r in rows
    ]


def deviation_rows(rows: Sequence[Row]) -> list[dict[str, Any]]:
    """Deviations from the registered plan, major first."""
    ordered = sorted(rows, key=lambda r: r.get("severity") != "major")
    return [
        {
            "field": r.get("field", DASH),
            "registered": r.get("registered", DASH),
            "current": r.get("current", DASH),
            "severity": _verdict("not minor" if r.get("severity") == "major" else "low")
            | {"text": str(r.get("severity", DASH)).capitalize()},
            "reason": r.get("reason") or "No reason given",
        }
        for r in ordered
    ]


def provenance_rows(results: Row) -> list[tuple[str, str]]:
    """Label–value pairs for the methods and provenance section."""
    prov = results.get("provenance") or {}
    reg = results.get("registration") or {}
    rows = [
        ("trialkit version", str(prov.get("trialkit_version", DASH))),
        ("Protocol hash (sha256)", str(prov.get("protocol_hash", DASH))),
        ("Seed of the allocation", str(prov.get("seed", DASH))),
        ("Results created (UTC)", str(prov.get("created_utc", DASH))),
    ]
    if reg.get("registered"):
        rows += [
            ("Registered protocol hash", str(reg.get("protocol_hash", DASH))),
            ("Registered (UTC)", str(reg.get("registered_utc", DASH))),
        ]
    else:
        rows.append(("Registration", "Not pre-registered"))
    rows += [(f"Input {name} (sha256)", str(h)) for name, h in (prov.get("inputs") or {}).items()]
    rows += [(f"{name} version", str(v)) for name, v in (prov.get("versions") or {}).items()]
    return rows

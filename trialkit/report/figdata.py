"""The numbers behind each report figure, picked from the results file.

Pure: no plotting here. :mod:`trialkit.report.figures` draws each entry; the same numbers
fill the figure's data table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from trialkit.protocol import Protocol

Row = Mapping[str, Any]


def _rows(results: Row, key: str) -> list[Row]:
    value = results.get(key)
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _pooled_sd(results: Row, outcome: str, binary: bool) -> float | None:
    rows = [r for r in _rows(results, "descriptives") if r.get("outcome") == outcome]
    if binary:
        means = [float(r["mean"]) for r in rows if _is_num(r.get("mean"))]
        if not means:
            return None
        p = sum(means) / len(means)
        return math.sqrt(p * (1 - p)) or None
    sds = [(float(r["sd"]), float(r.get("n") or 1)) for r in rows if _is_num(r.get("sd"))]
    if not sds:
        return None
    total = sum(n for _, n in sds)
    return math.sqrt(sum(n * sd**2 for sd, n in sds) / total) or None


def _forest(results: Row, protocol: Protocol) -> dict[str, Any] | None:
    estimand = protocol.estimands[0].name
    rows = []
    for est in _rows(results, "estimates"):
        if est.get("estimand") not in (estimand, None):
            continue
        try:
            outcome = protocol.outcome(str(est.get("outcome")))
        except KeyError:
            continue
        values = [est.get(k) for k in ("estimate", "ci_low", "ci_high")]
        sd = _pooled_sd(results, outcome.name, outcome.type == "binary")
        if sd is None or not all(_is_num(v) for v in values):
            continue
        sign = -1.0 if outcome.direction == "lower_is_better" else 1.0
        est_s, lo_s, hi_s = (sign * float(v or 0.0) / sd for v in values)
        rows.append(
            {
                "label": outcome.label,
                "estimate": est_s,
                "low": min(lo_s, hi_s),
                "high": max(lo_s, hi_s),
                "raw": values,
                "unit": outcome.unit,
            }
        )
    return {"rows": rows} if rows else None


def _posterior(results: Row, protocol: Protocol) -> dict[str, Any] | None:
    primary = [o for o in protocol.outcomes if o.role == "primary"]
    for outcome in primary:
        for row in _rows(results, "bayesian"):
            draws = row.get("draws_sample")
            if row.get("outcome") == outcome.name and isinstance(draws, list) and len(draws) > 10:
                return {
                    "label": outcome.label,
                    "unit": outcome.unit,
                    "draws": [float(d) for d in draws if _is_num(d)],
                    "mid": outcome.mid,
                    "rope": outcome.rope,
                    "lower_is_better": outcome.direction == "lower_is_better",
                    "summary": {
                        k: row.get(k)
                        for k in (
                            "mean",
                            "median",
                            "sd",
                            "ci_low",
                            "ci_high",
                            "p_benefit",
                            "p_mid",
                            "p_harm",
                            "p_rope",
                        )
                    },
                }
    return None


def _randomisation(results: Row, protocol: Protocol) -> list[dict[str, Any]]:
    labels = {o.name: o.label for o in protocol.outcomes}
    out = []
    for row in _rows(results, "randomisation"):
        null = row.get("null_sample")
        if not isinstance(null, list) or len(null) < 10 or not _is_num(row.get("observed")):
            continue
        out.append(
            {
                "label": labels.get(str(row.get("outcome")), str(row.get("outcome"))),
                "null": [float(v) for v in null if _is_num(v)],
                "observed": float(row["observed"]),
                "p_value": row.get("p_value"),
                "draws": row.get("draws"),
                "exact": bool(row.get("exact")),
            }
        )
    return out


def _subgroups(results: Row, protocol: Protocol) -> dict[str, Any] | None:
    rows = [
        r
        for r in _rows(results, "subgroups")
        if r.get("equity") and all(_is_num(r.get(k)) for k in ("estimate", "ci_low", "ci_high"))
    ]
    if not rows:
        return None
    labels = {o.name: o for o in protocol.outcomes}
    outcome = labels.get(str(rows[0].get("outcome")))
    return {
        "rows": [
            {
                "label": f"{r.get('label') or r.get('subgroup')}: {_yes_no(r.get('level_value'))}",
                "estimate": float(r["estimate"]),
                "low": float(r["ci_low"]),
                "high": float(r["ci_high"]),
            }
            for r in rows
        ],
        "outcome": outcome.label if outcome else str(rows[0].get("outcome")),
        "unit": outcome.unit if outcome else "",
    }


def _yes_no(value: Any) -> str:
    text = str(value)
    return {"1": "yes", "0": "no", "True": "yes", "False": "no"}.get(text, text)


def figure_data(results: Row, protocol: Protocol) -> dict[str, Any]:
    """Data for every figure the results support; absent figures are left out.

    Returns
    -------
    dict
        Keys ``love``, ``forest``, ``posterior``, ``randomisation`` (a list),
        ``subgroups`` and ``misuse``, each only when the results hold its numbers.
    """
    out: dict[str, Any] = {}
    balance = [
        {"label": str(r.get("label") or r.get("covariate")), "value": float(r["std_diff"])}
        for r in _rows(results, "balance")
        if _is_num(r.get("std_diff"))
    ]
    if balance:
        out["love"] = {"rows": balance}
    misuse = results.get("misuse")
    if isinstance(misuse, Mapping) and all(_is_num(misuse.get(k)) for k in ("alpha", "beta")):
        out["misuse"] = {
            "alpha": float(misuse["alpha"]),
            "beta": float(misuse["beta"]),
            "tolerance": misuse.get("tolerance") if _is_num(misuse.get("tolerance")) else None,
            "cases": misuse.get("cases"),
            "reviewed": misuse.get("reviewed"),
            "p_above": misuse.get("p_above_tolerance"),
        }
    for key, value in (
        ("forest", _forest(results, protocol)),
        ("posterior", _posterior(results, protocol)),
        ("randomisation", _randomisation(results, protocol)),
        ("subgroups", _subgroups(results, protocol)),
    ):
        if value:
            out[key] = value
    return out

"""Results-document rows as display rows: formatted numbers, labels and verdict words.

Every function reads typed rows of :class:`~trialkit.analyse.ResultsDocument`; a number
the analysis left undefined (``None``) is shown as an em dash.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from trialkit.analyse.document import ResultsDocument
from trialkit.analyse.rows import SubgroupRow
from trialkit.analyse.trial_rows import (
    AttritionCheckRow,
    AttritionRow,
    BalanceRow,
    DeviationRow,
    Flow,
)

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


def p_is(value: Any) -> str:
    """A p-value in a sentence: "p = 0.123", or "p < 0.001".

    Examples
    --------
    >>> p_is(0.1234), p_is(0.0004)
    ('p = 0.123', 'p < 0.001')
    """
    text = fmt_p(value)
    return f"p {text[0]} {text[1:]}" if text.startswith("<") else f"p = {text}"


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


def pct(value: float | None, places: int = 1) -> str:
    """A share as a percentage for tables, a dash when undefined."""
    return DASH if value is None or not math.isfinite(value) else f"{100 * value:.{places}f}%"


def flow_rows(flow: Flow | None, arm_labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """One column per arm of the CONSORT flow, counts as text."""
    if flow is None:
        return []
    order = list(arm_labels)
    rows = []
    for arm in sorted(flow.arms, key=lambda a: order.index(a.arm) if a.arm in order else 99):
        size = ""
        if arm.mean_cluster_size is not None:
            size = f"mean {fmt(arm.mean_cluster_size, 1)}"
            if arm.min_cluster_size is not None:
                size += f", range {arm.min_cluster_size}–{arm.max_cluster_size}"
        counts = {
            k: fmt(v)
            for k, v in arm.model_dump().items()
            if isinstance(v, int | None) and not isinstance(v, bool)
        }
        rows.append(
            {
                "arm": arm_labels.get(arm.arm, arm.arm),
                "c": counts,
                "size": size,
                "reasons": [f"{reason} ({count})" for reason, count in arm.lost_reasons],
                "excluded": bool(arm.clusters_excluded or arm.individuals_excluded),
            }
        )
    return rows


def balance_rows(
    rows: Sequence[BalanceRow], groups: Sequence[str], labels: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Baseline balance: label, level, group means, standardised difference, WWC verdict."""
    out = []
    for row in rows:
        binary = row.kind == "binary"
        means = [row.means.get(g) for g in groups]
        out.append(
            {
                "label": row.label,
                "level": row.level,
                "group": labels.get(row.group, row.group),
                "reference": labels.get(row.reference, row.reference),
                "means": [pct(m) if binary else fmt(m) for m in means],
                "std_diff": fmt(row.std_diff, 3),
                "verdict": verdict(row.verdict),
            }
        )
    return out


def attrition_rows(
    rows: Sequence[AttritionRow],
    checks: Sequence[AttritionCheckRow],
    arm_ids: Sequence[str],
    labels: Mapping[str, str],
    arm_labels: Mapping[str, str],
) -> list[dict[str, Any]]:
    """One row per outcome, level and compared arm: each arm's attrition and the WWC verdicts.

    Overall and differential attrition and both verdicts come from ``validate``'s checks;
    an arm where the outcome is not measured by design shows "not measured".
    """
    counts: dict[tuple[str, str], dict[str, AttritionRow]] = {}
    for row in rows:
        counts.setdefault((row.outcome, row.level), {})[row.arm] = row
    by_key: dict[tuple[str, str], list[AttritionCheckRow]] = {}
    for check in checks:
        by_key.setdefault((check.outcome, check.level), []).append(check)
    out = []
    for key, arms in counts.items():
        cells = [_attrition_cell(arms.get(a)) for a in arm_ids]
        for check in by_key.get(key) or [None]:  # type: ignore[list-item]
            out.append(
                {
                    "outcome": labels.get(key[0], key[0]),
                    "level": key[1],
                    "comparison": (
                        f"{arm_labels.get(check.arm, check.arm)} vs "
                        f"{arm_labels.get(check.control, check.control)}"
                        if check is not None
                        else DASH
                    ),
                    "arms": cells,
                    "overall": pct(check.overall) if check else DASH,
                    "differential": pct(check.differential) if check else DASH,
                    "cautious": verdict(check.cautious) if check else _NOT_JUDGED,
                    "optimistic": verdict(check.optimistic) if check else _NOT_JUDGED,
                }
            )
    return out


#: No WWC check for an outcome (fewer than two arms measured): neither a pass nor a fail.
_NOT_JUDGED = {"text": "Not judged", "tone": "neutral", "icon": ""}


def _attrition_cell(row: AttritionRow | None) -> dict[str, str]:
    if row is None or not row.measured:
        return {"assigned": DASH, "analysed": DASH, "attrition": "not measured"}
    return {
        "assigned": fmt(row.assigned),
        "analysed": fmt(row.analysed),
        "attrition": pct(row.attrition),
    }


def subgroup_rows(
    rows: Sequence[SubgroupRow], labels: Mapping[str, str], arm_labels: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Subgroup estimates with the equity flag, heterogeneity p-value and adjustment."""
    out = []
    for r in rows:
        digits = digits_for([r.estimate, r.ci_low, r.ci_high])
        out.append(
            {
                "outcome": labels.get(r.outcome, r.outcome),
                "arm": arm_labels.get(r.arm, r.arm),
                "subgroup": r.label,
                "equity": r.equity,
                "level": {"1": "Yes", "0": "No"}.get(r.level_value, r.level_value),
                "n": fmt(r.n),
                "n_arms": DASH
                if r.n_arm is None or r.n_control is None
                else f"{fmt(r.n_arm)} / {fmt(r.n_control)}",
                "estimate": fmt(r.estimate, digits),
                "ci": fmt_ci(r.ci_low, r.ci_high, digits),
                "heterogeneity_p": fmt_p(r.heterogeneity_p),
                "adjusted_for": ", ".join(r.adjusted_for) or "none",
            }
        )
    return out


def deviation_rows(rows: Sequence[DeviationRow]) -> list[dict[str, Any]]:
    """Amendments and deviations from the registered plan, major first."""
    ordered = sorted(rows, key=lambda r: (r.severity != "major", r.kind, r.field))
    return [
        {
            "field": r.field,
            "registered": r.registered,
            "current": r.current,
            "kind": r.kind.capitalize(),
            "severity": verdict("not minor" if r.severity == "major" else "low")
            | {"text": r.severity.capitalize()},
            "reason": r.reason or "No reason given",
        }
        for r in ordered
    ]


def provenance_rows(doc: ResultsDocument) -> list[tuple[str, str]]:
    """Label–value pairs for the methods and provenance section."""
    prov, reg = doc.provenance, doc.registration
    rows = [
        ("trialkit version", prov.trialkit_version),
        ("Protocol hash (sha256)", prov.protocol_hash),
        ("Seed of the allocation", str(prov.seed)),
        ("Results created (UTC)", prov.created_utc),
        ("Results schema version", str(doc.schema_version)),
    ]
    if reg.registered:
        rows += [
            ("Registered protocol hash", reg.protocol_hash or DASH),
            ("Registered (UTC)", reg.registered_utc or DASH),
        ]
    else:
        rows.append(("Registration", "Not pre-registered"))
    rows += [(f"Input {name} (sha256)", digest) for name, digest in prov.inputs.items()]
    rows += [(f"{name} version", version) for name, version in prov.versions.items()]
    return rows

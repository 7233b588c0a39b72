"""The numbers behind each report figure, picked from typed fields of the results document.

Pure: no plotting and no statistics here. :mod:`trialkit.report.figures` draws each entry;
the same numbers fill the figure's data table. Standardised effects come from the
analysis's effect sizes (Hedges' g and its interval), never recomputed.
"""

from __future__ import annotations

from typing import Any

from trialkit.analyse.document import ResultsDocument
from trialkit.report.phrases import Arms


def _name(label: str, arm: str, arms: Arms) -> str:
    return f"{label} — {arms.label(arm)}" if len(arms.treated) > 1 else label


def _forest(doc: ResultsDocument, arms: Arms) -> dict[str, Any] | None:
    rows = []
    for est in doc.estimates:
        size = doc.effect_size(est.outcome, est.arm)
        if est.estimand != "ITT" or size is None or est.versus != doc.protocol.control.id:
            continue
        values = (size.hedges_g, size.g_ci_low, size.g_ci_high)
        if any(v is None for v in values):
            continue
        outcome = doc.protocol.outcome(est.outcome)
        sign = -1.0 if outcome.direction == "lower_is_better" else 1.0
        g, low, high = (sign * float(v or 0.0) for v in values)
        rows.append(
            {
                "label": _name(outcome.label, est.arm, arms),
                "estimate": g,
                "low": min(low, high),
                "high": max(low, high),
                "raw": [est.estimate, est.ci_low, est.ci_high],
                "unit": outcome.unit,
            }
        )
    return {"rows": rows} if rows else None


def _posterior(doc: ResultsDocument, arms: Arms) -> dict[str, Any] | None:
    for verdict in doc.verdicts:
        post = doc.posterior(verdict.outcome, verdict.arm)
        if post is None or len(post.draws_sample) <= 10:
            continue
        outcome = doc.protocol.outcome(verdict.outcome)
        return {
            "label": _name(outcome.label, verdict.arm, arms),
            "unit": outcome.unit,
            "draws": list(post.draws_sample),
            "mid": outcome.mid,
            "rope": outcome.rope,
            "lower_is_better": outcome.direction == "lower_is_better",
            "summary": {
                "mean": post.mean,
                "median": post.median,
                "sd": post.sd,
                "ci_low": post.ci_low,
                "ci_high": post.ci_high,
                "p_benefit": post.p_benefit,
                "p_mid": post.p_mid,
                "p_harm": post.p_harm,
                "p_rope": post.p_rope,
            },
        }
    return None


def _randomisation(doc: ResultsDocument, arms: Arms) -> list[dict[str, Any]]:
    return [
        {
            "label": _name(doc.protocol.outcome(r.outcome).label, r.arm, arms),
            "null": list(r.null_sample),
            "observed": r.observed,
            "p_value": r.p_value,
            "draws": r.draws,
            "exact": r.exact,
        }
        for r in doc.randomisation
        if len(r.null_sample) >= 10
    ]


def _subgroups(doc: ResultsDocument, arms: Arms) -> dict[str, Any] | None:
    rows = [r for r in doc.subgroups if r.equity]
    if not rows:
        return None
    outcome = doc.protocol.outcome(rows[0].outcome)
    rows = [r for r in rows if r.outcome == outcome.name]
    yes_no = {"1": "yes", "0": "no", "True": "yes", "False": "no"}
    return {
        "rows": [
            {
                "label": f"{_name(r.label, r.arm, arms)}: "
                f"{yes_no.get(r.level_value, r.level_value)}",
                "estimate": r.estimate,
                "low": r.ci_low,
                "high": r.ci_high,
            }
            for r in rows
        ],
        "outcome": outcome.label,
        "unit": outcome.unit,
    }


def figure_data(doc: ResultsDocument) -> dict[str, Any]:
    """Data for every figure the results support; absent figures are left out.

    Returns
    -------
    dict
        Keys ``love``, ``forest``, ``posterior``, ``randomisation`` (a list),
        ``subgroups``, ``misuse`` and ``stepped_wedge``, each only when the document
        holds its numbers.
    """
    arms = Arms(doc.protocol)
    out: dict[str, Any] = {}
    balance = [
        {
            "label": f"{r.label} ({r.group})"
            if r.group.startswith("Sequence") or len(arms.treated) > 1
            else r.label,
            "value": r.std_diff,
        }
        for r in doc.balance
        if r.std_diff is not None
    ]
    if balance and doc.schematic is None:  # sequences of a wedge are described, not judged
        out["love"] = {"rows": balance}
    if doc.misuse is not None:
        m = doc.misuse
        out["misuse"] = {
            "alpha": m.alpha,
            "beta": m.beta,
            "tolerance": m.tolerance,
            "cases": m.cases,
            "reviewed": m.reviewed,
            "p_above": m.p_above_tolerance,
            "judged": "misuse or fraud" if doc.spending is not None else "unjustified",
        }
    if doc.schematic is not None:
        out["stepped_wedge"] = {
            "periods": list(doc.schematic.periods),
            "sequences": [
                {"label": s.label, "clusters": s.clusters, "exposed": list(s.exposed)}
                for s in doc.schematic.sequences
            ],
        }
    for key, value in (
        ("forest", _forest(doc, arms)),
        ("posterior", _posterior(doc, arms)),
        ("randomisation", _randomisation(doc, arms)),
        ("subgroups", _subgroups(doc, arms)),
    ):
        if value:
            out[key] = value
    return out

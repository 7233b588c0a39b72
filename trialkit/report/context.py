"""The results file as plain dictionaries and strings for the report templates.

:func:`report_context` is pure: it reads the dictionary written by ``trialkit analyse``
(``results.json``) and tolerates absent sections, noting each one that is missing. It makes
no figures; :mod:`trialkit.report.render` turns the ``figures`` data into SVG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from trialkit.protocol import Protocol
from trialkit.report import sections, summary, tables, words
from trialkit.report.phrases import arm_phrases, treatment_name
from trialkit.report.plan import plan_context, registration_dict
from trialkit.report.words import capitalise, plural

Row = Mapping[str, Any]

_MISSING = {
    "flow": "The results contain no participant flow, so the flow diagram is omitted.",
    "balance": "The results contain no baseline balance checks.",
    "estimates": "The results contain no impact estimates.",
    "bayesian": "The results contain no Bayesian analysis, so posterior probabilities and "
    "the decision rules' verdicts are not shown.",
    "randomisation": "No randomisation inference was run.",
    "indices": "No summary indices were computed.",
    "subgroups": "No subgroup analyses were run.",
    "attrition": "The results contain no attrition table.",
    "misuse": "The results contain no misuse monitoring.",
    "net_benefit": "The results contain no cost or net-benefit analysis.",
    "decisions": "No decision rules were evaluated.",
}


class Notes(dict[str, str]):
    """Notes on omitted sections; a section without its own note gets a generic one."""

    def __missing__(self, key: str) -> str:
        return f"The results contain no {key.replace('_', ' ')} section, so it is omitted."


def load_protocol_dict(data: Any) -> Protocol | None:
    """Rebuild the protocol from its JSON dump, or ``None`` when it is absent or invalid."""
    if not isinstance(data, Mapping):
        return None
    try:
        return Protocol.model_validate(data, context={"defer_rules": True})
    except ValidationError:
        return None


def _primary_estimate(results: Row, protocol: Protocol, outcome: str) -> Row | None:
    rows = [r for r in sections.result_rows(results, "estimates") if r.get("outcome") == outcome]
    estimand = protocol.estimands[0].name
    preferred = [r for r in rows if r.get("estimand") in (estimand, None)]
    chosen = preferred or rows
    return chosen[0] if chosen else None


def _arm_means(results: Row, protocol: Protocol, outcome: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for row in sections.result_rows(results, "descriptives"):
        if row.get("outcome") == outcome and isinstance(row.get("mean"), int | float):
            key = "control" if row.get("arm") == protocol.control.id else "treated"
            out.setdefault(key, float(row["mean"]))
    return out


def _decisions(results: Row, protocol: Protocol) -> list[dict[str, Any]]:
    from trialkit.report.phrases import condition_words

    out = []
    for rule in sections.result_rows(results, "decisions"):
        met = rule.get("met")
        conditions = []
        for cond in rule.get("conditions") or []:
            prob = cond.get("probability")
            conditions.append(
                {
                    "text": condition_words(protocol, cond),
                    "observed": words.percent(float(prob))
                    if isinstance(prob, int | float)
                    else "—",
                    "verdict": tables.verdict("met" if cond.get("met") else "not met"),
                }
            )
        out.append(
            {
                "name": str(rule.get("rule", "")).replace("_", " "),
                "verdict": tables.verdict("met" if met else "not met")
                | {"text": "Met" if met else "Not met"},
                "met": bool(met),
                "action": rule.get("action") if met else rule.get("otherwise"),
                "conditions": conditions,
            }
        )
    return out


def _summary(results: Row, protocol: Protocol) -> dict[str, Any]:
    phrases = arm_phrases(protocol)
    treated_arm = next(a for a in protocol.arms if not a.control)
    flow = (results.get("flow") or {}).get("arms") or {}
    n_treated = (flow.get(treated_arm.id) or {}).get("clusters_allocated")
    n_total = sum(int((v or {}).get("clusters_allocated") or 0) for v in flow.values())
    units = plural(protocol.units.name)
    if n_treated and n_total:
        tried = f"We gave {n_treated} of {n_total} {units} a new way of working. "
    else:
        tried = (
            f"We gave some of {protocol.units.planned} {units}, chosen at random, "
            "a new way of working. "
        )
    tried += f"{capitalise(treated_arm.intervention.summary.rstrip('.'))}. "
    tried += f"The other {units} kept {words.short_label(protocol.control.label)}."
    out: dict[str, Any] = {"tried": tried, "primary": [], "cost": [], "misuse": [], "equity": []}
    primary = [o for o in protocol.outcomes if o.role == "primary"]
    for outcome in primary:
        est = _primary_estimate(results, protocol, outcome.name)
        if est is None or not isinstance(est.get("estimate"), int | float):
            continue
        value = float(est["estimate"])
        block = [
            summary.effect_sentence(
                outcome,
                value,
                treated=phrases[treated_arm.id],
                control=phrases[protocol.control.id],
                means=_arm_means(results, protocol, outcome.name),
            ),
            summary.benefit_sentence(outcome, value),
        ]
        if isinstance(est.get("ci_low"), int | float) and isinstance(
            est.get("ci_high"), int | float
        ):
            block.append(
                summary.range_sentence(
                    outcome,
                    float(est["ci_low"]),
                    float(est["ci_high"]),
                    float(est.get("ci_level") or 0.95),
                )
            )
        bayes = sections.bayes_row(results, outcome.name)
        sure = (
            summary.sure_sentences(outcome, bayes, treatment=treatment_name(protocol))
            if bayes
            else []
        )
        out["primary"].append({"label": outcome.label, "sentences": block, "sure": sure})
        out["equity"] += summary.equity_sentences(
            sections.result_rows(results, "subgroups"),
            outcome,
            alpha=protocol.analysis.frequentist.alpha,
        )
    out["cost"] = summary.cost_sentences(
        results.get("net_benefit"),
        cost_per_unit=treated_arm.cost_per_unit,
        unit=protocol.units.name,
        currency=protocol.costs.currency,
    )
    misuse = results.get("misuse")
    out["misuse"] = summary.misuse_sentences(misuse, what=_misuse_noun(protocol))
    labels = {f.name: f.label for f in protocol.families}
    out["goodhart"] = summary.goodhart_sentence(sections.result_rows(results, "indices"), labels)
    out["decisions"] = _decisions(results, protocol)
    return out


def _misuse_noun(protocol: Protocol) -> str:
    misuse = protocol.costs.misuse
    if misuse is None:
        return "cases"
    try:
        return plural(protocol.outcome(misuse.outcome).level)
    except KeyError:
        return "cases"


def _messages(value: Any) -> list[str]:
    """Warnings or notes from the analysis: strings, or mappings with a ``message``."""
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        return []
    return [str(v.get("message", v)) if isinstance(v, Mapping) else str(v) for v in value]


def report_context(
    results: Mapping[str, Any], *, plan_sections: Sequence[str] = ()
) -> dict[str, Any]:
    """Everything the report template needs, as plain values.

    Parameters
    ----------
    results
        The results dictionary (see the module documentation of :mod:`trialkit.report`).
    plan_sections
        Names of shared plan sections to repeat in the report (``design``, ``interventions``,
        ``outcomes``, ``methods``).

    Returns
    -------
    dict
        Keys used by ``report.html.j2``; ``notes`` explains every omitted section.
    """
    from trialkit.report.figdata import figure_data

    protocol = load_protocol_dict(results.get("protocol"))
    registration = registration_dict(results.get("registration"))
    notes = Notes({k: v for k, v in _MISSING.items() if not results.get(k)})
    ctx: dict[str, Any] = {
        "registered": bool(registration.get("registered")),
        "registration": registration,
        "notes": notes,
        "plan_sections": list(plan_sections),
        "provenance": tables.provenance_rows(results),
        "deviations": tables.deviation_rows(sections.result_rows(results, "deviations")),
        "protocol": None,
        "plan": None,
        "warnings": _messages(results.get("warnings")) + _messages(results.get("notes")),
        "bayesian_notes": [m.replace("`", "") for m in _messages(results.get("bayesian_notes"))],
    }
    if protocol is None:
        ctx["title"] = "Trial results"
        ctx["notes"]["protocol"] = (
            "The results do not contain a valid protocol, so only the provenance is shown."
        )
        return ctx
    plan = plan_context(
        protocol, registration=registration, power=sections.result_rows(results, "power")
    )
    arm_labels = plan["arm_labels"]
    out_labels = {o.name: o.label for o in protocol.outcomes}
    arm_ids = [a.id for a in protocol.arms]
    outcomes = sections.outcome_rows(results, protocol)
    ctx.update(
        protocol=plan["p"],
        plan=plan,
        title=protocol.identity.title,
        arms=[{"id": a.id, "label": a.label} for a in protocol.arms],
        summary=_summary(results, protocol),
        flow=tables.flow_rows(results.get("flow"), arm_labels, arm_ids),
        **sections.flow_totals(results, protocol),
        balance=tables.balance_rows(
            sections.result_rows(results, "balance"), [a.id for a in protocol.arms]
        ),
        outcomes=outcomes,
        indices=[
            dict(r)
            | {
                "label": next(
                    (f["label"] for f in plan["families"] if f["name"] == r.get("family")),
                    r.get("family"),
                ),
                "ci": tables.fmt_ci(r.get("ci_low"), r.get("ci_high")),
                "est": tables.fmt(r.get("estimate")),
                "p": tables.fmt_p(r.get("p_value")),
            }
            for r in sections.result_rows(results, "indices")
        ],
        subgroups=tables.subgroup_rows(sections.result_rows(results, "subgroups"), out_labels),
        attrition=tables.attrition_rows(
            sections.result_rows(results, "attrition"), arm_ids, out_labels
        ),
        harms=[
            r
            for r in sections.outcome_rows(results, protocol)
            if r["role"] in ("harm", "monitoring")
        ],
        misuse=sections.misuse_block(results.get("misuse"), protocol.costs.currency),
        figures=figure_data(results, protocol),
    )
    return ctx

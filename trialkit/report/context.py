"""The results document as display values for the report templates.

:func:`report_context` is pure: it reads typed fields of a
:class:`~trialkit.analyse.ResultsDocument`, formats them and words them, and notes each
section the analysis did not produce (and why). It makes no figures;
:mod:`trialkit.report.render` turns the ``figures`` data into SVG.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trialkit.analyse.document import ResultsDocument
from trialkit.report import sections, sentences, spending, spending_misuse, staff, summary, tables
from trialkit.report.few_clusters import few_cluster_context
from trialkit.report.figdata import figure_data
from trialkit.report.phrases import Arms
from trialkit.report.plan import plan_context
from trialkit.report.spending_figdata import spending_figures
from trialkit.report.trail import LedgerEvidence, evidence_trail
from trialkit.report.words import capitalise, plural, short_label

_BAYES_STATUS = {
    "disabled_in_protocol": "The protocol switches the Bayesian analysis off, so posterior "
    "probabilities and the decision rules' verdicts are not shown.",
    "not_requested": "The Bayesian analysis was switched off for this run (--no-bayes), so "
    "posterior probabilities and the decision rules' verdicts are not shown.",
}


def _notes(doc: ResultsDocument) -> dict[str, str]:
    notes = {}
    if doc.bayesian.status != "run":
        notes["bayesian"] = _BAYES_STATUS[doc.bayesian.status]
    checks = {
        "flow": (doc.flow, "The results contain no participant flow."),
        "balance": (doc.balance, "No baseline covariate has data, so balance is not shown."),
        "estimates": (doc.estimates, "The results contain no impact estimates."),
        "randomisation": (
            doc.randomisation,
            "No randomisation inference was run (the protocol sets `ri_draws: 0`).",
        ),
        "indices": (doc.indices, "No summary indices were computed."),
        "subgroups": (doc.subgroups, "No subgroup analyses were run."),
        "attrition": (doc.attrition, "The results contain no attrition table."),
        "misuse": (doc.misuse, "The protocol declares no misuse monitoring."),
    }
    notes |= {key: text for key, (value, text) in checks.items() if not value}
    if doc.bayesian.status == "run" and not doc.bayesian.net_benefit:
        notes["net_benefit"] = "No outcome declares a money value, so there is no net benefit."
    if doc.bayesian.status == "run" and not doc.bayesian.decisions:
        notes["decisions"] = "The protocol registers no decision rules."
    return notes


def _tried(doc: ResultsDocument, arms: Arms) -> str:
    protocol = doc.protocol
    units = plural(protocol.units.name)
    flow = {a.arm: a.clusters_allocated or 0 for a in (doc.flow.arms if doc.flow else ())}
    total = sum(flow.values()) or protocol.units.planned
    control = short_label(protocol.control.label)
    if arms.wedge:
        wedge = protocol.design.stepped_wedge
        steps = wedge.steps if wedge is not None else 0
        return (
            f"All {total} {units} switched to "
            f"{arms.treatment(arms.treated[0])}, in {steps} groups at randomly chosen "
            f"times (a stepped wedge). We compare periods before and after each "
            f"{protocol.units.name}'s switch."
        )
    given = " and ".join(f"{flow.get(a, 0)} {arms.treatment(a)}" for a in arms.treated)
    what = " ".join(
        f"{capitalise(arms.treatment(a))}: {_arm(doc, a).intervention.summary}"
        for a in arms.treated
    )
    return (
        f"Of {total} {units}, chosen at random, we gave {given}. {what} The other "
        f"{flow.get(protocol.control.id, 0)} {units} kept {control}."
    )


def _arm(doc: ResultsDocument, arm_id: str) -> Any:
    return next(a for a in doc.protocol.arms if a.id == arm_id)


def _summary(doc: ResultsDocument, arms: Arms) -> dict[str, Any]:
    protocol = doc.protocol
    alpha = protocol.analysis.frequentist.alpha
    primary = [o for o in protocol.outcomes if o.role == "primary"]
    labels = {f.name: f.label for f in protocol.families}
    monitoring = sentences.misuse_sentences(doc.misuse, protocol, ledger=doc.spending is not None)
    return {
        "tried": _tried(doc, arms),
        "primary": summary.primary_blocks(doc, arms),
        "mechanisms": summary.mechanism_blocks(doc, arms),
        "shirking": sentences.shirking(doc, arms),
        "cost": sentences.cost_sentences(doc.bayesian.net_benefit, arms),
        "misuse": monitoring + spending_misuse.summary_lines(doc, arms),
        "misuse_monitoring": monitoring,
        "equity": [
            s for o in primary for s in sentences.equity_sentences(doc.subgroups, o, arms, alpha)
        ],
        "goodhart": sentences.goodhart(doc.indices, labels, arms),
        "decisions": sentences.decisions(doc.bayesian.decisions, protocol),
    }


def _described(doc: ResultsDocument) -> tuple[Any, ...]:
    """Balance rows to show: one per covariate in a stepped wedge (means by sequence)."""
    if doc.schematic is None:
        return doc.balance
    return tuple({r.covariate: r for r in doc.balance}.values())


def report_context(
    doc: ResultsDocument,
    *,
    plan_sections: Sequence[str] = (),
    ledger: LedgerEvidence | None = None,
) -> dict[str, Any]:
    """Everything the report template needs, as display values.

    Parameters
    ----------
    doc
        The results document.
    plan_sections
        Names of shared plan sections to repeat in the report.
    ledger
        The check of the pilot's ledger made for this report (``report --ledger``);
        without one, the evidence trail is reported as not checked.

    Returns
    -------
    dict
        Keys used by ``report.html.j2``; ``notes`` explains every omitted section.
    """
    protocol = doc.protocol
    registration = doc.registration.model_dump()
    plan = plan_context(
        protocol, registration=registration, power=[r.model_dump() for r in doc.power]
    )
    arms = Arms(protocol)
    arm_labels = {a.id: a.label for a in protocol.arms}
    out_labels = {o.name: o.label for o in protocol.outcomes}
    groups = list(dict.fromkeys(g for r in doc.balance for g in r.means))
    effects = sections.effect_rows(doc, arms)
    return {
        "registered": doc.registration.registered,
        "registration": registration,
        "notes": _notes(doc),
        "plan_sections": list(plan_sections),
        "provenance": tables.provenance_rows(doc),
        "trail": evidence_trail(ledger),
        "deviations": tables.deviation_rows(doc.deviations),
        "protocol": plan["p"],
        "plan": plan,
        "title": protocol.identity.title,
        "wedge": arms.wedge,
        "arms": [{"id": a.id, "label": a.label} for a in protocol.arms],
        "control_label": protocol.control.label,
        "has_bayes": bool(doc.bayesian.posteriors),
        "any_adjusted": any(e.adjustment != "none" for e in doc.estimates),
        "treated_arms": [{"id": a, "label": arms.label(a)} for a in arms.treated],
        "warnings": list(doc.warnings) + list(doc.notes),
        "bayesian_notes": [m.replace("`", "") for m in doc.bayesian.notes],
        "summary": _summary(doc, arms),
        "flow": tables.flow_rows(doc.flow, arm_labels),
        **sections.flow_totals(doc),
        "balance_groups": [arm_labels.get(g, g) for g in groups],
        "balance": tables.balance_rows(_described(doc), groups, arm_labels),
        "outcomes": effects,
        "descriptives": sections.descriptive_rows(doc),
        "indices": [
            {
                "label": next((f.label for f in protocol.families if f.name == r.family), r.family),
                "arm": arms.label(r.arm),
                "kind": r.kind,
                "method": r.method,
                "n_outcomes": r.n_outcomes,
                "est": tables.fmt(r.estimate),
                "ci": tables.fmt_ci(r.ci_low, r.ci_high),
                "p": tables.fmt_p(r.p_value),
            }
            for r in doc.indices
        ],
        "subgroups": tables.subgroup_rows(doc.subgroups, out_labels, arm_labels),
        "attrition": tables.attrition_rows(
            doc.attrition,
            doc.attrition_checks,
            [a.id for a in protocol.arms],
            out_labels,
            arm_labels,
        ),
        "attrition_compared": bool(doc.attrition_checks),
        "harms": sections.harm_rows(effects),
        "misuse": sections.misuse_block(doc.misuse, ledger=doc.spending is not None),
        "figures": figure_data(doc)
        | spending_figures(doc, arms)
        | ({"survival": km} if (km := staff.km_spec(doc, arms)) else {}),
        "staff": {
            "retention": staff.retention_sentences(doc, arms),
            "rates": staff.rate_sentences(doc, arms),
            "rows": [
                r
                for r in effects
                if doc.protocol.outcome(r["name"]).level in staff.staff_levels(doc)
            ],
        },
        "spending": spending.spending_context(doc, arms),
        "few_clusters": few_cluster_context(doc, arms),
    }

"""Section tables of the results report: effects, descriptives, harms, flow and misuse."""

from __future__ import annotations

from typing import Any

from trialkit.analyse.document import ResultsDocument
from trialkit.analyse.rows import EffectSizeRow, EstimateRow, PosteriorRow
from trialkit.analyse.trial_rows import MisuseRow
from trialkit.report import tables, words
from trialkit.report.phrases import Arms
from trialkit.report.scale import Scale
from trialkit.report.words import plural

_VERDICT = {"benefit": "Benefit", "harm": "Harm", "unclear": "Could not tell"}


def _prob(value: float | None) -> str:
    return tables.DASH if value is None else words.chance(value)


def effect_rows(doc: ResultsDocument, arms: Arms) -> list[dict[str, Any]]:
    """One display row per estimate (outcome × arm × estimand), both schools side by side."""
    rows = []
    verdicts = {(v.outcome, v.arm): v for v in doc.verdicts}
    control = doc.protocol.control.id
    for est in doc.estimates:
        outcome = doc.protocol.outcome(est.outcome)
        post = (
            next(
                (
                    r
                    for r in doc.bayesian.posteriors
                    if (r.outcome, r.arm, r.versus) == (est.outcome, est.arm, est.versus)
                ),
                None,
            )
            if est.estimand == "ITT"
            else None
        )
        binary = outcome.type == "binary"
        scale = Scale.of(outcome, est)
        factor, digits = scale.factor, scale.digits
        against_control = est.estimand == "ITT" and est.versus == control
        verdict = verdicts.get((est.outcome, est.arm)) if against_control else None
        g = doc.effect_size(est.outcome, est.arm) if est.versus == control else None
        rows.append(
            {
                "name": est.outcome,
                "label": outcome.label,
                "role": outcome.role,
                "unit": "percentage points" if binary else outcome.unit,
                "arm": arms.label(est.arm)
                if est.versus == control
                else f"{arms.label(est.arm)} vs {arms.label(est.versus)}",
                "estimand": est.estimand,
                "estimate": tables.fmt(factor * est.estimate, digits),
                "ci": tables.fmt_ci(factor * est.ci_low, factor * est.ci_high, digits),
                "p": tables.fmt_p(est.p_value),
                "p_adj": tables.fmt_p(est.p_adjusted) if est.adjustment != "none" else tables.DASH,
                "adjustment": est.adjustment,
                "se_type": est.se_type,
                "adjusted_for": ", ".join(est.adjusted_for) or "none",
                "g": tables.fmt(g.hedges_g if g else None, 2),
                "icc": _icc(g),
                "verdict": tables.verdict(_VERDICT[verdict.frequentist]) if verdict else None,
                **_bayes_cells(post, factor, digits, timed=outcome.type == "survival"),
            }
        )
    return rows


def _icc(g: EffectSizeRow | None) -> str:
    """The ICC with its interval, e.g. "0.052 (0.011 to 0.140)"."""
    if g is None or g.icc is None:
        return tables.DASH
    if g.icc_ci_low is None or g.icc_ci_high is None:
        return tables.fmt(g.icc, 3)
    return f"{tables.fmt(g.icc, 3)} ({tables.fmt_ci(g.icc_ci_low, g.icc_ci_high, 3)})"


def _bayes_cells(
    post: PosteriorRow | None, factor: float, digits: int, *, timed: bool = False
) -> dict[str, Any]:
    """Bayesian cells; a time-to-event row shows the hazard-odds ratio, not days."""
    if post is None:
        return {
            "b_mean": tables.DASH,
            "b_ci": tables.DASH,
            "p_benefit": tables.DASH,
            "p_mid": tables.DASH,
            "diagnostics": None,
        }
    mean = tables.fmt(factor * post.mean, digits)
    ci = tables.fmt_ci(factor * post.ci_low, factor * post.ci_high, digits)
    if timed:
        mean = f"HOR {tables.fmt(post.ratio_median, 2)}"
        ci = tables.fmt_ci(post.ratio_ci_low, post.ratio_ci_high, 2)
    return {
        "b_mean": mean,
        "b_ci": ci,
        "p_benefit": _prob(post.p_benefit),
        "p_mid": _prob(post.p_mid),
        "diagnostics": {
            "verdict": tables.verdict("pass" if post.passed else "not passed")["icon"],
            "text": f"{post.sampler}, {post.model.replace('_', ' ')} model, prior "
            f"{post.prior}; R-hat {tables.fmt(post.r_hat, 3)}, ESS "
            f"{tables.fmt(post.ess_bulk, 0)}, {post.divergences} divergences",
            "advice": post.advice,
        },
    }


def descriptive_rows(doc: ResultsDocument) -> list[dict[str, Any]]:
    """N, mean and SD of every compared outcome in each arm (CONSORT 2025 item 26)."""
    out = []
    for name in dict.fromkeys(r.outcome for r in doc.descriptives):
        outcome = doc.protocol.outcome(name)
        binary = outcome.type == "binary"
        cells = []
        for arm in doc.protocol.arms:
            row = doc.descriptive(name, arm.id)
            if row is None:
                cells.append({"n": tables.DASH, "mean": tables.DASH})
                continue
            digits = tables.digits_for([row.mean, row.sd])
            mean = (
                tables.pct(row.mean)
                if binary
                else (f"{tables.fmt(row.mean, digits)} ({tables.fmt(row.sd, digits)})")
            )
            cells.append({"n": tables.fmt(row.n), "mean": mean})
        out.append({"label": outcome.label, "unit": outcome.unit, "binary": binary, "arms": cells})
    return out


def harm_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The effect rows of harm and monitoring outcomes."""
    return [r for r in rows if r["role"] in ("harm", "monitoring")]


def flow_totals(doc: ResultsDocument) -> dict[str, Any]:
    """Totals and nouns for the flow diagram's top box ("24 teams ... 720 clients")."""
    protocol = doc.protocol
    arms = doc.flow.arms if doc.flow is not None else ()
    level = protocol.level(doc.flow.level) if doc.flow is not None else None
    return {
        "clustered": any(a.clusters_allocated is not None for a in arms),
        "total_clusters": tables.fmt(sum(a.clusters_allocated or 0 for a in arms)),
        "total_individuals": tables.fmt(sum(a.individuals_allocated for a in arms)),
        "unit_plural": plural(protocol.units.name),
        "individuals": plural(level.name) if level else plural(protocol.units.name),
    }


def misuse_block(misuse: MisuseRow | None, *, ledger: bool = False) -> dict[str, str] | None:
    """The misuse monitoring numbers formatted for the harms section.

    With a spend ledger (``ledger``) a case is a spend judged misuse or fraud on review.
    """
    if misuse is None:
        return None
    return {
        "judged": "Spends judged misuse or fraud" if ledger else "Cases judged unjustified",
        "cases": tables.fmt(misuse.cases),
        "reviewed": tables.fmt(misuse.reviewed),
        "rate": tables.pct(misuse.mean),
        "ci": f"{tables.pct(misuse.ci_low)} to {tables.pct(misuse.ci_high)}",
        "tolerance": tables.pct(misuse.tolerance, 0),
        "p_above": words.chance(misuse.p_above_tolerance),
        "cost": tables.DASH
        if misuse.expected_cost is None
        else words.money(misuse.expected_cost, misuse.currency),
    }


def primary_estimate(doc: ResultsDocument, outcome: str, arm: str) -> EstimateRow | None:
    """The registered ITT estimate of ``outcome`` for ``arm``."""
    return doc.estimate(outcome, arm, "ITT")

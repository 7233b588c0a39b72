"""Section tables of the results report: outcomes, harms, flow totals and misuse."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trialkit.protocol import Protocol
from trialkit.report import tables, words
from trialkit.report.words import plural

Row = Mapping[str, Any]


def result_rows(results: Row, key: str) -> list[Row]:
    """The list of row mappings under ``key``; empty when absent or malformed."""
    value = results.get(key)
    return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []


def bayes_row(results: Row, outcome: str, estimand: Any = None) -> Row | None:
    """The first Bayesian row for ``outcome`` (and ``estimand``, when given), if any.

    Estimands compare without case ("ITT" in results, "itt" as a protocol name); a
    Bayesian row without one is intention to treat, the only estimand :func:`bayes` fits.
    """
    for r in result_rows(results, "bayesian"):
        same = estimand is None or str(r.get("estimand", "itt")).lower() == str(estimand).lower()
        if r.get("outcome") == outcome and same:
            return r
    return None


def outcome_rows(results: Row, protocol: Protocol) -> list[dict[str, Any]]:
    """One display row per estimate: arm descriptives, frequentist and Bayesian columns."""
    g = {r.get("outcome"): r for r in result_rows(results, "effect_sizes")}
    rows: list[dict[str, Any]] = []
    for est in result_rows(results, "estimates"):
        name = str(est.get("outcome"))
        try:
            outcome = protocol.outcome(name)
        except KeyError:
            continue
        digits = tables.digits_for([est.get("estimate"), est.get("ci_low"), est.get("ci_high")])
        bayes = bayes_row(results, name, est.get("estimand"))
        desc = {
            r.get("arm"): r
            for r in result_rows(results, "descriptives")
            if r.get("outcome") == name
        }
        binary = outcome.type == "binary"
        rows.append(
            {
                "name": name,
                "label": outcome.label,
                "role": outcome.role,
                "unit": outcome.unit,
                "estimand": str(est.get("estimand", "—")).upper(),
                "arms": [
                    {
                        "n": tables.fmt((desc.get(a.id) or {}).get("n")),
                        "mean": tables.pct((desc.get(a.id) or {}).get("mean"))
                        if binary
                        else tables.fmt((desc.get(a.id) or {}).get("mean"), digits),
                        "sd": None
                        if binary
                        else tables.fmt((desc.get(a.id) or {}).get("sd"), digits),
                    }
                    for a in protocol.arms
                ],
                "estimate": tables.fmt(est.get("estimate"), digits),
                "ci": tables.fmt_ci(est.get("ci_low"), est.get("ci_high"), digits),
                "se_type": est.get("se_type", "—"),
                "p": tables.fmt_p(est.get("p_value")),
                "p_adj": tables.fmt_p(est.get("p_adjusted")),
                "g": tables.fmt((g.get(name) or {}).get("hedges_g"), 2),
                "icc": tables.fmt((g.get(name) or {}).get("icc"), 3),
                "b_mean": tables.fmt((bayes or {}).get("mean"), digits),
                "b_ci": tables.fmt_ci(
                    (bayes or {}).get("ci_low"), (bayes or {}).get("ci_high"), digits
                ),
                "p_benefit": _prob((bayes or {}).get("p_benefit")),
                "p_mid": _prob((bayes or {}).get("p_mid")),
                "diagnostics": _diagnostics(bayes),
            }
        )
    return rows


def _prob(value: Any) -> str:
    return words.percent(float(value)) if isinstance(value, int | float) else tables.DASH


def _diagnostics(bayes: Row | None) -> dict[str, str] | None:
    if not bayes:
        return None
    ok = bayes.get("passed")
    return {
        "verdict": tables.verdict("pass" if ok else "not passed")["icon"],
        "text": f"R-hat {tables.fmt(bayes.get('r_hat'), 3)}, "
        f"ESS {tables.fmt(bayes.get('ess_bulk'), 0)}, "
        f"{bayes.get('divergences', '—')} divergences",
        "advice": str(bayes.get("advice") or ""),
    }


def flow_totals(results: Row, protocol: Protocol) -> dict[str, Any]:
    """Totals and nouns for the flow diagram's top box ("24 teams ... 720 clients")."""
    arms = (results.get("flow") or {}).get("arms") or {}
    primary = next((o for o in protocol.outcomes if o.role == "primary"), protocol.outcomes[0])
    level = protocol.level(primary.level)

    def total(key: str) -> str:
        return tables.fmt(sum(int((c or {}).get(key) or 0) for c in arms.values()))

    return {
        "total_clusters": total("clusters_allocated"),
        "total_individuals": total("individuals_allocated"),
        "unit_plural": plural(protocol.units.name),
        "individuals": plural(level.name) if level else plural(protocol.units.name),
    }


def misuse_block(misuse: Any, currency: str) -> dict[str, str] | None:
    """The misuse monitoring numbers formatted for the harms section."""
    if not isinstance(misuse, Mapping):
        return None
    ci = misuse.get("rate_ci") or [misuse.get("ci_low"), misuse.get("ci_high")]
    rate = misuse.get("rate_mean", misuse.get("mean"))
    return {
        "cases": tables.fmt(misuse.get("cases")),
        "reviewed": tables.fmt(misuse.get("reviewed")),
        "rate": tables.pct(rate),
        "ci": f"{tables.pct(ci[0])} to {tables.pct(ci[1])}",
        "tolerance": tables.pct(misuse.get("tolerance"), 0),
        "p_above": tables.pct(misuse.get("p_above_tolerance")),
        "cost": words.money(float(misuse["expected_cost"]), str(misuse.get("currency") or currency))
        if isinstance(misuse.get("expected_cost"), int | float)
        else tables.DASH,
    }

"""Write ``results_example.json``: a plausible results file for the flagship protocol.

The numbers are invented but internally consistent (24 teams, 12 per arm, about 30
clients and 8 staff per team; posterior probabilities computed from the stored draws;
multiplicity adjustments computed from the p-values). Run from the repository root::

    python tests/data/make_results_example.py

The real ``trialkit analyse`` output will replace it.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats

from trialkit.protocol import bundled_path, load_protocol

HERE = Path(__file__).resolve().parent
RNG = np.random.default_rng(20261123)
ARMS = ("usual", "budget")

# outcome: (control mean, control sd, estimate, std_error, df, n_usual, n_budget, level)
OUTCOMES: dict[str, tuple[float, float, float, float, float, int, int, str]] = {
    "loneliness": (6.2, 1.8, -0.61, 0.40, 19.6, 285, 300, "client"),
    "wellbeing": (20.5, 4.5, 1.10, 0.62, 19.1, 283, 297, "client"),
    "control_over_life": (2.53, 0.89, 0.14, 0.09, 18.7, 281, 296, "client"),
    "days_to_support": (24.0, 18.0, -6.8, 2.1, 20.3, 356, 364, "client"),
    "cost_of_care": (4100.0, 3900.0, -110.0, 240.0, 19.8, 356, 364, "client"),
    "safeguarding_concern": (0.061, 0.239, 0.002, 0.012, 20.4, 356, 364, "client"),
    "job_satisfaction": (3.17, 1.11, 0.33, 0.15, 19.2, 88, 90, "staff"),
    "intention_to_leave": (0.30, 0.46, -0.09, 0.05, 19.5, 88, 90, "staff"),
    "sickness_days": (6.5, 7.0, -0.8, 0.9, 20.1, 92, 95, "staff"),
}
BAYES = (
    "loneliness",
    "wellbeing",
    "days_to_support",
    "cost_of_care",
    "safeguarding_concern",
    "job_satisfaction",
    "intention_to_leave",
)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _holm(p: list[float]) -> list[float]:
    order = np.argsort(p)
    out, running = [0.0] * len(p), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p) - rank) * p[i]))
        out[i] = running
    return out


def _bh(p: list[float]) -> list[float]:
    order = np.argsort(p)[::-1]
    out, running, m = [0.0] * len(p), 1.0, len(p)
    for k, i in enumerate(order):
        running = min(running, p[i] * m / (m - k))
        out[i] = running
    return out


def _estimates(protocol: Any) -> list[dict[str, Any]]:
    rows = []
    for name, (_m, _sd, est, se, df, n0, n1, _lv) in OUTCOMES.items():
        t = est / se
        crit = stats.t.ppf(0.975, df)
        outcome = protocol.outcome(name)
        rows.append(
            {
                "outcome": name,
                "estimand": "itt",
                "estimator": "lin",
                "term": "arm[budget]",
                "arm": "budget",
                "estimate": est,
                "std_error": se,
                "statistic": round(t, 4),
                "df": df,
                "p_value": float(2 * stats.t.sf(abs(t), df)),
                "ci_low": est - crit * se,
                "ci_high": est + crit * se,
                "ci_level": 0.95,
                "se_type": "CR2",
                "n_obs": n0 + n1,
                "n_clusters": 24,
                "family": outcome.family,
                "p_adjusted": None,
                "adjustment": None,
            }
        )
    for family in protocol.families:
        members = [r for r in rows if r["family"] == family.name]
        adjusted = (_holm if family.multiplicity == "holm" else _bh)(
            [r["p_value"] for r in members]
        )
        for row, p_adj in zip(members, adjusted, strict=True):
            row["p_adjusted"], row["adjustment"] = p_adj, family.multiplicity
    cace = dict(rows[0], estimand="cace", estimator="iv", estimate=-0.66, std_error=0.44)
    crit = stats.t.ppf(0.975, cace["df"])
    cace.update(
        statistic=-0.66 / 0.44,
        p_value=float(2 * stats.t.sf(0.66 / 0.44, cace["df"])),
        ci_low=-0.66 - crit * 0.44,
        ci_high=-0.66 + crit * 0.44,
        p_adjusted=None,
        adjustment=None,
    )
    return [*rows, cace]


def _bayesian(protocol: Any) -> list[dict[str, Any]]:
    rows = []
    for name in BAYES:
        _m, _sd, est, se, *_ = OUTCOMES[name]
        outcome = protocol.outcome(name)
        shrink = 0.93 if name == "loneliness" else 0.97
        draws = RNG.normal(est * shrink, se * 0.98, 2000)
        sign = -1.0 if outcome.direction == "lower_is_better" else 1.0
        benefit = sign * draws
        mid = outcome.mid
        rope = outcome.rope
        rows.append(
            {
                "outcome": name,
                "term": "arm[budget]",
                "arm": "budget",
                "mean": float(draws.mean()),
                "median": float(np.median(draws)),
                "sd": float(draws.std()),
                "ci_low": float(np.quantile(draws, 0.025)),
                "ci_high": float(np.quantile(draws, 0.975)),
                "p_benefit": float((benefit > 0).mean()),
                "p_mid": None if mid is None else float((benefit >= mid).mean()),
                "p_harm": float((benefit < 0).mean()),
                "p_rope": None if rope is None else float((np.abs(draws) < rope).mean()),
                "r_hat": 1.001,
                "ess_bulk": 3650.0,
                "ess_tail": 2810.0,
                "divergences": 0,
                "passed": True,
                "advice": "",
                "draws_sample": [round(float(d), 5) for d in draws[:2000]],
            }
        )
    return rows


def _condition(bayes: dict[str, dict[str, Any]], protocol: Any, cond: Any) -> dict[str, Any]:
    draws = np.asarray(bayes[cond.outcome]["draws_sample"])
    outcome = protocol.outcome(cond.outcome)
    benefit = -draws if outcome.direction == "lower_is_better" else draws
    margin = cond.margin or 0.0
    if cond.event == "benefit":
        prob = float((benefit > 0).mean())
    elif cond.event == "at_least_mid":
        prob = float((benefit >= (cond.margin or outcome.mid or 0.0)).mean())
    else:
        prob = float((benefit < -margin).mean())
    threshold = cond.at_least if cond.at_least is not None else cond.at_most
    comparison = "at_least" if cond.at_least is not None else "at_most"
    met = prob >= threshold if comparison == "at_least" else prob <= threshold
    return {
        "outcome": cond.outcome,
        "event": cond.event,
        "margin": cond.margin,
        "probability": prob,
        "threshold": threshold,
        "comparison": comparison,
        "met": met,
    }


def _flow() -> dict[str, Any]:
    def arm(
        ind: int, received: tuple[int, int], lost: int, sizes: tuple[int, int]
    ) -> dict[str, Any]:
        return {
            "clusters_allocated": 12,
            "individuals_allocated": ind,
            "clusters_received": received[0],
            "individuals_received": received[1],
            "clusters_lost": 0,
            "individuals_lost": lost,
            "clusters_analysed": 12,
            "individuals_analysed": ind - lost,
            "mean_cluster_size": round(ind / 12, 1),
            "min_cluster_size": sizes[0],
            "max_cluster_size": sizes[1],
        }

    return {
        "arms": {
            "usual": arm(356, (12, 356), 71, (17, 44)),
            "budget": arm(364, (11, 334), 64, (19, 46)),
        }
    }


def _attrition() -> list[dict[str, Any]]:
    rows = []
    for outcome in ("loneliness", "job_satisfaction"):
        level = OUTCOMES[outcome][7]
        assigned = (
            {"usual": 356, "budget": 364} if level == "client" else {"usual": 94, "budget": 97}
        )
        analysed = dict(zip(ARMS, OUTCOMES[outcome][5:7], strict=True))
        overall = 1 - sum(analysed.values()) / sum(assigned.values())
        rates = {a: 1 - analysed[a] / assigned[a] for a in ARMS}
        for a in ARMS:
            rows.append(
                {
                    "outcome": outcome,
                    "level": level,
                    "arm": a,
                    "assigned": assigned[a],
                    "analysed": analysed[a],
                    "attrition": rates[a],
                    "overall": overall,
                    "differential": abs(rates["usual"] - rates["budget"]),
                    "wwc_cautious": "low",
                    "wwc_optimistic": "low",
                }
            )
    return rows


def _balance(protocol: Any) -> list[dict[str, Any]]:
    means = {
        "caseload": (21.4, 1.1, 5.2),
        "imd_score": (27.9, 0.7, 9.8),
        "team_size": (9.1, -0.12, 1.9),
        "age": (74.2, 0.3, 12.1),
        "lives_alone": (0.46, 0.02, 0.5),
        "loneliness_baseline": (6.6, 0.05, 1.8),
        "years_in_role": (6.8, 0.9, 5.4),
    }
    rows = []
    for cov in protocol.covariates:
        mean, diff, sd = means[cov.name]
        g = diff / sd
        verdict = (
            "satisfied"
            if abs(g) <= 0.05
            else "satisfied with adjustment"
            if abs(g) <= 0.25
            else "not satisfied"
        )
        rows.append(
            {
                "covariate": cov.name,
                "label": cov.label,
                "level": cov.level,
                "kind": "binary" if cov.type == "binary" else "continuous",
                "means": {"usual": mean, "budget": mean + diff},
                "std_diff": round(g, 4),
                "verdict": verdict,
            }
        )
    return rows


def _subgroups() -> list[dict[str, Any]]:
    spec = [
        (
            "most_deprived",
            "Clients living in the most deprived fifth of areas",
            {"0": (-0.55, 0.44, 402), "1": (-0.78, 0.58, 183)},
            0.68,
        ),
        (
            "age_75_plus",
            "Clients aged 75 or over",
            {"0": (-0.49, 0.46, 317), "1": (-0.74, 0.50, 268)},
            0.61,
        ),
    ]
    rows = []
    for name, label, levels, het in spec:
        for value, (est, se, n) in levels.items():
            rows.append(
                {
                    "outcome": "loneliness",
                    "subgroup": name,
                    "label": label,
                    "equity": True,
                    "level_value": value,
                    "estimate": est,
                    "ci_low": est - 2.09 * se,
                    "ci_high": est + 2.09 * se,
                    "n": n,
                    "heterogeneity_p": het,
                }
            )
    return rows


def build() -> dict[str, Any]:
    """The whole example results dictionary."""
    protocol = load_protocol(bundled_path("council_discretionary_budget"))
    phash = protocol.content_hash()
    bayes = _bayesian(protocol)
    by_outcome = {row["outcome"]: row for row in bayes}
    rule = protocol.analysis.decision_rules[0]
    conditions = [_condition(by_outcome, protocol, c) for c in rule.conditions]
    null = RNG.normal(0.0, 0.41, 2000)
    observed = OUTCOMES["loneliness"][2]
    p_ri = float((np.abs(null) >= abs(observed)).mean())
    value = (-by_outcome["loneliness"]["mean"] * 140 - by_outcome["cost_of_care"]["mean"]) * 30
    nb_sd = 3100.0
    per_unit = value - 9200
    misuse_ci = stats.beta.ppf([0.025, 0.975], 4, 210)
    descriptives = []
    for name, (mean, sd, est, *_rest) in OUTCOMES.items():
        n0, n1 = OUTCOMES[name][5:7]
        descriptives += [
            {"outcome": name, "arm": "usual", "n": n0, "mean": mean, "sd": sd},
            {"outcome": name, "arm": "budget", "n": n1, "mean": mean + est, "sd": sd * 0.97},
        ]
    return {
        "provenance": {
            "trialkit_version": "0.1.0",
            "protocol_hash": phash,
            "seed": protocol.seed,
            "created_utc": "2028-01-14T10:42:05Z",
            "inputs": {
                f: _sha(f)
                for f in ("units.csv", "allocation.csv", "clients.csv", "staff.csv", "spends.csv")
            },
            "versions": {"python": "3.12.3", "numpy": "2.1.3", "pandas": "2.2.3", "pymc": "5.19.1"},
        },
        "protocol": protocol.model_dump(mode="json"),
        "registration": {
            "registered": True,
            "protocol_hash": phash,
            "registered_utc": "2027-02-19T16:05:31Z",
            "directory": "registration",
        },
        "deviations": [
            {
                "field": "analysis.frequentist.ri_draws",
                "registered": "2000",
                "current": "5000",
                "severity": "minor",
                "reason": "More randomisation draws, for a more precise p-value; decided before "
                "outcome data were seen.",
            }
        ],
        "flow": _flow(),
        "attrition": _attrition(),
        "balance": _balance(protocol),
        "descriptives": descriptives,
        "estimates": _estimates(protocol),
        "randomisation": [
            {
                "outcome": "loneliness",
                "term": "arm[budget]",
                "observed": observed,
                "p_value": p_ri,
                "draws": 5000,
                "exact": False,
                "mc_se": math.sqrt(p_ri * (1 - p_ri) / 5000),
                "null_sample": [round(float(v), 5) for v in null],
            }
        ],
        "indices": [
            {
                "family": "client_wellbeing",
                "kind": "shadow",
                "method": "anderson",
                "estimate": 0.09,
                "std_error": 0.058,
                "ci_low": -0.031,
                "ci_high": 0.211,
                "p_value": 0.135,
                "n_outcomes": 3,
            },
            {
                "family": "service_targets",
                "kind": "target",
                "method": "anderson",
                "estimate": 0.21,
                "std_error": 0.063,
                "ci_low": 0.079,
                "ci_high": 0.341,
                "p_value": 0.003,
                "n_outcomes": 2,
            },
            {
                "family": "workforce",
                "kind": "general",
                "method": "kling",
                "estimate": 0.15,
                "std_error": 0.069,
                "ci_low": 0.006,
                "ci_high": 0.294,
                "p_value": 0.042,
                "n_outcomes": 3,
            },
        ],
        "subgroups": _subgroups(),
        "effect_sizes": [
            {
                "outcome": n,
                "hedges_g": round(v[2] / v[1] * 0.997, 4),
                "icc": {"loneliness": 0.047, "wellbeing": 0.038}.get(n, 0.05),
            }
            for n, v in OUTCOMES.items()
        ],
        "bayesian": bayes,
        "decisions": [
            {
                "rule": rule.name,
                "action": rule.action,
                "otherwise": rule.otherwise,
                "met": all(c["met"] for c in conditions),
                "conditions": conditions,
            }
        ],
        "net_benefit": {
            "currency": "GBP",
            "per_unit_mean": per_unit,
            "per_unit_ci": [per_unit - 1.96 * nb_sd, per_unit + 1.96 * nb_sd],
            "aggregate_mean": per_unit * 12,
            "aggregate_ci": [(per_unit - 1.96 * nb_sd) * 12, (per_unit + 1.96 * nb_sd) * 12],
            "p_positive": float(stats.norm.sf(0, per_unit, nb_sd)),
            "units": 12,
        },
        "misuse": {
            "outcome": "unjustified_spend",
            "cases": 3,
            "reviewed": 212,
            "rate_mean": 4 / 214,
            "rate_ci": [float(misuse_ci[0]), float(misuse_ci[1])],
            "tolerance": 0.05,
            "p_above_tolerance": float(stats.beta.sf(0.05, 4, 210)),
            "expected_cost": 212 * 4 / 214 * 120,
            "currency": "GBP",
            "alpha": 4.0,
            "beta": 210.0,
        },
        "power": [
            {
                "outcome": "loneliness",
                "power": 0.81,
                "mde": 0.58,
                "n_units": 24,
                "design_effect": 1.75,
            },
            {
                "outcome": "wellbeing",
                "power": 0.62,
                "mde": 1.46,
                "n_units": 24,
                "design_effect": 1.62,
            },
            {
                "outcome": "days_to_support",
                "power": 0.77,
                "mde": 6.3,
                "n_units": 24,
                "design_effect": 3.32,
            },
        ],
    }


if __name__ == "__main__":
    text = json.dumps(build(), indent=1, sort_keys=True, allow_nan=False)
    (HERE / "results_example.json").write_text(text + "\n", encoding="utf-8")

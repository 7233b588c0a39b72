"""The protocol as plain dictionaries and sentences, for the plan and the report alike.

The pre-analysis plan and the results report include the same section templates (design,
interventions, outcomes, methods); both fill them from :func:`plan_context`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

from trialkit.estimate.frequentist.few_clusters import FEW_CLUSTERS
from trialkit.estimate.frequentist.plan_estimators import plan_estimator
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Family, Outcome
from trialkit.protocol.vocabulary import COMPARED_ROLES
from trialkit.report.phrases import rules_words
from trialkit.report.tables import digits_for, fmt
from trialkit.report.words import capitalise, listed, money, percent, plural, quantity

if TYPE_CHECKING:
    from trialkit.design.subgroups import SubgroupPower, SubgroupPowerRow

_MULTIPLICITY = {
    "none": "No adjustment",
    "holm": "Holm step-down (controls the family-wise error rate)",
    "bh": "Benjamini–Hochberg (controls the false discovery rate)",
    "westfall_young": "Westfall–Young step-down minP over joint re-randomisations of the "
    "family, with randomisation inference's statistic (controls the family-wise error rate "
    "under the sharp null of no effect of any arm)",
}
_INDEX = {
    "none": "No summary index",
    "anderson": "Anderson (2008) inverse-covariance weighted index of standardised outcomes",
    "kling": "Kling, Liebman and Katz (2007) mean of standardised outcomes",
}
_MISSING = {
    "complete_case": "Complete-case analysis: rows missing the outcome or a covariate are "
    "left out (sensitivity analyses listed below are registered, and run outside trialkit)",
    "inverse_probability_weighting": "Inverse probability weighting of complete cases",
    "multiple_imputation": "Multiple imputation by arm and baseline covariates",
}
_METRIC = {
    "continuous": "Difference in means",
    "count": "Difference in mean counts",
    "ordinal": "Difference in mean response score (1 = lowest level)",
    "proportion": "Difference in mean proportions",
    "survival": "Difference in restricted mean time to the event (days, up to the horizon)",
}
_DIAGNOSANDS = {
    "outcome": "Outcome",
    "n_units": "Units",
    "rmse": "RMSE",
    "mean_estimate": "Mean estimate",
    "mean_estimand": "Mean estimand",
    "sd_estimate": "SD of estimates",
    "type_s": "Type-S rate",
    "type_s_rate": "Type-S rate",
    "mean_se": "Mean SE",
    "exaggeration_ratio": "Exaggeration ratio",
}
_BINARY = {
    "risk_difference": "Risk difference (percentage points)",
    "odds_ratio": "Odds ratio",
    "risk_ratio": "Risk ratio",
}


def _se_text(protocol: Protocol) -> str:
    se = protocol.analysis.frequentist.se_type
    clustered = protocol.design.cluster_column is not None
    convention = "trialkit follows estimatr: HC2 without clusters, CR2 with"
    if se == "auto":
        se = "CR2" if clustered else "HC2"
    if se == "CR2":
        return (
            f"CR2 cluster-robust (Bell–McCaffrey / Pustejovsky–Tipton), clustered by "
            f"{protocol.units.name}, with Bell–McCaffrey degrees of freedom for t-based "
            f"intervals ({convention}){_few_clusters(protocol, se)}"
        )
    if se == "CR3":
        return (
            f"CR3, the leave-one-{protocol.units.name}-out jackknife (MacKinnon, Nielsen & Webb "
            f"2023), clustered by {protocol.units.name}, with G − 1 degrees of freedom: more "
            f"conservative than CR2 when clusters are few or unequal in size"
            f"{_few_clusters(protocol, se)}"
        )
    if se == "HC2":
        return (
            f"HC2 heteroskedasticity-robust, the conservative Neyman variance, {_hc2_df(protocol)}"
        )
    return f"{se}, which differs from the default ({convention})"


def _few_clusters(protocol: Protocol, se: str) -> str:
    """A clause on what the plan does with fewer than :data:`FEW_CLUSTERS` clusters."""
    g = protocol.units.planned
    if g >= FEW_CLUSTERS:
        return ""
    units = plural(protocol.units.name)
    draws = protocol.analysis.frequentist.ri_draws
    ri = (
        f"the randomisation p-values ({draws:,} re-randomisations under the registered "
        f"scheme), valid whatever the number of {units}, are reported beside them"
        if draws
        else "no randomisation inference is planned (`ri_draws: 0`; "
        "`ri_draws: 10000` would add p-values valid whatever the number of clusters)"
    )
    checks = (
        f"the results add two small-sample checks of each primary comparison, the "
        f"{protocol.units.name.replace('_', ' ')} jackknife (CR3) and a wild cluster "
        "bootstrap (no effect imposed, Webb weights), and say where they disagree"
    )
    if se == "CR3":
        return (
            f"; it is used because only {g} {units} are planned (fewer than about "
            f"{FEW_CLUSTERS}), {ri}, and {checks}"
        )
    return (
        f"; with only {g} {units} planned (fewer than about {FEW_CLUSTERS}) CR2 intervals "
        f"can be too narrow when {units} differ in size, so {ri}, and {checks}"
    )


def _hc2_df(protocol: Protocol) -> str:
    """Which degrees of freedom the HC2 intervals use."""
    if protocol.analysis.frequentist.estimator == "difference_in_means":
        return "with Welch–Satterthwaite degrees of freedom for the difference in means"
    if protocol.analysis.frequentist.df == "residual":
        return (
            "with N − k degrees of freedom for t-based intervals (estimatr's convention; "
            "declared `df: residual`)"
        )
    return (
        "with Bell–McCaffrey degrees of freedom for t-based intervals (Imbens & Kolesár "
        "2016), which keep the interval's level in small or unbalanced samples where "
        "estimatr's N − k does not"
    )


def _level_label(protocol: Protocol, name: str) -> str:
    level = protocol.level(name)
    return level.label if level else protocol.units.label


def _index_words(protocol: Protocol, family: Family) -> str:
    """The family's summary index, and the baseline it is adjusted for (as the analysis
    adjusts it: the same index of the compared members' baselines, or the one baseline)."""
    if family.index == "none":
        return _INDEX["none"]
    adjusts = plan_estimator(protocol.analysis.frequentist.estimator).adjusts
    if not adjusts and protocol.design.stepped_wedge is None:  # as `adjusted_for`
        return _INDEX[family.index]
    measured = [
        o.label
        for o in protocol.outcomes_in(family.name)
        if o.baseline and o.role in COMPARED_ROLES and o.type != "survival"
    ]
    if not measured:
        return _INDEX[family.index]
    if len(measured) == 1:
        return f"{_INDEX[family.index]}, adjusted for the baseline of {measured[0]}"
    return (
        f"{_INDEX[family.index]}, adjusted for the same index of the baselines of "
        f"{listed(measured)}, those that vary in the control arm"
    )


def _outcome_row(protocol: Protocol, outcome: Outcome, families: dict[str, str]) -> dict[str, Any]:
    binary = protocol.analysis.frequentist.binary_effect
    metric = _BINARY[binary] if outcome.type == "binary" else _METRIC[outcome.type]
    scale = ""
    if outcome.range:
        scale = f"{outcome.range[0]:,g}–{outcome.range[1]:,g}"
    elif outcome.levels:
        scale = f"{len(outcome.levels)} ordered levels"
    unit_level = outcome.level == protocol.units.name
    aggregation = (
        f"One value per {protocol.units.name}"
        if unit_level
        else f"Individual {plural(outcome.level)}, clustered by {protocol.units.name}"
    )
    return {
        "name": outcome.name,
        "label": outcome.label,
        "role": outcome.role,
        "family": families.get(outcome.family or "", "—"),
        "level": _level_label(protocol, outcome.level),
        "type": outcome.type,
        "scale": scale,
        "unit": outcome.unit,
        "measurement": outcome.measurement,
        "metric": metric,
        "aggregation": aggregation,
        "timing": outcome.timing,
        "direction": "Lower is better"
        if outcome.direction == "lower_is_better"
        else "Higher is better",
        "mid": "—" if outcome.mid is None else _amount(outcome, outcome.mid),
        "rope": "—" if outcome.rope is None else f"±{_amount(outcome, outcome.rope)}",
        "value": "—"
        if outcome.value_per_unit is None
        else f"{money(outcome.value_per_unit, protocol.costs.currency)} per "
        f"{quantity(1, outcome.unit or 'unit')}",
    }


def _amount(outcome: Outcome, value: float) -> str:
    """A size on the outcome's scale: percentage points for binary outcomes."""
    if outcome.type == "binary":
        return quantity(value * 100, "percentage points")
    return quantity(value, outcome.unit) if outcome.unit else f"{abs(value):g}"


def _assumption_rows(protocol: Protocol) -> list[dict[str, str]]:
    rows = []
    for outcome in protocol.outcomes:
        a = outcome.assumptions
        if a is None:
            continue
        if a.rate is not None:
            control = f"{percent(a.rate, places=1)} in the control arm"
        elif a.mean is not None:
            control = f"mean {a.mean:g}, SD {a.sd:g}" if a.sd else f"mean {a.mean:g}"
        elif a.distribution:
            control = "level shares " + ", ".join(f"{v:g}" for v in a.distribution)
        else:
            control = "—"
        rows.append(
            {
                "outcome": outcome.label,
                "control": control,
                "effect": "none"
                if a.effect == 0
                else ("+" if a.effect > 0 else "-") + _amount(outcome, a.effect),
                "icc": f"{a.icc:g}",
                "r2": f"{a.r2:g} / {a.r2_cluster:g}",
                "source": a.source,
            }
        )
    return rows


def _predictions(protocol: Protocol) -> list[str]:
    """Directional predictions from the planning assumptions (OSF Prereg: hypotheses)."""
    out = []
    for outcome in protocol.outcomes:
        a = outcome.assumptions
        if a is None or outcome.role == "monitoring":
            continue
        if a.effect == 0:
            out.append(f"{outcome.label}: no change expected (monitored for harm).")
            continue
        word = "fall" if a.effect < 0 else "rise"
        good = (a.effect < 0) == (outcome.direction == "lower_is_better")
        unit = "percentage points" if outcome.type == "binary" else outcome.unit
        size = abs(a.effect) * (100 if outcome.type == "binary" else 1)
        amount = quantity(size, unit) if unit else f"{size:g} (on the outcome's scale)"
        out.append(
            f"{outcome.label}: expected to {word} by about {amount} "
            f"({'a benefit' if good else 'a cost'}); tested two-sided."
        )
    return out


def _priors(protocol: Protocol) -> list[dict[str, str]]:
    plan = protocol.analysis.bayesian
    named = {p.outcome: p for p in plan.priors}
    rows = []
    for outcome in protocol.outcomes:
        prior = named.get(outcome.name)
        if prior is not None:
            family = capitalise(prior.distribution.replace("_", " "))
            text = f"{family}(mean {prior.mean:g}, SD {prior.sd:g})"
            if prior.estimate is not None:
                text += (
                    f", from an earlier estimate of {prior.estimate:g} (SE "
                    f"{prior.std_error:g}"
                    + (f", weight {prior.weight:g}" if prior.weight < 1 else "")
                    + ")"
                )
            rows.append({"outcome": outcome.label, "prior": text, "source": prior.source})
    if plan.binary_model == "beta_binomial":
        a, b = plan.beta_prior
        rows.append(
            {
                "outcome": "Binary outcomes (not clustered)",
                "prior": f"Beta({a:g}, {b:g}) on each arm's proportion",
                "source": "exact beta-binomial model (protocol)",
            }
        )
    default = plan.default_prior.replace("_", " ")
    rows.append(
        {
            "outcome": "Every other outcome",
            "prior": capitalise(default),
            "source": "trialkit default, scaled to the outcome's control-arm spread",
        }
    )
    return rows


def _rows(value: Any) -> list[dict[str, Any]]:
    """Normalise power or diagnosis input: a frame, dataclasses, mappings or a mapping of them."""
    if value is None:
        return []
    if hasattr(value, "wide"):  # a Diagnosis: one row per outcome and size
        return _rows(value.wide())
    if hasattr(value, "to_dict") and hasattr(value, "columns"):
        return [dict(r) for r in value.to_dict(orient="records")]
    if hasattr(value, "to_frame"):
        return _rows(value.to_frame())
    if isinstance(value, Mapping):
        if all(isinstance(v, Mapping) or is_dataclass(v) for v in value.values()):
            return [{"outcome": k, **_rows([v])[0]} for k, v in value.items()]
        return [dict(value)]
    rows: list[dict[str, Any]] = []
    for item in value if isinstance(value, Sequence) else [value]:
        if is_dataclass(item) and not isinstance(item, type):
            rows.append(asdict(item))
        elif isinstance(item, Mapping):
            rows.append(dict(item))
    return rows


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop repeated power rows (the planned size is often also listed as a variant)."""
    seen, out = set(), []
    for row in rows:
        key = (row.get("outcome"), row.get("comparison"), row.get("n_units"), row.get("effect"))
        if key not in seen:
            seen.add(key)
            out.append(row)
    return out


def _power_display(row: dict[str, Any]) -> dict[str, Any]:
    """A power row plus its effect and MDE in the outcome's own unit and its flag in words.

    A binary outcome's risk differences are shown in percentage points, as in the results.
    """
    unit = row.get("effect_unit") or ""
    factor = 100.0 if unit == "proportion" else 1.0
    values = [row.get("effect"), row.get("mde")]
    scaled = [
        v * factor if isinstance(v, int | float) and not isinstance(v, bool) else v for v in values
    ]
    digits = digits_for(scaled)
    effect, mde = (fmt(v, digits) for v in scaled)
    shown = {
        "effect_text": effect,
        "mde_text": mde,
        "unit_text": "percentage points" if unit == "proportion" else unit,
        "flag": None,
    }
    if row.get("under_powered"):
        suffix = f" {shown['unit_text']}" if shown["unit_text"] else ""
        shown["flag"] = f"MDE {mde}{suffix} against a hoped-for {effect}{suffix}"
    return {**row, **shown}


def registration_dict(registration: Any) -> dict[str, Any]:
    """A registration object or mapping as ``{"registered", "protocol_hash", ...}``."""
    if registration is None:
        return {"registered": False}
    if isinstance(registration, Mapping):
        out = dict(registration)
        out.setdefault("registered", bool(out.get("protocol_hash")))
        return out
    return {
        "registered": True,
        "protocol_hash": getattr(registration, "protocol_hash", ""),
        "registered_utc": getattr(registration, "registered_utc", ""),
        "directory": str(getattr(registration, "directory", "")),
    }


def plan_context(
    protocol: Protocol,
    *,
    registration: Any = None,
    power: Any = None,
    diagnosis: Any = None,
    subgroup_power: SubgroupPower | None = None,
) -> dict[str, Any]:
    """Everything the shared plan sections need, as plain values.

    Parameters
    ----------
    protocol
        The protocol.
    registration
        A :class:`~trialkit.register.freeze.Registration`, a mapping like the results file's
        ``registration`` entry, or ``None`` (not pre-registered).
    power
        Power rows (mappings, dataclasses such as ``PowerResult``, a frame, or a mapping of
        outcome name to one of those); optional.
    diagnosis
        Design-diagnosis rows in any of the same forms; optional.
    subgroup_power
        Power within the equity subgroups (:func:`trialkit.design.subgroup_power`); optional.

    Returns
    -------
    dict
        ``p`` (the protocol as JSON-ready dictionaries) plus derived rows and sentences.
    """
    families = {f.name: f.label for f in protocol.families}
    labels = {o.name: o.label for o in protocol.outcomes}
    clustered = protocol.design.cluster_column is not None
    return {
        "p": protocol.model_dump(mode="json"),
        "protocol_hash": protocol.content_hash(),
        "registration": registration_dict(registration),
        "clustered": clustered,
        "levels": {lv.name: lv.label for lv in protocol.levels}
        | {protocol.units.name: protocol.units.label},
        "arm_labels": {a.id: a.label for a in protocol.arms},
        "outcome_rows": [_outcome_row(protocol, o, families) for o in protocol.outcomes],
        "outcome_labels": {o.name: o.label for o in protocol.outcomes},
        "predictions": _predictions(protocol),
        "families": [
            {
                "name": f.name,
                "label": f.label,
                "kind": f.kind,
                "multiplicity": _MULTIPLICITY[f.multiplicity],
                "index": _index_words(protocol, f),
                "outcomes": [o.label for o in protocol.outcomes_in(f.name)],
            }
            for f in protocol.families
        ],
        "assumptions": _assumption_rows(protocol),
        "estimator": plan_estimator(protocol.analysis.frequentist.estimator).wording,
        "se_text": _se_text(protocol),
        "missing_text": _MISSING[protocol.analysis.frequentist.missing_data],
        "priors": _priors(protocol),
        "rules": rules_words(protocol),
        "power_rows": [_power_display(r) for r in _unique(_rows(power))],
        "diagnosis_rows": [
            {
                _DIAGNOSANDS.get(k, k.replace("_", " ").capitalize()): (
                    labels.get(v, v) if k == "outcome" else v
                )
                for k, v in r.items()
            }
            for r in _rows(diagnosis)
        ],
        "diagnosis_sims": getattr(diagnosis, "sims", None),
        "subgroup_power_rows": [
            _subgroup_power_display(protocol, r)
            for r in (subgroup_power.rows if subgroup_power else ())
        ],
        "subgroup_power_skipped": list(subgroup_power.skipped if subgroup_power else ()),
    }


def _subgroup_power_display(protocol: Protocol, row: SubgroupPowerRow) -> dict[str, Any]:
    """One equity-subgroup power row in words: the level, its share, power, MDE and flag."""
    power = row.power
    shown = _power_display(
        {
            "effect": power.effect,
            "mde": power.mde,
            "effect_unit": power.effect_unit,
            "under_powered": power.under_powered,
        }
    )
    return {
        **shown,
        "subgroup": row.label,
        "level": row.level,
        "share": row.share,
        "outcome": power.outcome,
        "comparison": power.comparison,
        "power": power.power,
        "units": row.units,
        "per_unit": row.per_unit,
        "several_arms": len(protocol.arms) > 2,
    }

"""Analyse: run the registered plan on validated data and gather one results document.

This is orchestration, not statistics: it calls the validate, register, design and
estimate stages and lays their tidy outputs out as the JSON-ready dictionary that
``trialkit report`` renders (``results.json``). Every number keeps its provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trialkit.analyse.jsonable import plain, plain_mapping, records
from trialkit.analyse.randomisation import randomisation_results
from trialkit.design import power_table
from trialkit.estimate.frequentist.plan import FrequentistResults
from trialkit.estimate.frequentist.plan import fit as fit_frequentist
from trialkit.protocol import Protocol
from trialkit.randomise.balance import CovariateKind, covariate_rows
from trialkit.register import Registration, compare
from trialkit.validate import TrialData

Echo = Callable[[str], None]


def analyse(protocol: Protocol, data: TrialData, *, registration: Registration | None = None,
            deviation_reason: str = "", bayesian: bool = True, draws: int | None = None,
            chains: int | None = None, echo: Echo = lambda _: None) -> dict[str, Any]:
    """Run the frequentist (and Bayesian) plan; return the results document.

    Parameters
    ----------
    protocol
        The protocol as it stands now (compared with the registered one for deviations).
    data
        Validated data (:func:`trialkit.validate.outcomes`).
    registration
        The registration, or ``None`` for an analysis that was not pre-registered (the
        report then says so on every page).
    deviation_reason
        The reason given for any difference from the registered protocol.
    bayesian
        Fit the Bayesian plan too (when the protocol enables it).
    draws, chains
        Override the Bayesian plan's draws and chains (e.g. for a quick demo).
    echo
        Progress messages.
    """
    echo("estimating: frequentist plan")
    freq = fit_frequentist(protocol, data)
    results: dict[str, Any] = {
        "provenance": data.provenance.to_dict() | {"seed": protocol.seed,
                                                    "protocol_hash": protocol.content_hash()},
        "protocol": protocol.model_dump(mode="json"),
        "registration": _registration(registration),
        "deviations": _deviations(registration, protocol, deviation_reason),
        "flow": _flow(data),
        "attrition": records(data.attrition.to_frame()),
        "balance": _balance(protocol, data),
        "power": records(power_table(protocol).to_frame()),
        "warnings": [str(w) for w in data.warnings],
        "misuse": _misuse(protocol, data),
        "notes": list(freq.notes),
    }
    results.update(_frequentist(freq))
    echo("estimating: randomisation inference for the primary outcomes")
    results["randomisation"] = [plain_mapping(row) for row in
                                randomisation_results(protocol, data)]
    if bayesian and protocol.analysis.bayesian.enabled:
        from trialkit.analyse.bayes import bayesian_results

        results.update(bayesian_results(protocol, data, draws=draws, chains=chains, echo=echo))
    return results


def _frequentist(freq: FrequentistResults) -> dict[str, Any]:
    return {
        "estimates": records(freq.estimates),
        "indices": records(freq.indices),
        "subgroups": records(freq.subgroups.rename(columns={"level": "level_value",
                                                             "n_obs": "n"})),
        "effect_sizes": records(freq.effect_sizes),
        "descriptives": records(freq.descriptives),
    }


def _registration(registration: Registration | None) -> dict[str, Any]:
    if registration is None:
        return {"registered": False}
    return {"registered": True, "protocol_hash": registration.protocol_hash,
            "registered_utc": registration.registered_utc,
            "trialkit_version": registration.trialkit_version,
            "directory": str(registration.directory)}


def _deviations(registration: Registration | None, protocol: Protocol,
                reason: str) -> list[dict[str, Any]]:
    if registration is None:
        return []
    return [asdict(d) for d in compare(registration.protocol, protocol, reason=reason)]


def _flow(data: TrialData) -> dict[str, Any]:
    if not data.flows:
        return {}
    primary = data.flows[0]
    arms = {}
    for arm in primary.arms:
        entry = {k: plain(v) for k, v in asdict(arm).items()
                 if not isinstance(v, dict | tuple)}
        sizes = arm.sizes_allocated
        if sizes is not None:
            entry |= {"mean_cluster_size": sizes.mean, "min_cluster_size": sizes.min,
                      "max_cluster_size": sizes.max}
        entry["lost_reasons"] = [list(r) for r in arm.lost_reasons]
        arms[arm.arm] = entry
    return {"outcome": primary.outcome, "level": primary.level, "arms": arms}


def _balance(protocol: Protocol, data: TrialData) -> list[dict[str, Any]]:
    """Baseline balance of every declared covariate at its level, on the analysed rows."""
    rows = []
    control = protocol.control.id
    for cov in protocol.covariates:
        if cov.level not in data.frames or cov.data_column not in data.frames[cov.level]:
            continue
        frame = data.frames[cov.level]
        group = frame["arm"].astype(str)
        if control not in set(group):
            continue
        values = pd.to_numeric(frame[cov.data_column], errors="coerce")
        kept = values.notna()
        kind: CovariateKind = "binary" if cov.type == "binary" else "continuous"
        levels = [a.id for a in protocol.arms if a.id in set(group)]
        per_arm = covariate_rows(cov.name, kind, values[kept], group[kept], levels, control)
        means = {str(r["arm"]): plain(r["mean"]) for r in per_arm}
        counts = {str(r["arm"]): r["n"] for r in per_arm}
        rows += [{"covariate": cov.name, "label": cov.label, "level": cov.level, "kind": kind,
                  "arm": r["arm"], "means": means, "n": counts,
                  "std_diff": plain(r["std_diff"]), "verdict": r["wwc_verdict"]}
                 for r in per_arm if r["arm"] != control]
    return rows


def _misuse(protocol: Protocol, data: TrialData) -> dict[str, Any] | None:
    from trialkit.estimate.bayesian.decisions import misuse_rate

    misuse = protocol.costs.misuse
    if misuse is None:
        return None
    outcome = protocol.outcome(misuse.outcome)
    if outcome.level not in data.frames:
        return None
    frame = data.frames[outcome.level]
    given_freedom = frame["arm"] != protocol.control.id  # misuse needs the new freedom
    values = pd.to_numeric(frame.loc[given_freedom, outcome.data_column],
                           errors="coerce").dropna()
    events, n = int(values.sum()), int(values.size)
    posterior = misuse_rate(events, n, tolerance=misuse.tolerance,
                            cost_per_event=misuse.cost_per_case or None)
    out = {"outcome": outcome.name, "label": outcome.label, "description": misuse.description,
           "cases": events, "reviewed": n, "tolerance": misuse.tolerance,
           "currency": protocol.costs.currency}
    out |= {k: plain(v) for k, v in asdict(posterior).items() if not isinstance(v, np.ndarray)}
    return out


def data_paths(directory: Path) -> Sequence[Path]:
    """The data files of a directory, in name order."""
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in
                  (".csv", ".xlsx", ".dta", ".sav", ".parquet"))

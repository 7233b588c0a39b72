"""The Bayesian part of the results document: posteriors, decisions, net benefit.

Orchestration only; the models, summaries and decision rules live in
:mod:`trialkit.estimate.bayesian`.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import numpy as np

from trialkit.analyse.jsonable import plain_mapping
from trialkit.protocol import Protocol
from trialkit.validate import TrialData

#: Draws kept per outcome for the report's posterior plot.
SAMPLE = 2000


def bayesian_results(protocol: Protocol, data: TrialData, *, draws: int | None,
                     chains: int | None, echo: Callable[[str], None]) -> dict[str, Any]:
    """Fit the Bayesian plan; return the ``bayesian``, ``decisions`` and ``net_benefit`` keys."""
    from trialkit.estimate.bayesian import fit_protocol

    echo("estimating: Bayesian plan (PyMC models; sampled by nutpie when installed)")
    with warnings.catch_warnings():
        # pip-installed PyTensor warns about BLAS on every compile; the models here are small.
        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
        results = fit_protocol(protocol, data, draws=draws, chains=chains, progress=echo)
    rows = []
    for fit in results.fits:
        frame = fit.to_frame()
        natural = frame[frame["scale"] == fit.scales[-1]] if "scale" in frame else frame
        for _, row in natural.iterrows():
            term = str(row["term"])
            sample = fit.draws(term)[:: max(1, fit.draws(term).size // SAMPLE)][:SAMPLE]
            arm = fit.arms[fit.terms.index(term)] if term in fit.terms else ""
            rows.append({**plain_mapping(row), "arm": arm,
                         "divergences": fit.diagnostics.divergences,
                         "passed": fit.diagnostics.passed,
                         "advice": " ".join(fit.diagnostics.advice),
                         "sampler": fit.sampler, "prior": fit.prior_note,
                         "draws_sample": [round(float(v), 6) for v in sample]})
    decisions = [{"rule": d.name, "action": d.action, "otherwise": d.otherwise, "met": d.met,
                  "conditions": [{**asdict(c), "comparison": c.bound} for c in d.conditions]}
                 for d in results.decisions]
    return {"bayesian": rows, "decisions": decisions,
            "net_benefit": net_benefit(protocol, results.fits),
            "bayesian_notes": list(results.notes)}


def net_benefit(protocol: Protocol, fits: Any) -> dict[str, Any] | None:
    """Posterior net monetary benefit per randomised unit and for the whole pilot.

    For each valued outcome, the posterior effect (oriented so positive is good) times its
    money value per person times the people measured per unit, summed over outcomes, less
    the arm's extra cost per unit. Posteriors of different outcomes come from separate
    models, so their draws are combined as if independent (said in the result's note).
    """
    treated = [a for a in protocol.arms if not a.control]
    valued = {o.name: o for o in protocol.outcomes if o.value_per_unit}
    used = [f for f in fits if f.outcome in valued]
    if not treated or not used:
        return None
    arm = treated[0]
    size = max(f.draws().size for f in used)
    benefit = np.zeros(size)
    parts = []
    for fit in used:
        outcome = valued[fit.outcome]
        level = protocol.level(outcome.level)
        people = level.per_unit.mean if level is not None else 1.0
        draws = np.resize(fit.draws(fit.terms[0]), size)
        benefit += float(outcome.value_per_unit or 0) * fit.thresholds.sign * draws * people
        parts.append(f"{outcome.label} (£{outcome.value_per_unit:g} a {outcome.unit or 'unit'}"
                     f" × {people:g} per {protocol.units.name})")
    extra_cost = arm.cost_per_unit - protocol.control.cost_per_unit
    per_unit = benefit - extra_cost
    units = protocol.units.planned
    low, high = np.quantile(per_unit, [0.025, 0.975])
    return {"currency": protocol.costs.currency, "arm": arm.id, "units": units,
            "unit": protocol.units.name, "extra_cost_per_unit": extra_cost,
            "per_unit_mean": float(per_unit.mean()), "per_unit_ci": [float(low), float(high)],
            "aggregate_mean": float(per_unit.mean() * units),
            "aggregate_ci": [float(low * units), float(high * units)],
            "p_positive": float((per_unit > 0).mean()),
            "note": "Value of " + "; ".join(parts) + ", less the extra cost per "
                    f"{protocol.units.name}; outcomes' posteriors combined as independent."}

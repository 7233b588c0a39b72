"""The hierarchical misuse model's rows: out of 100 workers (or units) like these, how many
would misuse the budget in a year, and what would it cost?

Orchestration only: the per-group counts come from
:func:`trialkit.estimate.spending.ledger.group_counts`, the model from
:func:`trialkit.estimate.bayesian.misuse_model.misuse_model`.
"""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd

from trialkit.analyse.spending_rows import MisuseModelRow
from trialkit.analyse.trial import model_rows
from trialkit.errors import EstimationError
from trialkit.estimate.spending.ledger import Ledger, group_counts
from trialkit.protocol import Protocol

#: Days in an average month, to turn the pilot's length into months.
DAYS_PER_MONTH = 365.25 / 12
LEVELS: tuple[Literal["worker", "unit"], ...] = ("worker", "unit")


def months_covered(protocol: Protocol, ledger: Ledger) -> float:
    """Months the ledger covers: the intervention period, else the span of its spends."""
    dates = protocol.dates
    if dates is not None:
        days = (dates.intervention_end - dates.intervention_start).days + 1
    else:
        spent = pd.to_datetime(ledger.spends[ledger.columns.date]).dropna()
        days = (spent.max() - spent.min()).days + 1 if len(spent) else 0
    return max(days, 1) / DAYS_PER_MONTH


def misuse_model_rows(
    protocol: Protocol,
    ledger: Ledger,
    *,
    draws: int | None,
    chains: int | None,
    tune: int | None,
    notes: list[str],
) -> tuple[MisuseModelRow, ...]:
    """One row per level (workers, when the ledger names them; units) with a review.

    A level the model cannot be fitted to gets a note in ``notes`` instead of a row.
    """
    from trialkit.estimate.bayesian.misuse_model import misuse_model

    monitored = protocol.costs.misuse
    if monitored is None:
        return ()
    plan = protocol.analysis.bayesian
    rows: list[MisuseModelRow] = []
    for level in LEVELS:
        if level == "worker" and ledger.columns.worker not in ledger.spends:
            continue
        counts = group_counts(ledger, level)
        if sum(counts.reviewed) == 0:
            continue
        losses = counts.losses
        mean = sum(losses) / len(losses) if losses else monitored.cost_per_case
        se = (pd.Series(losses).std() / math.sqrt(len(losses))) if len(losses) > 1 else 0.0
        try:
            fit = misuse_model(
                counts.reviewed,
                counts.cases,
                level=level,
                months=months_covered(protocol, ledger),
                tolerance=monitored.tolerance,
                loss_per_case=mean,
                loss_per_case_se=float(se),
                total_spends=counts.spends,
                draws=draws or plan.draws,
                chains=chains or plan.chains,
                tune=tune or plan.tune,
                seed=protocol.seed,
            )
        except EstimationError as err:
            notes.append(f"The misuse model per {level} was not fitted: {err}")
            continue
        if not (math.isfinite(fit.rhat_max) and math.isfinite(fit.ess_bulk_min)):
            notes.append(
                f"The misuse model per {level} is not shown: its convergence "
                "cannot be checked (R-hat needs at least two chains). Fix: run "
                "`trialkit analyse` with `--chains 2` or more."
            )
            continue
        rows.extend(
            model_rows(
                MisuseModelRow, [{name: getattr(fit, name) for name in MisuseModelRow.model_fields}]
            )
        )
    return tuple(rows)

"""The trial-side sections of the results document: flow, attrition, balance, schematic,
power and misuse. Orchestration only: the counts come from ``validate``, the balance
statistics from ``randomise.balance``, the misuse posterior from ``estimate.bayesian``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import pandas as pd

from trialkit.analyse.jsonable import plain, plain_mapping
from trialkit.analyse.trial_rows import (
    AttritionCheckRow,
    AttritionRow,
    BalanceRow,
    Flow,
    FlowArm,
    MisuseRow,
    PowerRow,
    SequenceRow,
    SteppedWedgeSchematic,
)
from trialkit.design import power_table
from trialkit.estimate.frequentist.analysis_frame import as_text
from trialkit.protocol import Protocol
from trialkit.randomise.balance import CovariateKind, covariate_rows
from trialkit.validate import TrialData

if TYPE_CHECKING:
    from trialkit.estimate.spending.ledger import Ledger


def model_rows(model: Any, records: Sequence[Mapping[Any, Any]], **extra: Any) -> tuple[Any, ...]:
    """Rows of ``model`` from plain records, keeping only the model's fields."""
    fields = model.model_fields
    return tuple(
        model.model_validate({k: plain(v) for k, v in {**r, **extra}.items() if k in fields})
        for r in records
    )


def frame_rows(model: Any, frame: pd.DataFrame, **extra: Any) -> tuple[Any, ...]:
    """Rows of ``model`` from a tidy frame (empty frame: no rows)."""
    if frame.empty:
        return ()
    return model_rows(model, frame.to_dict("records"), **extra)


def flow(data: TrialData) -> Flow | None:
    """The CONSORT flow of the first primary outcome with data."""
    if not data.flows:
        return None
    primary = data.flows[0]
    arms = []
    for arm in primary.arms:
        entry: dict[str, Any] = {
            k: v
            for k, v in asdict(arm).items()
            if k not in ("sizes_allocated", "sizes_analysed", "lost_reasons")
        }
        sizes = arm.sizes_allocated
        if sizes is not None:
            entry |= {
                "mean_cluster_size": sizes.mean,
                "min_cluster_size": sizes.min,
                "max_cluster_size": sizes.max,
            }
        entry["lost_reasons"] = arm.lost_reasons
        arms.append(FlowArm.model_validate(plain_mapping(entry)))
    return Flow(outcome=primary.outcome, level=primary.level, arms=tuple(arms))


def attrition(data: TrialData) -> tuple[tuple[AttritionRow, ...], tuple[AttritionCheckRow, ...]]:
    """Attrition counts per outcome, level and arm, and the WWC checks of each arm."""
    return (
        frame_rows(AttritionRow, data.attrition.to_frame()),
        frame_rows(AttritionCheckRow, data.attrition.checks_frame()),
    )


def _groups(protocol: Protocol, frame: pd.DataFrame) -> tuple[pd.Series, list[str], str]:
    """Balance groups: arms, or a stepped wedge's sequences (compared with the first)."""
    if protocol.design.stepped_wedge is not None and "step" in frame:
        group = "Sequence " + frame["step"].astype(int).astype(str)
        levels = sorted(set(group.unique()), key=lambda g: int(g.split()[-1]))
        return group, levels, levels[0]
    group = as_text(frame["arm"])  # categorical: no string per row
    present = set(group.unique())
    return group, [a.id for a in protocol.arms if a.id in present], protocol.control.id


def balance(protocol: Protocol, data: TrialData) -> tuple[BalanceRow, ...]:
    """Baseline balance of every declared covariate at its level, on the analysed rows.

    A stepped wedge compares its sequences (each with the first), as CONSORT's
    stepped-wedge extension asks; other designs compare each arm with control.
    """
    rows: list[BalanceRow] = []
    for cov in protocol.covariates:
        frame = data.frames.get(cov.level)
        if frame is None or cov.data_column not in frame:
            continue
        if protocol.design.stepped_wedge is not None and cov.level != protocol.units.name:
            continue  # repeated per period below the unit: compare sequences at unit level
        group, levels, reference = _groups(protocol, frame)
        if reference not in set(group.unique()):
            continue
        values = pd.to_numeric(frame[cov.data_column], errors="coerce")
        kept = values.notna()
        kind: CovariateKind = "binary" if cov.type == "binary" else "continuous"
        per_group = covariate_rows(cov.name, kind, values[kept], group[kept], levels, reference)
        means = {str(r["arm"]): plain(r["mean"]) for r in per_group}
        counts = {str(r["arm"]): int(str(r["n"])) for r in per_group}
        rows += [
            BalanceRow(
                covariate=cov.name,
                label=cov.label,
                level=cov.level,
                kind=kind,
                group=str(r["arm"]),
                reference=reference,
                means=means,
                n=counts,
                std_diff=plain(r["std_diff"]),
                verdict=str(r["wwc_verdict"]),
            )
            for r in per_group
            if r["arm"] != reference
        ]
    return tuple(rows)


def schematic(protocol: Protocol, data: TrialData) -> SteppedWedgeSchematic | None:
    """A stepped wedge's sequences × periods, from the allocation's steps."""
    wedge = protocol.design.stepped_wedge
    units = data.frames.get(protocol.units.name)
    if wedge is None or units is None or "step" not in units:
        return None
    steps = units.drop_duplicates("cluster")["step"].astype(int)
    counts = steps.value_counts()
    sequences = tuple(
        SequenceRow(
            label=f"Sequence {step}",
            clusters=int(counts.get(step, 0)),
            exposed=tuple(period >= step for period in range(wedge.periods)),
        )
        for step in range(1, wedge.steps + 1)
    )
    return SteppedWedgeSchematic(
        periods=tuple(f"Period {p + 1}" for p in range(wedge.periods)), sequences=sequences
    )


def power(protocol: Protocol) -> tuple[PowerRow, ...]:
    """The design's power and MDE of every outcome, as registered."""
    return frame_rows(PowerRow, power_table(protocol).to_frame())


def misuse(protocol: Protocol, data: TrialData, ledger: Ledger | None) -> MisuseRow | None:
    """The misuse rate among those given the new freedom (Beta posterior).

    With a spend ledger (``ledger``, and no ``costs.misuse.outcome``) the cases are spends
    in arms with a budget whose review verdict is misuse or fraud, out of the spends
    reviewed, and a case costs the mean loss reviewers recorded for them; otherwise the
    cases are the units flagged by the binary monitoring outcome ``costs.misuse.outcome``.
    """
    monitored = protocol.costs.misuse
    if monitored is None:
        return None
    if monitored.outcome is None:
        return _ledger_misuse(protocol, ledger)
    outcome = protocol.outcome(monitored.outcome)
    if outcome.level not in data.frames:
        return None
    frame = data.frames[outcome.level]
    given_freedom = frame["arm"] != protocol.control.id  # misuse needs the new freedom
    values = pd.to_numeric(frame.loc[given_freedom, outcome.data_column], errors="coerce").dropna()
    return _misuse_row(
        protocol,
        cases=int(values.sum()),
        reviewed=int(values.size),
        population=None,
        cost=monitored.cost_per_case or None,
        outcome=outcome.name,
        label=outcome.label,
        level=outcome.level,
    )


def _ledger_misuse(protocol: Protocol, ledger: Ledger | None) -> MisuseRow | None:
    """Misuse from the spend ledger's review verdicts (arms with a budget)."""
    from trialkit.estimate.spending.ledger import review_counts

    if ledger is None or protocol.spending is None or protocol.costs.misuse is None:
        return None
    counts = review_counts(ledger)
    fallback = protocol.costs.misuse.cost_per_case or None
    return _misuse_row(
        protocol,
        cases=counts.cases,
        reviewed=counts.reviewed,
        population=counts.spends,
        cost=counts.mean_loss if counts.cases else fallback,
        outcome=protocol.spending.columns.verdict,
        label="Spends judged misuse or fraud on review",
        level=protocol.spending.level,
    )


def _misuse_row(
    protocol: Protocol,
    *,
    cases: int,
    reviewed: int,
    population: int | None,
    cost: float | None,
    outcome: str,
    label: str,
    level: str,
) -> MisuseRow:
    from trialkit.estimate.bayesian.decisions import misuse_rate

    monitored = protocol.costs.misuse
    assert monitored is not None
    posterior = misuse_rate(
        cases, reviewed, tolerance=monitored.tolerance, population=population, cost_per_event=cost
    )
    fields = {k: v for k, v in asdict(posterior).items() if k not in ("events", "n")}
    return MisuseRow.model_validate(
        plain_mapping(
            {
                "outcome": outcome,
                "label": label,
                "description": monitored.description,
                "level": level,
                "cases": cases,
                "reviewed": reviewed,
                "observed_rate": cases / reviewed if reviewed else None,
                "currency": protocol.costs.currency,
                **fields,
            }
        )
    )

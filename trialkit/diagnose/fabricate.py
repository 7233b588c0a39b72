"""Fabricate realistic data from a protocol's own assumptions.

Used by ``trialkit simulate``, the demo and design diagnosis. Every outcome is drawn from a
latent normal with a cluster (unit) random effect whose share of variance is the declared
ICC and whose individual part is explained by the baseline to the declared R²; the latent is
then mapped to the outcome's type (continuous, binary, count, ordinal, proportion), shifted by
the declared effect (times ``effect_scale``) in every treated arm's units that take the
intervention up (a unit that does not keeps its control outcome), clipped to the declared
range, and lost at the declared attrition rate. Ordinal outcomes are written as their text
labels, as survey exports are. Time-to-event outcomes are written as joining and leaving
dates and leaving reasons (:mod:`trialkit.diagnose.survival`), never lost to attrition. A
count with an ``exposure`` (a rate) is drawn per unit of exposure and multiplied by each
row's exposure (:func:`draw_exposure`: FTE-years in post during the pilot).
A protocol with ``spending:`` gets a spend ledger at its spend level, drawn after the other
levels so that its workers and clients are theirs (:mod:`trialkit.diagnose.spend_ledger`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import special, stats

from trialkit.diagnose.spend_ledger import fabricate_ledger
from trialkit.diagnose.survival import add_survival
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Assumptions, Covariate, Outcome

FloatArray = NDArray[np.float64]


def fabricate(
    protocol: Protocol,
    units: pd.DataFrame,
    arms: pd.Series,
    *,
    rng: np.random.Generator,
    steps: pd.Series | None = None,
    effect_scale: float = 1.0,
) -> dict[str, pd.DataFrame]:
    """Fabricate one data frame per level (the unit's own level included).

    Parameters
    ----------
    protocol
        The pilot protocol; its outcomes' ``assumptions`` drive the draws.
    units
        The units file (one row per randomised unit).
    arms
        The arm of each unit, indexed by unit id.
    rng
        The random generator (simulation only; allocations use their own stream).
    steps
        For stepped-wedge designs, each unit's crossover step (1..steps), indexed by unit id.
    effect_scale
        Multiplies every declared treatment effect, in every treated arm: 1 simulates the
        declared effects, 0 no effect (the null), -1 effects of the same size in the harmful
        direction. Every treated arm gets the same (scaled) declared effect; for a
        time-to-event outcome the log hazard ratio is scaled.

    Returns
    -------
    dict
        Level name → data frame, ready to be written as ``data/<level>.csv``.
    """
    if not np.isfinite(effect_scale):
        raise ValueError(
            f"The 'effect_scale' parameter of fabricate must be a finite number. "
            f"Got {effect_scale!r} instead."
        )
    uid = protocol.units.id_column
    ids = units[uid].astype(str).to_numpy()
    unit_arm = arms.reindex(ids).to_numpy()
    effects = rng.standard_normal((len(ids), len(protocol.outcomes)))
    unit_frame = _unit_frame(protocol, units, unit_arm, rng)
    received = _received(protocol, unit_frame, unit_arm)
    every = np.arange(len(ids))
    _add_outcomes(
        unit_frame, protocol, protocol.units.name, every, received, effects, rng, scale=effect_scale
    )
    frames = {protocol.units.name: unit_frame}
    ledger = protocol.spending.level if protocol.spending is not None else None
    for level in protocol.levels:
        if level.name == ledger:  # drawn last: its rows name the clients and staff drawn here
            continue
        keep = np.isin(unit_arm, level.arms) if level.arms else np.ones(len(ids), bool)
        sizes = _sizes(level.per_unit.mean, level.per_unit.cv, len(ids), rng)
        sizes[~keep] = 0
        periods = protocol.design.stepped_wedge
        n_periods = periods.periods if periods else 1
        rows = np.repeat(np.arange(len(ids)), sizes * n_periods)
        frame = pd.DataFrame({level.unit_column: ids[rows]})
        if periods is not None and steps is not None:
            frame[periods.period_column] = np.concatenate(
                [np.repeat(np.arange(n_periods), s) for s in sizes]
            )
            step = steps.reindex(ids).to_numpy()[rows]
            treated = frame[periods.period_column].to_numpy() >= step
        else:
            treated = received[rows]
        frame.insert(
            0, level.id_column, [f"{level.name[:2].upper()}{i + 1:05d}" for i in range(len(frame))]
        )
        _add_covariates(frame, protocol, level.name, rng)
        _add_outcomes(frame, protocol, level.name, rows, treated, effects, rng, scale=effect_scale)
        frames[level.name] = frame
    if ledger is not None:
        frames[ledger] = _ledger(protocol, frames, ids, unit_arm, effects, rng, scale=effect_scale)
    return {name: frames[name] for name in protocol.level_names if name in frames}


def _ledger(
    protocol: Protocol,
    frames: dict[str, pd.DataFrame],
    ids: NDArray[np.object_],
    unit_arm: NDArray[np.object_],
    effects: FloatArray,
    rng: np.random.Generator,
    *,
    scale: float,
) -> pd.DataFrame:
    """The spend ledger, plus any covariates and outcomes declared at its level."""
    assert protocol.spending is not None
    level = protocol.level(protocol.spending.level)
    assert level is not None
    frame = fabricate_ledger(protocol, frames, ids, unit_arm, rng=rng)
    rows = pd.Index(ids).get_indexer(pd.Index(frame[level.unit_column])).astype(np.int64)
    _add_covariates(frame, protocol, level.name, rng)
    _add_outcomes(
        frame,
        protocol,
        level.name,
        rows,
        unit_arm[rows] != protocol.control.id,
        effects,
        rng,
        scale=scale,
    )
    return frame


def _received(
    protocol: Protocol, unit_frame: pd.DataFrame, unit_arm: NDArray[np.object_]
) -> NDArray[np.bool_]:
    """Which units receive the intervention: those in a treated arm that take it up (the
    first CACE estimand's take-up column), so the effect flows only through take-up (the
    exclusion restriction)."""
    column = next(
        (e.take_up_column for e in protocol.estimands if e.type == "CACE" and e.take_up_column),
        None,
    )
    if column is not None and column in unit_frame:
        return np.asarray(unit_frame[column].to_numpy() == 1, dtype=bool)
    return np.asarray(unit_arm != protocol.control.id, dtype=bool)


def fabricate_units(
    protocol: Protocol, *, rng: np.random.Generator, n: int | None = None
) -> pd.DataFrame:
    """A fictional units file: ids, blocks, clusters and unit-level covariates.

    ``n`` defaults to the protocol's planned number of units. Blocks are spread evenly
    (``<column>-1``, ``<column>-2``, ...); where the cluster column differs from the unit id,
    units are grouped into clusters of about five within blocks.
    """
    n = n or protocol.units.planned
    uid = protocol.units.id_column
    width = len(str(n))
    frame = pd.DataFrame(
        {uid: [f"{protocol.units.name[:1].upper()}{i + 1:0{width}d}" for i in range(n)]}
    )
    n_blocks = max(1, min(4, n // 8))
    block = np.arange(n) % n_blocks
    for column in protocol.design.block_columns:
        frame[column] = [f"{column}-{b + 1}" for b in block]
    cluster = protocol.design.cluster_column
    if cluster and cluster != uid:
        order = np.argsort(block, kind="stable")
        ids = np.empty(n, dtype=object)
        ids[order] = [f"C{i // 5 + 1:03d}-{block[j] + 1}" for i, j in enumerate(order)]
        frame[cluster] = ids
    for cov in protocol.covariates:
        if cov.level == protocol.units.name:
            frame[cov.data_column] = _covariate(cov, n, rng)
    for sub in protocol.subgroups:
        if sub.level == protocol.units.name:
            levels = list(sub.levels) or ["0", "1"]
            frame[sub.column] = rng.choice(levels, size=n, p=list(sub.shares) or None)
    return frame


def _sizes(mean: float, cv: float, n: int, rng: np.random.Generator) -> NDArray[np.int64]:
    if cv == 0:
        return np.full(n, max(1, round(mean)), dtype=np.int64)
    shape = 1.0 / cv**2
    return np.maximum(1, np.round(rng.gamma(shape, mean / shape, n))).astype(np.int64)


def _unit_frame(
    protocol: Protocol, units: pd.DataFrame, unit_arm: NDArray[np.object_], rng: np.random.Generator
) -> pd.DataFrame:
    """The unit-level extract: ids, unit covariates and subgroups, take-up."""
    uid = protocol.units.id_column
    keep = [c.data_column for c in protocol.covariates if c.level == protocol.units.name]
    keep += [s.column for s in protocol.subgroups if s.level == protocol.units.name]
    frame = units[[uid, *[c for c in keep if c in units.columns]]].copy()
    frame[uid] = frame[uid].astype(str)
    treated = unit_arm != protocol.control.id
    for estimand in protocol.estimands:
        if estimand.take_up_column:
            took = rng.random(len(frame)) < protocol.power.compliance
            frame[estimand.take_up_column] = (treated & took).astype(int)
    return frame.reset_index(drop=True)


def _add_covariates(
    frame: pd.DataFrame, protocol: Protocol, level: str, rng: np.random.Generator
) -> None:
    for sub in protocol.subgroups:
        if sub.level == level and sub.column not in frame:
            levels = list(sub.levels) or ["0", "1"]
            shares = list(sub.shares) or [1 / len(levels)] * len(levels)
            frame[sub.column] = rng.choice(levels, size=len(frame), p=shares)
    baselines = {o.baseline for o in protocol.outcomes if o.level == level and o.baseline}
    for cov in protocol.covariates:
        if cov.level == level and cov.data_column not in baselines | set(frame.columns):
            frame[cov.data_column] = _covariate(cov, len(frame), rng)


def _covariate(cov: Covariate, n: int, rng: np.random.Generator) -> NDArray[np.generic]:
    if cov.type == "categorical":  # no declared levels: three anonymous categories
        return np.asarray(rng.choice(["A", "B", "C"], size=n), dtype=object)
    if cov.type == "binary":
        return (rng.random(n) < (cov.rate or 0.5)).astype(np.int64)
    mean = 0.0 if cov.mean is None else cov.mean
    return np.round(mean + (cov.sd or 1.0) * rng.standard_normal(n), 1)


def _add_outcomes(
    frame: pd.DataFrame,
    protocol: Protocol,
    level: str,
    rows: NDArray[np.int64],
    treated: NDArray[np.bool_],
    effects: FloatArray,
    rng: np.random.Generator,
    *,
    scale: float = 1.0,
) -> None:
    lost = rng.random(len(frame)) < protocol.power.attrition  # a lost person loses every outcome
    for k, outcome in enumerate(protocol.outcomes):
        a = outcome.assumptions
        if outcome.level != level or a is None:
            continue
        if outcome.survival is not None:  # dates and reasons; HR records have no non-response
            add_survival(
                frame,
                protocol,
                outcome,
                frailty=effects[rows, k],
                treated=treated,
                rng=rng,
                scale=scale,
            )
            continue
        n = len(frame)
        exposure = None
        if outcome.exposure is not None:  # HR records: known for everyone, never lost
            if outcome.exposure not in frame:
                frame[outcome.exposure] = draw_exposure(protocol, n, rng)
            exposure = pd.to_numeric(frame[outcome.exposure]).to_numpy(dtype=np.float64)
        individual = rng.standard_normal(n)
        baseline_part = rng.standard_normal(n)
        cluster = np.sqrt(a.icc) * effects[rows, k]
        within = np.sqrt(1 - a.icc) * (
            np.sqrt(a.r2) * baseline_part + np.sqrt(1 - a.r2) * individual
        )
        latent = cluster + within
        values = _outcome_values(outcome, a, latent, treated, rng, scale=scale, exposure=exposure)
        if outcome.baseline:
            base_latent = cluster + np.sqrt(1 - a.icc) * baseline_part
            base = _outcome_values(
                outcome, a, base_latent, np.zeros(n, bool), rng, exposure=exposure
            )
            frame[outcome.baseline] = base
        column = pd.Series(values).mask(lost)
        if outcome.type in ("binary", "count"):
            column = column.astype("Int64")
        frame[outcome.data_column] = column.set_axis(frame.index)


#: Share of staff working full time; the others work 0.5 to 0.9 FTE.
FULL_TIME_SHARE = 0.7
#: Share in post for the whole pilot; the others (joiners, leavers) for 10-100% of it.
WHOLE_PERIOD_SHARE = 0.85


def draw_exposure(protocol: Protocol, n: int, rng: np.random.Generator) -> FloatArray:
    """Each row's exposure in FTE-years: FTE × years in post during the intervention.

    The intervention period is ``dates.intervention_start`` to ``intervention_end`` (half a
    year when the protocol has no dates); values are rounded to 3 decimals, as HR extracts
    give them.
    """
    dates = protocol.dates
    years = 0.5
    if dates is not None:
        years = ((dates.intervention_end - dates.intervention_start).days + 1) / 365.25
    part_time = rng.choice(np.array([0.5, 0.6, 0.7, 0.8, 0.9]), size=n)
    fte = np.where(rng.random(n) < FULL_TIME_SHARE, 1.0, part_time)
    share = np.where(rng.random(n) < WHOLE_PERIOD_SHARE, 1.0, rng.uniform(0.1, 1.0, n))
    return np.asarray(np.round(fte * years * share, 3), dtype=np.float64)


def _outcome_values(
    outcome: Outcome,
    a: Assumptions,
    latent: FloatArray,
    treated: NDArray[np.bool_],
    rng: np.random.Generator,
    *,
    scale: float = 1.0,
    exposure: FloatArray | None = None,
) -> NDArray[np.generic]:
    """Outcome values from the latent normal; a count with ``exposure`` is drawn as a rate
    per unit of exposure and multiplied by it (the declared range bounds the count)."""
    # One arm's potential outcomes (every row treated, or none): one shift for all rows,
    # so that a binary outcome's threshold is found once, not once per row.
    shift: FloatArray | float = (
        scale * a.effect
        if treated.all()
        else 0.0
        if not treated.any()
        else np.where(treated, scale * a.effect, 0.0)
    )
    if outcome.type == "binary":
        rate = a.rate if a.rate is not None else 0.5
        threshold = stats.norm.ppf(np.clip(rate + shift, 1e-6, 1 - 1e-6))
        return np.asarray(latent < threshold, dtype=float)
    if outcome.type == "ordinal":
        probs = np.asarray(a.distribution or [1 / len(outcome.levels)] * len(outcome.levels))
        cuts = special.logit(np.clip(np.cumsum(probs)[:-1], 1e-9, 1 - 1e-9))
        logistic = latent * (np.pi / np.sqrt(3)) + shift
        codes = np.searchsorted(cuts, logistic)
        labels: NDArray[np.object_] = np.asarray(outcome.levels, dtype=object)
        return np.asarray(labels[codes], dtype=object)
    mean = a.mean if a.mean is not None else 0.0
    sd = a.sd if a.sd is not None else 1.0
    if outcome.type == "proportion":
        return np.asarray(
            special.expit(special.logit(np.clip(mean, 0.01, 0.99)) + latent + shift), dtype=float
        )
    values = mean + shift + sd * latent
    if outcome.type == "count":
        if exposure is not None:
            values = np.maximum(values, 0.0) * exposure
        values = np.round(np.maximum(values, 0.0) + rng.random(len(values)) - 0.5)
        values = np.maximum(values, 0.0)
    elif outcome.range is not None and float(outcome.range[0]).is_integer():
        values = np.round(values)
    if outcome.range is not None:
        values = np.clip(values, *outcome.range)
    return np.asarray(values, dtype=float)

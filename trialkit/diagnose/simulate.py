"""Diagnose the declared design by simulation (DeclareDesign's ``diagnose_design``).

Each simulation fabricates outcome data from the protocol's assumptions, randomises with
the protocol's own scheme, and estimates with the plan's estimator and standard errors
(batched over simulations where the estimator is ``ols``/``lin`` with HC2/CR2, otherwise
the plan's DataFrame estimator one simulation at a time). A time-to-event outcome is drawn
as leaving times and analysed by the registered plan one simulation at a time
(:mod:`~trialkit.diagnose.survival_sim`), for two inquiries: the RMST difference (keyed by
the outcome's name) and the Cox log hazard ratio (``<name>:log_hr``). Simulations run in
chunks; chunk ``i`` of variant ``v`` draws from ``SeedSequence(seed, spawn_key=(v, i))`` (what
``SeedSequence(seed).spawn`` gives), so results are identical on any engine and any number
of workers.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Hashable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from trialkit._core.blas import one_blas_thread
from trialkit._core.memory import reusing_freed_pages
from trialkit._core.provenance import Provenance
from trialkit._core.rng import RawStream
from trialkit.diagnose.batched import BatchedFit, fit_cr2, fit_hc2
from trialkit.diagnose.diagnosands import BOOTSTRAP_SIMS, Simulated, diagnosands
from trialkit.diagnose.executors import EngineName, Task, auto_engine, engine, run_tasks
from trialkit.diagnose.fabricate import fabricate_units
from trialkit.diagnose.frames import estimate_cace_frames, estimate_frames
from trialkit.diagnose.generate import (
    SimulationDesign,
    batch_problem,
    compile_design,
    draw_outcome,
    is_clustered,
    take_up_column,
)
from trialkit.diagnose.inquiries import CACE, cace_estimand, itt_estimand
from trialkit.diagnose.layout import ObservedRows, design_arrays
from trialkit.diagnose.results import Diagnosis
from trialkit.diagnose.survival_sim import LOG_HR, ROW_COLUMNS, survival_chunk
from trialkit.errors import TrialkitError
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Outcome
from trialkit.protocol.vocabulary import COMPARED_ROLES

OutcomeSet = Literal["primary", "compared"]
#: Design-matrix elements (sims x rows x columns) a chunk aims at, when none is given.
CHUNK_ELEMENTS = 1 << 22
#: Simulations per chunk of a time-to-event outcome (fitted one simulation at a time).
SURVIVAL_CHUNK = 25


@dataclass(frozen=True, slots=True)
class Chunk:
    """Simulations ``start .. start + size`` of variant ``variant``, keyed for seeding."""

    variant: int
    index: int
    start: int
    size: int
    seed: int


def select_outcomes(protocol: Protocol, outcomes: OutcomeSet | Sequence[str]) -> tuple[str, ...]:
    """Names of the outcomes to diagnose: primary, every compared one, or those named."""
    if outcomes == "primary":
        chosen = [o for o in protocol.outcomes if o.role == "primary"]
    elif outcomes == "compared":
        chosen = [o for o in protocol.outcomes if o.role in COMPARED_ROLES]
    else:
        known = [o.name for o in protocol.outcomes]
        for name in outcomes:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean `{close[0]}`?)" if close else ""
                raise TrialkitError(
                    f"the protocol has no outcome `{name}`{hint}. Fix: name one of its "
                    f"outcomes: {', '.join(known)}."
                )
        chosen = [protocol.outcome(name) for name in outcomes]
    chosen = [o for o in chosen if o.assumptions is not None]
    if not chosen:
        raise TrialkitError(
            "no outcome to diagnose: the outcomes chosen declare no "
            "`assumptions`. Fix: add assumptions (mean, sd or rate, effect)."
        )
    return tuple(o.name for o in chosen)


def result_keys(protocol: Protocol, names: Sequence[str], *, cace: bool = True) -> tuple[str, ...]:
    """The diagnosis's inquiries: each outcome's ITT (its name; ``<name>[<arm>]`` per
    treated arm when there are several), its CACE (``<name>:cace``, likewise per arm) where
    the protocol declares non-compliance, and for a time-to-event outcome its RMST
    difference (the name) and Cox log hazard ratio (``<name>:log_hr``)."""
    keys: list[str] = []
    for name in names:
        if protocol.outcome(name).type == "survival":
            keys += [name, name + LOG_HR]
            continue
        keys += [_key(protocol, name, arm) for arm in _treated(protocol)]
        if cace and take_up_column(protocol) is not None:
            keys += [_key(protocol, name + CACE, arm) for arm in _treated(protocol)]
    return tuple(keys)


def _treated(protocol: Protocol) -> list[str]:
    return [arm.id for arm in protocol.arms if not arm.control]


def _key(protocol: Protocol, name: str, arm: str) -> str:
    return name if len(_treated(protocol)) == 1 else f"{name}[{arm}]"


def run_chunk(
    design: SimulationDesign,
    outcomes: tuple[str, ...],
    chunk: Chunk,
    ci_level: float,
    cace: bool = True,
) -> dict[str, np.ndarray]:
    """Simulate one chunk: ``(size, 7)`` rows per inquiry (``RESULT_COLUMNS``, estimand).

    BLAS runs on one thread: the matrices are small and batched, and parallelism comes
    from running chunks side by side (threaded BLAS on small products is many times slower).
    """
    with one_blas_thread():
        return _run_chunk(design, outcomes, chunk, ci_level, cace)


def _run_chunk(
    design: SimulationDesign,
    outcomes: tuple[str, ...],
    chunk: Chunk,
    ci_level: float,
    cace: bool,
) -> dict[str, np.ndarray]:
    p = design.protocol
    draw_seq, data_seq = np.random.SeedSequence(
        chunk.seed, spawn_key=(chunk.variant, chunk.index)
    ).spawn(2)
    stream = RawStream(int.from_bytes(draw_seq.generate_state(4, np.uint32).tobytes(), "little"))
    arms = np.concatenate(list(design.scheme.draw_many(stream, chunk.size)), axis=0)
    rng = np.random.default_rng(data_seq)
    out: dict[str, np.ndarray] = {}
    for name in outcomes:
        outcome = p.outcome(name)
        if outcome.type == "survival":
            out.update(survival_chunk(design, outcome, arms, rng, ci_level=ci_level))
            continue
        draw = draw_outcome(design, outcome, arms, rng)
        if batch_problem(p, outcome) is None:
            fit = batched_fit(p, outcome, design_arrays(design, draw))
            p_value, low, high = fit.inference(ci_level)
            rows = {
                _treated(p)[0]: np.column_stack(
                    [fit.estimate, fit.std_error, fit.df, p_value, low, high]
                )
            }
        else:
            rows = estimate_frames(design, outcome, draw, ci_level=ci_level)
        truth = itt_estimand(draw)[:, None]
        out.update({_key(p, name, arm): np.hstack([r, truth]) for arm, r in rows.items()})
        if cace and take_up_column(p) is not None:
            truth = cace_estimand(draw)[:, None]
            rows = estimate_cace_frames(design, outcome, draw, ci_level=ci_level)
            out.update(
                {_key(p, name + CACE, arm): np.hstack([r, truth]) for arm, r in rows.items()}
            )
    return out


def batched_fit(protocol: Protocol, outcome: Outcome, rows: ObservedRows) -> BatchedFit:
    """The plan's errors on batched designs: CR2 with clusters; HC2 without, with the plan's
    df (Bell-McCaffrey's, which are CR2's with every row its own cluster, as each unit's one
    row is here, in closed form; ``residual``: N - k)."""
    hc2 = not is_clustered(protocol, outcome)
    bell_mccaffrey = protocol.analysis.frequentist.df == "bell_mccaffrey"
    parts = [
        (
            pick,
            fit_hc2(part.x, part.y, part.mask, bell_mccaffrey=bell_mccaffrey)
            if hc2
            else fit_cr2(part.x, part.y, part.mask, part.cluster, part.clusters),
        )
        for pick, part in rows.groups()
    ]
    return BatchedFit.combine(parts, len(rows.mask))


def _chunk_size(design: SimulationDesign, outcome: Outcome) -> int:
    """Simulations per chunk: a fixed function of the design, never of the workers."""
    p = design.protocol
    if outcome.type == "survival":
        return SURVIVAL_CHUNK
    level = p.level(outcome.level)
    per_unit = 1.0 if level is None else level.per_unit.mean * (1 + 3 * level.per_unit.cv)
    k = 2 + 2 * (len(p.covariates) + 4)
    return int(np.clip(CHUNK_ELEMENTS // max(1, design.n_units * per_unit * k), 1, 100))


def _variants(protocol: Protocol, variants: Sequence[int] | None) -> tuple[int, ...]:
    chosen = (
        list(variants)
        if variants is not None
        else [protocol.units.planned, *protocol.power.variants]
    )
    if any(not isinstance(v, int | np.integer) or v < 2 for v in chosen):
        raise TrialkitError(
            f"The 'variants' parameter must list numbers of units of at least "
            f"2. Got {chosen!r} instead."
        )
    return tuple(sorted(set(int(v) for v in chosen)))


def _design_for(protocol: Protocol, n: int, seed: int) -> SimulationDesign:
    units = fabricate_units(protocol, rng=np.random.default_rng([seed, n]), n=n)
    return compile_design(protocol, _randomisable_blocks(protocol, units))


def _randomisable_blocks(protocol: Protocol, units: pd.DataFrame) -> pd.DataFrame:
    """``units`` with every block holding at least the units the arms' ratios need.

    Fabricated block labels follow a subgroup's shares (the school protocol's 8% special
    schools), so a small variant can draw a block of one school, which no blocked scheme can
    randomise; units of the largest block are moved to it (the last ones, deterministically).
    Only where units are their own clusters; a stepped wedge allows small blocks.
    """
    d = protocol.design
    uid = protocol.units.id_column
    if d.stepped_wedge is not None or d.cluster_column not in (None, uid) or not d.block_columns:
        return units
    ratios = [arm.ratio for arm in protocol.arms]
    need = -(-sum(ratios) // min(ratios))
    frame = units.copy()
    for column in d.block_columns:
        counts = frame[column].value_counts()
        if len(counts) * need > len(frame):
            continue
        for label in counts.index[counts < need]:
            largest = frame[column].value_counts().index[0]
            short = need - int((frame[column] == label).sum())
            moved = frame.index[frame[column] == largest][-short:]
            frame.loc[moved, column] = label
    return frame


def diagnose(
    protocol: Protocol,
    *,
    sims: int = 500,
    variants: Sequence[int] | None = None,
    outcomes: OutcomeSet | Sequence[str] = "primary",
    seed: int | None = None,
    executor: Executor | Any | EngineName | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    bootstrap_sims: int = BOOTSTRAP_SIMS,
    progress: bool = True,
    estimands: Sequence[str] | None = None,
) -> Diagnosis:
    """Diagnose the protocol's design by simulation, for one or more numbers of units.

    Parameters
    ----------
    protocol
        The protocol: assumptions, scheme, estimator, SE type and alpha come from it.
    sims
        Simulations per design variant (DeclareDesign's default, 500).
    variants
        Numbers of units to compare; default the planned number and ``power.variants``.
    outcomes
        ``"primary"`` (default), ``"compared"`` (every outcome the plan compares), or names.
    seed
        Root seed; default the protocol's registered seed.
    executor
        ``"serial"``, ``"processes"``, ``"dask"``, or an open
        ``concurrent.futures.Executor`` / ``distributed.Client``. Default: chosen by
        :func:`~trialkit.diagnose.executors.auto_engine` (in this process on two CPUs or
        fewer and for small jobs, else one process per CPU) unless ``workers`` or
        ``scheduler`` is given.
    workers
        Local processes, or Dask ``LocalCluster`` workers on 127.0.0.1 (1: in this process).
    scheduler
        A Dask scheduler address (``"tcp://host:port"``); implies ``executor="dask"``.
    chunk_size
        Simulations per task; default a function of the design's size (never of workers).
    bootstrap_sims
        Bootstrap resamples for Monte Carlo SEs of nonlinear diagnosands.
    progress
        Show a tqdm progress bar.
    estimands
        Estimand types to diagnose, ``"ITT"`` and/or ``"CACE"``; default every one the
        protocol declares (CACE where it declares non-compliance, ``power.compliance < 1``,
        and a take-up column).

    Returns
    -------
    Diagnosis
        Diagnosands with Monte Carlo SEs per variant and outcome, and every simulation.

    Raises
    ------
    TrialkitError
        Bad parameters, or a design that cannot be simulated (stepped wedge).

    Notes
    -----
    The estimand is the outcome's declared ``effect``: for continuous, count and binary
    outcomes the effect in outcome units (bias then includes what rounding and clipping to
    the declared range take off); for ordinal and proportion outcomes the declared effect
    is on the latent (logit) scale while the plan estimates a difference in codes or
    proportions, so read power, not bias or coverage, for those. A time-to-event outcome
    has two inquiries, each computed from every simulated data set's potential outcomes
    (:mod:`~trialkit.diagnose.survival_sim`): the RMST difference in days (the outcome's
    name; the registered estimate) and the Cox log hazard ratio (``<name>:log_hr``; robust
    CR0-like SEs with normal intervals); the table's ``estimand`` is their mean over
    simulations. They are fitted one simulation at a time (a few hundredths of a second
    each).

    Examples
    --------
    >>> from trialkit.protocol import load_protocol
    >>> p = load_protocol("protocols/council_discretionary_budget.yaml")  # doctest: +SKIP
    >>> d = diagnose(p, sims=500, workers=2)  # doctest: +SKIP
    >>> print(d.summary())  # doctest: +SKIP
    """
    if not isinstance(sims, int | np.integer) or sims < 2:
        raise TrialkitError(
            f"The 'sims' parameter must be a whole number of at least 2. Got {sims!r} instead."
        )
    seed = protocol.seed if seed is None else int(seed)
    cace = _wants_cace(protocol, estimands)
    names = select_outcomes(protocol, outcomes)
    sizes = _variants(protocol, variants)
    designs = [_design_for(protocol, n, seed) for n in sizes]
    ci_level = 1.0 - protocol.analysis.frequentist.alpha
    tasks: dict[Hashable, Task] = {}
    for v, design in enumerate(designs):
        size = chunk_size or min(_chunk_size(design, protocol.outcome(n)) for n in names)
        for i, start in enumerate(range(0, sims, size)):
            chunk = Chunk(v, i, start, min(size, sims - start), seed)
            tasks[(v, i)] = (run_chunk, (design, names, chunk, ci_level, cace))
    results = _run(tasks, sims * len(designs), executor, workers, scheduler, progress)
    keys = result_keys(protocol, names, cace=cace)
    diagnosis = _assemble(
        sizes,
        keys,
        results,
        alpha=protocol.analysis.frequentist.alpha,
        protocol_hash=protocol.content_hash(),
        sims=sims,
        seed=seed,
        bootstrap_sims=bootstrap_sims,
    )
    return dataclasses.replace(
        diagnosis, declared=protocol.units.planned, design=_described(protocol)
    )


def _wants_cace(protocol: Protocol, estimands: Sequence[str] | None) -> bool:
    known = ("ITT", "CACE")
    chosen = known if estimands is None else tuple(estimands)
    wrong = [e for e in chosen if e not in known]
    if wrong:
        raise TrialkitError(
            f"The 'estimands' parameter must list estimand types among {', '.join(known)}. "
            f"Got {wrong!r} instead."
        )
    return "CACE" in chosen


def _described(protocol: Protocol) -> str:
    d = protocol.design
    arms = " vs ".join(arm.id for arm in protocol.arms)
    units = f"{protocol.units.planned} {protocol.units.name}s"
    text = f"{d.type} randomisation, scheme {d.scheme}, {units} ({arms})"
    if d.stepped_wedge is not None:
        text += f", {d.stepped_wedge.steps} steps over {d.stepped_wedge.periods} periods"
    column = take_up_column(protocol)
    if column is not None:
        text += f"; take-up `{column}` {protocol.power.compliance:g} (CACE among compliers)"
    return text


def _run(
    tasks: dict[Hashable, Task],
    total: int,
    executor: Any,
    workers: int | None,
    scheduler: str | None,
    progress: bool,
) -> dict[Hashable, Any]:
    from tqdm.auto import tqdm

    if executor is None and scheduler is None and workers is None:
        executor = auto_engine(tasks=len(tasks), sims=total)
    with (
        reusing_freed_pages(),  # chunks run here reuse the last one's pages
        tqdm(total=total, disable=not progress, unit="sim", desc="diagnose") as bar,
        engine(executor=executor, workers=workers, scheduler=scheduler, tasks=len(tasks)) as runner,
    ):

        def advance(key: Hashable, value: dict[str, np.ndarray]) -> None:
            bar.update(len(next(iter(value.values()))))

        return run_tasks(runner, tasks, on_result=advance)


def _assemble(
    sizes: tuple[int, ...],
    names: tuple[str, ...],
    results: dict[Hashable, Any],
    *,
    alpha: float,
    protocol_hash: str,
    sims: int,
    seed: int,
    bootstrap_sims: int,
) -> Diagnosis:
    rows, frames = [], []
    for v, n in enumerate(sizes):
        keys = sorted(k for k in results if isinstance(k, tuple) and k[0] == v)
        chunks = [results[key] for key in keys]
        for j, name in enumerate(names):
            values = np.concatenate([chunk[name] for chunk in chunks], axis=0)
            truth = values[:, 6]
            constant = truth.size > 0 and bool(np.all(truth == truth[0]))
            estimand = float(truth[0]) if constant else truth  # a declared effect, or per sim
            sim = Simulated(
                values[:, 0], values[:, 1], values[:, 3], values[:, 4], values[:, 5], estimand
            )
            effect = sim.finite().mean_estimand()
            boot = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(v, j, 1 << 20)))
            for diag, (estimate, mc_se) in diagnosands(
                sim, alpha=alpha, rng=boot, bootstrap_sims=bootstrap_sims
            ).items():
                rows.append(
                    {
                        "variant": v,
                        "n_units": n,
                        "outcome": name,
                        "estimand": effect,
                        "diagnosand": diag,
                        "estimate": estimate,
                        "mc_se": mc_se,
                        "n_sims": int(np.isfinite(sim.estimate).sum()),
                    }
                )
            frame = pd.DataFrame(values, columns=list(ROW_COLUMNS))
            frame.insert(0, "sim", np.arange(len(values)))
            frame.insert(0, "outcome", name)
            frame.insert(0, "n_units", n)
            frames.append(frame)
    return Diagnosis(
        table=pd.DataFrame(rows),
        simulations=pd.concat(frames, ignore_index=True),
        sims=sims,
        alpha=alpha,
        seed=seed,
        provenance=Provenance(protocol_hash=protocol_hash, seed=seed),
    )

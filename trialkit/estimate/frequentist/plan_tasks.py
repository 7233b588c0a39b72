"""The frequentist plan as tasks on a Dask cluster (or any executor), results in order.

:func:`~.plan.fit` in this process fits the outcomes one after another. Given an engine it
hands the work to :func:`fit_on` instead: one task per compared outcome, one per subgroup
of a primary outcome (its longest part) and one per summary index, each task a pure
function of the protocol, its level's analysis frame and what it fits. Each level's frame
is sent once to every worker; the results are put back in the order the plan gives them.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

import pandas as pd

from trialkit._core.executors import Task, run_tasks, shared
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame, analysis_frame
from trialkit.estimate.frequentist.plan import OutcomeFit, fit_outcome, subgroup_fit
from trialkit.estimate.frequentist.plan_families import family_index, index_families
from trialkit.protocol import Protocol
from trialkit.protocol.outcomes import Family, Outcome, Subgroup
from trialkit.validate import TrialData


def fit_on(
    engine: Executor | Any,
    protocol: Protocol,
    data: TrialData,
    outcomes: Sequence[Outcome],
    frames: dict[str, AnalysisFrame],
) -> tuple[list[OutcomeFit], list[list[dict[str, Any]]]]:
    """Each outcome's fit, in the order of ``outcomes``, and each indexed family's rows,
    in the order of :func:`~.plan_families.index_families`, computed as tasks on ``engine``.

    ``frames`` gets each level's analysis frame, built here once.
    """
    families = index_families(protocol, data, [])  # its notes are the plan's to make
    firsts = [members[0] for _, members in families]
    for outcome in [*outcomes, *firsts]:
        analysis_frame(protocol, data, outcome, levels=frames)
    with shared(engine, {o.level: frames[o.level] for o in [*outcomes, *firsts]}) as level:
        tasks: dict[Hashable, Task] = {}
        for i, o in enumerate(outcomes):
            tasks["outcome", i] = (_outcome, (protocol, level[o.level], o))
            if o.role == "primary" and o.type != "survival":
                for j, sub in enumerate(protocol.subgroups):
                    tasks["subgroup", i, j] = (_subgroup, (protocol, level[o.level], o, sub))
        for k, (family, members) in enumerate(families):
            tasks["index", k] = (_index, (protocol, level[members[0].level], family, members))
        found = run_tasks(engine, tasks, label="trialkit-analyse", retries=0)  # errors repeat
    fits = []
    for i in range(len(outcomes)):
        tables = (found.get(("subgroup", i, j)) for j in range(len(protocol.subgroups)))
        subgroups = tuple(t for t in tables if t is not None)
        fits.append(replace(found["outcome", i], subgroups=subgroups))
    return fits, [found["index", k] for k in range(len(families))]


def _view(level: AnalysisFrame, outcome: Outcome) -> AnalysisFrame:
    """``outcome``'s own view of its level's frame, as
    :func:`~.analysis_frame.analysis_frame` gives it: a shallow copy of the rows (a column
    one task adds is not seen by the others) and the outcome's baseline.

    (A Dask worker of one thread runs BLAS on one thread, as ``analyse`` does in process.)
    """
    baseline = outcome.baseline if outcome.baseline in level.data else None
    return replace(level, data=level.data.copy(deep=False), baseline=baseline)


def _outcome(protocol: Protocol, level: AnalysisFrame, outcome: Outcome) -> OutcomeFit:
    return fit_outcome(protocol, _view(level, outcome), outcome, subgroups=False)


def _subgroup(
    protocol: Protocol, level: AnalysisFrame, outcome: Outcome, sub: Subgroup
) -> pd.DataFrame | None:
    return subgroup_fit(protocol, _view(level, outcome), outcome, sub)


def _index(
    protocol: Protocol, level: AnalysisFrame, family: Family, members: Sequence[Outcome]
) -> list[dict[str, Any]]:
    return family_index(protocol, _view(level, members[0]), family, members)

"""Where simulation chunks run: in process, on local processes, or on a Dask cluster.

Every chunk is a pure function of its key (its seed is derived from the key), so the
assembled results do not depend on the engine, the number of workers, the order in which
chunks finish, or on a chunk being run twice after a worker was lost. The engines are
:mod:`trialkit._core.executors`'; this module adds the rule that picks one for a diagnosis.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import Executor
from typing import Any

from trialkit._core.executors import (
    DASK_RETRIES,
    EngineName,
    Task,
    available_cpus,
    engine,
)
from trialkit._core.executors import run_tasks as _run_tasks

__all__ = [
    "DASK_RETRIES",
    "SMALL_JOB_SIMS",
    "EngineName",
    "Task",
    "auto_engine",
    "available_cpus",
    "engine",
    "run_tasks",
]

#: Jobs of fewer simulations than this run in this process: each worker process imports the
#: statistics stack first (seconds), which would cost more than it saves.
SMALL_JOB_SIMS = 100


def auto_engine(*, tasks: int, sims: int, cpus: int | None = None) -> EngineName:
    """The engine for a run given no executor, scheduler or number of workers.

    In this process (``"serial"``) on two CPUs or fewer, for a single task and for jobs
    under :data:`SMALL_JOB_SIMS` simulations; one process per CPU otherwise.

    Examples
    --------
    >>> auto_engine(tasks=12, sims=500, cpus=2), auto_engine(tasks=12, sims=500, cpus=8)
    ('serial', 'processes')
    >>> auto_engine(tasks=1, sims=500, cpus=8), auto_engine(tasks=3, sims=60, cpus=8)
    ('serial', 'serial')
    """
    cpus = available_cpus() if cpus is None else cpus
    if cpus <= 2 or tasks < 2 or sims < SMALL_JOB_SIMS:
        return "serial"
    return "processes"


def run_tasks(
    engine: Executor | Any | None,
    tasks: Mapping[Hashable, Task],
    *,
    on_result: Callable[[Hashable, Any], None] | None = None,
) -> dict[Hashable, Any]:
    """:func:`trialkit._core.executors.run_tasks`, its Dask keys named for ``diagnose``."""
    return _run_tasks(engine, tasks, on_result=on_result, label="trialkit-diagnose")

"""Where keyed tasks run: in this process, on local processes, or on a Dask cluster.

Every task is a pure function of its arguments, so the assembled results do not depend on
the engine, the number of workers, the order in which tasks finish, or on a task being run
twice after a worker was lost: results are stored by key and each key is kept once. Dask
retries tasks lost with a worker. ``diagnose`` runs its simulation chunks here and
``analyse`` the outcomes of its frequentist plan.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

from trialkit.errors import TrialkitError

EngineName = Literal["serial", "processes", "dask"]
#: Times Dask reruns a task whose worker died.
DASK_RETRIES = 3

Task = tuple[Callable[..., Any], tuple[Any, ...]]
K = TypeVar("K", bound=Hashable)


def available_cpus() -> int:
    """CPUs this process may run on (its affinity where the platform says, else the count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def run_tasks(
    engine: Executor | Any | None,
    tasks: Mapping[Hashable, Task],
    *,
    on_result: Callable[[Hashable, Any], None] | None = None,
    label: str = "trialkit",
    retries: int = DASK_RETRIES,
) -> dict[Hashable, Any]:
    """Run ``tasks`` (key → (function, args)) and return key → result.

    Parameters
    ----------
    engine
        ``None`` runs in this process; a ``concurrent.futures.Executor`` or a
        ``distributed.Client`` runs there.
    tasks
        The work, keyed; a key's result is kept once even if its task ran twice.
    on_result
        Called with each key and result as it arrives (progress bars).
    label
        Start of the Dask task keys (what a scheduler's dashboard shows).
    retries
        Times Dask reruns a task that raised (a task lost with its worker is rerun by the
        scheduler anyway); 0 where an error can only repeat itself.

    Returns
    -------
    dict
        Key → result, in the order of ``tasks``.
    """
    results: dict[Hashable, Any] = {}

    def keep(key: Hashable, value: Any) -> None:
        if key not in results:
            results[key] = value
            if on_result is not None:
                on_result(key, value)

    if engine is None:
        for key, (func, args) in tasks.items():
            keep(key, func(*args))
    elif is_dask_client(engine):
        _run_dask(engine, tasks, keep, label, retries)
    else:
        futures: dict[Future[Any], Hashable] = {
            engine.submit(func, *args): key for key, (func, args) in tasks.items()
        }
        for future in as_completed(futures):
            keep(futures[future], future.result())
    return {key: results[key] for key in tasks}


def is_dask_client(engine: Any) -> bool:
    """Whether ``engine`` is a ``distributed.Client`` (told without importing Dask)."""
    return type(engine).__name__ == "Client" and type(engine).__module__.startswith("distributed")


@contextmanager
def shared(engine: Executor | Any | None, values: Mapping[K, Any]) -> Iterator[dict[K, Any]]:
    """``values`` as task arguments on ``engine``, each sent once to every Dask worker.

    With a ``distributed.Client`` each value is scattered to all its workers (broadcast)
    and stands as a future, so that tasks given it read a local copy instead of receiving
    the value with each task; the copies are released when the block ends. Any other
    engine gets the values themselves.
    """
    if not is_dask_client(engine):
        yield dict(values)
        return
    client: Any = engine
    futures = {
        key: client.scatter(value, broadcast=True, hash=False) for key, value in values.items()
    }
    try:
        yield futures
    finally:
        for future in futures.values():
            future.release()


def _run_dask(
    client: Any,
    tasks: Mapping[Hashable, Task],
    keep: Callable[[Hashable, Any], None],
    label: str,
    retries: int,
) -> None:
    distributed: Any = importlib.import_module("distributed")

    token = os.urandom(6).hex()
    keys: dict[str, Hashable] = {}
    futures = []
    for i, (key, (func, args)) in enumerate(tasks.items()):
        future = client.submit(func, *args, key=f"{label}-{token}-{i}", retries=retries, pure=False)
        keys[future.key] = key
        futures.append(future)
    try:
        for future in distributed.as_completed(futures):
            keep(keys[future.key], future.result())
    except distributed.KilledWorker as exc:
        raise TrialkitError(
            f"Dask workers died again and again running one task ({exc}), most likely out "
            "of memory: each worker holds its own copy of the rows. Fix: give fewer "
            "--workers, or workers with more memory."
        ) from None
    finally:  # the results on the workers go now, not when the futures are collected
        for future in futures:
            future.release()


@contextmanager
def engine(
    *,
    executor: Executor | Any | EngineName | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    tasks: int | None = None,
) -> Iterator[Executor | Any | None]:
    """The engine for a run, opened and closed around it.

    Parameters
    ----------
    executor
        An open ``concurrent.futures.Executor`` or ``distributed.Client`` (used as is, not
        closed), or ``"serial"``, ``"processes"`` or ``"dask"``. Default: ``"dask"`` when a
        scheduler is given, ``"processes"`` otherwise.
    workers
        Processes for ``"processes"`` (default: the CPU count) or workers of a Dask
        ``LocalCluster`` on 127.0.0.1.
    scheduler
        Address of a running Dask scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    tasks
        Number of tasks, if known: no more local processes are started than tasks.

    Yields
    ------
    Executor, Client or None
        ``None`` means run in this process.
    """
    if executor is not None and not isinstance(executor, str):
        yield executor
        return
    name = executor or ("dask" if scheduler else "processes")
    if name == "serial" or (name == "processes" and workers == 1):
        yield None
    elif name == "processes":
        count = workers or os.cpu_count() or 1
        with ProcessPoolExecutor(max_workers=max(1, min(count, tasks or count))) as pool:
            yield pool
    elif name == "dask":
        with _dask_client(workers, scheduler) as client:
            yield client
    else:
        raise TrialkitError(
            f"The 'executor' parameter must be an Executor, a Dask Client or "
            f"one of 'serial', 'processes', 'dask'. Got {name!r} instead."
        )


@contextmanager
def _dask_client(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    try:
        distributed: Any = importlib.import_module("distributed")
    except ImportError:  # pragma: no cover - dask is a dependency
        raise TrialkitError(
            "Dask runs need dask[distributed]. Fix: pip install 'dask[distributed]'."
        ) from None
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler)
        except (OSError, ValueError) as exc:  # unreachable, timed out, or not an address
            raise TrialkitError(
                f"No Dask scheduler could be reached at {scheduler!r}: {exc}. Fix: start one "
                "there (`dask scheduler`, with workers), give its address as "
                "tcp://host:8786, or use --workers for a local cluster."
            ) from None
        with client:
            yield client
        return
    with (
        distributed.LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=None,
            processes=True,
            silence_logs=logging.CRITICAL,  # Dask's start and stop messages are not the user's
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client

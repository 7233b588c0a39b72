"""diagnose picks its engine: in this process on two CPUs or for small jobs (issue 19, item 5)."""

from __future__ import annotations

from typing import Any

import pytest

from trialkit.diagnose import executors, simulate
from trialkit.diagnose.executors import SMALL_JOB_SIMS, auto_engine


@pytest.mark.parametrize(
    ("tasks", "sims", "cpus", "expected"),
    [
        (12, 500, 1, "serial"),
        (12, 500, 2, "serial"),  # no spare core to gain from
        (1, 500, 16, "serial"),  # one task: a worker could only add its start-up
        (12, SMALL_JOB_SIMS - 1, 16, "serial"),
        (12, SMALL_JOB_SIMS, 16, "processes"),
        (2, 500, 3, "processes"),
    ],
)
def test_the_rule(tasks: int, sims: int, cpus: int, expected: str) -> None:
    assert auto_engine(tasks=tasks, sims=sims, cpus=cpus) == expected


def _engine_used(monkeypatch: pytest.MonkeyPatch, flagship: Any, cpus: int, **kwargs: Any) -> Any:
    """The executor ``diagnose`` hands to the engine, with ``cpus`` CPUs available."""
    seen: list[Any] = []
    real = simulate.engine
    monkeypatch.setattr(executors, "available_cpus", lambda: cpus)

    def spy(**options: Any) -> Any:
        seen.append(options)
        return real(**{**options, "executor": "serial"})  # run here whatever was chosen

    monkeypatch.setattr(simulate, "engine", spy)
    simulate.diagnose(flagship, sims=120, variants=[16], chunk_size=40, progress=False, **kwargs)
    return seen[0]["executor"]


def test_diagnose_runs_in_process_on_two_cpus(
    monkeypatch: pytest.MonkeyPatch, flagship: Any
) -> None:
    assert _engine_used(monkeypatch, flagship, cpus=2) == "serial"


def test_diagnose_uses_processes_on_many_cpus(
    monkeypatch: pytest.MonkeyPatch, flagship: Any
) -> None:
    assert _engine_used(monkeypatch, flagship, cpus=8) == "processes"


def test_an_explicit_choice_is_kept(monkeypatch: pytest.MonkeyPatch, flagship: Any) -> None:
    assert _engine_used(monkeypatch, flagship, cpus=2, workers=2) is None
    assert _engine_used(monkeypatch, flagship, cpus=8, executor="serial") == "serial"

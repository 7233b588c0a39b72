"""The frequentist plan with one task per outcome (issue 19, item 6): the same results as in
this process, on an executor here and on a local Dask cluster of two worker processes.

The pilots are the flagship (survival, CACE, subgroups, few-cluster checks, indices) and the
three-arm protocol (pairwise contrasts), fabricated and validated as the plan tests do.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from concurrent.futures import Executor, Future
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from trialkit import api, validate
from trialkit._core.executors import run_tasks
from trialkit.diagnose import fabricate
from trialkit.errors import EstimationError, TrialkitError
from trialkit.estimate.frequentist.plan import FrequentistResults, fit
from trialkit.protocol import Protocol, bundled_path, load_protocol
from trialkit.randomise import read_allocation, read_units
from trialkit.validate import TrialData

FRAMES = ("estimates", "indices", "subgroups", "effect_sizes", "descriptives", "few_clusters")


def _pilot(name: str, out: Path, *, seed: int = 5) -> tuple[Path, list[Path]]:
    protocol_file = bundled_path(name)
    protocol = load_protocol(protocol_file)
    units_file = api.simulate_units(protocol_file, out / "units.csv")
    api.randomise(protocol_file, units_file, out / "allocation.csv")
    arms = read_allocation(out / "allocation.csv").to_frame().set_index("unit_id")["arm"]
    frames = fabricate(
        protocol, read_units(units_file, protocol), arms, rng=np.random.default_rng(seed)
    )
    (out / "data").mkdir()
    files = []
    for level, frame in frames.items():
        files.append(out / "data" / f"{level}.csv")
        frame.to_csv(files[-1], index=False)
    return out / "allocation.csv", files


@pytest.fixture(
    scope="module", params=["council_discretionary_budget", "council_budget_peer_review"]
)
def trial(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Protocol, TrialData]:
    allocation, files = _pilot(request.param, tmp_path_factory.mktemp(request.param))
    protocol = load_protocol(bundled_path(request.param))
    return protocol, validate.outcomes(protocol, allocation, files)


class _HereExecutor(Executor):
    """Runs each task at once in the calling thread: the task path without a pool."""

    def __init__(self) -> None:
        self.submitted = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _assert_same(a: FrequentistResults, b: FrequentistResults, *, rtol: float) -> None:
    for name in FRAMES:
        left, right = getattr(a, name), getattr(b, name)
        assert not left.empty or name in ("subgroups", "few_clusters", "indices"), name
        pd.testing.assert_frame_equal(
            left, right, check_exact=rtol == 0, rtol=max(rtol, 1e-300), atol=0, obj=name
        )
    assert a.notes == b.notes
    assert len(a.survival) == len(b.survival)
    for one, two in zip(a.survival, b.survival, strict=True):
        pd.testing.assert_frame_equal(
            one.itt.to_frame(), two.itt.to_frame(), rtol=max(rtol, 1e-300)
        )
        pd.testing.assert_frame_equal(one.rmst, two.rmst, rtol=max(rtol, 1e-300))


def test_one_task_per_outcome_gives_the_same_results(trial: tuple[Protocol, TrialData]) -> None:
    protocol, data = trial
    executor = _HereExecutor()
    here, tasks = fit(protocol, data), fit(protocol, data, engine=executor)
    compared = [o for o in protocol.outcomes if o.role in ("primary", "secondary", "harm")]
    assert executor.submitted >= len(compared) > 1  # one task per compared outcome
    _assert_same(here, tasks, rtol=0)


def _one_value(protocol: Protocol, data: TrialData) -> tuple[str, TrialData]:
    """``data`` with a secondary outcome's column made constant: its fit must fail."""
    outcome = next(o for o in protocol.outcomes if o.role == "secondary" and o.type != "survival")
    frames = dict(data.frames)
    frames[outcome.level] = frames[outcome.level].assign(**{outcome.data_column: 1.0})
    return outcome.name, dataclasses.replace(data, frames=frames)


def test_an_outcome_that_cannot_be_fitted_fails_as_in_process(
    trial: tuple[Protocol, TrialData],
) -> None:
    name, data = _one_value(*trial)
    with pytest.raises(EstimationError, match=f"outcome `{name}` has a single value"):
        fit(trial[0], data, engine=_HereExecutor())


def test_workers_below_one_are_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(TrialkitError, match=r"'workers' parameter of analyse.*Got 0.*Fix:"):
        api.analyse("missing.yaml", "missing.csv", [], tmp_path / "results", workers=0)


def test_the_cli_refuses_workers_below_one(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from trialkit.cli import app

    args = ["analyse", "missing.yaml", "--allocation", "a.csv", "--data", "d.csv"]
    result = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "r"), "--workers", "-1"])
    assert result.exit_code == 2
    assert "Got -1 instead. Fix:" in result.output
    assert "Traceback" not in result.output


# --- on a local Dask cluster ---------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Any:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    )
    with distributed.Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


@pytest.mark.slow  # two worker processes importing trialkit: 10-20 s here
def test_the_plan_on_dask_equals_the_plan_in_process(
    trial: tuple[Protocol, TrialData], client: Any
) -> None:
    protocol, data = trial
    _assert_same(fit(protocol, data), fit(protocol, data, engine=client), rtol=1e-12)
    deadline = time.monotonic() + 30  # the client tells the scheduler in its own time
    while client.who_has() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not client.who_has(), "the frames sent to the workers are released after the fit"
    name, broken = _one_value(protocol, data)
    with pytest.raises(EstimationError, match=f"outcome `{name}` has a single value"):
        fit(protocol, broken, engine=client)


def _differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where two JSON documents differ (numbers to a relative 1e-12; provenance skipped)."""
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted((set(a) | set(b)) - {"provenance", "created_utc"})
        return [d for k in keys for d in _differences(a.get(k), b.get(k), f"{path}/{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs = enumerate(zip(a, b, strict=True))
        return [d for i, (x, y) in pairs for d in _differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        same = a == b or (math.isnan(a) and math.isnan(b))
        return [] if same or abs(a - b) <= 1e-12 * max(1.0, abs(a)) else [path]
    return [] if a == b else [path]


@pytest.mark.slow
def test_analyse_with_a_scheduler_writes_the_same_results(tmp_path: Path, client: Any) -> None:
    allocation, files = _pilot("council_discretionary_budget", tmp_path / "pilot")
    protocol = bundled_path("council_discretionary_budget")
    here = api.analyse(protocol, allocation, files, tmp_path / "here", bayesian=False)
    there = api.analyse(
        protocol,
        allocation,
        files,
        tmp_path / "there",
        bayesian=False,
        scheduler=client.scheduler.address,
    )
    found = _differences(here.model_dump(mode="json"), there.model_dump(mode="json"))
    assert not found, found[:10]
    assert len(there.estimates) > 10


def _die() -> None:
    os._exit(1)  # as a worker killed for its memory


@pytest.mark.slow
def test_workers_that_keep_dying_are_a_trialkit_error(client: Any) -> None:
    with pytest.raises(TrialkitError, match=r"died again and again.*Fix: give fewer --workers"):
        run_tasks(client, {0: (_die, ())})
    client.wait_for_workers(2, timeout=60)  # the nannies restarted them

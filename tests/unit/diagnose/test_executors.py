"""Diagnosis on a local Dask cluster (127.0.0.1): same results as serial, even losing a worker."""

from __future__ import annotations

import os
import signal
import threading
import time

import pandas as pd
import pytest

from trialkit.diagnose import diagnose

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None, processes=True
    )
    with distributed.Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


@pytest.mark.slow  # starting two worker processes that import trialkit takes 10-20 s here
def test_dask_two_workers_equal_serial(flagship, client):
    kwargs = {"sims": 30, "variants": [16, 24], "chunk_size": 10, "progress": False}
    serial = diagnose(flagship, executor="serial", **kwargs)
    dask = diagnose(flagship, executor=client, **kwargs)
    pd.testing.assert_frame_equal(serial.simulations, dask.simulations)
    pd.testing.assert_frame_equal(serial.to_frame(), dask.to_frame())


def _kill_a_busy_worker(client, done: threading.Event) -> int | None:
    """SIGKILL a worker process while it runs a diagnosis task; return its pid."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not done.is_set():
        busy = [
            addr
            for addr, keys in client.processing().items()
            if any(str(k).startswith("trialkit-diagnose") for k in keys)
        ]
        finished = any(str(k).startswith("trialkit-diagnose") for k in client.who_has())
        if busy and finished:
            pids = client.run(os.getpid, workers=busy[:1])
            pid = next(iter(pids.values()))
            os.kill(pid, signal.SIGKILL)
            return int(pid)
        time.sleep(0.05)
    return None


@pytest.mark.slow
def test_worker_killed_mid_run_loses_and_duplicates_nothing(flagship, client):
    kwargs = {"sims": 240, "variants": [24], "chunk_size": 8, "progress": False}
    serial = diagnose(flagship, executor="serial", **kwargs)
    out: dict[str, object] = {}
    done = threading.Event()

    def run() -> None:
        out["diagnosis"] = diagnose(flagship, executor=client, **kwargs)
        done.set()

    thread = threading.Thread(target=run)
    thread.start()
    killed = _kill_a_busy_worker(client, done)
    thread.join(timeout=180)
    assert not thread.is_alive(), "the run did not finish after a worker was lost"
    assert killed is not None, "no worker was busy long enough to be killed"
    sims = out["diagnosis"].simulations  # type: ignore[attr-defined]
    assert set(sims["outcome"]) == {"loneliness", "loneliness:cace"}
    for _, inquiry in sims.groupby("outcome"):
        assert sorted(inquiry["sim"]) == list(range(240))  # none lost, none twice
    pd.testing.assert_frame_equal(serial.simulations, sims)
    client.wait_for_workers(2, timeout=60)  # the nanny restarted it

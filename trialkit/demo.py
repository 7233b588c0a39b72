"""``trialkit demo``: the whole life of the bundled Gateshead-style pilot in one directory.

Register the protocol, take the example units, randomise, fabricate outcome data from the
protocol's assumptions, validate, analyse both ways, report, and verify the ledger. The
directory must be new, so a previous demo is never overwritten.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from trialkit import api
from trialkit.errors import OverwriteError, TrialkitError
from trialkit.register import LEDGER_NAME, append

DEMO_PROTOCOL = "council_discretionary_budget"


def run_demo(
    out: Path,
    *,
    echo: Callable[[str], None] = print,
    bayesian: bool = True,
    draws: int | None = None,
    chains: int | None = None,
) -> Path:
    """Run the demo into the new directory ``out``; return the report's path.

    ``draws`` and ``chains`` default to the registered plan's, so the demo is no deviation.
    """
    if out.exists():
        raise OverwriteError(
            f"{out}: already exists; the demo never overwrites a previous run. "
            "Fix: pass a new directory with --out, or remove the old one."
        )
    started = time.perf_counter()
    source = api.resolve_protocol(DEMO_PROTOCOL)
    out.mkdir(parents=True)
    protocol = api.copy_new(source, out / "protocol.yaml")
    ledger = out / LEDGER_NAME

    def step(message: str) -> None:
        echo(f"[{time.perf_counter() - started:5.1f}s] {message}")

    step("register: freezing the protocol and rendering the pre-analysis plan")
    registration = api.register_protocol(protocol, out / "registration", ledger=ledger)
    step(f"           sha256 {registration.protocol_hash}")
    units = api.simulate_units(source, out / "units.csv")  # the bundled example units
    step("randomise: teams within localities, whole teams per arm")
    allocation = api.randomise(protocol, units, out / "allocation.csv", ledger=ledger)
    step(f"           {allocation.counts().to_dict()}")
    step("simulate: six months of client, staff and spending records")
    data = api.simulate_data(protocol, units, out / "allocation.csv", out / "data")
    append(ledger, "data freeze", outputs=data, reason="simulated outcome data for the demo")
    if not bayesian:
        step("analyse: frequentist plan only")
    api.analyse(
        protocol,
        out / "allocation.csv",
        data,
        out / "results",
        registration=out / "registration",
        bayesian=bayesian,
        draws=draws,
        chains=chains,
        ledger=ledger,
        echo=step,
    )
    report = api.report(out / "results", out / "report.html", ledger=ledger)
    _, problems = api.verify_workspace(out)
    if problems:
        raise TrialkitError("the demo's own ledger does not verify: " + "; ".join(problems))
    step("verify: ledger chain intact; every file matches its recorded sha256")
    step(f"done. Open the report: {report}")
    return report

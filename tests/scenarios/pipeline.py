"""Run the real pipeline on a bundled protocol with a known truth: simulate the units,
register, randomise, fabricate outcome data with the declared effects times ``effect_scale``,
analyse and report. Used by the scenario matrix and by anyone who wants to look.

    python tests/scenarios/pipeline.py council_budget_peer_review /tmp/out --scale 1 --bayes
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass
from pathlib import Path

from trialkit import api
from trialkit.analyse import ResultsDocument
from trialkit.register import LEDGER_NAME


@dataclass(frozen=True)
class Run:
    """What one pipeline run produced."""

    results: ResultsDocument
    report: Path
    html: str


def run(
    protocol_name: str,
    out: Path,
    *,
    effect_scale: float,
    bayes: bool,
    draws: int = 200,
    chains: int = 2,
    tune: int = 200,
) -> Run:
    """simulate → register → randomise → analyse → report, in the new directory ``out``."""
    out.mkdir(parents=True)
    source = api.resolve_protocol(protocol_name)
    protocol = out / "protocol.yaml"
    shutil.copyfile(source, protocol)
    ledger = out / LEDGER_NAME
    api.register_protocol(protocol, out / "registration", ledger=ledger)
    units = api.simulate_units(source, out / "units.csv")
    api.randomise(protocol, units, out / "allocation.csv", ledger=ledger)
    data = api.simulate_data(
        protocol, units, out / "allocation.csv", out / "data", effect_scale=effect_scale
    )
    results = api.analyse(
        protocol,
        out / "allocation.csv",
        data,
        out / "results",
        registration=out / "registration",
        bayesian=bayes,
        draws=draws,
        chains=chains,
        tune=tune,
        ledger=ledger,
    )
    report = api.report(out / "results", out / "report.html", ledger=ledger)
    return Run(results, report, report.read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("protocol")
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--bayes", action="store_true")
    args = parser.parse_args()
    done = run(args.protocol, args.out, effect_scale=args.scale, bayes=args.bayes)
    print(done.report)


if __name__ == "__main__":
    main()

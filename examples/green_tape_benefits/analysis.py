"""An evaluator's analysis of the "green tape" pilot in a housing-benefit office.

Caseworkers are randomised within teams; claims are nested in caseworkers, so claim-level
effects are CR2-clustered by caseworker. The satisfaction survey loses claimants, so Lee
(2009) bounds show how far differential non-response could move the estimate.

    python examples/green_tape_benefits/analysis.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from trialkit import api, validate
from trialkit.estimate import difference_in_means, lin
from trialkit.estimate.frequentist.bounds import lee_bounds
from trialkit.protocol import load_protocol

out = Path(sys.argv[1] if len(sys.argv) > 1 else "green-tape-pilot")
protocol_file = api.resolve_protocol("green_tape_benefits")
protocol = load_protocol(protocol_file)
files = api.simulate(protocol_file, out)
data = validate.outcomes(
    protocol, out / "allocation.csv", [f for f in files if f.parent.name == "data"]
)
control = protocol.control.id

claims = data.frame("claim").merge(
    data.frame("caseworker")[["caseworker_id", "baseline_processing_days"]], on="caseworker_id"
)
speed = lin(
    claims.dropna(subset=["processing_days"]),
    "processing_days",
    "arm",
    covariates=["baseline_processing_days"],
    cluster="caseworker_id",
    blocks="block",
    control=control,
)
print(speed.summary())
errors = difference_in_means(
    claims.dropna(subset=["claim_error"]),
    "claim_error",
    "arm",
    cluster="caseworker_id",
    blocks="block",
    control=control,
)
print(errors.summary())

surveyed = claims.assign(treated=(claims["arm"] != control).astype(int))
bounds = lee_bounds(surveyed, outcome="claimant_satisfaction", treatment="treated")
print(bounds.to_frame()[["estimate", "std_error", "ci_low", "ci_high", "trimming_proportion"]])

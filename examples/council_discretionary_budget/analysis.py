"""An evaluator's analysis of the discretionary-budget pilot, with trialkit's Python API.

The council's exports replace the simulated data in step 3. Run from anywhere:

    python examples/council_discretionary_budget/analysis.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from trialkit import api, register, validate
from trialkit.estimate import iv, lin
from trialkit.estimate.frequentist.plan import fit
from trialkit.protocol import load_protocol

out = Path(sys.argv[1] if len(sys.argv) > 1 else "budget-pilot")
protocol_file = api.resolve_protocol("council_discretionary_budget")
protocol = load_protocol(protocol_file)

# 1. Freeze the plan before any outcome data exist.
registration = api.register_protocol(protocol_file, out / "registration")
ledger = out / register.LEDGER_NAME

# 2. Randomise teams within localities, with the registered seed.
units = api.simulate_units(protocol_file, out / "units.csv")
allocation = api.randomise(protocol_file, units, out / "allocation.csv", ledger=ledger)
print(allocation.summary())

# 3. Outcome data (simulated here from the protocol's assumptions).
files = api.simulate_data(protocol_file, units, out / "allocation.csv", out / "data")
data = validate.outcomes(protocol, out / "allocation.csv", files)

# 4. The registered plan, then a closer look at the primary outcome.
plan = fit(protocol, data)
print(plan.estimates[["outcome", "estimand", "estimate", "std_error", "p_value", "p_adjusted"]])
clients = data.frame("client").merge(data.frame("team")[["team_id", "budget_used"]], on="team_id")
print(
    lin(
        clients.dropna(subset=["loneliness", "loneliness_baseline"]),
        "loneliness",
        "arm",
        covariates=["loneliness_baseline"],
        cluster="team_id",
        control="usual",
    ).summary()
)
cace = iv(
    clients.dropna(subset=["loneliness"]),
    "loneliness",
    "arm",
    received="budget_used",
    cluster="team_id",
    control="usual",
)
print(cace.summary())

# 5. Results and the council's report; the ledger ties every file to its hash.
api.analyse(
    protocol_file,
    out / "allocation.csv",
    files,
    out / "results",
    registration=registration.directory,
    bayesian=False,
    ledger=ledger,
)
print(api.report(out / "results", out / "report.html", ledger=ledger))

"""An evaluator's analysis of the stepped-wedge mission-clarity rollout across 12 teams.

Every team crosses from usual practice to the programme at its randomised step, so the
comparison is between exposed and unexposed team-periods, adjusted for period (secular
trend) and clustered by team with CR2 — Hussey & Hughes's mean model with cluster-robust
inference instead of a mixed model.

    python examples/mission_clarity_stepped_wedge/analysis.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from trialkit import api, validate
from trialkit.design import power_table
from trialkit.estimate import ols
from trialkit.estimate.frequentist.plan import fit
from trialkit.protocol import load_protocol

out = Path(sys.argv[1] if len(sys.argv) > 1 else "mission-clarity-pilot")
protocol_file = api.resolve_protocol("mission_clarity_stepped_wedge")
protocol = load_protocol(protocol_file)
print(power_table(protocol).summary())

files = api.simulate(protocol_file, out)
data = validate.outcomes(
    protocol, out / "allocation.csv", [f for f in files if f.parent.name == "data"]
)
staff = data.frame("staff")
staff["exposed"] = (staff["period"] >= staff["step"]).astype(int)
print(staff.groupby(["step", "period"])["exposed"].first().unstack())  # the wedge

engagement = ols(
    staff.dropna(subset=["engagement"]),
    "engagement",
    "exposed",
    fixed_effects=["period"],
    cluster="team_id",
)
print(engagement.summary())
print(fit(protocol, data).estimates[["outcome", "estimate", "std_error", "df", "p_value"]])

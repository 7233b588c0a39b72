"""An evaluator's analysis of the head teachers' budget-autonomy pilot (EEF conventions).

Pupils are nested in schools, so effects are CR2-clustered by school; effect sizes use the
total (between + within school) variance, and the disadvantaged (FSM) subgroup is reported
with its own heterogeneity test, as the EEF requires.

    python examples/school_budget_autonomy/analysis.py OUT_DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from trialkit import api, validate
from trialkit.estimate import ols
from trialkit.estimate.bayesian.decisions import misuse_rate
from trialkit.estimate.frequentist.effect_sizes import hedges_g_total, icc_anova
from trialkit.estimate.frequentist.subgroups import subgroup_effects
from trialkit.protocol import load_protocol

out = Path(sys.argv[1] if len(sys.argv) > 1 else "school-pilot")
protocol_file = api.resolve_protocol("school_budget_autonomy")
protocol = load_protocol(protocol_file)
files = api.simulate(protocol_file, out)  # units, allocation and data per level
data = validate.outcomes(
    protocol, out / "allocation.csv", [f for f in files if f.parent.name == "data"]
)

pupils = data.frame("pupil").dropna(subset=["attainment"])
effect = ols(
    pupils, "attainment", "arm", cluster="school_id", blocks="block", control=protocol.control.id
)
print(effect.summary())
estimate = float(effect.to_frame().query("term == 'arm'")["estimate"].iloc[0])
y, schools = pupils["attainment"].to_numpy(float), pupils["school_id"].to_numpy()
print("ICC", icc_anova(y, schools, arm=pupils["arm"].to_numpy()).icc)
print(
    "Hedges g (total variance)", hedges_g_total(estimate, y, schools, arm=pupils["arm"].to_numpy())
)
fsm = subgroup_effects(
    pupils, "attainment", "arm", "fsm", cluster="school_id", control=protocol.control.id
)
print(fsm.to_frame()[["level", "estimate", "ci_low", "ci_high"]], fsm.heterogeneity)

schools_data = data.frame("school")
autonomy = schools_data[schools_data["arm"] != protocol.control.id]
cases = int(autonomy["audit_misuse"].sum())
print(misuse_rate(cases, len(autonomy), tolerance=0.02, cost_per_event=1000))

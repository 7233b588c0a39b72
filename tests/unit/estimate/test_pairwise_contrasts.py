"""Pre-registered pairwise contrasts: refitting with the other arm as reference gives the
difference of the two arms' effects and the standard error of that difference, c'Vc."""

from __future__ import annotations

import numpy as np
import pytest

from trialkit import api
from trialkit.estimate.frequentist.analysis_frame import analysis_frame
from trialkit.estimate.frequentist.plan import fit
from trialkit.estimate.frequentist.plan_outcome import estimate_outcome
from trialkit.protocol import bundled_path, load_protocol


@pytest.fixture(scope="module")
def three_arm(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("three-arm")
    path = bundled_path("council_budget_peer_review")
    units = api.simulate_units(path, out / "units.csv")
    api.randomise(path, units, out / "allocation.csv")
    files = api.simulate_data(path, units, out / "allocation.csv", out / "data")
    return load_protocol(path), api.validate_files(path, out / "allocation.csv", files)


@pytest.mark.parametrize("outcome", ["loneliness", "job_satisfaction"])
def test_contrast_is_the_difference_with_its_own_standard_error(three_arm, outcome) -> None:
    protocol, data = three_arm
    frame = analysis_frame(protocol, data, protocol.outcome(outcome))
    column = protocol.outcome(outcome).data_column
    base = estimate_outcome(protocol, frame, column, outcome)
    terms = list(base.terms)
    c = np.zeros(len(terms))
    c[terms.index("arm[budget_peer]")], c[terms.index("arm[budget]")] = 1.0, -1.0
    rows = fit(protocol, data).estimates
    row = rows[(rows["outcome"] == outcome) & (rows["versus"] == "budget")].iloc[0]
    assert row["arm"] == "budget_peer" and row["adjustment"] == "none"
    assert row["estimate"] == pytest.approx(c @ base.coefficients, rel=1e-9, abs=1e-12)
    assert row["std_error"] == pytest.approx(np.sqrt(c @ base.vcov @ c), rel=1e-9)


def test_pairwise_contrasts_are_left_out_of_family_adjustment(three_arm) -> None:
    protocol, data = three_arm
    rows = fit(protocol, data).estimates
    pairwise = rows[rows["versus"] != "usual"]
    assert len(pairwise) > 0 and set(pairwise["adjustment"]) == {"none"}
    assert (pairwise["p_adjusted"] == pairwise["p_value"]).all()

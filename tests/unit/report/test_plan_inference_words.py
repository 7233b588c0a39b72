"""The pre-analysis plan says which degrees of freedom and few-cluster guards it uses."""

from __future__ import annotations

from typing import Any

from trialkit.protocol import Protocol, bundled_path, load_protocol
from trialkit.report import render_plan
from trialkit.report.plan import _se_text


def _with(protocol: Protocol, **frequentist: Any) -> Protocol:
    plan = protocol.analysis.frequentist.model_copy(update=frequentist)
    analysis = protocol.analysis.model_copy(update={"frequentist": plan})
    return protocol.model_copy(update={"analysis": analysis})


def test_few_clusters_say_what_the_plan_does() -> None:
    wedge = load_protocol(bundled_path("mission_clarity_stepped_wedge"))
    assert wedge.units.planned == 12
    text = _se_text(wedge)
    assert (
        "with only 12 teams planned (fewer than about 20) CR2 intervals can be too narrow" in text
    )
    assert (
        "the randomisation p-values (5,000 re-randomisations under the registered scheme)" in text
    )
    assert (
        "the results add two small-sample checks of each primary comparison, the team "
        "jackknife (CR3) and a wild cluster bootstrap" in text
    )
    assert "with only 12 teams planned" in render_plan(wedge)
    assert "`ri_draws: 0`" in _se_text(_with(wedge, ri_draws=0))
    cr3 = _se_text(_with(wedge, se_type="CR3"))
    assert cr3.startswith("CR3, the leave-one-team-out jackknife")
    assert "it is used because only 12 teams are planned" in cr3


def test_enough_clusters_no_few_cluster_words() -> None:
    flagship = load_protocol(bundled_path("council_discretionary_budget"))
    assert flagship.units.planned >= 20
    assert "fewer than about 20" not in _se_text(flagship)

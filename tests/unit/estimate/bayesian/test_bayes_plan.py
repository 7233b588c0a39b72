"""The protocol adapter :func:`fit_protocol` on a bundled protocol's simulated pilot (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialkit import api
from trialkit.estimate.bayesian.plan import fit_protocol
from trialkit.protocol import load_protocol


@pytest.mark.slow
def test_fit_protocol_on_simulated_council_pilot(tmp_path: Path) -> None:
    protocol_file = api.resolve_protocol("council_discretionary_budget")
    paths = api.simulate(protocol_file, tmp_path)
    data = api.validate_files(
        protocol_file, tmp_path / "allocation.csv", [p for p in paths if p.parent.name == "data"]
    )
    protocol = load_protocol(protocol_file)
    results = fit_protocol(protocol, data, draws=100, tune=100, chains=2, seed=1)
    fitted = {f.outcome for f in results.fits}
    # Primary, secondary, harm and mechanism outcomes, and any other a decision rule names.
    named = {c.outcome for rule in protocol.analysis.decision_rules for c in rule.conditions}
    roles = ("primary", "secondary", "harm", "mechanism")
    expected = {o.name for o in protocol.outcomes if o.role in roles or o.name in named}
    assert fitted == expected
    frame = results.to_frame()
    assert set(frame["outcome"]) == expected
    assert results.fit("loneliness").effect_prior.source.startswith("Sceptical prior")
    (rule,) = results.decisions
    assert rule.name == "roll_out" and len(rule.conditions) == 3
    assert results.provenance.protocol_hash == protocol.content_hash()


def test_progress_names_each_outcome_before_it_is_fitted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The long step (compiling and sampling one model per outcome) reports as it goes."""
    from types import SimpleNamespace

    from trialkit.estimate.bayesian import plan

    protocol = load_protocol(api.resolve_protocol("council_discretionary_budget"))
    order: list[str] = []
    monkeypatch.setattr(
        plan,
        "_fit_one",
        lambda protocol, frames, outcome, notes, settings: (
            order.append(f"fit {outcome.name}") or SimpleNamespace(outcome=outcome.name)
        ),
    )
    monkeypatch.setattr(plan, "evaluate_rule", lambda *args, **kwargs: None)
    monkeypatch.setattr(plan, "_net_benefits", lambda *args: ())
    frames = {level: None for level in protocol.level_names}
    fit_protocol(protocol, frames, progress=order.append)
    names = [o.name for o in protocol.bayesian_outcomes()]
    assert "time_to_leaving" in names and "felt_autonomy" in names
    expected = []
    for i, name in enumerate(names, start=1):
        expected += [f"Bayesian model {i} of {len(names)}: {name}", f"fit {name}"]
    assert order == expected


def test_divergent_fit_is_refitted_once_with_smaller_steps_and_noted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from types import SimpleNamespace

    from trialkit.estimate.bayesian import plan

    calls: list[float] = []

    def fake_bayes(**kwargs: object) -> SimpleNamespace:
        target = float(kwargs.get("target_accept", 0.8))  # type: ignore[arg-type]
        calls.append(target)
        divergences = {0.8: 7, 0.95: 0}[target]
        return SimpleNamespace(diagnostics=SimpleNamespace(divergences=divergences), t=target)

    monkeypatch.setattr(plan, "bayes", fake_bayes)
    notes: list[str] = []
    fit = plan._bayes_with_retry("days_to_support", notes, outcome="y")
    assert calls == [0.8, 0.95] and fit.t == 0.95
    assert notes == [
        "`days_to_support`: 7 divergent transitions at the default target_accept of 0.8, so "
        "refitted at 0.95 (smaller steps), which had 0; the refit is reported."
    ]
    calls.clear()
    notes.clear()
    monkeypatch.setattr(
        plan,
        "bayes",
        lambda **kw: (
            calls.append(0.0) or SimpleNamespace(diagnostics=SimpleNamespace(divergences=0))
        ),
    )
    plan._bayes_with_retry("loneliness", notes, outcome="y")
    assert calls == [0.0] and notes == []  # a clean fit is not refitted

"""The scenario matrix: every bundled protocol, a positive, a null and a harmful truth,
Bayesian on and off, through the real pipeline (simulate → register → randomise → analyse
→ report). For every report, what the summary says is checked against the results.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from scenarios import claims
from scenarios.pipeline import Run, run

from trialkit.analyse import ResultsDocument
from trialkit.protocol import bundled_protocols

PROTOCOLS = sorted(bundled_protocols())
SCALES = {"positive": 1.0, "null": 0.0, "harmful": -1.0}
_RUNS: dict[tuple[str, str, bool], Run] = {}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("scenarios")


def scenario(workdir: Path, protocol: str, truth: str, bayes: bool) -> Run:
    key = (protocol, truth, bayes)
    if key not in _RUNS:
        out = workdir / f"{protocol}-{truth}-{'bayes' if bayes else 'freq'}"
        _RUNS[key] = run(
            protocol, out, effect_scale=SCALES[truth], bayes=bayes, draws=100, chains=1, tune=100
        )
    return _RUNS[key]


def test_the_matrix_covers_a_three_arm_protocol() -> None:
    from trialkit.protocol import bundled_path, load_protocol

    arms = [len(load_protocol(bundled_path(p)).arms) for p in PROTOCOLS]
    assert max(arms) >= 3 and len(PROTOCOLS) >= 5


@pytest.mark.parametrize("bayes", [False, True], ids=["freq", "bayes"])
@pytest.mark.parametrize("truth", list(SCALES))
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_report_claims_follow_the_results(
    workdir: Path, protocol: str, truth: str, bayes: bool
) -> None:
    done = scenario(workdir, protocol, truth, bayes)
    check_claims(done.results, done.html, bayes=bayes)


@pytest.mark.parametrize(
    ("find", "replace"),
    [
        ("The pilot could not tell whether", "This is an improvement: whether"),
        ('data-verdict="unclear"', 'data-verdict="benefit"'),
        ("fig-forest", "fig-gone"),
        ("The chance that", "The 100% chance that"),
        ("cost £9,200 extra per team", "cost £9,137 extra per team"),
    ],
)
def test_the_claims_check_catches_a_false_report(workdir: Path, find: str, replace: str) -> None:
    done = scenario(workdir, "council_discretionary_budget", "null", True)
    check_claims(done.results, done.html, bayes=True)
    if find not in done.html:
        pytest.skip(f"this run's report has no {find!r} to tamper with")
    with pytest.raises(AssertionError):
        check_claims(done.results, done.html.replace(find, replace), bayes=True)


def check_claims(doc: ResultsDocument, page: str, *, bayes: bool) -> None:
    """Assert that every claim of the report ``page`` follows from ``doc``."""
    p = doc.protocol
    alpha = p.analysis.frequentist.alpha
    treated = [a.id for a in p.arms if not a.control]
    primary = [o for o in p.outcomes if o.role == "primary"]

    # One verdict per primary outcome and treated arm, each following the registered rule.
    assert {(v.outcome, v.arm) for v in doc.verdicts} == {
        (o.name, a) for o in primary for a in treated if doc.estimate(o.name, a)
    }
    blocks = {(b["data-outcome"], b["data-arm"]): b for b in claims.headline_blocks(page)}
    assert set(blocks) == {(v.outcome, v.arm) for v in doc.verdicts}
    for v in doc.verdicts:
        outcome = p.outcome(v.outcome)
        est = doc.estimate(v.outcome, v.arm)
        assert est is not None and v.p_value == est.p_adjusted
        expected = claims.registered_verdict(
            est.estimate, est.p_adjusted, alpha, outcome.direction == "lower_is_better"
        )
        assert v.frequentist == expected
        block = blocks[(v.outcome, v.arm)]
        assert block["data-verdict"] == expected
        lead = " ".join(block["claims"]["headline"].split())
        if expected == "unclear":
            assert "could not tell" in lead
            assert not re.search(r"improvement|for the worse|\breduced\b|\bincreased\b", lead)
        else:
            assert "could not tell" not in lead
            word = "an improvement" if expected == "benefit" else "a change for the worse"
            assert word in lead
        # The estimate in the headline is the registered estimate, rounded.
        factor = 100.0 if outcome.type == "binary" else 1.0
        target = abs(factor * est.estimate)
        assert any(
            abs(claims._parse(t) - target) <= 0.5 * 10 ** -claims._decimals(t) + 1e-9
            for t in claims.NUMBER.findall(lead)
        ), (lead, target)
        # The disagreement note appears exactly when the schools disagree.
        post = doc.posterior(v.outcome, v.arm)
        if post is None:
            assert not bayes or p.analysis.bayesian.enabled is False
            assert v.bayesian is None and not v.disagree
        else:
            b = claims.bayes_verdict(post.p_benefit, alpha)
            disagree = b != expected or est.estimate * post.mean < 0
            assert (v.bayesian, v.disagree) == (b, disagree)
        assert ("disagree" in block["claims"]) == v.disagree

    summary = claims.text_of(claims.section(page, "summary", "flow"))
    chances = [c for c in re.split(r"(?<=\.) ", summary) if "chance" in c]
    assert not [c for c in chances if re.search(r"(?<![\d.])(0|100)%", c)], "0% or 100% chance"
    assert claims.unexplained_numbers(summary, doc) == []
    assert claims.all_dash_columns(page) == []

    # Every promised figure is there.
    promised = ["fig-flow", "fig-forest"]
    promised += ["fig-love"] if doc.balance and doc.schematic is None else []
    promised += ["fig-ri-0"] if doc.randomisation else []
    promised += ["fig-posterior"] if doc.bayesian.posteriors and doc.verdicts else []
    promised += ["fig-stepped-wedge"] if doc.schematic else []
    for fig in promised:
        assert f'id="{fig}"' in page, fig
    if bayes and p.analysis.bayesian.enabled:
        assert doc.bayesian.status == "run" and doc.bayesian.posteriors

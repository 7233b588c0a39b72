"""With fewer than 20 clusters the analysis adds CR3 and wild bootstrap checks of the
primary result, and the report says why they are shown and where they disagree.

Runs the real pipeline on the bundled stepped wedge (12 teams): simulate, analyse (no
Bayesian fit), render.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from trialkit import api
from trialkit.analyse import ResultsDocument
from trialkit.analyse.document import parse_results
from trialkit.report import render_report
from trialkit.report.few_clusters import few_cluster_context
from trialkit.report.phrases import Arms


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ResultsDocument, Path]:
    out = tmp_path_factory.mktemp("wedge")
    files = api.simulate("mission_clarity_stepped_wedge", out / "sim")
    data = [f for f in files if f.parent.name == "data"]
    doc = api.analyse(
        "mission_clarity_stepped_wedge",
        out / "sim" / "allocation.csv",
        data,
        out / "results",
        bayesian=False,
    )
    return doc, out / "results"


@pytest.fixture(scope="module")
def doc(run: tuple[ResultsDocument, Path]) -> ResultsDocument:
    return run[0]


def test_checks_are_written_as_csv_too(run: tuple[ResultsDocument, Path]) -> None:
    doc, results = run
    table = pd.read_csv(results / "few_clusters.csv")
    assert table.method.tolist() == [r.method for r in doc.few_clusters]
    assert table.p_value.tolist() == [r.p_value for r in doc.few_clusters]


def test_primary_result_gets_both_checks(doc: ResultsDocument) -> None:
    primary = [o.name for o in doc.protocol.outcomes if o.role == "primary"]
    assert [(r.outcome, r.method) for r in doc.few_clusters] == [
        (primary[0], "CR3"),
        (primary[0], "wild_cluster_bootstrap"),
    ]
    registered = doc.estimate(primary[0], doc.few_clusters[0].arm)
    assert registered is not None
    for row in doc.few_clusters:
        assert row.n_clusters == 12
        assert row.registered_p_value == registered.p_value
        assert row.disagrees == ((row.p_value < 0.05) != (registered.p_value < 0.05))
    assert doc.few_clusters[0].df == 11, "CR3 has G - 1 df"
    assert parse_results(json.loads(doc.to_json())).few_clusters == doc.few_clusters


def test_report_says_why_the_checks_are_shown(doc: ResultsDocument) -> None:
    html = render_report(doc)
    assert (
        "Only 12 teams were randomised. With fewer than 20 teams (clusters), standard "
        "errors can be too small, so two small-sample checks are shown" in html
    )
    assert "Jackknife, CR3 (leave one team out; 11 degrees of freedom)" in html
    assert "Wild cluster bootstrap (no effect imposed, Webb weights, 9,999 draws)" in html
    agree = not any(r.disagrees for r in doc.few_clusters)
    assert ("Both checks agree with the registered result" in html) is agree


def test_a_disagreement_is_said_in_words(doc: ResultsDocument) -> None:
    boot = doc.few_clusters[1]
    flipped = boot.model_copy(
        update={"p_value": 0.01 if boot.registered_p_value >= 0.05 else 0.5, "disagrees": True}
    )
    changed = doc.model_copy(update={"few_clusters": (doc.few_clusters[0], flipped)})
    context = few_cluster_context(changed, Arms(changed.protocol))
    assert context is not None and not context["agree_all"]
    (text,) = context["disagreements"]
    assert "the wild cluster bootstrap" in text and "The two analyses disagree" in text
    assert "work engagement" in text.lower()
    html = render_report(changed)
    assert "Where the analyses disagree." in html
    assert html.count('data-claim="few-clusters"') == 1, "the summary says so too"
    assert 'data-claim="few-clusters"' not in render_report(
        doc.model_copy(
            update={
                "few_clusters": (
                    doc.few_clusters[0],
                    flipped.model_copy(update={"disagrees": False}),
                )
            }
        )
    )


def test_no_section_without_checks(doc: ResultsDocument) -> None:
    none = doc.model_copy(update={"few_clusters": ()})
    assert few_cluster_context(none, Arms(none.protocol)) is None
    assert "Small-sample checks" not in render_report(none)


def test_an_adjusted_registered_p_is_compared_before_adjustment(doc: ResultsDocument) -> None:
    first = doc.few_clusters[0]
    estimates = tuple(
        e.model_copy(update={"adjustment": "holm", "p_adjusted": min(1.0, 3 * e.p_value)})
        if (e.outcome, e.arm, e.estimand) == (first.outcome, first.arm, "ITT")
        else e
        for e in doc.estimates
    )
    flipped = first.model_copy(
        update={"disagrees": True, "p_value": 0.01 if first.registered_p_value >= 0.05 else 0.5}
    )
    adjusted = doc.model_copy(
        update={"estimates": estimates, "few_clusters": (flipped, *doc.few_clusters[1:])}
    )
    context = few_cluster_context(adjusted, Arms(adjusted.protocol))
    assert context is not None
    assert context["registered_label"] == "Registered p (unadjusted)"
    assert "before the adjustment for the other outcomes in its family" in context["intro"]
    assert "before the adjustment for its family's other outcomes" in context["disagreements"][0]
    plain = few_cluster_context(doc, Arms(doc.protocol))
    assert plain is not None and plain["registered_label"] == (
        "Registered p (unadjusted)"
        if any(e.adjustment != "none" for e in doc.estimates if e.outcome == first.outcome)
        else "Registered p"
    )

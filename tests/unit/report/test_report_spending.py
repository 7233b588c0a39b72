"""The report's "How the budget was used" section, checked against the typed spending rows.

Inputs are the flagship through the real pipeline (``council_run``); where a branch needs a
value the run did not produce (a net loss, a weak instrument, a small cell), one field of a
real row is varied. Numbers are read back from the words and compared with the fields.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, get_args

import pytest
from scenarios import claims

from trialkit.analyse import ResultsDocument
from trialkit.protocol.vocabulary import SpendRule, SpendVerdict
from trialkit.report import render_report, spending, spending_effects, spending_misuse
from trialkit.report.phrases import Arms
from trialkit.report.spending_figdata import spending_figures

MONEY = r"£([\d,]+(?:\.\d+)?)"
ZERO_OR_ALL = re.compile(r"(?<![\d.])(0|100)%")


def _money(text: str) -> float:
    return float(text.replace(",", ""))


def _close(shown: str, value: float) -> bool:
    """Whether ``shown`` (as printed) is ``value`` rounded to the digits shown."""
    digits = len(shown.split(".")[1]) if "." in shown else 0
    return abs(_money(shown) - value) <= 0.5 * 10**-digits + 1e-9


@pytest.fixture(scope="module")
def doc(council_run: Any) -> ResultsDocument:
    results: ResultsDocument = council_run.results
    assert results.spending is not None, "the flagship declares a spend ledger"
    return results


@pytest.fixture(scope="module")
def arms(doc: ResultsDocument) -> Arms:
    return Arms(doc.protocol)


@pytest.fixture(scope="module")
def text(council_run: Any) -> str:
    """The section's visible text."""
    return claims.text_of(claims.section(council_run.html, "spending", "families"))


def _claims(page: str, name: str) -> list[str]:
    found = re.findall(rf'<p data-claim="{name}">(.*?)</p>', page, flags=re.S)
    return [claims.text_of(p) for p in found]


def test_the_section_follows_results_and_staff_and_is_in_the_contents(council_run: Any) -> None:
    page = council_run.html
    assert (
        page.index('id="results"')
        < page.index('id="staff"')
        < page.index('id="spending"')
        < page.index('id="families"')
    )
    assert '<a href="#spending">How the budget was used</a>' in page


def test_take_up_words_are_the_typed_counts_and_quantiles(
    doc: ResultsDocument, council_run: Any
) -> None:
    section = doc.spending
    assert section is not None
    lines = " ".join(_claims(council_run.html, "take-up"))
    treated = [r for r in section.take_up if r.arm in Arms(doc.protocol).treated]
    assert treated
    for row in treated:
        using = re.search(r"([\d,]+|Fewer than 5) of ([\d,]+) workers in", lines)
        assert using is not None, lines
        assert using[1] == f"{row.workers_spending:,}" or row.workers_spending < 5
        assert int(using[2].replace(",", "")) == row.workers
        assert re.search(rf"They made {row.spends:,} spends, {MONEY} in all", lines)
        clients = re.search(r"([\d,]+) of their ([\d,]+) clients received", lines)
        assert clients is not None
        assert (int(clients[1].replace(",", "")), int(clients[2].replace(",", ""))) == (
            row.clients_receiving,
            row.clients,
        )
        q = row.per_client_quantiles
        assert q is not None
        median = re.search(rf"median\) client who received support had {MONEY}", lines)
        top = re.search(rf"the largest 10% more than {MONEY}", lines)
        assert median and top
        assert _close(median[1], q[2]) and _close(top[1], q[4]), (median[1], top[1], q)
        days = re.search(r"first spend a median of ([\d.]+) days", lines)
        assert days and _close(days[1], float(row.days_to_first_spend or 0))


def test_small_counts_of_workers_and_clients_read_fewer_than_5(
    doc: ResultsDocument, arms: Arms
) -> None:
    section = doc.spending
    assert section is not None
    row = next(r for r in section.take_up if r.arm in arms.treated)
    few = row.model_copy(update={"workers_spending": 3, "clients_at_cap": 2})
    varied = doc.model_copy(update={"spending": section.model_copy(update={"take_up": (few,)})})
    words = " ".join(spending.take_up_sentences(varied, arms))
    assert f"Fewer than 5 of {row.workers:,} workers" in words
    assert "fewer than 5 clients reached it" in words
    assert not re.search(r"(?<![\d,])[1-4] (clients|workers)", words)
    table = spending.take_up_rows(varied, arms)[0]
    assert table["workers"] == f"fewer than 5 of {row.workers:,}"


def test_dose_bins_under_5_clients_are_left_out_of_the_plot(
    doc: ResultsDocument, arms: Arms
) -> None:
    section = doc.spending
    assert section is not None and section.dose_bins
    bins = list(section.dose_bins)
    name = bins[0].outcome
    index = next(i for i, b in enumerate(bins) if b.outcome == name and b.clients >= 5)
    bins[index] = bins[index].model_copy(update={"clients": 3})
    varied = doc.model_copy(
        update={"spending": section.model_copy(update={"dose_bins": tuple(bins)})}
    )
    spec = spending_figures(varied, arms)["spend_dose"]
    assert spec["suppressed"] == 1
    assert all(b["clients"] >= 5 for b in spec["bins"])


def test_findings_are_counted_and_each_is_located(
    doc: ResultsDocument, council_run: Any, text: str
) -> None:
    section = doc.spending
    assert section is not None and section.findings, "the simulated ledger breaks rules"
    page = council_run.html
    lead = " ".join(_claims(page, "rules"))
    count = re.search(r"The ledger has ([\d,]+) compliance findings?", lead)
    assert count and int(count[1].replace(",", "")) == len(section.findings)
    assert "not errors in the data" in lead
    located = page[page.index('id="spend-findings"') :]
    located = located[: located.index("</details>")]
    assert located.count('<tr><th scope="row">') == len(section.findings)
    for f in section.findings:
        assert f">{f.spend_id}</th>" in located
        assert f"{f.file}, row {f.row}" in located
    for r in section.rule_counts:  # the table's count of each rule and arm
        label = spending.rule_label(r.rule, section, doc.protocol.units.name)
        assert re.search(
            rf"{re.escape(label)} {re.escape(Arms(doc.protocol).label(r.arm))} "
            rf"{r.spends:,} ",
            text,
        ), label


def test_equity_names_a_direction_only_when_the_interval_excludes_zero(
    doc: ResultsDocument, arms: Arms, council_run: Any
) -> None:
    section = doc.spending
    assert section is not None and section.equity_gaps
    page = " ".join(_claims(council_run.html, "spend-equity"))
    for gap in section.equity_gaps:
        for low, high in ((gap.ci_low, gap.ci_high), (-abs(gap.estimate) - 1, -0.001), (-1.0, 1.0)):
            varied = gap.model_copy(
                update={"ci_low": low, "ci_high": high, "estimate": (low + high) / 2}
            )
            words = spending_effects.gap_sentence(doc, varied, arms)
            clear = low > 0 or high < 0
            assert ("could not tell" in words) != clear, words
            assert not ZERO_OR_ALL.search(words), words
        assert spending_effects.gap_sentence(doc, gap, arms) in page


def test_dose_words_follow_the_interval_and_state_the_assumption(
    doc: ResultsDocument, arms: Arms, council_run: Any
) -> None:
    section = doc.spending
    assert section is not None and section.dose
    lines = _claims(council_run.html, "dose")
    assert any("in no other way" in line and "instrument" in line for line in lines)
    for row in section.dose:
        words = spending_effects.dose_sentence(doc, row, arms)
        assert words in lines
        clear = row.ci_low > 0 or row.ci_high < 0
        assert ("could not tell" in words) != clear, words
        assert f"£{row.per:,.0f}" in words
        weak = spending_effects.dose_sentence(
            doc, row.model_copy(update={"first_stage_f": 4.0}), arms
        )
        assert "unreliable" in weak and "unreliable" not in words.replace(weak, "")


def test_the_dose_plot_says_it_is_not_causal(council_run: Any) -> None:
    page = council_run.html
    figure = page[page.index('id="fig-spend-dose"') :]
    figure = figure[: figure.index("</figure>")]
    assert "not causal" in claims.text_of(figure.split("<svg")[0] + figure.split("</svg>")[1])
    assert "Exploratory: not causal" in figure  # drawn on the plot itself


def test_severity_words_are_the_review_counts(doc: ResultsDocument, council_run: Any) -> None:
    section = doc.spending
    assert section is not None
    if not section.severity:
        pytest.skip("these results hold no review verdicts")
    lead = _claims(council_run.html, "severity")[0]
    found = re.search(r"Of the ([\d,]+) spends reviewed, (.*)\.$", lead)
    assert found and section.review is not None
    assert int(found[1].replace(",", "")) == section.review.reviewed
    counts = dict(
        (words, int(n.replace(",", "")))
        for n, words in re.findall(
            r"([\d,]+) (?:were )?(appropriate|poor value|misuse|fraud)", found[2]
        )
    )
    assert counts == {spending_misuse.VERDICT_WORDS[r.verdict]: r.spends for r in section.severity}
    for line in _claims(council_run.html, "severity"):
        assert not ZERO_OR_ALL.search(line), line


def test_a_sampled_review_says_so_and_that_it_is_weighted(doc: ResultsDocument) -> None:
    section = doc.spending
    assert section is not None and section.review is not None
    census = spending_misuse.review_sentence(doc)
    assert census is not None and "sample" not in census
    sample = section.review.model_copy(
        update={
            "design": "stratified_sample",
            "reviewed": 120,
            "strata": 6,
            "sample_seed": 20270301,
        }
    )
    varied = doc.model_copy(update={"spending": section.model_copy(update={"review": sample})})
    words = spending_misuse.review_sentence(varied)
    assert words is not None
    assert f"sample of 120 of the {section.review.spends:,} spends" in words
    assert "6 strata, seed 20270301" in words and "weighting each reviewed spend" in words


@pytest.mark.parametrize(
    "net_ci", [(100.0, 900.0), (-900.0, -100.0), (-400.0, 600.0)], ids=["saving", "loss", "unclear"]
)
def test_a_saving_is_claimed_only_when_the_net_interval_is_above_zero(
    doc: ResultsDocument, arms: Arms, net_ci: tuple[float, float]
) -> None:
    section = doc.spending
    assert section is not None
    if not section.green_tape:
        pytest.skip("these results hold no green-tape comparison")
    row = section.green_tape[0].model_copy(update={"net_ci": net_ci, "net": sum(net_ci) / 2})
    lead, verdict = spending_misuse.net_sentence(doc, row, arms)
    assert ("saved exceeded the loss" in verdict) == (net_ci[0] > 0), verdict
    assert ("more than the approval time saved" in verdict) == (net_ci[1] < 0), verdict
    assert ("could not tell" in verdict) == (net_ci[0] <= 0 <= net_ci[1]), verdict
    saved = re.search(rf"cost about {MONEY} per", lead)
    assert saved and _close(saved[1], row.cost_per_unit)


def test_the_real_net_sentence_follows_its_interval(doc: ResultsDocument, council_run: Any) -> None:
    section = doc.spending
    assert section is not None
    if not section.green_tape:
        pytest.skip("these results hold no green-tape comparison")
    lines = " ".join(_claims(council_run.html, "net"))
    for row in section.green_tape:
        low, high = row.net_ci
        expected = (
            "saved exceeded the loss"
            if low > 0
            else "more than the approval time saved"
            if high < 0
            else "could not tell"
        )
        assert expected in lines


def test_every_number_in_the_sentences_is_a_typed_field(
    doc: ResultsDocument, council_run: Any
) -> None:
    page = claims.section(council_run.html, "spending", "families")
    names = set(re.findall(r'<p data-claim="([\w-]+)">', page))
    assert {"take-up", "categories", "periods", "rules", "spend-equity", "dose"} <= names
    fixed = (
        "the largest 10%",
        "out of 100",
        "Out of 100",
        "fewer than 5",
        "Fewer than 5",
        f"below {spending_effects.WEAK_F:g}",
    )
    for name in names:
        for line in _claims(page, name):
            for phrase in fixed:
                line = line.replace(phrase, "")
            assert claims.unexplained_numbers(line, doc) == [], (name, line)


def test_figures_have_text_alternatives_and_data_tables(
    council_run: Any, doc: ResultsDocument
) -> None:
    page = council_run.html
    expected = spending_figures(doc, Arms(doc.protocol))
    assert {"spend_per_client", "spend_categories", "spend_periods", "spend_dose"} <= set(expected)
    for key in expected:
        fig_id = "fig-" + key.replace("_", "-")
        figure = page[page.index(f'<figure id="{fig_id}"') :]
        figure = figure[: figure.index("</figure>")]
        assert f'<title id="{fig_id}-title">' in figure and f'<desc id="{fig_id}-desc">' in figure
        assert "<caption>Data behind" in figure
        sizes = [float(s) for s in re.findall(r"font-size:\s*([\d.]+)px", figure)]
        width = float(re.search(r'viewBox="[\d.\-]+ [\d.\-]+ ([\d.]+)', figure)[1])  # type: ignore[index]
        assert sizes and min(sizes) * 350 / width >= 11.0, fig_id  # legible on a phone


def test_tables_have_captions_and_header_scopes(council_run: Any) -> None:
    section = claims.section(council_run.html, "spending", "families")
    tables = re.findall(r"<table[^>]*>.*?</table>", section, flags=re.S)
    assert len(tables) >= 4
    for table in tables:
        assert "<caption>" in table
        assert '<th scope="col"' in table and '<th scope="row"' in table


def test_misuse_is_verdict_based_with_a_ledger(doc: ResultsDocument, council_run: Any) -> None:
    harms = claims.text_of(claims.section(council_run.html, "harms", "attrition"))
    if doc.misuse is not None:
        assert "misuse or fraud" in harms and "unjustified" not in harms
    assert "How the budget was used" in harms


def test_every_rule_and_verdict_has_words() -> None:
    assert set(spending.RULE_LABELS) == set(get_args(SpendRule))
    assert set(spending_misuse.VERDICT_WORDS) == set(get_args(SpendVerdict))


def test_a_protocol_without_a_ledger_has_no_budget_section(doc: ResultsDocument) -> None:
    protocol = doc.protocol.model_copy(update={"spending": None})
    html = render_report(doc.model_copy(update={"protocol": protocol, "spending": None}))
    assert 'id="spending"' not in html and 'href="#spending"' not in html
    assert "fig-spend-" not in html and "How the budget was used" not in html


@pytest.fixture(scope="module")
def model_rows(council_run: Any) -> tuple[Any, ...]:
    """The hierarchical misuse model on the run's own ledger, with two chains (R-hat)."""
    from trialkit import api
    from trialkit.analyse.spending_model import misuse_model_rows
    from trialkit.estimate.spending.ledger import Ledger
    from trialkit.protocol import load_protocol

    out = Path(council_run.report).parent
    data = api.validate_files(
        out / "protocol.yaml", out / "allocation.csv", sorted((out / "data").glob("*.csv"))
    )
    protocol = load_protocol(out / "protocol.yaml")
    ledger = Ledger.from_data(protocol, data)
    assert ledger is not None
    return misuse_model_rows(protocol, ledger, draws=200, chains=2, tune=200, notes=[])


@pytest.mark.slow
def test_the_model_answers_per_100_workers_from_its_row(
    doc: ResultsDocument, model_rows: tuple[Any, ...]
) -> None:
    section = doc.spending
    assert section is not None and model_rows
    for row in model_rows:
        words = " ".join(spending_misuse.model_sentence(doc, row))
        who = "workers" if row.level == "worker" else "teams"
        found = re.search(
            rf"out of 100 {who} like these, (about (\d+)|fewer than 1) \(95% "
            r"credible interval (?:up to (\d+)|(\d+) to (\d+))\)",
            words,
        )
        assert found, words
        if found[2]:
            assert int(found[2]) == round(row.per_100)
        assert int(found[3] or found[5]) == round(row.per_100_ci[1])
        cost = re.search(rf"cost about {MONEY} a year", words)
        assert cost and _close(cost[1], row.cost_per_year)
        assert not ZERO_OR_ALL.search(words), words
        assert ("treat these numbers as rough" in words) == (
            row.rhat_max > spending_misuse.RHAT_MAX or row.ess_bulk_min < spending_misuse.ESS_MIN
        )

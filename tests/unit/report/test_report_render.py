"""Rendering: escaping, the restricted loader, self-containment, accessibility, key numbers."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from jinja2 import TemplateNotFound

from trialkit.analyse import ResultsDocument, load_results
from trialkit.analyse.trial_rows import RegistrationInfo
from trialkit.errors import OverwriteError, TrialkitError
from trialkit.protocol import Protocol, bundled_path, load_protocol
from trialkit.report import render_plan, render_report, write_report
from trialkit.report.figures import love_plot
from trialkit.report.render import environment

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def results(council_run: Any) -> ResultsDocument:
    """A results document written by the real pipeline."""
    return council_run.results


@pytest.fixture(scope="module")
def report(council_run: Any) -> str:
    return council_run.html


@pytest.fixture
def no_figures(monkeypatch):
    """Skip drawing: for tests about sections and banners, not figures."""
    import trialkit.report.figures as figures

    monkeypatch.setattr(figures, "build_figures", lambda data: {"randomisation": []})


@pytest.fixture(scope="module")
def plan(results) -> str:
    protocol = load_protocol(bundled_path("council_discretionary_budget"))
    return render_plan(
        protocol,
        registration=results.registration.model_dump(),
        power=[r.model_dump() for r in results.power],
    )


class _Outline(HTMLParser):
    """Headings, figures, tables and attributes of a page, for structural checks."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[int] = []
        self.ids: list[str] = []
        self.th_without_scope = 0
        self.figures: list[dict[str, bool]] = []
        self.lang: str | None = None
        self._depth: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if "id" in a:
            self.ids.append(a["id"])
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "th" and "scope" not in a:
            self.th_without_scope += 1
        if tag == "figure":
            self.figures.append({"alt": False, "table": False, "caption": False})
            self._depth.append("figure")
        elif self.figures and "figure" in self._depth:
            fig = self.figures[-1]
            if tag == "svg" and a.get("role") == "img" and a.get("aria-labelledby"):
                fig["alt"] = True
            if tag == "div" and a.get("role") == "group" and a.get("aria-label"):
                fig["alt"] = True
            if tag == "figcaption":
                fig["caption"] = True
            if tag == "table":
                fig["table"] = True

    def handle_endtag(self, tag):
        if tag == "figure" and self._depth:
            self._depth.pop()


def _outline(html: str) -> _Outline:
    parser = _Outline()
    parser.feed(html)
    return parser


# Safety ----------------------------------------------------------------------------------


def test_environment_always_autoescapes():
    env = environment()
    assert env.autoescape is True
    assert env.from_string("{{ x }}").render(x=EVIL) == "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.mark.parametrize(
    "name",
    [
        "../pyproject.toml",
        "sections/../../pyproject.toml",
        "/etc/passwd",
        str(Path(__file__).resolve()),
        str((Path(__file__).parents[3] / "pyproject.toml").resolve()),
        "..\\pyproject.toml",
    ],
)
def test_loader_cannot_read_outside_templates(name):
    env = environment()
    with pytest.raises(TemplateNotFound):
        env.from_string("{% include name %}").render(name=name)


def test_undefined_variables_are_errors():
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        environment().from_string("{{ missing.attr }}").render()


def test_script_labels_render_as_text_in_plan_and_report(results):
    p = results.protocol.model_dump(mode="json")
    p["arms"][1]["label"] = EVIL
    p["outcomes"][0]["label"] = EVIL
    p["covariates"][0]["label"] = EVIL
    protocol = Protocol.model_validate(p, context={"defer_rules": True})
    balance = (results.balance[0].model_copy(update={"label": EVIL}), *results.balance[1:])
    evil = results.model_copy(update={"protocol": protocol, "balance": balance})
    for html in (render_plan(protocol), render_report(evil)):
        assert EVIL not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script>alert" not in html


# Self-containment and accessibility -----------------------------------------------------


@pytest.mark.parametrize("doc", ["report", "plan"])
def test_self_contained(doc, request):
    html = request.getfixturevalue(doc)
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(?:https?:)?//", html, re.I)
    assert "<link" not in html and "<img" not in html


@pytest.mark.parametrize("doc", ["report", "plan"])
def test_accessible_structure(doc, request):
    html = request.getfixturevalue(doc)
    outline = _outline(html)
    assert outline.lang == "en-GB"
    assert outline.headings.count(1) == 1 and outline.headings[0] == 1
    jumps = [b for a, b in zip(outline.headings, outline.headings[1:], strict=False) if b > a + 1]
    assert not jumps, "a heading skips a level"
    assert outline.th_without_scope == 0
    assert len(outline.ids) == len(set(outline.ids)), "duplicate ids"


def test_every_figure_has_text_alternative_and_data_table(report):
    figures = _outline(report).figures
    assert len(figures) >= 6
    for fig in figures:
        assert fig == {"alt": True, "table": True, "caption": True}
    assert report.count("<desc id=") == report.count('<svg role="img"')


def test_figures_are_deterministic(results):
    spec = {"rows": [{"label": "Age", "value": 0.03}, {"label": "Caseload", "value": -0.2}]}
    first, second = love_plot(spec), love_plot(spec)
    assert str(first.svg) == str(second.svg)
    assert "<metadata>" not in first.svg and "dc:date" not in first.svg


# Content ----------------------------------------------------------------------------------


def test_report_key_numbers(report, results):
    import html as htmllib

    report = htmllib.unescape(report)
    misuse = results.misuse
    flow = results.flow
    teams = sum(a.clusters_allocated or 0 for a in flow.arms)
    clients = sum(a.individuals_allocated for a in flow.arms)
    for text in [
        f"{misuse.cases} of {misuse.reviewed} spends",
        "The discretionary budget cost £9,200 extra per team.",
        f"{teams} teams randomised, with {clients} clients",
        results.provenance.protocol_hash[:12],
        results.protocol.analysis.decision_rules[0].otherwise
        if not results.bayesian.decisions[0].met
        else results.protocol.analysis.decision_rules[0].action,
    ]:
        assert text in report, text
    est = results.estimate("loneliness", "budget")
    digits = 2 if abs(est.ci_low) < 10 else 1
    assert f"{est.estimate:.{digits}f}".replace("-", "-") in report  # the results table
    assert "Not pre-registered" not in report


def test_not_pre_registered_banner(results, no_figures):
    unregistered = results.model_copy(update={"registration": RegistrationInfo(registered=False)})
    html = render_report(unregistered, plan_sections=())
    assert 'class="banner-unregistered"' in html
    assert "@top-center" in html and "NOT PRE-REGISTERED" in html  # repeated in print headers
    assert html.count("Not pre-registered") >= 3


def test_plan_covers_spirit_items(plan):
    for text in [
        "UK Evaluation Registry: ER-2027-0142",
        "Northfield Council Transformation Fund",
        "Conflicts of interest",
        "Public involvement",
        "£300",
        "After the fact",
        "Allowed uses",
        "UCLA 3-item loneliness scale",
        "MID 0.5 points",
        "ROPE ±0.3 points",
        "CR2",
        "HC2",
        "Holm step-down",
        "Anderson (2008)",
        "2,000 re-randomisations",
        "Sceptical prior",
        "The chance that the discretionary budget reduced loneliness is at least 90%.",
        "equity group",
        "20261123",
        "Who randomised",
        "Missing data",
        "Amendments",
        "Tolerance: 5",
    ]:
        assert text in plan, text


def test_plan_and_report_share_sections(plan, report):
    for anchor in ('id="design"', 'id="interventions"', 'id="outcomes"', 'id="methods"'):
        assert anchor in plan and anchor in report


@pytest.mark.parametrize(
    "drop",
    [
        ["flow", "balance", "randomisation", "indices"],
        ["subgroups", "misuse", "attrition", "attrition_checks", "deviations"],
        ["estimates", "verdicts", "effect_sizes", "descriptives"],
    ],
)
def test_missing_sections_are_omitted_with_a_note(results, drop, no_figures):
    empty = {"flow": None, "misuse": None}
    slim = results.model_copy(update={k: empty.get(k, ()) for k in drop})
    html = render_report(slim, plan_sections=())
    assert "<h1>" in html and 'class="note"' in html


def test_bayesian_off_is_said_and_its_columns_left_out(results, no_figures):
    from trialkit.analyse.document import BayesianSection

    off = results.model_copy(
        update={
            "bayesian": BayesianSection(status="not_requested"),
            "verdicts": tuple(
                v.model_copy(update={"bayesian": None, "disagree": False, "sign_differs": False})
                for v in results.verdicts
            ),
        }
    )
    html = render_report(off, plan_sections=())
    assert "switched off for this run (--no-bayes)" in html
    assert ">P(benefit)<" not in html and ">Posterior mean<" not in html


def test_results_file_round_trips_and_an_edited_field_is_named(results, tmp_path):
    path = tmp_path / "results.json"
    path.write_text(results.to_json(), encoding="utf-8")
    assert load_results(tmp_path) == results
    data = json.loads(path.read_text("utf-8"))
    data["estimates"][0]["p_value"] = "small"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TrialkitError, match=r"field `estimates\[0\]\.p_value`"):
        load_results(path)
    data["schema_version"] = 1
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(TrialkitError, match="schema version 1"):
        load_results(path)


def test_unknown_plan_section_is_refused(results):
    with pytest.raises(ValueError, match="Unknown plan section"):
        render_report(results, plan_sections=("nonsense",))


def test_write_report_refuses_overwrite(tmp_path):
    path = write_report("<p>x</p>", tmp_path / "report.html")
    assert path.read_text("utf-8") == "<p>x</p>"
    with pytest.raises(OverwriteError):
        write_report("<p>y</p>", path)
    write_report("<p>y</p>", path, force=True)
    assert path.read_text("utf-8") == "<p>y</p>"


def test_plan_with_power_curve_and_diagnosis():
    protocol = load_protocol(bundled_path("council_discretionary_budget"))
    power = [
        {
            "outcome": "loneliness",
            "role": "primary",
            "n_units": n,
            "power": p,
            "mde": -0.6,
            "design_effect": 2.3,
            "target_power": 0.8,
        }
        for n, p in ((16, 0.62), (24, 0.82), (24, 0.82), (32, 0.92))
    ]
    diagnosis = [{"outcome": "loneliness", "bias": 0.01, "rmse": 0.41, "coverage": 0.948}]
    html = render_plan(protocol, power=power, diagnosis=diagnosis)
    assert 'id="fig-power"' in html and "Design diagnosis by simulation" in html
    assert "RMSE" in html and "at the planned 24 teams" in html
    figures = _outline(html).figures
    assert figures and all(f == {"alt": True, "table": True, "caption": True} for f in figures)


def test_power_curve_figure_formats():
    import pandas as pd

    from trialkit.report.figures import power_curve_figure

    frame = pd.DataFrame(
        {"outcome": ["a", "a"], "role": ["primary"] * 2, "n_units": [16, 24], "power": [0.6, 0.8]}
    )
    svg = power_curve_figure(frame)
    assert isinstance(svg, str) and "<svg" in svg and "dc:date" not in svg
    assert svg == power_curve_figure(frame)
    png = power_curve_figure(frame, fmt="png")
    assert isinstance(png, bytes) and png[:4] == b"\x89PNG"


def test_flow_shows_reasons_and_exclusions(results, no_figures):
    arms = list(results.flow.arms)
    arms[1] = arms[1].model_copy(
        update={"lost_reasons": (("moved away", 3),), "individuals_excluded": 3}
    )
    flow = results.flow.model_copy(update={"arms": tuple(arms)})
    html = render_report(results.model_copy(update={"flow": flow}), plan_sections=())
    assert "Reasons: moved away (3)" in html and "Excluded from analysis" in html


def test_plan_accepts_a_diagnosis_object():
    import pandas as pd

    class FakeDiagnosis:
        sims = 500

        def wide(self) -> pd.DataFrame:
            return pd.DataFrame(
                {"outcome": ["loneliness"], "n_units": [24], "power": [0.8], "rmse": [0.2]}
            )

    protocol = load_protocol(bundled_path("council_discretionary_budget"))
    html = render_plan(protocol, diagnosis=FakeDiagnosis())
    assert "500 simulations per size" in html and "RMSE" in html
    assert '<th scope="row">Loneliness (UCLA 3-item scale)</th>' in html


def test_bayesian_notes_are_shown_with_the_sampler_diagnostics(results, no_figures):
    note = (
        "`days_to_support`: 7 divergent transitions at the default target_accept of 0.8, so "
        "refitted at 0.95 (smaller steps), which had 0; the refit is reported."
    )
    noted = results.model_copy(
        update={"bayesian": results.bayesian.model_copy(update={"notes": (note,)})}
    )
    html = render_report(noted)
    diagnostics = html[html.index("sampler diagnostics</summary>") :]
    diagnostics = diagnostics[: diagnostics.index("</details>")]
    assert "<li>days_to_support: 7 divergent transitions" in diagnostics
    quiet = results.model_copy(
        update={"bayesian": results.bayesian.model_copy(update={"notes": ()})}
    )
    assert "Notes on the Bayesian fits" not in render_report(quiet)


def test_bayesian_columns_sit_beside_the_itt_estimate_only(results, report):
    post = results.posterior("loneliness", "budget")
    row = report[report.index('<tr class="primary">') :]
    row = row[: row.index("</tr>")]
    assert f"{post.mean:.2f}" in row or f"{post.mean:.1f}" in row
    cace = [r for r in report.split("<tr") if ">CACE<" in r and "Posterior mean" in r]
    assert cace
    for r in cace:
        cells = re.findall(r'data-label="(?:Posterior mean|95% CrI|P\(benefit\))">([^<]*)<', r)
        assert cells and set(cells) == {"—"}

"""Rendering: escaping, the restricted loader, self-containment, accessibility, key numbers."""

from __future__ import annotations

import copy
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import TemplateNotFound

from trialkit.errors import OverwriteError
from trialkit.protocol import Protocol, bundled_path, load_protocol
from trialkit.report import render_plan, render_report, write_report
from trialkit.report.figures import love_plot
from trialkit.report.render import environment

DATA = Path(__file__).resolve().parents[2] / "data" / "results_example.json"
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def results() -> dict:
    return json.loads(DATA.read_text("utf-8"))


@pytest.fixture(scope="module")
def report(results) -> str:
    return render_report(results)


@pytest.fixture
def no_figures(monkeypatch):
    """Skip drawing: for tests about sections and banners, not figures."""
    import trialkit.report.figures as figures

    monkeypatch.setattr(figures, "build_figures", lambda data: {"randomisation": []})


@pytest.fixture(scope="module")
def plan(results) -> str:
    protocol = load_protocol(bundled_path("council_discretionary_budget"))
    return render_plan(protocol, registration=results["registration"], power=results["power"])


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
    evil = copy.deepcopy(results)
    p = evil["protocol"]
    p["arms"][1]["label"] = EVIL
    p["outcomes"][0]["label"] = EVIL
    p["covariates"][0]["label"] = EVIL
    evil["balance"][0]["label"] = EVIL
    protocol = Protocol.model_validate(p)
    for html in (render_plan(protocol), render_report(evil)):
        assert EVIL not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert html.count("<script>") == 1  # only the print helper of the base template


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


def test_report_key_numbers(report):
    for text in [
        "Clients in teams given the discretionary budget scored 0.6 points lower on loneliness, "
        "on a 3–9 scale, than clients in teams that kept usual practice.",
        "We are 91% sure that the discretionary budget reduced loneliness.",
        "3 of 212 spends (1.4%) were judged unjustified; the tolerance was 5%.",
        "It cost £9,200 extra per team.",
        "24 teams randomised, with 720 clients",
        "Offer discretionary budgets to every adult social care team.",
        "did not clearly improve",  # the Goodhart warning
        "analysis.frequentist.ri_draws",  # a deviation
        "-0.61",  # the primary estimate
        "3efa70925d643a6478cc88a3203cec2c61b2acace71dc6cea522aa8fc77c2205"[:12],
    ]:
        assert text in report, text
    assert "Not pre-registered" not in report


def test_not_pre_registered_banner(results, no_figures):
    unregistered = dict(results, registration={"registered": False})
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
        "MID 1 point",
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
        "0.81",
        "Tolerance: 5",
    ]:
        assert text in plan, text


def test_plan_and_report_share_sections(plan, report):
    for anchor in ('id="design"', 'id="interventions"', 'id="outcomes"', 'id="methods"'):
        assert anchor in plan and anchor in report


@pytest.mark.parametrize(
    "drop",
    [
        ["bayesian", "decisions"],
        ["flow", "balance", "randomisation", "indices"],
        ["subgroups", "misuse", "net_benefit", "attrition", "deviations", "provenance"],
    ],
)
def test_missing_sections_are_omitted_with_a_note(results, drop, no_figures):
    slim = {k: v for k, v in results.items() if k not in drop}
    slim["randomisation"] = []
    html = render_report(slim, plan_sections=())
    assert "<h1>" in html and 'class="note"' in html


def test_report_without_protocol_still_renders():
    html = render_report({"registration": {"registered": False}})
    assert "Not pre-registered" in html and "valid protocol" in html


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


def test_flow_tolerates_partial_counts_and_shows_reasons(results, no_figures):
    partial = dict(results)
    partial["flow"] = {
        "arms": {
            "usual": {"clusters_allocated": 12},
            "budget": {
                "clusters_allocated": 12,
                "lost_reasons": ["moved away"],
                "individuals_excluded": 3,
            },
        }
    }
    html = render_report(partial, plan_sections=())
    assert "Reasons: moved away" in html and "Excluded from analysis" in html


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
    html = render_report({**results, "bayesian_notes": [note]})
    diagnostics = html[html.index("sampler diagnostics</summary>") :]
    diagnostics = diagnostics[: diagnostics.index("</details>")]
    assert "<li>days_to_support: 7 divergent transitions" in diagnostics
    assert "Notes on the Bayesian fits" not in render_report({**results, "bayesian_notes": []})


@pytest.mark.parametrize("label", ["itt", "ITT"])
def test_bayesian_columns_sit_beside_the_itt_estimate_whatever_its_case(
    results, no_figures, label
):
    """Results from ``trialkit analyse`` say "ITT"; protocols name it "itt"."""
    estimates = [
        {**e, "estimand": label if e["estimand"].lower() == "itt" else e["estimand"].upper()}
        for e in results["estimates"]
    ]
    bayesian = [{**b, "estimand": "ITT"} for b in results["bayesian"]]
    html = render_report({**results, "estimates": estimates, "bayesian": bayesian})
    row = html[html.index('<tr class="primary">') :]
    cells = row[: row.index("</tr>")].split('<td class="num">')
    posterior = next(b for b in bayesian if b["outcome"] == "loneliness")
    assert f"{posterior['mean']:.2f}" in cells[-4]  # Bayesian mean beside the ITT estimate
    cace = html[html.index("<td>CACE</td>") :].split("</tr>")[0].split('<td class="num">')
    assert [c.split("<")[0] for c in cace[-4:]] == ["—"] * 4  # no posterior for the CACE

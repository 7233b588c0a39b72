"""The report and the plan in headless Chromium: they load, render, and pass axe-core.

They also fit a 390 px phone (stacked tables, no page-wide horizontal scroll) and print to
at most 12 A4 pages. Skipped without ``/usr/bin/chromium``. The axe-core check runs when
``axe.min.js`` is found (``$TRIALKIT_AXE_JS``, ``node_modules/axe-core`` in the repository,
or npm's global root): axe is inlined into a copy of the page, its violations are written
into the DOM, and ``--dump-dom`` reads them back, so no DevTools protocol is needed.
"""

from __future__ import annotations

import html as html_lib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trialkit.protocol import bundled_path, load_protocol
from trialkit.report import render_plan

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]

_AXE_RUNNER = """<script>%s</script><script>
axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
  "wcag22aa", "best-practice"]}}).then(function (r) {
  var out = document.createElement("pre"); out.id = "axe-results";
  out.textContent = JSON.stringify(r.violations.map(function (v) {
    return {id: v.id, impact: v.impact, tags: v.tags, nodes: v.nodes.map(function (n) {
      return n.target.join(" "); }).slice(0, 5)}; }));
  document.body.appendChild(out);
});
</script>"""


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


def _axe_js() -> Path | None:
    candidates = [
        os.environ.get("TRIALKIT_AXE_JS", ""),
        str(ROOT / "node_modules" / "axe-core" / "axe.min.js"),
    ]
    npm = shutil.which("npm")
    if npm:
        root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, check=False)
        candidates.append(str(Path(root.stdout.strip()) / "axe-core" / "axe.min.js"))
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The real demo's report and plan (``trialkit demo --no-bayes``, a few seconds), and an
    unregistered plan, which carries the "not pre-registered" banner."""
    out = tmp_path_factory.mktemp("pages")
    demo = out / "demo"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from trialkit.cli import app; app()",
            "demo",
            "--out",
            str(demo),
            "--no-bayes",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    unregistered = out / "unregistered-plan.html"
    protocol = load_protocol(bundled_path("council_discretionary_budget"))
    unregistered.write_text(render_plan(protocol), encoding="utf-8")
    return {
        "report": demo / "report.html",
        "plan": demo / "registration" / "pre_analysis_plan.html",
        "unregistered": unregistered,
    }


@pytest.mark.parametrize("name", ["report", "plan"])
def test_page_loads_and_renders(name: str, pages: dict[str, Path], tmp_path: Path) -> None:
    shot = tmp_path / f"{name}.png"
    done = _chromium(
        tmp_path, f"--screenshot={shot}", "--window-size=1280,4000", pages[name].as_uri()
    )
    assert shot.is_file(), done.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 50_000  # a blank page compresses to a few kilobytes


def test_dom_has_banner_and_figures(pages: dict[str, Path], tmp_path: Path) -> None:
    dom = _chromium(tmp_path, "--dump-dom", pages["report"].as_uri()).stdout
    assert dom.count("<h1>") == 1
    assert dom.count("<svg") >= 4
    unregistered = _chromium(tmp_path, "--dump-dom", pages["unregistered"].as_uri()).stdout
    assert 'class="banner-unregistered"' in unregistered


def test_axe_core_finds_no_serious_violations(pages: dict[str, Path], tmp_path: Path) -> None:
    axe = _axe_js()
    if axe is None:
        pytest.skip("axe-core not installed (npm install axe-core, or set TRIALKIT_AXE_JS)")
    for name, page in pages.items():
        if name == "unregistered":
            continue
        text = page.read_text("utf-8")
        instrumented = tmp_path / f"{name}-axe.html"
        runner = _AXE_RUNNER % axe.read_text("utf-8")
        instrumented.write_text(text.replace("</body>", runner + "</body>"), encoding="utf-8")
        dom = _chromium(
            tmp_path, "--virtual-time-budget=30000", "--dump-dom", instrumented.as_uri()
        ).stdout
        found = re.search(r'<pre id="axe-results">(.*?)</pre>', dom, re.S)
        assert found, f"axe did not run on the {name}"
        violations = json.loads(html_lib.unescape(found.group(1)))
        # Every WCAG 2.2 A/AA failure counts; best-practice rules only when serious.
        wcag = [v for v in violations if any(t.startswith("wcag") for t in v["tags"])]
        serious = [v for v in violations if v["impact"] in ("serious", "critical")]
        assert not wcag, f"{name}: WCAG violations {wcag}"
        assert not serious, f"{name}: {serious}"


# The page is shown in an iframe of the given width (headless Chromium will not make a
# window narrower than 500 px), and this script, run in the outer page, measures it.
_LAYOUT_PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="%s" style="width:%dpx;height:900px;border:0"></iframe>
<script>
document.getElementById("f").addEventListener("load", function () {
  var doc = this.contentDocument, root = doc.documentElement, vw = root.clientWidth;
  var out = {viewport: vw, scroll: root.scrollWidth, stack: 0, overflow: [], stackOverflow: []};
  function name(el) { return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && el.className.baseVal === undefined ? "." + el.className : ""); }
  doc.querySelectorAll("main *, header *, footer *").forEach(function (el) {
    if (el.closest(".table-wrap, svg, thead")) return;
    var r = el.getBoundingClientRect();
    if (r.width && (r.right > vw + 1 || r.left < -1)) out.overflow.push(name(el));
  });
  doc.querySelectorAll("table.stack").forEach(function (t) {
    out.stack += 1;
    t.querySelectorAll("caption, tbody, tbody *").forEach(function (el) {
      var r = el.getBoundingClientRect();
      if (r.width && r.right > vw + 1) out.stackOverflow.push(name(el));
    });
  });
  var pre = document.createElement("pre"); pre.id = "layout";
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});
</script></body></html>"""


def _layout(tmp_path: Path, page: Path, width: int) -> dict[str, object]:
    probe = tmp_path / f"probe-{width}.html"
    probe.write_text(_LAYOUT_PROBE % (page.as_uri(), width), encoding="utf-8")
    dom = _chromium(
        tmp_path,
        "--allow-file-access-from-files",
        "--window-size=1280,900",
        "--virtual-time-budget=10000",
        "--dump-dom",
        probe.as_uri(),
    ).stdout
    found = re.search(r'<pre id="layout">(.*?)</pre>', dom, re.S)
    assert found, "the layout probe did not run"
    result: dict[str, object] = json.loads(html_lib.unescape(found.group(1)))
    return result


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("name", ["report", "plan"])
def test_nothing_but_tables_scrolls_sideways(
    name: str, width: int, pages: dict[str, Path], tmp_path: Path
) -> None:
    layout = _layout(tmp_path, pages[name], width)
    assert width - 20 <= int(str(layout["viewport"])) <= width, layout
    assert layout["scroll"] == layout["viewport"], f"{name} scrolls sideways at {width}px"
    assert not layout["overflow"], f"{name} at {width}px: {layout['overflow']}"
    assert not layout["stackOverflow"], f"{name} at {width}px: {layout['stackOverflow']}"


def test_plan_tables_stack_on_a_phone(pages: dict[str, Path], tmp_path: Path) -> None:
    layout = _layout(tmp_path, pages["plan"], 390)
    assert isinstance(layout["stack"], int) and layout["stack"] >= 3, layout


def test_report_prints_on_at_most_18_pages(pages: dict[str, Path], tmp_path: Path) -> None:
    """The flagship's report, with its budget-use section (about 4 pages: take-up, rules,
    equity, misuse, green tape, dose), stays a document a council reads: at most 18 A4
    pages (11 before the spend ledger; the located findings list is on screen only)."""
    pdf = tmp_path / "report.pdf"
    done = _chromium(
        tmp_path, f"--print-to-pdf={pdf}", "--no-pdf-header-footer", pages["report"].as_uri()
    )
    assert pdf.is_file(), done.stderr[-2000:]
    count = len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))
    assert 1 <= count <= 18, f"the report prints on {count} A4 pages"

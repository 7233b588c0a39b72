"""Render the pre-analysis plan and the results report to self-contained HTML.

One Jinja2 environment serves both documents. Autoescaping is always on (every value
from a protocol or a results file is text, whatever the template's file name), undefined
variables are errors, and the loader reads only from the bundled ``templates/`` directory:
a template cannot include ``../pyproject.toml`` or an absolute path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound

from trialkit import __version__
from trialkit.analyse.document import ResultsDocument
from trialkit.protocol import Protocol
from trialkit.protocol.bundled import resource_dir
from trialkit.report.context import report_context
from trialkit.report.plan import plan_context
from trialkit.report.tables import fmt
from trialkit.report.trail import LedgerEvidence
from trialkit.report.words import money, plural

if TYPE_CHECKING:
    from trialkit.design.subgroups import SubgroupPower

#: The shared plan sections a report repeats by default, in order.
PLAN_SECTIONS: tuple[str, ...] = ("design", "interventions", "outcomes", "methods")
#: Every shared section; the plan prints all of them.
ALL_SECTIONS: tuple[str, ...] = (
    "open_science",
    "background",
    "design",
    "interventions",
    "outcomes",
    "sample_size",
    "methods",
)


class _Figures(dict[str, Any]):
    """Figures by name; an absent figure is ``None`` so templates can test for it."""

    def __missing__(self, key: str) -> None:
        return None


class TemplateDirLoader(FileSystemLoader):
    """A file loader that refuses any template outside its one directory.

    Jinja's :class:`~jinja2.FileSystemLoader` already rejects ``..`` segments; this also
    rejects absolute names and backslashes, and checks that the resolved file (after
    following symbolic links) lies inside the directory.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        super().__init__(str(self.root), followlinks=False)

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        if template.startswith(("/", "\\")) or "\\" in template or ":" in template:
            raise TemplateNotFound(template)
        if any(part in ("..", "") for part in template.split("/")):
            raise TemplateNotFound(template)
        resolved = (self.root / template).resolve()
        if not resolved.is_relative_to(self.root):
            raise TemplateNotFound(template)
        return super().get_source(environment, template)


@lru_cache(maxsize=4)
def environment(templates: str | None = None) -> Environment:
    """The report environment: autoescape always on, strict undefined, restricted loader.

    Parameters
    ----------
    templates
        Directory of templates; the bundled ``templates/`` by default.

    Returns
    -------
    jinja2.Environment
        A cached environment.
    """
    root = templates or str(resource_dir("templates"))
    env = Environment(
        loader=TemplateDirLoader(root),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.globals.update(fmt=fmt, version=__version__)
    env.filters.update(plural=plural, money=money)
    return env


def render_plan(
    protocol: Protocol,
    *,
    registration: Any = None,
    power: Any = None,
    diagnosis: Any = None,
    subgroup_power: SubgroupPower | None = None,
) -> str:
    """The pre-analysis plan as one self-contained HTML page.

    Parameters
    ----------
    protocol
        The validated protocol.
    registration
        Its :class:`~trialkit.register.freeze.Registration` (or the results file's
        ``registration`` mapping); without one the page is marked "Not pre-registered".
    power
        Optional power rows (``PowerResult`` objects, mappings or a frame), keyed or
        labelled by outcome.
    diagnosis
        Optional design-diagnosis rows.
    subgroup_power
        Optional power within the equity subgroups (:func:`trialkit.design.subgroup_power`).

    Returns
    -------
    str
        The HTML document.

    Examples
    --------
    >>> from trialkit.protocol import bundled_path, load_protocol
    >>> html = render_plan(load_protocol(bundled_path("council_discretionary_budget")))
    >>> "Not pre-registered" in html and html.startswith("<!DOCTYPE html>")
    True
    """
    plan = plan_context(
        protocol,
        registration=registration,
        power=power,
        diagnosis=diagnosis,
        subgroup_power=subgroup_power,
    )
    figs = _Figures()
    if plan["power_rows"]:
        from trialkit.report.figures import power_plot

        figs["power"] = power_plot(plan["power_rows"], plan["outcome_labels"])
    return (
        environment()
        .get_template("plan.html.j2")
        .render(
            plan=plan,
            figs=figs,
            title=protocol.identity.title,
            doc_kind="Pre-analysis plan",
            registered=bool(plan["registration"].get("registered")),
        )
    )


def render_report(
    results: ResultsDocument,
    *,
    plan_sections: Sequence[str] = PLAN_SECTIONS,
    ledger: LedgerEvidence | None = None,
) -> str:
    """The results report as one self-contained HTML page (inline CSS and SVG).

    Parameters
    ----------
    results
        The results document (:func:`trialkit.analyse.analyse`, or
        :func:`trialkit.analyse.load_results` for ``results.json``).
    plan_sections
        Shared plan sections to repeat at the end, from :data:`ALL_SECTIONS`; empty for none.
    ledger
        The check of the pilot's ledger (``trialkit report --ledger``), shown in the
        provenance section; without it the section says the evidence trail was not checked.

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    ValueError
        If ``plan_sections`` names an unknown section.
    """
    unknown = [s for s in plan_sections if s not in ALL_SECTIONS]
    if unknown:
        raise ValueError(
            f"Unknown plan section(s) {', '.join(map(repr, unknown))}. "
            f"Choose from: {', '.join(ALL_SECTIONS)}."
        )
    ctx = report_context(results, plan_sections=plan_sections, ledger=ledger)
    figs = _Figures(randomisation=[])
    if ctx["figures"]:
        from trialkit.report.figures import build_figures

        figs.update(build_figures(ctx["figures"]))
    return (
        environment()
        .get_template("report.html.j2")
        .render(**ctx, figs=figs, doc_kind="Results report")
    )

"""The report stage: the pre-analysis plan and the results report as self-contained HTML.

- :func:`render_plan` — the pre-analysis plan (SPIRIT 2025, AEA and OSF items) from a protocol.
- :func:`render_report` — the results report from ``results.json``: a plain-language summary
  first, then CONSORT flow, balance, effects, families, equity, harms, attrition,
  deviations and provenance.
- :func:`write_report` — write either to disk atomically, refusing to overwrite.

Both documents share the section templates for design, interventions, outcomes and
methods, so their sections line up.
"""

from __future__ import annotations

import os
from pathlib import Path

from trialkit._core.files import atomic_write
from trialkit.report.render import render_plan, render_report


def write_report(html: str, path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Write a rendered plan or report atomically; refuse to overwrite without ``force``.

    Parameters
    ----------
    html
        The rendered document.
    path
        Destination file.
    force
        Replace an existing file.

    Returns
    -------
    Path
        The path written.

    Raises
    ------
    trialkit.errors.OverwriteError
        If ``path`` exists and ``force`` is false.
    """
    return atomic_write(path, html, force=force, what="report")


__all__ = ["render_plan", "render_report", "write_report"]

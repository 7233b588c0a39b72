"""Analyse: run the registered plan on validated data and gather one results document.

- :func:`analyse` — run the plan; returns a :class:`ResultsDocument`.
- :class:`ResultsDocument` — every result, typed and versioned; ``results.json`` is its JSON.
- :func:`load_results` — read and validate ``results.json`` (a located error when stale).
- :func:`data_paths` — the data files of a directory.

Names resolve lazily, so the report can read the document's models without importing the
estimators.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from trialkit._core.lazy import lazy_getattr

if TYPE_CHECKING:
    from trialkit.analyse.document import ResultsDocument, load_results, results_schema
    from trialkit.analyse.paths import data_paths
    from trialkit.analyse.run import analyse

_NAMES = {
    "analyse": "trialkit.analyse.run",
    "ResultsDocument": "trialkit.analyse.document",
    "load_results": "trialkit.analyse.document",
    "results_schema": "trialkit.analyse.document",
    "data_paths": "trialkit.analyse.paths",
}
_getattr = lazy_getattr(__name__, _NAMES)


def __getattr__(name: str) -> Any:
    return _getattr(name)


__all__ = ["ResultsDocument", "analyse", "data_paths", "load_results", "results_schema"]

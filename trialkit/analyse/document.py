"""The results document: everything ``trialkit analyse`` found, typed and versioned.

:class:`ResultsDocument` is what :func:`trialkit.analyse.analyse` returns, what
``results.json`` holds (its JSON) and what ``trialkit report`` renders. Loading a file
validates it: a stale or edited file gets a located error naming the field, never a blank
cell in a report. ``trialkit schema --results`` prints its JSON Schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from trialkit.analyse.rows import (
    DecisionRow,
    DescriptiveRow,
    EffectSizeRow,
    EstimateRow,
    FewClusterRow,
    HazardRatioRow,
    IndexRow,
    KaplanMeierRow,
    NetBenefitRow,
    PosteriorRow,
    RandomisationRow,
    Row,
    SubgroupRow,
    VerdictRow,
)
from trialkit.analyse.spending_rows import SpendingSection
from trialkit.analyse.trial_rows import (
    AttritionCheckRow,
    AttritionRow,
    BalanceRow,
    DeviationRow,
    DocumentProvenance,
    Flow,
    MisuseRow,
    PowerRow,
    RegistrationInfo,
    SteppedWedgeSchematic,
)
from trialkit.errors import TrialkitError
from trialkit.protocol import Protocol

#: Bumped whenever a field changes meaning or a required field is added.
SCHEMA_VERSION: Literal[2] = 2

BayesianStatus = Literal["run", "disabled_in_protocol", "not_requested"]


class BayesianSection(Row):
    """The Bayesian plan's results; ``status`` says whether and why it did not run."""

    status: BayesianStatus
    posteriors: tuple[PosteriorRow, ...] = ()
    decisions: tuple[DecisionRow, ...] = ()
    net_benefit: tuple[NetBenefitRow, ...] = ()
    notes: tuple[str, ...] = ()


class ResultsDocument(Row):
    """Every result of one analysis of a pilot, as the report reads it.

    Rows carry their ``arm`` wherever a result compares arms, so any number of arms is
    reported; ``verdicts`` hold what the registered criterion says of each primary outcome
    and arm in both schools (see :class:`~trialkit.analyse.rows.VerdictRow`), and
    ``mechanisms`` the same of each mechanism outcome (the manipulation check), and
    ``shirking`` of each outcome in a ``shirking`` family (effort proxies), and
    ``retention`` of each time-to-event outcome (its RMST difference), and ``spending``
    what the spend ledger says of the intervention itself (when the protocol declares one).
    ``few_clusters`` holds CR3 and wild cluster bootstrap checks of the primary contrasts
    when fewer than 20 clusters were analysed (see
    :class:`~trialkit.analyse.rows.FewClusterRow`).
    """

    schema_version: Literal[2] = SCHEMA_VERSION
    provenance: DocumentProvenance
    protocol: Protocol
    registration: RegistrationInfo
    deviations: tuple[DeviationRow, ...] = ()
    flow: Flow | None = None
    attrition: tuple[AttritionRow, ...] = ()
    attrition_checks: tuple[AttritionCheckRow, ...] = ()
    balance: tuple[BalanceRow, ...] = ()
    schematic: SteppedWedgeSchematic | None = None
    power: tuple[PowerRow, ...] = ()
    warnings: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    misuse: MisuseRow | None = None
    estimates: tuple[EstimateRow, ...] = ()
    indices: tuple[IndexRow, ...] = ()
    subgroups: tuple[SubgroupRow, ...] = ()
    effect_sizes: tuple[EffectSizeRow, ...] = ()
    descriptives: tuple[DescriptiveRow, ...] = ()
    survival_curves: tuple[KaplanMeierRow, ...] = ()
    hazard_ratios: tuple[HazardRatioRow, ...] = ()
    randomisation: tuple[RandomisationRow, ...] = ()
    few_clusters: tuple[FewClusterRow, ...] = ()
    verdicts: tuple[VerdictRow, ...] = ()
    mechanisms: tuple[VerdictRow, ...] = ()
    shirking: tuple[VerdictRow, ...] = ()
    retention: tuple[VerdictRow, ...] = ()
    spending: SpendingSection | None = None
    bayesian: BayesianSection

    def to_json(self) -> str:
        """The document as indented JSON (``results.json``)."""
        return self.model_dump_json(indent=1) + "\n"

    def estimate(self, outcome: str, arm: str, estimand: str = "ITT") -> EstimateRow | None:
        """The frequentist row of ``outcome`` for ``arm`` against control, if any."""
        key = (outcome, arm, estimand, self.protocol.control.id)
        return next(
            (r for r in self.estimates if (r.outcome, r.arm, r.estimand, r.versus) == key), None
        )

    def posterior(self, outcome: str, arm: str) -> PosteriorRow | None:
        """The natural-scale posterior of ``outcome`` for ``arm`` against control, if any."""
        key = (outcome, arm, self.protocol.control.id)
        return next(
            (r for r in self.bayesian.posteriors if (r.outcome, r.arm, r.versus) == key), None
        )

    def effect_size(self, outcome: str, arm: str) -> EffectSizeRow | None:
        """Hedges' g of ``outcome`` for ``arm``, if any."""
        return next((r for r in self.effect_sizes if (r.outcome, r.arm) == (outcome, arm)), None)

    def descriptive(self, outcome: str, arm: str) -> DescriptiveRow | None:
        """N, mean and SD of ``outcome`` in ``arm``, if any."""
        return next((r for r in self.descriptives if (r.outcome, r.arm) == (outcome, arm)), None)


def load_results(path: str | Path) -> ResultsDocument:
    """Read and validate ``results.json`` (or the directory holding it).

    Raises
    ------
    trialkit.errors.TrialkitError
        If the file is absent, not JSON, from another schema version, or a field is of
        the wrong type; the message names the file and every field at fault.
    """
    source = Path(path)
    if source.is_dir():
        source = source / "results.json"
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        left = sorted(p.name for p in source.parent.glob(".trialkit-commit-*"))
        left += sorted(
            p.name for p in source.parent.parent.glob(f".{source.parent.name}.staging-*")
        )
        interrupted = (
            f" An interrupted `trialkit analyse` left its staging folder {left[-1]}; "
            "`trialkit report` or `trialkit analyse` on this directory restores the "
            "previous results from it first."
            if left
            else ""
        )
        raise TrialkitError(
            f"{source}: no results here.{interrupted} Fix: run `trialkit "
            "analyse` with --out pointing at this directory (and --force if "
            "it holds earlier tables)."
        ) from None
    except UnicodeDecodeError as exc:
        raise TrialkitError(
            f"{source}, byte {exc.start}: not UTF-8 text, so not a results "
            "document. Fix: re-run `trialkit analyse` with --force."
        ) from None
    except OSError as exc:
        raise TrialkitError(
            f"{source}: cannot read the results ({exc.strerror}). Fix: check "
            "the path and its permissions, or re-run `trialkit analyse`."
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TrialkitError(
            f"{source}, line {exc.lineno}: not valid JSON ({exc.msg}). "
            "Fix: re-run `trialkit analyse` with --force."
        ) from None
    except RecursionError:
        raise TrialkitError(
            f"{source}: not valid JSON (nested too deeply to be a results "
            "document). Fix: re-run `trialkit analyse` with --force."
        ) from None
    return parse_results(data, source=str(source))


def parse_results(data: Any, *, source: str = "results.json") -> ResultsDocument:
    """Validate a decoded results mapping; see :func:`load_results`."""
    if not isinstance(data, dict):
        raise TrialkitError(
            f"{source}: not a results document (a JSON {type(data).__name__}, where "
            "`trialkit analyse` writes an object). Fix: re-run `trialkit analyse` with --force."
        )
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        raise TrialkitError(
            f"{source}: results schema version {version!r}, but this trialkit reads version "
            f"{SCHEMA_VERSION}. Fix: re-run `trialkit analyse` with --force to rewrite it."
        )
    try:
        return ResultsDocument.model_validate(data, context={"defer_rules": True})
    except ValidationError as exc:
        problems = [f"{source}, field `{_path(e['loc'])}`: {e['msg']}" for e in exc.errors()[:10]]
        more = exc.error_count() - len(problems)
        tail = f" (and {more} more)" if more > 0 else ""
        raise TrialkitError(
            "; ".join(problems) + tail + ". Fix: re-run `trialkit analyse` "
            "with --force; results files are not meant to be edited."
        ) from None


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def results_schema() -> dict[str, Any]:
    """The JSON Schema of ``results.json``."""
    return ResultsDocument.model_json_schema()

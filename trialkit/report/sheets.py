"""The results document as plain tables, one per kind of result, for the workbook.

Each :class:`Sheet` names a field of :class:`~trialkit.analyse.ResultsDocument` (a dotted
path, e.g. ``spending.take_up``) and its table is that field's typed rows, one row each,
one column per field: nothing is recomputed or rounded. Numbers stay numbers (``None`` is an
empty cell); a list of names is joined with commas; an interval ``(low, high)`` becomes two
columns; a mapping (a balance row's mean per arm) one column per key. Long series (draws of
a posterior or of the randomisation null, Kaplan–Meier steps) are left to ``results.json``
and the figures, except the numbers at risk, which get a sheet of their own.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel

from trialkit.analyse.document import ResultsDocument

Cell = str | int | float | bool | None

#: Column suffixes of fixed-length tuples: an interval, or the take-up quantiles.
_SUFFIXES = {2: ("low", "high"), 5: ("p10", "p25", "p50", "p75", "p90")}


@dataclass(frozen=True, slots=True)
class Table:
    """One sheet's content: its name, what it holds, a header and rows of cells."""

    name: str
    about: str
    header: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet made from the rows at ``source`` (carrying the owner's ``carry`` fields)."""

    name: str
    source: str
    about: str
    carry: tuple[str, ...] = ()


def _items(value: Any) -> list[BaseModel]:
    if value is None:
        return []
    return list(value) if isinstance(value, tuple) else [value]


def _records(doc: ResultsDocument, sheet: Sheet) -> list[tuple[tuple[Cell, ...], BaseModel]]:
    *head, last = sheet.source.split(".")
    owners: list[Any] = [doc]
    for part in head:
        owners = [item for owner in owners for item in _items(getattr(owner, part))]
    return [
        (tuple(getattr(owner, c) for c in sheet.carry), row)
        for owner in owners
        for row in _items(getattr(owner, last))
    ]


def _bare(annotation: Any) -> Any:
    """``X | None`` → ``X``."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _kind(annotation: Any) -> tuple[str, int]:
    """How a field becomes columns: scalar, joined, pairs, fixed (with its length), dict or
    skip (a long series or nested rows, shown elsewhere)."""
    bare = _bare(annotation)
    origin = get_origin(bare)
    if origin is dict:
        return "dict", 0
    if origin is not tuple:
        return "scalar", 1
    args = get_args(bare)
    if len(args) == 2 and args[1] is Ellipsis:
        inner = args[0]
        if inner is str:
            return "joined", 1
        return ("pairs", 1) if get_origin(inner) is tuple else ("skip", 0)
    return "fixed", len(args)


def _columns(model: type[BaseModel], rows: Sequence[BaseModel]) -> list[tuple[str, str, Any]]:
    """(column name, field, key) for every column of ``model``'s rows."""
    out: list[tuple[str, str, Any]] = []
    for name, field in model.model_fields.items():
        kind, size = _kind(field.annotation)
        if kind in ("scalar", "joined", "pairs"):
            out.append((name, name, None))
        elif kind == "fixed":
            suffixes = _SUFFIXES.get(size, tuple(str(i + 1) for i in range(size)))
            out += [(f"{name}_{s}", name, i) for i, s in enumerate(suffixes)]
        elif kind == "dict":
            keys = dict.fromkeys(k for row in rows for k in getattr(row, name))
            out += [(f"{name}_{k}", name, k) for k in keys]
    return out


def _cell(value: Any, key: Any) -> Cell:
    if isinstance(value, dict):
        value = value.get(key)
    elif isinstance(value, tuple):
        if key is not None:
            value = value[key]
        elif all(isinstance(v, tuple) for v in value):
            value = "; ".join(f"{v[0]} ({v[1]})" for v in value)
        else:
            value = ", ".join(str(v) for v in value)
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


def table(doc: ResultsDocument, sheet: Sheet) -> Table | None:
    """The sheet's table, or ``None`` when these results have no such rows."""
    records = _records(doc, sheet)
    if not records:
        return None
    rows = [row for _, row in records]
    columns = _columns(type(rows[0]), rows)
    body = tuple(
        (*carried, *(_cell(getattr(row, f), k) for _, f, k in columns)) for carried, row in records
    )
    return Table(sheet.name, sheet.about, (*sheet.carry, *(c for c, _, _ in columns)), body)


def _at_risk(doc: ResultsDocument) -> Table | None:
    rows = tuple(
        (c.outcome, c.arm, t, n, s)
        for c in doc.survival_curves
        for t, n, s in zip(c.at, c.n_at_risk, c.survival_at, strict=True)
    )
    if not rows:
        return None
    return Table(
        "Survival at risk",
        "Kaplan–Meier survival and numbers at risk at the "
        "report's time points, by time-to-event outcome and arm.",
        ("outcome", "arm", "time", "n_at_risk", "survival"),
        rows,
    )


def _wedge(doc: ResultsDocument) -> Table | None:
    wedge = doc.schematic
    if wedge is None or not wedge.sequences:
        return None
    rows: tuple[tuple[Cell, ...], ...] = tuple(
        (s.label, s.clusters, *s.exposed) for s in wedge.sequences
    )
    return Table(
        "Stepped wedge",
        "The stepped-wedge design: each sequence's clusters and "
        "whether it was exposed in each period (TRUE) or not.",
        ("sequence", "clusters", *wedge.periods),
        rows,
    )


SHEETS: tuple[Sheet, ...] = (
    Sheet(
        "Effects",
        "estimates",
        "Frequentist effect of each arm on each pre-specified "
        "outcome (estimand, estimator, estimate, standard error, interval, p-values).",
    ),
    Sheet(
        "Verdicts",
        "verdicts",
        "What the registered criterion says of each primary "
        "outcome and arm, frequentist and Bayesian.",
    ),
    Sheet(
        "Mechanisms",
        "mechanisms",
        "The registered criterion applied to each mechanism outcome (the manipulation check).",
    ),
    Sheet("Shirking", "shirking", "The registered criterion applied to each effort proxy."),
    Sheet(
        "Retention",
        "retention",
        "The registered criterion applied to each time-to-event outcome (its RMST difference).",
    ),
    Sheet("Descriptives", "descriptives", "N, mean and SD of each outcome in each arm."),
    Sheet("Effect sizes", "effect_sizes", "Hedges' g with its interval, and each outcome's ICC."),
    Sheet("Indices", "indices", "Summary index of each outcome family and arm."),
    Sheet(
        "Subgroups",
        "subgroups",
        "Effects within the levels of pre-specified subgroups, with the heterogeneity p-value.",
    ),
    Sheet(
        "Randomisation inference",
        "randomisation",
        "Randomisation-inference p-values (the null draws are in results.json).",
    ),
    Sheet(
        "Few clusters",
        "few_clusters",
        "Small-sample checks of the primary contrasts "
        "when clusters are few (CR3, wild cluster bootstrap) beside the registered p-value.",
    ),
    Sheet(
        "Hazard ratios", "hazard_ratios", "Cox hazard ratios with the proportional-hazards check."
    ),
    Sheet(
        "Survival",
        "survival_curves",
        "Kaplan–Meier summary of each time-to-event "
        "outcome and arm: events, RMST up to the horizon.",
    ),
    Sheet(
        "Flow",
        "flow.arms",
        "CONSORT participant flow of the primary outcome, by arm.",
        carry=("outcome", "level"),
    ),
    Sheet("Attrition", "attrition", "Attrition of each outcome in each arm."),
    Sheet(
        "Attrition checks",
        "attrition_checks",
        "Overall and differential attrition against control, with the WWC verdicts.",
    ),
    Sheet(
        "Balance",
        "balance",
        "Baseline balance of each covariate: means and N by group, "
        "standardised difference, WWC verdict.",
    ),
    Sheet("Power", "power", "Design power and minimum detectable effects."),
    Sheet("Deviations", "deviations", "Amendments and deviations from the registered protocol."),
    Sheet(
        "Misuse",
        "misuse",
        "Misuse rate among units given the new freedom (Beta "
        "posterior), its tolerance and expected cost.",
    ),
    Sheet(
        "Posteriors",
        "bayesian.posteriors",
        "Bayesian posterior of each effect on the "
        "natural scale, with the probabilities of benefit, MID and harm.",
    ),
    Sheet(
        "Decisions",
        "bayesian.decisions",
        "Pre-registered decision rules and whether they were met.",
    ),
    Sheet(
        "Decision conditions",
        "bayesian.decisions.conditions",
        "Each condition of each decision rule, evaluated per arm.",
        carry=("rule",),
    ),
    Sheet(
        "Net benefit",
        "bayesian.net_benefit",
        "Posterior net monetary benefit of each arm against control.",
    ),
    Sheet(
        "Net benefit parts",
        "bayesian.net_benefit.parts",
        "The money value of each outcome in the net benefit.",
        carry=("arm", "currency"),
    ),
    Sheet(
        "Spend take-up",
        "spending.take_up",
        "Take-up of the budget by arm: who spent, how much, how soon.",
    ),
    Sheet("Spend rules", "spending.rule_counts", "Compliance findings counted by rule and arm."),
    Sheet(
        "Spend findings",
        "spending.findings",
        "Every compliance finding, in ledger order (workers as pseudonyms).",
    ),
    Sheet("Spend categories", "spending.categories", "Spending by category and arm."),
    Sheet("Spend periods", "spending.periods", "Spending by budget period and arm."),
    Sheet("Spend equity", "spending.equity", "Who received spending, by equity group."),
    Sheet(
        "Spend equity gaps",
        "spending.equity_gaps",
        "Differences between equity groups in who received spending and how much.",
    ),
    Sheet(
        "Spend dose", "spending.dose", "Effect of money spent on a client (instrumental variables)."
    ),
    Sheet(
        "Spend dose bins",
        "spending.dose_bins",
        "Exploratory: mean outcome by band of spend per client (not causal).",
    ),
    Sheet("Spend review", "spending.review", "How spends were reviewed (census or audit sample)."),
    Sheet("Spend severity", "spending.severity", "Spends by review verdict, with the money lost."),
    Sheet(
        "Spend misuse model",
        "spending.misuse_model",
        "Beta-binomial model of workers' misuse rates.",
    ),
    Sheet(
        "Green tape",
        "spending.green_tape",
        "Loss from misuse against the approval cost the budget saved.",
    ),
)

#: Tables built by their own function (a long or transposed layout): the document field
#: each reads, the sheet it follows, and the function.
SPECIAL: tuple[tuple[str, str, Callable[[ResultsDocument], Table | None]], ...] = (
    ("survival_curves", "Survival", _at_risk),
    ("schematic", "Balance", _wedge),
)


def results_tables(doc: ResultsDocument) -> list[Table]:
    """Every table these results hold, in report order; tables without rows are left out."""
    found: list[Table | None] = []
    for sheet in SHEETS:
        found.append(table(doc, sheet))
        found += [build(doc) for _, after, build in SPECIAL if after == sheet.name]
    return [t for t in found if t is not None]

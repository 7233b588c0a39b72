"""SPIRIT 2025 coverage: which checklist items a protocol's fields fill (``check --standards``).

Item numbers and names follow the item map of SPIRIT 2025 (Chan et al., BMJ
2025;389:e081477) kept in the project's references; the split of the ranges 3a–3d, 21a–23,
24a–24c and 32a–32b into sub-items is partly recalled. An item is *filled* when the protocol
writes the field that answers it (a schema default is not the protocol's answer), *covered
by construction* when trialkit itself does what the item asks (the allocation sequence is
drawn from the registered seed, the ledger classes later changes), and *missing* otherwise,
with the protocol key that would fill it, or "not in the protocol schema".

This module imports only the protocol models, so ``trialkit check --standards`` stays fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel

if TYPE_CHECKING:
    from trialkit.protocol.model import Protocol

Coverage = Literal["filled", "construction", "missing"]
SOURCE_NOTE = (
    "Item names follow SPIRIT 2025 (Chan et al., BMJ 2025;389:e081477); the split "
    "of 3a–3d, 21a–23, 24a–24c and 32a–32b into sub-items is partly recalled."
)


def stated(model: BaseModel, path: str) -> bool:
    """Whether ``path`` (dotted, e.g. ``governance.ethics``) is written in the protocol itself.

    A field left at its schema default (``governance.ethics: Not stated``) is not stated.
    """
    current: object = model
    for part in path.split("."):
        if not isinstance(current, BaseModel) or part not in current.model_fields_set:
            return False
        current = getattr(current, part)
    return True


def stated_value(model: BaseModel, path: str) -> object | None:
    """The value at ``path`` when the protocol writes it, else ``None``."""
    if not stated(model, path):
        return None
    current: object = model
    for part in path.split("."):
        current = getattr(current, part)
    return current


@dataclass(frozen=True, slots=True)
class SpiritItem:
    """One SPIRIT 2025 checklist entry and how a protocol answers it.

    Attributes
    ----------
    number, name
        The item's number (``"21a"``) and short name.
    keys
        The protocol keys that answer it; empty when the schema has none.
    filled
        Whether a protocol answers it; ``None`` when the schema cannot.
    construction
        How trialkit answers it itself, whatever the protocol says ("" when it does not).
    """

    number: str
    name: str
    keys: tuple[str, ...] = ()
    filled: Callable[[Protocol], bool] | None = None
    construction: str = ""


def _item(
    number: str, name: str, *keys: str, filled: Callable[[Protocol], bool] | None = None
) -> SpiritItem:
    """An item answered by ``keys``; by default filled when the first key is written."""
    if filled is None and keys:
        first = keys[0]
        filled = lambda p: stated(p, first)  # noqa: E731
    return SpiritItem(number, name, keys, filled)


def _built(number: str, name: str, how: str, *keys: str) -> SpiritItem:
    return SpiritItem(number, name, keys, None, how)


def _always(p: Protocol) -> bool:
    return True  # a required field of the schema: every valid protocol answers it


SPIRIT_2025: tuple[SpiritItem, ...] = (
    _item("1a", "title", "identity.title", filled=_always),
    _item("1b", "structured summary"),
    _item("2", "protocol version", "identity.version"),
    _item("3a", "contributors and their roles", "identity.contact", filled=_always),
    _item("3b", "sponsor name and contact", "identity.organisation", filled=_always),
    _item("3c", "sponsor and funder roles", "governance.funder_role"),
    _item("3d", "committees and their roles"),
    _item("4", "trial registration", "identity.registry_ids"),
    _item(
        "5",
        "where the protocol and analysis plan can be accessed",
        "identity.registry_ids[].url",
        filled=lambda p: any(r.url for r in p.identity.registry_ids),
    ),
    _item("6", "data, code and materials sharing", "governance.data_sharing"),
    _item("7a", "funding", "governance.funder"),
    _item("7b", "conflicts of interest", "governance.conflicts"),
    _item("8", "dissemination policy", "governance.dissemination"),
    _item("9a", "background and rationale", "rationale.problem", filled=_always),
    _item("9b", "choice of comparator"),
    _item(
        "10",
        "objectives, including harms",
        "rationale.hypotheses",
        "rationale.harms_considered",
        filled=_always,
    ),
    _item("11", "patient and public involvement", "governance.public_involvement"),
    _item("12", "trial design", "design.type", "design.framework", "arms[].ratio", filled=_always),
    _item("13", "setting", "governance.settings"),
    _item(
        "14a",
        "participant eligibility",
        "levels[].eligibility",
        "units.eligibility",
        filled=lambda p: not p.levels or any(lv.eligibility for lv in p.levels),
    ),
    _item(
        "14b",
        "site and deliverer eligibility",
        "units.eligibility (units that are sites)",
        filled=lambda p: p.design.type != "individual",
    ),
    _item("15a", "interventions and comparator", "arms[].intervention", filled=_always),
    _item("15b", "criteria for discontinuing or modifying interventions"),
    _item(
        "15c",
        "adherence strategies and monitoring",
        "spending",
        "estimands[].take_up_column",
        filled=lambda p: p.spending is not None or any(e.take_up_column for e in p.estimands),
    ),
    _item("15d", "concomitant care"),
    _item(
        "16",
        "outcomes (measure, metric, time point)",
        "outcomes[].measurement",
        "outcomes[].timing",
        filled=_always,
    ),
    _item(
        "17",
        "harms",
        "outcomes[].role: harm",
        "costs.misuse",
        filled=lambda p: any(o.role == "harm" for o in p.outcomes) or p.costs.misuse is not None,
    ),
    _item("18", "participant timeline", "dates", filled=lambda p: p.dates is not None),
    _item(
        "19",
        "sample size",
        "units.planned",
        "outcomes[].assumptions",
        filled=lambda p: any(o.assumptions is not None for o in p.outcomes if o.role == "primary"),
    ),
    _item("20", "recruitment"),
    _built(
        "21a",
        "sequence generation",
        "`trialkit randomise` draws the sequence from the "
        "scheme `design.scheme` with the registered seed `design.seed`",
        "design.scheme",
    ),
    _built(
        "21b",
        "type of randomisation and restrictions",
        "the scheme `design.scheme` with `design.block_columns` and `design.cluster_column`",
        "design.scheme",
    ),
    _built(
        "22",
        "allocation concealment",
        "the protocol and its seed are registered "
        "(`trialkit register`) before `trialkit randomise`, and the ledger records the "
        "order",
        "governance.concealment",
    ),
    _item("23", "implementation: who generates and assigns", "governance.randomised_by"),
    _item("24a", "who is blinded", "governance.blinding"),
    _item("24b", "how blinding is achieved"),
    _item("24c", "unblinding"),
    _item("25a", "data collection", "outcomes[].measurement", filled=_always),
    _item("25b", "retention and complete follow-up"),
    _item("26", "data management"),
    _built(
        "27a",
        "statistical methods",
        "`analysis.frequentist` and `analysis.bayesian` are "
        "what `trialkit analyse` runs (schema defaults included)",
        "analysis.frequentist",
    ),
    _built(
        "27b",
        "analysis population",
        "`trialkit analyse` analyses every unit in its "
        "allocated arm (intention to treat); `analysis.population` says so in words",
        "analysis.population",
    ),
    _built(
        "27c",
        "missing data",
        "`analysis.frequentist.missing_data` is what `trialkit analyse` runs",
        "analysis.frequentist.missing_data",
    ),
    _item(
        "27d",
        "additional analyses (subgroups, sensitivity)",
        "analysis.sensitivity",
        "subgroups",
        filled=lambda p: bool(p.analysis.sensitivity or p.subgroups),
    ),
    _item("28a", "data monitoring committee"),
    _item("28b", "interim analyses and stopping"),
    _item("29", "trial monitoring"),
    _item("30", "ethics approval", "governance.ethics"),
    _built(
        "31",
        "protocol amendments",
        "the ledger classes every change after registration "
        "as an amendment or a deviation, and `trialkit analyse` reports each one",
    ),
    _item("32a", "consent"),
    _item("32b", "consent for ancillary studies"),
    _item("33", "confidentiality"),
    _item("34", "ancillary and post-trial care"),
)


@dataclass(frozen=True, slots=True)
class ItemCoverage:
    """How one protocol answers one SPIRIT item."""

    item: SpiritItem
    coverage: Coverage

    @property
    def where(self) -> str:
        """Where the answer is (covered), or which key would give it (missing)."""
        keys = ", ".join(f"`{k}`" for k in self.item.keys)
        if self.coverage == "construction":
            return self.item.construction
        if self.coverage == "filled":
            return keys
        if not keys:
            return "not in the protocol schema"
        return f"protocol key{'s' if len(self.item.keys) > 1 else ''} {keys}"


@dataclass(frozen=True, slots=True)
class SpiritCoverage:
    """A protocol's answers to every SPIRIT 2025 checklist entry, in checklist order."""

    entries: tuple[ItemCoverage, ...]

    @property
    def missing(self) -> tuple[ItemCoverage, ...]:
        """Entries the protocol leaves empty."""
        return tuple(e for e in self.entries if e.coverage == "missing")

    @property
    def items(self) -> dict[str, bool]:
        """Each item number (``"21"``) and whether all its sub-items are covered."""
        out: dict[str, bool] = {}
        for entry in self.entries:
            number = entry.item.number.rstrip("abcd")
            out[number] = out.get(number, True) and entry.coverage != "missing"
        return out

    def summary(self) -> str:
        """What is covered (counts, and where trialkit covers items itself), then what is
        missing, one entry a line."""
        items, covered = self.items, len(self.entries) - len(self.missing)
        built = [e for e in self.entries if e.coverage == "construction"]
        lines = [
            f"SPIRIT 2025: {sum(items.values())} of {len(items)} items covered in full "
            f"({covered} of {len(self.entries)} checklist entries: "
            f"{covered - len(built)} from the protocol, {len(built)} by trialkit itself).",
            SOURCE_NOTE,
            "Covered by trialkit itself:",
        ]
        lines += [f"  {e.item.number} {e.item.name}: {e.where}" for e in built]
        lines.append(f"Missing ({len(self.missing)}):")
        lines += [f"  {e.item.number} {e.item.name} ({e.where})" for e in self.missing]
        return "\n".join(lines)


def spirit_coverage(protocol: Protocol) -> SpiritCoverage:
    """Which SPIRIT 2025 checklist entries ``protocol`` answers.

    Examples
    --------
    >>> from trialkit.protocol import bundled_path, load_protocol
    >>> coverage = spirit_coverage(load_protocol(bundled_path("council_discretionary_budget")))
    >>> len(coverage.items), len(coverage.entries)
    (34, 53)
    """

    def coverage(item: SpiritItem) -> Coverage:
        if item.construction:
            return "construction"
        return "filled" if item.filled is not None and item.filled(protocol) else "missing"

    return SpiritCoverage(tuple(ItemCoverage(item, coverage(item)) for item in SPIRIT_2025))

"""Audit sampling: which spends a reviewer judges when not every spend is reviewed.

``draw_audit_sample`` draws a stratified simple random sample of spends without
replacement, reproducibly from a seed (:mod:`trialkit._core.rng`), with known inclusion
probabilities ``pi_h = n_h / N_h``. Strata cross the protocol's ``spending.review.strata``
(amount band, category, worker); the top amount band is sampled at
``review.large_spend_share`` and the rest in proportion to stratum size
(:mod:`trialkit.randomise._audit_strata`). Misuse rates and losses are then estimated
with Horvitz–Thompson weights ``1 / pi`` (:mod:`trialkit.estimate.spending.misuse`).

The draw depends only on the spends' ids and the columns that define the strata: every
spend gets a random 64-bit key in spend-id order, and each stratum takes its ``n_h``
smallest keys. Reordering the ledger's rows, or filling in verdicts and losses after the
review, changes nothing; :func:`check_spends` tells a sample from another ledger.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit._core.hashing import sha256_text
from trialkit._core.rng import ALGORITHM_VERSION, RawStream
from trialkit.errors import DataValidationError, Issue, Location, TrialkitError
from trialkit.protocol import Protocol
from trialkit.protocol.spending import SpendReview
from trialkit.protocol.vocabulary import AuditStratum
from trialkit.randomise._audit_strata import allocate_sizes, amount_band, band_labels, is_top

#: Version of the audit draw built on the raw stream; recorded with each sample.
AUDIT_ALGORITHM = f"{ALGORITHM_VERSION}+audit-1"

#: Stratum label of a spend with no category or worker recorded.
MISSING = "(none)"


@dataclass(frozen=True, slots=True)
class AuditStratumSize:
    """One stratum of an audit sample: what defines it, its spends and how many were drawn.

    Attributes
    ----------
    label
        The stratum's name, e.g. ``amount>150; category=travel``.
    amount_band, category, worker
        Its amount band, category and worker, or ``None`` when not stratified by them.
    spends
        Spends in the ledger in this stratum (``N_h``).
    sampled
        Spends drawn for review (``n_h``).
    """

    label: str
    amount_band: str | None
    category: str | None
    worker: str | None
    spends: int
    sampled: int

    @property
    def inclusion_probability(self) -> float:
        """``n_h / N_h``: every spend of the stratum had this chance of being drawn."""
        return self.sampled / self.spends


@dataclass(frozen=True, slots=True)
class AuditSample:
    """A drawn audit sample: the spends to review and their inclusion probabilities.

    Attributes
    ----------
    seed
        Seed of the raw stream the sample was drawn from.
    protocol_hash
        Content hash of the protocol in force.
    ledger_sha256
        sha256 of the spend file's bytes as drawn (empty when drawn from a frame).
    spends_sha256
        sha256 of the spends' ids and stratum columns (amount, category, worker as
        declared): the same before and after reviewers fill in verdicts and losses.
    strata_by
        What the strata cross (``review.strata``).
    amount_bands
        Boundaries of the amount bands (``review.amount_bands``).
    large_spend_share
        Sampling rate of the top amount band.
    strata
        Every stratum, in order, with ``N_h`` and ``n_h``.
    spend_id, stratum, inclusion_probability
        One entry per drawn spend, sorted by spend id.
    algorithm_version
        Version of the raw stream and the draw.
    """

    seed: int
    protocol_hash: str
    ledger_sha256: str
    spends_sha256: str
    strata_by: tuple[AuditStratum, ...]
    amount_bands: tuple[float, ...]
    large_spend_share: float
    strata: tuple[AuditStratumSize, ...]
    spend_id: tuple[str, ...]
    stratum: tuple[str, ...]
    inclusion_probability: tuple[float, ...]
    algorithm_version: str = AUDIT_ALGORITHM

    @property
    def size(self) -> int:
        """Spends drawn for review."""
        return len(self.spend_id)

    @property
    def population(self) -> int:
        """Spends in the ledger the sample was drawn from."""
        return sum(s.spends for s in self.strata)

    def to_frame(self) -> pd.DataFrame:
        """One row per drawn spend: ``spend_id, stratum, inclusion_probability``."""
        return pd.DataFrame(
            {
                "spend_id": list(self.spend_id),
                "stratum": list(self.stratum),
                "inclusion_probability": list(self.inclusion_probability),
            }
        )

    def summary(self) -> str:
        """A fixed-width table of the strata: spends, drawn, inclusion probability."""
        width = max([len("stratum"), *(len(s.label) for s in self.strata)])
        lines = [f"{'stratum':<{width}}  {'spends':>7}  {'drawn':>6}  {'probability':>11}"]
        lines += [
            f"{s.label:<{width}}  {s.spends:>7}  {s.sampled:>6}  {s.inclusion_probability:>11.4f}"
            for s in self.strata
        ]
        lines.append(
            f"{self.size} of {self.population} spends drawn in {len(self.strata)} "
            f"strata (seed {self.seed})"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass(frozen=True, slots=True)
class _Spends:
    """The columns of a spend ledger that define audit strata, checked."""

    ids: NDArray[np.object_]
    band: NDArray[np.int64] | None
    category: NDArray[np.object_] | None
    worker: NDArray[np.object_] | None
    fingerprint: str


def review_of(protocol: Protocol) -> SpendReview:
    """The protocol's review declaration; refuse a protocol without a spend ledger."""
    if protocol.spending is None:
        raise TrialkitError(
            "the protocol declares no spend ledger, so there are no spends to audit. "
            "Fix: add a `spending:` section to the protocol."
        )
    return protocol.spending.review


def _text(values: pd.Series) -> NDArray[np.object_]:
    text = values.astype("string").str.strip()
    return text.fillna(MISSING).replace("", MISSING).to_numpy(dtype=object)


def _located(
    source: str, column: str, rows: NDArray[np.int64], values: pd.Series, message: str, fix: str
) -> list[Issue]:
    return [
        Issue(
            message.format(value=v),
            Location(file=source, row=int(r), column=column),
            fix=fix,
            value=str(v),
        )
        for r, v in zip(rows[:20], values[:20], strict=True)
    ]


def _columns(protocol: Protocol, by: tuple[AuditStratum, ...]) -> dict[str, str]:
    spending = protocol.spending
    assert spending is not None
    level = protocol.level(spending.level)
    columns = {"id": level.id_column if level is not None else "spend_id"}
    names = {
        "amount": spending.columns.amount,
        "category": spending.columns.category,
        "worker": spending.columns.worker,
    }
    return columns | {s: names[s] for s in by}


def read_spends(protocol: Protocol, spends: pd.DataFrame, *, source: str) -> _Spends:
    """The spend ids and stratum columns of ``spends``, with every problem located."""
    review = review_of(protocol)
    columns = _columns(protocol, review.strata)
    missing = [c for c in columns.values() if c not in spends.columns]
    if missing:
        raise DataValidationError(
            [
                Issue(
                    f"the spend ledger has no column {c!r}",
                    Location(file=source, row=1, column=c),
                    fix="add the column, or name yours under `spending.columns` in the protocol.",
                )
                for c in missing
            ]
        )
    rows = np.arange(len(spends), dtype=np.int64) + 2
    ids = spends[columns["id"]].astype("string").str.strip()
    empty = (ids.isna() | (ids == "")).to_numpy()
    issues = _located(
        source,
        columns["id"],
        rows[empty],
        ids[empty].fillna(""),
        "the spend id is empty",
        "give every spend its own id.",
    )
    dup = (ids.duplicated(keep="first") & ~ids.isna()).to_numpy()
    issues += _located(
        source,
        columns["id"],
        rows[dup],
        ids[dup],
        "spend id `{value}` appears more than once",
        "give every spend its own id.",
    )
    band = None
    if "amount" in columns:
        raw = spends[columns["amount"]]
        amount = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(amount)
        issues += _located(
            source,
            columns["amount"],
            rows[bad],
            raw[bad],
            "`{value}` is not an amount of money",
            "write the amount as a number, e.g. 42.50, without the currency sign.",
        )
        band = amount_band(amount, review.amount_bands)
    if issues:
        raise DataValidationError(issues, header=f"{source}: {len(issues)} problem(s) found")
    category = _text(spends[columns["category"]]) if "category" in columns else None
    worker = _text(spends[columns["worker"]]) if "worker" in columns else None
    text = [ids.to_numpy(dtype=object)]
    text += [] if band is None else [np.char.mod("%r", amount).astype(object)]
    text += [c for c in (category, worker) if c is not None]
    order = np.argsort(text[0].astype(str), kind="stable")
    lines = ["\t".join(str(col[i]) for col in text) for i in order]
    return _Spends(
        ids=text[0],
        band=band,
        category=category,
        worker=worker,
        fingerprint=sha256_text("\n".join([*columns.values(), *lines])),
    )


def _stratum_keys(view: _Spends, n: int) -> list[tuple[int, str, str]]:
    band = view.band if view.band is not None else np.zeros(n, dtype=np.int64)
    category = view.category if view.category is not None else np.full(n, "", dtype=object)
    worker = view.worker if view.worker is not None else np.full(n, "", dtype=object)
    return list(zip(band.tolist(), category.tolist(), worker.tolist(), strict=True))


def _strata(
    keys: list[tuple[int, str, str]], review: SpendReview
) -> list[tuple[tuple[int, str, str], str, AuditStratumSize]]:
    """Each distinct stratum key with its label (sizes filled in later)."""
    labels = band_labels(review.amount_bands)
    out = []
    for key in sorted(set(keys)):
        band = labels[key[0]] if "amount" in review.strata else None
        category = key[1] if "category" in review.strata else None
        worker = key[2] if "worker" in review.strata else None
        parts = [
            band or "",
            f"category={category}" if category is not None else "",
            f"worker={worker}" if worker is not None else "",
        ]
        label = "; ".join(p for p in parts if p) or "all"
        out.append((key, label, AuditStratumSize(label, band, category, worker, 0, 0)))
    return out


def draw_audit_sample(
    protocol: Protocol,
    spends: pd.DataFrame,
    *,
    seed: int | None = None,
    size: int | None = None,
    source: str = "spend ledger",
    ledger_sha256: str = "",
) -> AuditSample:
    """Draw a stratified simple random sample of spends to review, without replacement.

    Parameters
    ----------
    protocol
        A protocol whose ``spending.review.coverage`` is ``sample``.
    spends
        The spend ledger, one row per spend (row ``i`` is spreadsheet row ``i + 2``).
    seed
        Seed of the draw; defaults to the protocol's.
    size
        Spends to review; defaults to ``spending.review.sample_size``. A size of the
        whole ledger or more reviews every spend.
    source
        The ledger's file name, for messages.
    ledger_sha256
        sha256 of the ledger file, recorded with the sample.

    Returns
    -------
    AuditSample
        The drawn spends, sorted by id, with ``pi_h = n_h / N_h``.

    Raises
    ------
    TrialkitError
        If the protocol has no spend ledger or declares that every spend is reviewed.
    DataValidationError
        If a stratum column is missing, a spend id is empty or repeated, or an amount is
        not a number (each located by row and column).
    RandomisationError
        If ``size`` is too small for the declared strata.
    """
    review = review_of(protocol)
    if review.coverage != "sample":
        raise TrialkitError(
            "the protocol says every spend is reviewed (`spending.review.coverage: all`), "
            "so there is no audit sample to draw. Fix: set `spending.review.coverage: "
            "sample` and `spending.review.sample_size`, and register the change."
        )
    size = size if size is not None else review.sample_size
    if size is None or size < 1:
        raise TrialkitError(
            f"no audit sample size given (got {size}). Fix: pass --size, or set "
            "`spending.review.sample_size` in the protocol."
        )
    seed = protocol.seed if seed is None else seed
    view = read_spends(protocol, spends, source=source)
    n = len(view.ids)
    keys = _stratum_keys(view, n)
    strata = _strata(keys, review)
    index = {key: h for h, (key, _, _) in enumerate(strata)}
    code = np.fromiter((index[k] for k in keys), dtype=np.int64, count=n)
    sizes = np.bincount(code, minlength=len(strata)).astype(np.int64)
    top = is_top(np.array([k[0] for k, _, _ in strata], dtype=np.int64), review.amount_bands)
    top &= "amount" in review.strata
    drawn = allocate_sizes(sizes, top, size=min(size, n), large_share=review.large_spend_share)
    chosen = _select(view.ids, code, drawn, seed)
    sized = tuple(
        AuditStratumSize(s.label, s.amount_band, s.category, s.worker, int(sizes[h]), int(drawn[h]))
        for h, (_, _, s) in enumerate(strata)
    )
    order = chosen[np.argsort(view.ids[chosen].astype(str), kind="stable")]
    return AuditSample(
        seed=seed,
        protocol_hash=protocol.content_hash(),
        ledger_sha256=ledger_sha256,
        spends_sha256=view.fingerprint,
        strata_by=tuple(review.strata),
        amount_bands=tuple(float(b) for b in review.amount_bands),
        large_spend_share=float(review.large_spend_share),
        strata=sized,
        spend_id=tuple(str(i) for i in view.ids[order]),
        stratum=tuple(sized[c].label for c in code[order]),
        inclusion_probability=tuple(int(drawn[c]) / int(sizes[c]) for c in code[order]),
    )


def _select(
    ids: NDArray[np.object_], code: NDArray[np.int64], drawn: NDArray[np.int64], seed: int
) -> NDArray[np.int64]:
    """Rows drawn: in each stratum the ``n_h`` spends with the smallest random keys.

    Keys come from the raw stream in spend-id order, so the draw does not depend on the
    order of the ledger's rows.
    """
    by_id = np.argsort(ids.astype(str), kind="stable")
    key = np.empty(len(ids), dtype=np.uint64)
    key[by_id] = RawStream(seed).raw(len(ids))
    order = np.lexsort((key, code))
    first = np.searchsorted(code[order], np.arange(len(drawn)), side="left")
    rank = np.arange(len(ids)) - first[code[order]]
    return np.sort(order[rank < drawn[code[order]]])


def check_spends(
    sample: AuditSample,
    protocol: Protocol,
    spends: pd.DataFrame,
    *,
    source: str,
    sample_source: str,
) -> None:
    """Refuse an audit sample drawn from another ledger than ``spends``.

    The check compares the spends' ids and stratum columns with those the sample was drawn
    from (:attr:`AuditSample.spends_sha256`); verdicts and losses may have been filled in
    since.

    Raises
    ------
    DataValidationError
        Located at the sample file, saying what differs and how to fix it.
    """
    view = read_spends(protocol, spends, source=source)
    if view.fingerprint == sample.spends_sha256:
        return
    present = set(view.ids.astype(str).tolist())
    gone = [s for s in sample.spend_id if s not in present]
    detail = (
        f"{len(gone)} drawn spend(s) are not in it (e.g. {', '.join(gone[:3])})"
        if gone
        else f"it holds {len(view.ids)} spends, the sample was drawn from {sample.population}"
        if len(view.ids) != sample.population
        else "an amount, category or worker of a spend differs"
    )
    raise DataValidationError(
        [
            Issue(
                f"the audit sample was drawn from another spend ledger than {source}: {detail}",
                Location(file=sample_source),
                fix="pass the spend ledger the sample was drawn from (only verdicts and losses may "
                "change after the draw), or draw a sample from this ledger with `trialkit "
                "audit-sample`.",
            )
        ]
    )

"""How spends were reviewed, and design-based estimation over the whole ledger.

Every spend is reviewed (a *census*) or a stratified audit sample is
(:func:`trialkit.randomise.audit.draw_audit_sample`). A reviewed spend in stratum ``h``
stands for ``N_h / n_h`` spends of the ledger, where ``n_h`` counts the spends of the
stratum that were drawn *and* given a verdict: a drawn spend still awaiting its verdict is
treated as missing at random within its stratum (a weighting-class adjustment), and a
census with unreviewed spends is one stratum of that kind.

Means over the ledger are ratios of Horvitz–Thompson totals, ``R = sum(w y) / sum(w)``;
their variance is linearised (``u_i = (y_i - R) / sum(w)``) and estimated for one of two
targets:

``ledger``
    The values of *this* ledger, had every spend been reviewed. The design-based
    variance of stratified simple random sampling without replacement, with each
    stratum's finite population correction ``1 - n_h / N_h``: R survey's
    ``svydesign(ids=~1, strata=~stratum, fpc=~N_h)``. A census knows these values
    exactly (zero variance). Workers do not enter: spends are drawn one by one.
``superpopulation``
    What the spending process (these workers, the same number of spends) produces, of
    which the ledger is one realisation: the with-replacement "ultimate cluster"
    variance over workers, ``G/(G-1) sum_j (z_j - mean z)^2`` with ``z_j`` a worker's
    weighted sum of ``u_i``, ignoring the strata (workers cross them). For a census this
    is the cluster-robust (CR1 without the small-sample ``(N-1)/(N-K)`` factor, which is
    1 here) standard error of a mean, clustered on workers.

A sample's intervals default to the ``ledger`` target and a census's to the
``superpopulation`` one: a census has no sampling error, so the only uncertainty left to
report is that of the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from trialkit.errors import EstimationError
from trialkit.randomise.audit import AuditSample

#: What an interval is about: this ledger's values, or the process that produced them.
Target = Literal["ledger", "superpopulation"]
ReviewDesignName = Literal["census", "stratified_sample"]


@dataclass(frozen=True, slots=True)
class ReviewInfo:
    """How spends were reviewed (the fields of the results' ``ReviewRow``)."""

    design: ReviewDesignName
    spends: int
    reviewed: int
    strata: int
    sample_seed: int | None
    reviewer: str


@dataclass(frozen=True, slots=True, eq=False)
class ReviewDesign:
    """Which spends' verdicts count, and how many ledger spends each stands for.

    Attributes
    ----------
    design
        ``census`` or ``stratified_sample``.
    weight
        Per ledger row: ``N_h / n_h`` for a reviewed spend that counts, 0 otherwise.
    stratum
        Per ledger row, its stratum number (0 for a census).
    fpc
        Per stratum, ``1 - n_h / N_h`` (0 when every spend of it was reviewed).
    spends
        Spends in the ledger.
    strata
        Number of strata.
    sample_seed
        The audit sample's seed, ``None`` for a census.
    notes
        What a reader should know: spends awaiting a verdict, strata with none.
    """

    design: ReviewDesignName
    weight: NDArray[np.float64]
    stratum: NDArray[np.int64]
    fpc: NDArray[np.float64]
    spends: int
    strata: int
    sample_seed: int | None
    notes: tuple[str, ...] = ()

    @property
    def counts(self) -> NDArray[np.bool_]:
        """Per ledger row, whether its verdict enters the estimates."""
        return np.asarray(self.weight > 0)

    @property
    def reviewed(self) -> int:
        """Spends whose verdicts enter the estimates."""
        return int(self.counts.sum())

    def default_target(self) -> Target:
        """``ledger`` for a sample, ``superpopulation`` for a census (module docstring)."""
        return "ledger" if self.design == "stratified_sample" else "superpopulation"

    def info(self, reviewer: str) -> ReviewInfo:
        """The review's row of the results document."""
        return ReviewInfo(
            design=self.design,
            spends=self.spends,
            reviewed=self.reviewed,
            strata=self.strata,
            sample_seed=self.sample_seed,
            reviewer=reviewer,
        )


def _weights(
    n_reviewed: NDArray[np.int64],
    sizes: NDArray[np.int64],
    stratum: NDArray[np.int64],
    reviewed: NDArray[np.bool_],
) -> NDArray[np.float64]:
    per = np.divide(sizes, n_reviewed, out=np.zeros(len(sizes)), where=n_reviewed > 0)
    return np.where(reviewed, per[stratum], 0.0)


def census_design(verdict: pd.Series) -> ReviewDesign:
    """Every spend reviewed: one stratum, weights ``N / n`` over the spends with a verdict."""
    reviewed = verdict.notna().to_numpy()
    n, done = len(reviewed), int(reviewed.sum())
    if done == 0:
        raise EstimationError(
            "no spend in the ledger has a review verdict yet, so misuse "
            "cannot be estimated. Fix: record the reviewers' verdicts in "
            "the ledger's verdict column."
        )
    stratum = np.zeros(n, dtype=np.int64)
    sizes, count = np.array([n]), np.array([done])
    notes = (
        ()
        if done == n
        else (
            f"{n - done} of {n} spends have no review verdict yet; the estimates weight the "
            f"{done} reviewed spends to the whole ledger, as if the rest were like them.",
        )
    )
    return ReviewDesign(
        "census",
        _weights(count, sizes, stratum, reviewed),
        stratum,
        1.0 - count / sizes,
        n,
        1,
        None,
        notes,
    )


def sample_design(verdict: pd.Series, ids: pd.Series, audit: AuditSample) -> ReviewDesign:
    """A stratified audit sample: weights ``N_h / n_h`` over drawn spends with a verdict.

    Verdicts on spends outside the sample are not used (their inclusion probability is
    unknown); a stratum none of whose drawn spends has a verdict is left out, with a note.
    """
    labels = {s.label: h for h, s in enumerate(audit.strata)}
    drawn = dict(zip(audit.spend_id, (labels[s] for s in audit.stratum), strict=True))
    code = ids.astype(str).map(drawn)
    if int(code.notna().sum()) != audit.size:
        raise EstimationError(
            "some spends of the audit sample are not in the spend ledger. "
            "Fix: pass the ledger the sample was drawn from."
        )
    in_sample = code.notna().to_numpy()
    stratum = np.asarray(code.fillna(-1).to_numpy(dtype=np.int64), dtype=np.int64)
    reviewed = in_sample & verdict.notna().to_numpy()
    sizes = np.array([s.spends for s in audit.strata], dtype=np.int64)
    count = np.bincount(stratum[reviewed], minlength=len(sizes)).astype(np.int64)
    notes = []
    if (awaiting := audit.size - int(reviewed.sum())) > 0:
        notes.append(
            f"{awaiting} of the {audit.size} spends drawn for review have no verdict "
            "yet; each stratum's reviewed spends stand for the rest of it."
        )
    if (outside := int((~in_sample & verdict.notna().to_numpy()).sum())) > 0:
        notes.append(
            f"{outside} spends reviewed outside the audit sample are not used in the "
            "estimates: their chance of being reviewed is unknown."
        )
    empty = [s.label for s, c in zip(audit.strata, count, strict=True) if c == 0]
    if empty:
        notes.append(
            f"No drawn spend has a verdict in {len(empty)} strata ("
            f"{'; '.join(empty[:3])}); the estimates leave their "
            f"{int(sizes[count == 0].sum())} spends out."
        )
    return ReviewDesign(
        "stratified_sample",
        _weights(count, sizes, stratum, reviewed),
        stratum,
        1.0 - count / sizes,
        len(ids),
        len(sizes),
        audit.seed,
        tuple(notes),
    )


def review_design(
    spends: pd.DataFrame, *, audit: AuditSample | None, id_column: str, verdict_column: str
) -> ReviewDesign:
    """The review design of a validated spend ledger: a census, or the audit sample's.

    Parameters
    ----------
    spends
        The validated spend frame (``TrialData.frames["spend"]``).
    audit
        The audit sample the reviewers judged, or ``None`` when every spend is reviewed.
    id_column, verdict_column
        The spend id and review verdict columns.
    """
    verdict = spends[verdict_column]
    if audit is None:
        return census_design(verdict)
    return sample_design(verdict, spends[id_column], audit)


@dataclass(frozen=True, slots=True)
class RatioEstimate:
    """A ratio of Horvitz–Thompson totals (a mean over the covered ledger) and its SE."""

    estimate: float
    std_error: float
    covered: float


def _lonely(
    parts: NDArray[np.float64], n_h: NDArray[np.int64], fpc: NDArray[np.float64]
) -> NDArray[np.float64]:
    """A stratum with one reviewed spend (and others not) gets the mean of the rest."""
    lonely = (n_h == 1) & (fpc > 0)
    if lonely.any() and (~lonely & (n_h > 1)).any():
        parts = parts.copy()
        parts[lonely] = parts[~lonely & (n_h > 1)].mean()
    return parts


def ratio(
    y: NDArray[np.float64], design: ReviewDesign, *, cluster: NDArray[np.int64], target: Target
) -> RatioEstimate:
    """``sum(w y) / sum(w)`` over the reviewed spends, with its linearised SE for ``target``.

    ``cluster`` numbers each row's worker (0, 1, …); it is used by the
    ``superpopulation`` target only.
    """
    keep = design.counts
    w, yk = design.weight[keep], y[keep]
    total = float(w.sum())
    est = float(w @ yk) / total
    z = w * (yk - est) / total
    if target == "superpopulation":
        # per worker present, in worker order (the workers are numbered 0, 1, …)
        codes = cluster[keep]
        present = np.bincount(codes) > 0
        sums = np.bincount(codes, weights=z)[present]
        g = len(sums)
        var = g / (g - 1) * float(((sums - sums.mean()) ** 2).sum()) if g > 1 else 0.0
        return RatioEstimate(est, float(np.sqrt(var)), total)
    h = design.stratum[keep]
    n_h = np.bincount(h, minlength=design.strata)
    mean = np.bincount(h, weights=z, minlength=design.strata) / np.maximum(n_h, 1)
    ss = np.bincount(h, weights=(z - mean[h]) ** 2, minlength=design.strata)
    parts = design.fpc * np.divide(n_h * ss, n_h - 1, out=np.zeros(design.strata), where=n_h > 1)
    var = float(_lonely(parts, n_h, design.fpc).sum())
    return RatioEstimate(est, float(np.sqrt(var)), total)

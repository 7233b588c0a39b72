"""Covariance estimators for least squares: classical, HC0-HC3, CR0-CR3.

Conventions follow estimatr's ``lm_robust`` (mathematical notes):

============  =====================================================  ======================
se_type       variance                                               df per coefficient
============  =====================================================  ======================
classical     s^2 (X'X)^{-1}, s^2 = e'e/(N-K)                        N - K
HC0           B X' diag(e^2) X B, B = (X'X)^{-1}                     N - K
HC1           HC0 * N/(N-K)                                          N - K
HC2           B X' diag(e^2/(1-h)) X B                               N - K, or Bell-McCaffrey
HC3           B X' diag(e^2/(1-h)^2) X B                             N - K
CR0           B sum_g X_g'e_g e_g'X_g B                              G - 1
CR1           CR0 * G/(G-1) * (N-1)/(N-K)  (Stata's small-sample)    G - 1
CR2           B sum_g X_g'A_g e_g e_g'A_g X_g B, A_g=(I-H_gg)^{-1/2}  Bell-McCaffrey
CR3           (G-1)/G sum_g (b_(g) - b)(b_(g) - b)', the jackknife     G - 1
============  =====================================================  ======================

With weights everything is computed on the transformed model ``sqrt(w) X``, ``sqrt(w) y``
(weights read as precision weights). For HC0-HC3 and CR0/CR1 this is what estimatr does.

**Deliberate difference, weighted CR2 only.** estimatr's weighted CR2 builds the adjustment
against a working model with identity covariance (clubSandwich's
``vcovCR(..., inverse_var = FALSE)``: ``A_g = (I - H_gg - H_gg' + X_g M X'W^2X M X_g')^{-1/2}``
with ``H = X M X'W``). trialkit keeps the precision-weight working model for CR2 too
(clubSandwich's ``inverse_var = TRUE``), so that weighted CR2 with one unit per cluster is
exactly weighted HC2, as it is without weights. Unweighted CR2 is identical in both.

**HC2 degrees of freedom.** ``df="residual"`` (the default of the estimators) gives
estimatr's N - K. ``df="bell_mccaffrey"`` gives Bell & McCaffrey's (2002) Satterthwaite df
with a homoskedastic working model, as Imbens & Kolesár (2016) recommend for small or
unbalanced samples: it is CR2's df with every unit its own cluster, computed in closed form
by :func:`~trialkit.estimate.frequentist.cr2.singleton_df`. With one binary regressor it equals
Welch's df under equal variances. The registered plan uses it by default
(``analysis.frequentist.df``).
Defaults: HC2 without clusters, CR2 with clusters. Each estimator is a small class in a
registry keyed by :data:`VcovType`; error messages list the allowed values from the same
``Literal``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, get_args

import numpy as np

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import FloatArray, IntArray
from trialkit.estimate.frequentist.lstsq import LeastSquares
from trialkit.protocol.vocabulary import DfMethod, VcovType

#: Every allowed ``se_type``, in the order of :data:`VcovType`.
VCOV_TYPES: tuple[str, ...] = get_args(VcovType)
#: Every allowed ``df`` (degrees of freedom of HC2).
DF_METHODS: tuple[str, ...] = get_args(DfMethod)
#: The types that need clusters.
CLUSTER_TYPES: tuple[str, ...] = tuple(t for t in VCOV_TYPES if t.startswith("CR"))
#: The types for unclustered data.
UNIT_TYPES: tuple[str, ...] = tuple(t for t in VCOV_TYPES if t not in CLUSTER_TYPES)


@dataclass(frozen=True, slots=True, eq=False)
class Clusters:
    """Cluster membership coded 0..G-1, with the row ranges of each cluster in cluster order.

    Attributes
    ----------
    codes
        Cluster code of each row.
    n_clusters
        Number of clusters G.
    starts
        Rows in cluster order ``starts[g]:starts[g+1]`` belong to cluster g (length G + 1).
    """

    codes: IntArray
    n_clusters: int
    starts: IntArray
    _order: list[IntArray] = field(default_factory=list, repr=False)  # computed on first use

    @classmethod
    def from_codes(cls, codes: IntArray) -> Clusters:
        """Build the index from integer codes, relabelled 0..G-1 in sorted order.

        Codes that are already dense (every code in 0..G-1 used, as ``factor`` and
        ``pandas.factorize`` give) are kept as they are, without sorting.
        """
        codes = np.asarray(codes)
        counts = _dense_counts(codes)
        if counts is None:
            _, codes = np.unique(codes, return_inverse=True)
            counts = np.bincount(codes)
        codes = codes.reshape(-1).astype(np.intp, copy=False)
        starts = np.zeros(counts.size + 1, dtype=np.intp)
        np.cumsum(counts, out=starts[1:])
        return cls(codes=codes, n_clusters=int(counts.size), starts=starts)

    @property
    def order(self) -> IntArray:
        """Row indices in cluster order (stable: storage order within a cluster)."""
        if not self._order:
            self._order.append(_stable_order(self.codes, self.n_clusters))
        return self._order[0]

    @property
    def sizes(self) -> IntArray:
        """Rows in each cluster."""
        return np.diff(self.starts)

    @property
    def in_order(self) -> bool:
        """Whether the rows are stored in cluster order already."""
        return bool(np.all(self.codes[1:] >= self.codes[:-1]))


def _dense_counts(codes: IntArray) -> IntArray | None:
    """Rows per code when the codes are integers using every value 0..max; else ``None``."""
    if codes.ndim != 1 or codes.size == 0 or codes.dtype.kind not in "iu":
        return None
    if codes.min() < 0 or codes.max() >= codes.size:
        return None
    counts = np.bincount(codes)
    return counts if bool(counts.all()) else None


def _stable_order(codes: IntArray, n_clusters: int) -> IntArray:
    """A stable sort of the rows by cluster, by radix sort where the codes fit 16 bits."""
    if bool(np.all(codes[1:] >= codes[:-1])):
        return np.arange(codes.size, dtype=np.intp)
    keys = codes.astype(np.uint16) if n_clusters <= 1 << 16 else codes
    return np.argsort(keys, kind="stable").astype(np.intp, copy=False)


@dataclass(frozen=True, slots=True, eq=False)
class Vcov:
    """A coefficient covariance matrix with its per-coefficient degrees of freedom."""

    matrix: FloatArray
    df: FloatArray
    se_type: str


class _Estimator(Protocol):
    def compute(self, fit: LeastSquares, clusters: Clusters | None) -> Vcov: ...


def _sandwich(fit: LeastSquares, meat_q: FloatArray) -> FloatArray:
    """``R^{-1} meat R^{-T}``: a meat expressed in the basis ``Q``."""
    out = fit.r_inv @ meat_q @ fit.r_inv.T
    return np.asarray((out + out.T) / 2)


def _constant_df(fit: LeastSquares, value: float) -> FloatArray:
    return np.full(fit.n_coef, float(value))


class _Classical:
    def compute(self, fit: LeastSquares, clusters: Clusters | None) -> Vcov:
        dof = fit.n_obs - fit.n_coef
        sigma2 = float(fit.resid @ fit.resid) / dof
        return Vcov(sigma2 * fit.bread, _constant_df(fit, dof), "classical")


@dataclass(frozen=True, slots=True)
class _Heteroskedastic:
    kind: str

    def compute(self, fit: LeastSquares, clusters: Clusters | None) -> Vcov:
        n, k = fit.n_obs, fit.n_coef
        u = fit.resid**2
        if self.kind in ("HC2", "HC3"):
            one_minus_h = 1.0 - fit.leverages()
            if np.any(one_minus_h <= 1e-12):
                raise EstimationError(
                    f"{self.kind} is undefined: an observation has leverage 1 (a single unit "
                    "determines a coefficient, e.g. a fixed-effect level with one unit). "
                    "Fix: merge that level, or use se_type='HC1'."
                )
            u = u / (one_minus_h if self.kind == "HC2" else one_minus_h**2)
        meat = (fit.q * u[:, None]).T @ fit.q
        if self.kind == "HC1":
            meat = meat * (n / (n - k))
        return Vcov(_sandwich(fit, meat), _constant_df(fit, n - k), self.kind)


def cluster_scores(fit: LeastSquares, clusters: Clusters) -> FloatArray:
    """Per-cluster sums ``Q_g' e_g`` (G x k)."""
    qe = fit.q * fit.resid[:, None]
    g = clusters.n_clusters
    return np.column_stack(
        [np.bincount(clusters.codes, weights=qe[:, j], minlength=g) for j in range(fit.n_coef)]
    )


@dataclass(frozen=True, slots=True)
class _ClusterLinear:
    kind: str

    def compute(self, fit: LeastSquares, clusters: Clusters | None) -> Vcov:
        assert clusters is not None
        g, n, k = clusters.n_clusters, fit.n_obs, fit.n_coef
        scores = cluster_scores(fit, clusters)
        meat = scores.T @ scores
        if self.kind == "CR1":
            meat = meat * (g / (g - 1) * (n - 1) / (n - k))
        return Vcov(_sandwich(fit, meat), _constant_df(fit, g - 1), self.kind)


class _CR2:
    def compute(self, fit: LeastSquares, clusters: Clusters | None) -> Vcov:
        from trialkit.estimate.frequentist.cr2 import cr2_vcov

        assert clusters is not None
        matrix, df = cr2_vcov(fit, clusters)
        return Vcov(matrix, df, "CR2")


class _CR3:
    def compute(self, fit: LeastSquares, clusters: Clusters | None) -> Vcov:
        from trialkit.estimate.frequentist.cr3 import cr3_vcov

        assert clusters is not None
        matrix, df = cr3_vcov(fit, clusters)
        return Vcov(matrix, df, "CR3")


_REGISTRY: dict[str, _Estimator] = {
    "classical": _Classical(),
    "HC0": _Heteroskedastic("HC0"),
    "HC1": _Heteroskedastic("HC1"),
    "HC2": _Heteroskedastic("HC2"),
    "HC3": _Heteroskedastic("HC3"),
    "CR0": _ClusterLinear("CR0"),
    "CR1": _ClusterLinear("CR1"),
    "CR2": _CR2(),
    "CR3": _CR3(),
}
assert set(_REGISTRY) == set(VCOV_TYPES)


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def resolve_se_type(se_type: str | None, *, clustered: bool) -> str:
    """Check ``se_type`` against :data:`VcovType` and the design; fill in the default.

    Raises
    ------
    EstimationError
        Unknown type, a CR type without clusters, or an HC type with clusters.
    """
    if se_type is None:
        return "CR2" if clustered else "HC2"
    if se_type not in VCOV_TYPES:
        raise EstimationError(
            f"The 'se_type' parameter must be one of {_quoted(VCOV_TYPES)}. "
            f"Got {se_type!r} instead."
        )
    if clustered and se_type not in CLUSTER_TYPES:
        raise EstimationError(
            f"se_type={se_type!r} ignores the clusters given. Fix: use one of "
            f"{_quoted(CLUSTER_TYPES)} with cluster=, or drop cluster=."
        )
    if not clustered and se_type in CLUSTER_TYPES:
        raise EstimationError(
            f"se_type={se_type!r} needs clusters. Fix: pass cluster='<column>', or use one "
            f"of {_quoted(UNIT_TYPES)}."
        )
    return se_type


def compute_vcov(
    fit: LeastSquares, se_type: str, clusters: Clusters | None = None, *, df: DfMethod = "residual"
) -> Vcov:
    """Covariance of the coefficients and their degrees of freedom.

    Parameters
    ----------
    fit
        A least-squares fit.
    se_type
        One of :data:`VCOV_TYPES` (already checked by :func:`resolve_se_type`).
    clusters
        Cluster index, required for the CR types.
    df
        Degrees of freedom of HC2: ``"residual"`` (N - K) or ``"bell_mccaffrey"``. Other
        types keep their own df (CR2 is always Bell-McCaffrey).

    Returns
    -------
    Vcov
        Covariance matrix and df per coefficient.

    Raises
    ------
    EstimationError
        Fewer than two clusters.
    """
    if clusters is not None and clusters.n_clusters < 2:
        raise EstimationError(
            "cluster-robust standard errors need at least two clusters; found "
            f"{clusters.n_clusters}. Fix: check the cluster column."
        )
    if df not in DF_METHODS:
        raise EstimationError(
            f"The 'df' parameter must be one of {_quoted(DF_METHODS)}. Got {df!r} instead."
        )
    vcov = _REGISTRY[se_type].compute(fit, clusters)
    if se_type == "HC2" and df == "bell_mccaffrey":
        return Vcov(vcov.matrix, hc2_bell_mccaffrey_df(fit), "HC2")
    return vcov


def hc2_bell_mccaffrey_df(fit: LeastSquares) -> FloatArray:
    """Bell-McCaffrey df of HC2 for each coefficient (Imbens & Kolesár 2016).

    CR2's Satterthwaite df with singleton clusters (working model ``Phi = I``), in the
    closed form :func:`~trialkit.estimate.frequentist.cr2.singleton_df`.
    """
    from trialkit.estimate.frequentist.cr2 import singleton_df

    return singleton_df(fit)

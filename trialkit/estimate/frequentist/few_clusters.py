"""Small-sample checks of the primary comparisons when few clusters were randomised.

With fewer than :data:`FEW_CLUSTERS` clusters in the analysed data, cluster-robust standard
errors can be too small (MacKinnon, Nielsen & Webb 2023), so the plan shows two checks
beside each primary ITT contrast, on the same model (estimator, covariates, blocks, period
effects) as the registered row:

- **CR3**, the leave-one-cluster-out jackknife with G - 1 degrees of freedom: MacKinnon,
  Nielsen & Webb's CV3 (summclust's ``CRV3``), ``(G-1)/G sum_g (b_(g) - b)(b_(g) - b)'``
  (:mod:`~trialkit.estimate.frequentist.cr3`). clubSandwich's ``CR3`` is the same sum
  without the ``(G-1)/G`` factor (Bell & McCaffrey's jackknife approximation), so its
  standard errors are larger by ``sqrt(G/(G-1))``, and its tests use Satterthwaite df;
- the **wild cluster restricted bootstrap** with Webb's six-point weights
  (:mod:`~trialkit.estimate.frequentist.wild`): a p-value and the interval that inverts it.

Each row says its method, and whether it disagrees with the registered p-value on
significance at the plan's alpha. The registered CR2 row is unchanged: measured at 6 and 8
clusters of unequal size, CR2 with Bell-McCaffrey df and CR3 kept their level while the
bootstrap rejected a true null 7-8% of the time (``tests/statistical/``), so the checks are
shown beside it, never instead of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import pandas as pd

from trialkit.errors import EstimationError
from trialkit.estimate.frequentist._design import RegressionModel
from trialkit.estimate.frequentist.analysis_frame import AnalysisFrame
from trialkit.estimate.frequentist.lin import lin
from trialkit.estimate.frequentist.ols import ols
from trialkit.estimate.frequentist.result import RegressionResult
from trialkit.estimate.frequentist.wild import wild_cluster_bootstrap

#: Below this many clusters in the analysed data the plan adds the small-sample checks.
FEW_CLUSTERS = 20

#: Bootstrap draws (every weight vector once when 6**G is fewer).
WILD_DRAWS = 9999

#: The checks, as the ``method`` of their rows.
CheckMethod = Literal["CR3", "wild_cluster_bootstrap"]

#: Columns of :func:`few_cluster_checks`'s frame.
CHECK_COLUMNS = (
    "outcome",
    "arm",
    "method",
    "estimator",
    "estimate",
    "std_error",
    "statistic",
    "df",
    "p_value",
    "ci_low",
    "ci_high",
    "ci_level",
    "draws",
    "n_clusters",
    "registered_p_value",
    "disagrees",
)


def few_cluster_checks(
    frame: AnalysisFrame,
    column: str,
    name: str,
    *,
    itt: pd.DataFrame,
    covariates: Sequence[str],
    estimator: str,
    control: str,
    alpha: float,
    seed: int,
    notes: list[str],
) -> pd.DataFrame:
    """CR3 and wild-bootstrap rows for each arm of ``itt`` when clusters are few.

    Parameters
    ----------
    frame, column, name
        The analysis frame, the outcome's column and its protocol name.
    itt
        The registered ITT rows of the outcome (``arm``, ``term``, ``p_value``).
    covariates, estimator
        The registered model's covariates and estimator (``lin``, ``ols`` or
        ``difference_in_means``, checked by OLS on the same covariates).
    control, alpha, seed
        The control arm, the plan's alpha and the bootstrap's seed. Intervals are at the
        registered rows' level.
    notes
        Appended to: why a check could not be computed.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CHECK_COLUMNS`; empty without clusters or with
        :data:`FEW_CLUSTERS` or more.
    """
    data = frame.complete(column)
    g = 0 if frame.cluster is None else int(data[frame.cluster].nunique())
    if frame.cluster is None or g >= FEW_CLUSTERS or itt.empty:
        return pd.DataFrame(columns=list(CHECK_COLUMNS))
    model: RegressionModel = "lin" if estimator == "lin" and not frame.fixed_effects else "ols"
    common: dict[str, Any] = {
        "covariates": list(covariates),
        "cluster": frame.cluster,
        "blocks": frame.blocks,
        "control": control,
    }
    level = float(itt["ci_level"].iloc[0])
    rows: list[dict[str, Any]] = []
    try:
        fitted = (
            lin(data, column, "arm", se_type="CR3", **common)
            if model == "lin"
            else ols(
                data, column, "arm", se_type="CR3", fixed_effects=frame.fixed_effects, **common
            )
        )
        rows += _cr3_rows(fitted, itt, model)
    except EstimationError as err:
        notes.append(f"CR3 check for `{name}` not computed: {err}")
    for arm in itt["arm"]:
        pair = data[data["arm"].astype(str).isin([control, str(arm)])]
        try:
            boot = wild_cluster_bootstrap(
                pair,
                column,
                "arm",
                model=model,
                draws=WILD_DRAWS,
                seed=seed,
                ci_level=level,
                fixed_effects=frame.fixed_effects,
                **common,
            )
        except EstimationError as err:
            notes.append(f"Wild cluster bootstrap for `{name}` ({arm}) not computed: {err}")
            continue
        rows.append(
            {
                "arm": arm,
                "method": "wild_cluster_bootstrap",
                "estimator": model,
                "estimate": boot.estimate,
                "std_error": boot.std_error,
                "statistic": boot.statistic,
                "df": None,
                "p_value": boot.p_value,
                "ci_low": boot.ci_low,
                "ci_high": boot.ci_high,
                "ci_level": level,
                "draws": boot.draws,
                "n_clusters": boot.n_clusters,
            }
        )
    return _compare(pd.DataFrame(rows, columns=list(CHECK_COLUMNS)), itt, name, alpha)


def _cr3_rows(fitted: RegressionResult, itt: pd.DataFrame, model: str) -> list[dict[str, Any]]:
    """One CR3 row per arm of ``itt``, from the refit with CR3 errors."""
    table = fitted.to_frame().set_index("term")
    out = []
    for _, row in itt.iterrows():
        est = table.loc[row["term"]]
        out.append(
            {
                "arm": row["arm"],
                "method": "CR3",
                "estimator": model,
                "estimate": est["estimate"],
                "std_error": est["std_error"],
                "statistic": est["statistic"],
                "df": est["df"],
                "p_value": est["p_value"],
                "ci_low": est["ci_low"],
                "ci_high": est["ci_high"],
                "ci_level": est["ci_level"],
                "draws": None,
                "n_clusters": est["n_clusters"],
            }
        )
    return out


def _compare(checks: pd.DataFrame, itt: pd.DataFrame, name: str, alpha: float) -> pd.DataFrame:
    """Add the registered p-value of each arm and whether the check disagrees at alpha."""
    registered = dict(zip(itt["arm"], itt["p_value"].astype(float), strict=True))
    checks["outcome"] = name
    checks["registered_p_value"] = checks["arm"].map(registered)
    checks["disagrees"] = [
        (p < alpha) != (r < alpha)
        for p, r in zip(checks["p_value"], checks["registered_p_value"], strict=True)
    ]
    return checks

"""Misuse estimates against independent implementations.

* A census (every spend reviewed) gives the plain proportion and sum, and its
  superpopulation SE is statsmodels' cluster-robust SE of a mean, clustered on workers.
* A stratified sample's Horvitz–Thompson total and design-based SE equal the textbook
  closed form ``sum_h N_h^2 (1 - n_h/N_h) s_h^2 / n_h`` (Cochran 1977, 5.6), computed
  here with pandas, and its superpopulation SE the with-replacement ultimate-cluster
  formula over workers' weighted totals.
* The mid-p gamma interval with equal weights is the mid-p exact Poisson interval.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import optimize, stats

from trialkit.estimate.spending.intervals import midp_gamma
from trialkit.estimate.spending.misuse import misuse_totals, severity_estimates
from trialkit.estimate.spending.review import review_design
from trialkit.protocol import bundled_path, load_protocol
from trialkit.randomise.audit import draw_audit_sample

RTOL = 1e-10


def reviewed_ledger(n: int = 900, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    workers = rng.choice([f"W{i:02d}" for i in range(30)], n)
    risky = np.isin(workers, ["W01", "W02", "W03"])
    u = rng.random(n)
    verdict = np.where(
        u < np.where(risky, 0.15, 0.02), "misuse", np.where(u < 0.2, "poor_value", "appropriate")
    )
    amount = np.round(rng.lognormal(4.0, 0.8, n), 2)
    loss = np.where(verdict == "misuse", np.round(amount * rng.uniform(0.3, 1, n), 2), 0.0)
    return pd.DataFrame(
        {
            "spend_id": [f"S{i:04d}" for i in range(n)],
            "staff_id": workers,
            "amount": amount,
            "category": rng.choice(["a", "b", "c"], n),
            "review_verdict": verdict,
            "loss": loss,
        }
    )


def test_census_rate_is_the_proportion_and_its_se_statsmodels_cluster_robust() -> None:
    spends = reviewed_ledger()
    design = review_design(
        spends, audit=None, id_column="spend_id", verdict_column="review_verdict"
    )
    count, loss = misuse_totals(spends, design=design, cluster="staff_id")
    misuse = (spends["review_verdict"] == "misuse").astype(float)
    n = len(spends)
    fit = sm.OLS(misuse.to_numpy(), np.ones((n, 1))).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(spends["staff_id"])[0]}
    )
    assert count.estimate / n == pytest.approx(misuse.mean(), rel=RTOL), "rate"
    assert count.std_error / n == pytest.approx(float(fit.bse[0]), rel=1e-9), "rate SE"
    lost = spends["loss"] * misuse
    fit = sm.OLS(lost.to_numpy(), np.ones((n, 1))).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(spends["staff_id"])[0]}
    )
    assert loss.estimate == pytest.approx(lost.sum(), rel=RTOL), "loss"
    assert loss.std_error == pytest.approx(n * float(fit.bse[0]), rel=1e-9), "loss SE"
    # The interval is the mid-p gamma one with the cluster-robust variance (not Wald,
    # which reaches below zero for rare clustered misuse): positive, skewed to the right.
    size = float(spends.loc[misuse > 0, "loss"].mean())
    low, high = midp_gamma(loss.estimate, loss.std_error**2, size, ci_level=0.95)
    assert (loss.ci_low, loss.ci_high) == pytest.approx((low, high), rel=RTOL)
    z = stats.norm.ppf(0.975)
    assert loss.ci_low > 0 and loss.ci_high > loss.estimate + z * loss.std_error


def test_census_severity_rows_are_plain_proportions_and_sums() -> None:
    spends = reviewed_ledger()
    design = review_design(
        spends, audit=None, id_column="spend_id", verdict_column="review_verdict"
    )
    rows = severity_estimates(spends, design=design, cluster="staff_id", months=6)
    for row in rows:
        hit = spends["review_verdict"] == row.verdict
        assert row.spends == int(hit.sum())
        assert row.rate == pytest.approx(hit.mean(), rel=RTOL), row.verdict
        assert row.loss == pytest.approx(spends.loc[hit, "loss"].sum(), rel=RTOL, abs=1e-12)
        assert row.loss_per_year == pytest.approx(2 * row.loss, rel=RTOL, abs=1e-12)
    ledger_rows = severity_estimates(
        spends, design=design, cluster="staff_id", months=6, target="ledger"
    )
    assert all(r.rate_ci == (r.rate, r.rate) for r in ledger_rows), "a census is exact"


def _sampled() -> tuple[pd.DataFrame, object]:
    base = load_protocol(bundled_path("council_discretionary_budget"))
    assert base.spending is not None
    review = base.spending.review.model_copy(update={"coverage": "sample", "sample_size": 300})
    protocol = base.model_copy(
        update={"spending": base.spending.model_copy(update={"review": review})}
    )
    spends = reviewed_ledger()
    audit = draw_audit_sample(protocol, spends, seed=12)
    drawn = spends["spend_id"].isin(audit.spend_id)
    observed = spends.assign(
        review_verdict=spends["review_verdict"].where(drawn), loss=spends["loss"].where(drawn)
    )
    return observed, audit


def test_stratified_total_and_se_match_the_closed_form() -> None:
    observed, audit = _sampled()
    design = review_design(
        observed, audit=audit, id_column="spend_id", verdict_column="review_verdict"
    )
    count, loss = misuse_totals(observed, design=design, cluster="staff_id")
    stratum = dict(zip(audit.spend_id, audit.stratum, strict=True))
    sizes = {s.label: s.spends for s in audit.strata}
    drawn = observed[observed["spend_id"].isin(audit.spend_id)].assign(
        stratum=lambda f: f["spend_id"].map(stratum),
        y=lambda f: (f["review_verdict"] == "misuse").astype(float),
        money=lambda f: f["loss"] * f["y"],
    )
    for column, fit in (("y", count), ("money", loss)):
        g = drawn.groupby("stratum")[column]
        big_n = g.size().index.map(sizes).to_numpy(dtype=float)
        n, mean, var = g.size().to_numpy(), g.mean().to_numpy(), g.var(ddof=1).fillna(0)
        total = float((big_n * mean).sum())
        se = float(np.sqrt((big_n**2 * (1 - n / big_n) * var.to_numpy() / n).sum()))
        assert fit.estimate == pytest.approx(total, rel=RTOL), column
        assert fit.std_error == pytest.approx(se, rel=1e-9), f"{column} SE"


def test_stratified_superpopulation_se_is_the_ultimate_cluster_formula() -> None:
    observed, audit = _sampled()
    design = review_design(
        observed, audit=audit, id_column="spend_id", verdict_column="review_verdict"
    )
    count, _ = misuse_totals(observed, design=design, cluster="staff_id", target="superpopulation")
    prob = dict(zip(audit.spend_id, audit.inclusion_probability, strict=True))
    drawn = observed[observed["spend_id"].isin(audit.spend_id)].copy()
    drawn["w"] = 1 / drawn["spend_id"].map(prob)
    drawn["y"] = (drawn["review_verdict"] == "misuse").astype(float)
    big_n = drawn["w"].sum()
    rate = (drawn["w"] * drawn["y"]).sum() / big_n
    z = drawn.assign(z=drawn["w"] * (drawn["y"] - rate)).groupby("staff_id")["z"].sum()
    g = len(z)
    se = np.sqrt(g / (g - 1) * ((z - z.mean()) ** 2).sum())
    assert big_n == pytest.approx(len(observed), rel=RTOL)
    assert count.std_error == pytest.approx(se, rel=1e-9)


@pytest.mark.parametrize("x", [1, 3, 10, 40])
def test_midp_gamma_with_equal_weights_is_the_midp_poisson_interval(x: int) -> None:
    """Fay & Kim's mid-p gamma interval reduces to the exact mid-p Poisson one."""
    lower = optimize.brentq(
        lambda m: stats.poisson.sf(x, m) + 0.5 * stats.poisson.pmf(x, m) - 0.025, 1e-9, 200
    )
    upper = optimize.brentq(
        lambda m: stats.poisson.cdf(x - 1, m) + 0.5 * stats.poisson.pmf(x, m) - 0.025, 1e-9, 200
    )
    w = 7.5  # weights scale the interval
    low, high = midp_gamma(w * x, w * w * x, w, ci_level=0.95)
    assert low == pytest.approx(w * lower, rel=1e-8), "lower"
    assert high == pytest.approx(w * upper, rel=1e-8), "upper"


def test_midp_gamma_with_no_case_seen() -> None:
    upper = optimize.brentq(lambda m: 0.5 * stats.poisson.pmf(0, m) - 0.025, 1e-9, 50)
    assert midp_gamma(0.0, 0.0, 2.0, ci_level=0.95) == pytest.approx((0.0, 2 * upper))

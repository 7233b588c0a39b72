"""Audit samples: reproducible, exact inclusion probabilities, every large spend, checked files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from trialkit.errors import DataValidationError, RandomisationError, TrialkitError
from trialkit.protocol import Protocol, bundled_path, load_protocol
from trialkit.randomise.audit import AuditSample, check_spends, draw_audit_sample
from trialkit.randomise.audit_file import (
    audit_metadata_path,
    read_audit_sample,
    write_audit_sample,
)

CATEGORIES = ("food", "travel", "digital")


def sample_protocol(**review: Any) -> Protocol:
    """The flagship with its spends reviewed by audit sample (``review`` overrides)."""
    base = load_protocol(bundled_path("council_discretionary_budget"))
    assert base.spending is not None
    settings = {"coverage": "sample", "sample_size": 60} | review
    spending = base.spending.model_copy(
        update={"review": base.spending.review.model_copy(update=settings)}
    )
    return base.model_copy(update={"spending": spending})


def ledger(n: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "spend_id": [f"S{i:04d}" for i in range(n)],
            "staff_id": rng.choice([f"W{i:02d}" for i in range(12)], n),
            "amount": np.round(rng.lognormal(4.0, 0.8, n), 2),
            "category": rng.choice(CATEGORIES, n),
        }
    )


def band(amount: pd.Series) -> pd.Series:
    return pd.cut(amount, [-np.inf, 50, 150, np.inf], labels=["low", "mid", "top"])


def test_same_seed_same_bytes_whatever_the_row_order(tmp_path: Path) -> None:
    protocol, spends = sample_protocol(), ledger()
    first = write_audit_sample(draw_audit_sample(protocol, spends, seed=7), tmp_path / "a.csv")
    shuffled = spends.sample(frac=1.0, random_state=3)
    again = write_audit_sample(draw_audit_sample(protocol, shuffled, seed=7), tmp_path / "b.csv")
    assert first.read_bytes() == again.read_bytes()
    other = draw_audit_sample(protocol, spends, seed=8)
    assert set(other.spend_id) != set(read_audit_sample(first).spend_id)


def test_inclusion_probabilities_are_exactly_drawn_over_stratum_size() -> None:
    spends = ledger()
    sample = draw_audit_sample(sample_protocol(), spends, seed=3)
    drawn = spends.set_index("spend_id").loc[list(sample.spend_id)]
    sizes = spends.groupby([band(spends["amount"]), "category"], observed=True).size()
    taken = drawn.groupby([band(drawn["amount"]), "category"], observed=True).size()
    assert len(sample.strata) == len(sizes) == 9
    assert sorted(s.spends for s in sample.strata) == sorted(sizes.tolist())
    for stratum in sample.strata:
        assert stratum.inclusion_probability == stratum.sampled / stratum.spends
    by_label = {s.label: s for s in sample.strata}
    for label, prob in zip(sample.stratum, sample.inclusion_probability, strict=True):
        assert prob == by_label[label].sampled / by_label[label].spends
    assert sample.size == 60 == int(taken.sum())
    assert sample.population == len(spends)


def test_every_large_spend_is_drawn_and_the_rest_share_the_sample() -> None:
    spends = ledger()
    sample = draw_audit_sample(sample_protocol(), spends, seed=11)
    large = set(spends.loc[spends["amount"] > 150, "spend_id"])
    assert large and large <= set(sample.spend_id)
    rest = [s for s in sample.strata if s.amount_band != "amount>150"]
    left = 60 - len(large)
    population = sum(s.spends for s in rest)
    for s in rest:  # proportional to size, whole numbers, at least two each
        assert s.sampled >= 2
        assert abs(s.sampled - left * s.spends / population) < 1.0 + 1e-9


def test_a_large_spend_share_below_one_samples_the_top_band_at_that_rate() -> None:
    spends = ledger(600)
    sample = draw_audit_sample(
        sample_protocol(large_spend_share=0.5, sample_size=120), spends, seed=2
    )
    for s in sample.strata:
        if s.amount_band == "amount>150":
            assert s.sampled == max(min(2, s.spends), -(-s.spends // 2))


def test_worker_strata_and_a_census_sized_sample() -> None:
    spends = ledger(200)
    protocol = sample_protocol(strata=("worker",), sample_size=500)
    sample = draw_audit_sample(protocol, spends, seed=1)
    assert sample.size == 200 and set(sample.inclusion_probability) == {1.0}
    assert {s.worker for s in sample.strata} == set(spends["staff_id"])


def test_draws_are_uniform_within_a_stratum() -> None:
    """Each spend's share of draws matches its stated probability (randomizr's check)."""
    spends = ledger(30)
    protocol = sample_protocol(strata=("category",), sample_size=10)
    draws = [draw_audit_sample(protocol, spends, seed=s) for s in range(800)]
    counts = pd.Series([i for d in draws for i in d.spend_id]).value_counts()
    prob = dict(zip(draws[0].stratum, draws[0].inclusion_probability, strict=True))
    label = {
        s: f"category={c}" for s, c in zip(spends["spend_id"], spends["category"], strict=True)
    }
    for spend in spends["spend_id"]:
        p = prob[label[spend]]
        se = np.sqrt(p * (1 - p) / len(draws))
        assert abs(counts.get(spend, 0) / len(draws) - p) < 4.5 * se, spend


def test_a_sample_too_small_for_the_strata_is_refused_with_the_size_needed() -> None:
    with pytest.raises(RandomisationError, match=r"Fix: pass --size \d+ or more"):
        draw_audit_sample(sample_protocol(sample_size=5), ledger(), seed=1)


def test_a_census_protocol_has_no_sample_to_draw() -> None:
    with pytest.raises(TrialkitError, match="coverage: all"):
        draw_audit_sample(sample_protocol(coverage="all"), ledger(), seed=1)


def test_bad_ledger_rows_are_located() -> None:
    spends = ledger(20).astype({"amount": object})
    spends.loc[3, "amount"] = "£12"
    spends.loc[5, "spend_id"] = spends.loc[4, "spend_id"]
    with pytest.raises(DataValidationError) as caught:
        draw_audit_sample(sample_protocol(sample_size=15), spends, seed=1, source="spend.csv")
    text = str(caught.value)
    assert 'spend.csv, row 5, column "amount"' in text
    assert 'spend.csv, row 7, column "spend_id"' in text
    with pytest.raises(DataValidationError, match="no column 'category'"):
        draw_audit_sample(sample_protocol(), ledger().drop(columns="category"), seed=1)


def test_round_trip_and_tampering(tmp_path: Path) -> None:
    sample = draw_audit_sample(sample_protocol(), ledger(), seed=4, ledger_sha256="ab" * 32)
    path = write_audit_sample(sample, tmp_path / "audit.csv")
    assert read_audit_sample(path) == sample
    with pytest.raises(FileExistsError):
        write_audit_sample(sample, path)
    text = path.read_text()
    path.write_text(text.replace(sample.spend_id[0], "S9999"))
    with pytest.raises(DataValidationError, match="has changed since it was written"):
        read_audit_sample(path)
    audit_metadata_path(path).unlink()
    with pytest.raises(DataValidationError, match="metadata file is missing"):
        read_audit_sample(path)
    with pytest.raises(DataValidationError, match="does not exist"):
        read_audit_sample(tmp_path / "nope.csv")


def test_a_sample_fits_its_ledger_after_review_but_not_another() -> None:
    protocol, spends = sample_protocol(), ledger()
    sample: AuditSample = draw_audit_sample(protocol, spends, seed=5)
    reviewed = spends.assign(review_verdict="appropriate", loss=0.0)
    check_spends(sample, protocol, reviewed, source="spend.csv", sample_source="audit.csv")
    other = spends.drop(index=[0])
    with pytest.raises(
        DataValidationError,
        match=r"audit\.csv: the audit sample was "
        "drawn from another spend ledger",
    ):
        check_spends(sample, protocol, other, source="spend.csv", sample_source="audit.csv")
    changed = spends.assign(amount=spends["amount"] + 0.01)
    with pytest.raises(DataValidationError, match="amount, category or worker"):
        check_spends(sample, protocol, changed, source="spend.csv", sample_source="audit.csv")

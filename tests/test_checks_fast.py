"""The fast paths of the checks give what the plain definitions give: bootstrap percentiles
from windows of ranks equal numpy's percentile of each resample to the last bit, checks that
share one PairTable equal checks scored alone, and the metadata columns keep only numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from reviewer.checks.declared import CheckConfig
from reviewer.checks.operations import operations
from reviewer.checks.quantiles import ResampledPercentiles
from reviewer.checks.resample import _distinct_triples
from reviewer.checks.scorers import rouge_token_lists, rouge_tokens
from reviewer.checks.summary import CheckPair, PairTable, check_result


@pytest.mark.parametrize(
    ("n", "sigmas"),
    [(20_000, 8.0), (20_000, 0.2), (1, 8.0), (2, 8.0), (7, 8.0), (300, 0.05)],
)
def test_resampled_percentiles_are_numpys_to_the_bit(n, sigmas):
    """Ties, tiny samples, and windows so narrow that most rows fall back to a whole
    partition (sigmas 0.05-0.2): every value equals np.percentile of the resample."""
    rng = np.random.default_rng(n)
    x = np.round(rng.lognormal(6.5, 0.3, n), 1)  # rounded: many ties
    rows = rng.integers(0, n, size=(30, n))
    q = [50, 90, 99, 100]
    got = ResampledPercentiles(x, q, sigmas=sigmas)(rows)
    assert np.array_equal(got, np.percentile(x[rows], q, axis=1))


def _pairs(n: int) -> list[CheckPair]:
    rng = np.random.default_rng(3)
    words = ["refund", "plan", "I cannot help", "Settings > Billing", '{"intent": "bank"}']
    out = []
    for i in range(n):
        cand, base = (" ".join(rng.choice(words, size=rng.integers(1, 5))) for _ in range(2))
        meta = {"expected": {"intent": "bank", "should_decline": bool(i % 3 == 0)}}
        out.append(CheckPair(f"p{i:03d}", "ab"[i % 2], cand, base, "refund plan", meta))
    return out


def test_checks_sharing_one_table_equal_checks_scored_alone():
    pairs = _pairs(120)
    checks = [
        CheckConfig(name="n", kind="normalised_exact"),
        CheckConfig(name="f", kind="fuzzy"),
        CheckConfig(name="r", kind="rouge_l", strata=("a",)),
        CheckConfig(name="g", kind="regex", pattern=r"(?i)settings > \w+"),
        CheckConfig(name="d", kind="declines"),
        CheckConfig(name="c", kind="classification", field="intent", target="expected.intent"),
    ]
    opts = {"confidence": 0.9, "seed": 4, "resamples": 300}
    table = PairTable(pairs)
    shared = [check_result(c, table, **opts) for c in checks]
    alone = [check_result(c, list(pairs), **opts) for c in checks]
    assert [r.model_dump() for r in shared] == [r.model_dump() for r in alone]


def test_rouge_token_lists_equal_rouge_tokens_text_by_text():
    texts = ["The CAT sat.", "", "a\x00b", "Café: 12,50 EUR!", "The CAT sat.", "x-y_z 9"]
    assert rouge_token_lists(texts) == [rouge_tokens(t) for t in texts]
    ascii_only = ["The CAT sat.", "", "ZZ top, 1999", "The CAT sat."]
    assert rouge_token_lists(ascii_only) == [rouge_tokens(t) for t in ascii_only]


def test_latency_and_cost_read_only_finite_non_negative_numbers():
    metas = [
        {"candidate_latency_ms": 100, "baseline_latency_ms": 200.0, "candidate_cost_usd": 0.5},
        {"candidate_latency_ms": True, "baseline_latency_ms": 50},  # a bool is not a number
        {"candidate_latency_ms": -1, "baseline_latency_ms": 50},  # negative
        {"candidate_latency_ms": math.inf, "baseline_latency_ms": 50},
        {"candidate_latency_ms": "300", "baseline_latency_ms": 50, "candidate_cost_usd": 1.5},
        {"candidate_latency_ms": 300, "baseline_latency_ms": 400, "candidate_cost_usd": None},
    ]
    pairs = [CheckPair(f"p{i}", "s", "a", "b", metadata=m) for i, m in enumerate(metas)]
    ops = operations(pairs, confidence=0.9, seed=1, resamples=50)
    assert ops.latency_items == 2 and ops.cost_items == 2
    assert ops.candidate.latency_p50_ms == 200.0  # median of 100 and 300
    assert ops.baseline.latency_p50_ms == 300.0
    assert ops.candidate.cost_per_1k_usd == pytest.approx(1000.0)  # mean of 0.5 and 1.5


def test_distinct_label_triples_are_numpys_unique_rows():
    rng = np.random.default_rng(8)
    t, c, b = (rng.integers(0, 5, 2000) for _ in range(3))
    values, freq = _distinct_triples(t, c, b, 5)
    want_values, want_freq = np.unique(np.stack([t, c, b], axis=1), axis=0, return_counts=True)
    assert np.array_equal(values, want_values) and np.array_equal(freq, want_freq)

"""The judge measures the calibration and the report share (`judge_measures.py`), on a few
pairs counted by hand: items out of order, repeated, without lengths, without labels, or
without verdicts; the report's form (scores and values given) gives the same numbers."""

from __future__ import annotations

import math

import numpy as np

from reviewer.analysis.judge_measures import (
    length_baseline,
    length_baseline_later,
    order_measures,
)
from reviewer.analysis.outcomes import JudgeOutcomes
from reviewer.analysis.stats import Rating
from reviewer.analysis.stats.agreement import joined
from reviewer.analysis.stats.bootstrap import Resampling
from reviewer.analysis.stats.judge_agreement import human_scores, per_verdict_agreement

LABELS = {  # item -> its labels; "e" has no lengths, "f" is not among the items
    "a": ["candidate", "candidate"],
    "b": ["candidate", "baseline"],
    "c": ["tie"],
    "d": ["candidate"],
    "g": ["candidate", "candidate"],
    "e": ["candidate"],
    "f": ["candidate"],
}
RATINGS = [Rating(i, f"h{k}", v) for i, values in LABELS.items() for k, v in enumerate(values)]
# longer wins: a, d candidate; b, g baseline; c tie
LENGTHS = {"a": (10, 5), "b": (3, 7), "c": (4, 4), "d": (9, 1), "g": (2, 8), "f": (1, 2)}
DECIDED = {"a": "candidate", "c": "tie", "d": "candidate", "g": "candidate", "e": "candidate"}
ITEMS = ["g", "d", "a", "c", "a", "b", "e"]  # out of order, "a" twice


def test_the_length_baseline_counted_by_hand():
    got = length_baseline(ITEMS, LENGTHS, RATINGS, DECIDED, resamples=0, seed=0)
    assert (got.candidate_longer, got.baseline_longer, got.equal_length) == (2, 2, 1)
    # decisive majorities on a, d (the rule agrees) and g (it does not); c is a tie
    assert (got.decisive_agreement.value, got.decisive_agreement.n) == (2 / 3, 3)
    # matching labels: a 2 of 2, b 1 of 2, c 1 of 1, d 1 of 1, g 0 of 2
    assert (got.vs_humans_with_ties.value, got.vs_humans_with_ties.n) == (5 / 8, 8)
    rule = [1, 0, 0.5, 1, 0]  # a, b, c, d, g
    humans = [1, 0.5, 0.5, 1, 1]
    assert math.isclose(got.correlation.value, np.corrcoef(rule, humans)[0, 1])
    assert got.correlation.n == 5


def test_the_report_form_gives_the_same_length_baseline_and_draws():
    kept = sorted(set(ITEMS) & set(LENGTHS))
    ratings = [r for r in RATINGS if r.item in kept]
    alone = length_baseline(ITEMS, LENGTHS, ratings, DECIDED, resamples=200, seed=4)
    report = length_baseline_later(
        Resampling(200, 4), ITEMS, LENGTHS, (), DECIDED, human_scores(RATINGS), LABELS
    )()
    assert report == alone
    # the per-label agreement is the dict form's, on the same bootstrap draws
    rule = {"a": "candidate", "b": "baseline", "c": "tie", "d": "candidate", "g": "baseline"}
    labels = {i: LABELS[i] for i in rule}
    estimate = per_verdict_agreement(labels, rule, resamples=200, seed=4)
    with_ties = report.vs_humans_with_ties
    assert (with_ties.low, with_ties.high) == (estimate.low, estimate.high)


def test_order_measures_count_each_decisive_pair_judged_in_both_orders():
    orders = {
        "a": {"candidate_first": "candidate", "baseline_first": "candidate"},
        "b": {"candidate_first": "baseline", "baseline_first": "candidate"},
        "c": {"candidate_first": "tie", "baseline_first": "tie"},
        "d": {"candidate_first": "candidate", "baseline_first": "tie"},
        "g": {"candidate_first": "baseline", "baseline_first": "baseline"},
    }
    judged = JudgeOutcomes(
        overall={"a": "candidate", "b": "tie", "c": "tie", "d": "tie", "g": "baseline"},
        criteria={},
        flips={"a": False, "b": True, "c": False, "d": True, "g": False},
        first_position_rate=None,
        one_order_only=frozenset(),
        orders=orders,
    )
    got = order_measures(judged, ["g", "d", "c", "b", "a", "x"], DECIDED, resamples=0, seed=0)
    # decisive and judged in both orders: a (2 of 2 verdicts agree), d (1 of 2), g (0 of 2)
    assert (got.per_verdict_agreement.value, got.per_verdict_agreement.n) == (3 / 6, 6)
    assert (got.positional_consistency.value, got.positional_consistency.n) == (3 / 5, 5)
    without = JudgeOutcomes(**{**judged.__dict__, "orders": {}})  # no verdicts kept
    measured = order_measures(without, ["a", "d"], DECIDED, resamples=0, seed=0)
    assert (measured.per_verdict_agreement.value, measured.per_verdict_agreement.n) == (None, 0)


def test_joined_keeps_the_keys_of_both_in_order_whichever_is_larger():
    small, large = {"z": 1, "b": 2, "q": 3}, {"b": "B", "a": "A", "z": "Z", "y": "Y"}
    assert joined(small, large) == (["b", "z"], [2, 1], ["B", "Z"])
    assert joined(large, small) == (["b", "z"], ["B", "Z"], [2, 1])
    assert joined({}, large) == ([], [], [])

"""Blind assignment: balanced, both orientations on shared pairs, seeded, and random-looking."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

import pytest
from scipy.stats import binomtest, chisquare

from reviewer.config import StudyConfig
from reviewer.models import PairSlot
from reviewer.study.assignment import plan_assignments
from reviewer.study.sampling import allocate, calibration_sample


def config(k=None, r=1, size=50) -> StudyConfig:
    return StudyConfig.model_validate(
        {
            "calibration": {"size": size, "annotators_per_pair": k},
            "assignment": {"labels_per_pair": r},
        }
    )


def slots(n=137, cal=50):
    return [PairSlot(f"p{i:03d}", i < cal) for i in range(n)]


def check(rows, annotators, cfg, n_pairs, cal):
    total = Counter(a.annotator_id for a in rows)
    left = Counter(a.annotator_id for a in rows if a.candidate_left)
    for aid in total:
        assert abs(left[aid] - total[aid] / 2) <= 1, (aid, left[aid], total[aid])
    per_pair = defaultdict(list)
    for a in rows:
        per_pair[a.pair_id].append(a.candidate_left)
    for pid, sides in per_pair.items():
        if len(sides) >= 2:
            assert set(sides) == {True, False}, pid
    n = len(annotators)
    want_cal = min(cfg.calibration.annotators_per_pair or n, n)
    want_rest = min(cfg.assignment.labels_per_pair, n)
    for i in range(n_pairs):
        got = len(per_pair.get(f"p{i:03d}", []))
        assert got == (want_cal if i < cal else want_rest)
    # Load is spread evenly: nobody has more than one pair above anybody else.
    loads = [total[a] for a in annotators]
    assert max(loads) - min(loads) <= 1 or want_cal == n
    # Calibration pairs come first in every queue.
    for aid in annotators:
        queue = sorted((a for a in rows if a.annotator_id == aid), key=lambda a: a.position)
        flags = [a.in_calibration for a in queue]
        assert flags == sorted(flags, reverse=True)


@pytest.mark.parametrize(
    ("n_annotators", "k", "r"),
    list(itertools.product([1, 2, 3, 5, 8], [None, 2, 3], [0, 1, 2, 3])),
)
def test_guarantees_hold_for_every_design(n_annotators, k, r):
    cfg = config(k, r)
    annotators = [f"a{i}" for i in range(n_annotators)]
    for seed in range(8):
        rows = plan_assignments(slots(), annotators, cfg, seed)
        check(rows, annotators, cfg, 137, 50)


def test_same_seed_same_plan_other_seed_other_plan():
    cfg, ann = config(2, 1), ["a", "b", "c"]
    assert plan_assignments(slots(), ann, cfg, 1) == plan_assignments(slots(), ann, cfg, 1)
    assert plan_assignments(slots(), ann, cfg, 1) != plan_assignments(slots(), ann, cfg, 2)
    # Row order of the input does not matter.
    assert plan_assignments(slots()[::-1], ann, cfg, 1) == plan_assignments(slots(), ann, cfg, 1)


def test_orientation_is_a_fair_coin_per_pair_across_seeds():
    """Over 400 seeds, the first annotator sees the candidate on the left of each pair about half
    the time (two-sided binomial test per pair), and left/right is not tied to pair position."""
    cfg, ann = config(None, 1), ["a", "b"]
    seeds = 400
    lefts, seen = Counter(), Counter()
    for seed in range(seeds):
        for a in plan_assignments(slots(40, 10), ann, cfg, seed):
            if a.annotator_id == "a":
                seen[a.pair_id] += 1
                lefts[a.pair_id] += a.candidate_left
    ids = [f"p{i:03d}" for i in range(40)]
    # Calibration pairs go to both annotators every time; the others to one of the two.
    assert all(seen[p] == seeds for p in ids[:10])
    assert all(150 < seen[p] < 250 for p in ids[10:])
    pvalues = [binomtest(lefts[p], seen[p], 0.5).pvalue for p in ids]
    # With 40 tests at alpha=0.001, a false alarm has probability < 4%; the seeds are fixed, so
    # this is deterministic anyway.
    assert min(pvalues) > 0.001, min(pvalues)
    rates = [lefts[p] / seen[p] for p in ids]
    assert chisquare([r * 100 for r in rates]).pvalue > 0.01


def test_pinned_rows_are_kept_when_an_annotator_joins():
    cfg = config(None, 1)
    first = plan_assignments(slots(60, 20), ["a", "b"], cfg, 3)
    labeled = {(x.pair_id, x.annotator_id): x.candidate_left for x in first[:25]}
    second = plan_assignments(slots(60, 20), ["a", "b", "c"], cfg, 3, pinned=labeled)
    got = {(x.pair_id, x.annotator_id): x.candidate_left for x in second}
    assert all(got[key] == side for key, side in labeled.items())
    check(second, ["a", "b", "c"], cfg, 60, 20)


def test_allocation_is_proportional_with_one_per_stratum():
    assert allocate(10, {"a": 50, "b": 30, "c": 2}) == {"a": 5, "b": 4, "c": 1}
    assert allocate(2, {"a": 5, "b": 3, "c": 1}) == {"a": 1, "b": 1, "c": 0}
    assert allocate(100, {"a": 5, "b": 3}) == {"a": 5, "b": 3}
    # Sample study, 40 of 128 over strata 56/32/24/16. One each leaves 36 slots for spares
    # 55/31/23/15 (sum 124): exact shares 15.97, 9.00, 6.68, 4.35; floors 15, 9, 6, 4 (34);
    # the 2 left go to the largest remainders, routine (.97) and edge (.68).
    assert allocate(40, {"routine": 56, "hard": 32, "edge": 24, "refusal": 16}) == {
        "edge": 8,
        "hard": 10,
        "refusal": 5,
        "routine": 17,
    }


def test_calibration_sample_is_seeded_and_stratified():
    pairs = [(f"p{i}", "rare" if i < 3 else "common") for i in range(100)]
    a = calibration_sample(pairs, 10, seed=1)
    assert a == calibration_sample(list(reversed(pairs)), 10, seed=1)
    assert a != calibration_sample(pairs, 10, seed=2)
    assert len(a) == 10 and sum(p in a for p in ("p0", "p1", "p2")) == 1

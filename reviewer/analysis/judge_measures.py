"""Measures of a judge that the calibration and the report share: its agreement counting each
order's verdict on its own, its consistency under order swap, its correlation with the humans,
and the trivial judge it must beat, "the longer response wins", on the same pairs.

An interval resting on fewer than `MIN_INTERVAL_ITEMS` items is shown as "n too small": the
JSON keeps its numbers and n, the text does not pretend they mean anything.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import chain, compress, islice, repeat
from operator import countOf, is_not, lt

import numpy as np
from pydantic import BaseModel, Field

from reviewer.analysis.intervals import Interval, wilson
from reviewer.analysis.outcomes import SIDES, JudgeOutcomes
from reviewer.analysis.stats import Rating
from reviewer.analysis.stats.bootstrap import Resampling
from reviewer.analysis.stats.judge_agreement import (
    correlation_of_later,
    human_scores,
    per_verdict_of_later,
)
from reviewer.analysis.stats.ppi import SCORE

DECISIVE = ("candidate", "baseline")

# Below 10 items a 95% percentile bootstrap is not a 95% interval: over 600 simulated
# calibrations per cell (two annotators right 80% of the time and a judge like them; `python
# bench/gate_oc.py --coverage`), the judge-human agreement interval covered the truth 46-48% of
# the time with 2 items, 71-74% with 3, 81-82% with 5, 89-90% with 8 and 10, 90-93% with 15-20.
# A one-item interval is a single point ("-0.33 [-0.33, -0.33]").
MIN_INTERVAL_ITEMS = 10


def interval_shown(interval: Interval | None, items: int | None = None) -> bool:
    """Whether an interval rests on enough items to be shown as one. `items` is how many items
    it rests on when its n counts something else (label pairs, verdicts)."""
    if interval is None or interval.value is None:
        return False
    return min(interval.n, interval.n if items is None else items) >= MIN_INTERVAL_ITEMS


class LengthBaseline(BaseModel):
    """The trivial judge "the longer response wins" (a tie when both are as long), measured
    against the humans exactly as the judge is, on the same pairs."""

    decisive_agreement: Interval = Field(
        description="On pairs where the human majority picked a side: share where the longer "
        "response is that side (Wilson interval); compare the judge's decisive_agreement."
    )
    vs_humans_with_ties: Interval = Field(
        description="Agreement with every human label, ties included (MT-Bench protocol; the "
        "'human agreement' AlpacaEval reports for its length-only baseline)."
    )
    correlation: Interval = Field(
        description="Pearson's r between the rule's outcome and the humans' mean preference "
        "(candidate 1, tie 0.5, baseline 0); null when the rule picks the same side on every "
        "pair. The gate compares the judge's correlation with this one."
    )
    candidate_longer: int = Field(description="Pairs where the candidate's output is longer.")
    baseline_longer: int = Field(description="Pairs where the baseline's output is longer.")
    equal_length: int = Field(description="Pairs of equal length: the rule says tie.")


class OrderMeasures(BaseModel):
    """The judge's verdicts counted one by one, and how often the two orders agree."""

    per_verdict_agreement: Interval = Field(
        description="Each order's verdict compared with the human majority on its own (the "
        "convention of LLMBar, JudgeBench and AlpacaEval), on pairs where the majority picked "
        "a side; n = verdicts, two per pair; 95% bootstrap over pairs."
    )
    positional_consistency: Interval = Field(
        description="Share of pairs judged in both orders whose two verdicts agree (1 - flip "
        "rate); n = pairs; Wilson interval."
    )


# Outcomes as codes, their index in SIDES (candidate 0, baseline 1, tie 2): the measures below
# work on arrays aligned over the items in item order, not on a dict per item.
_CODE = {side: k for k, side in enumerate(SIDES)}
_SIDE = np.array(SIDES, dtype=object)
_SCORE = np.array([SCORE[side] for side in SIDES])


def _longer(lengths: np.ndarray) -> np.ndarray:
    """The outcome code of the rule "the longer response wins" (a tie when both are as long)
    on rows of (candidate, baseline) lengths.

    >>> _longer(np.array([[5.0, 3.0], [3.0, 5.0], [4.0, 4.0]])).tolist()
    [0, 1, 2]
    """
    candidate, baseline = lengths[:, 0], lengths[:, 1]
    return np.where(candidate > baseline, 0, np.where(baseline > candidate, 1, 2))


def _codes(outcomes: Iterable[str | None]) -> np.ndarray:
    """Each outcome's code; 3 for anything else (None: no outcome)."""
    return np.fromiter(map(_CODE.get, outcomes, repeat(3)), np.int64)


def _in_order(items: list[str]) -> list[str]:
    """`items` sorted, each once; the list itself when it already is (the report's are)."""
    return items if all(map(lt, items, islice(items, 1, None))) else sorted(set(items))


def order_measures(
    judged: JudgeOutcomes,
    items: Iterable[str],
    decided: Mapping[str, str],
    resamples: int,
    seed: int,
) -> OrderMeasures:
    """Per-verdict agreement with the decisive human majority, and positional consistency, on
    `items` (items with an outcome from both orders; others are skipped)."""
    return order_measures_later(Resampling(resamples, seed), judged, items, decided)()


def order_measures_later(
    resampling: Resampling, judged: JudgeOutcomes, items: Iterable[str], decided: Mapping[str, str]
) -> Callable[[], OrderMeasures]:
    """`order_measures`, its bootstrap added to `resampling`."""
    flips, orders = judged.flips, judged.orders
    both = list(filter(flips.__contains__, items))
    # Pairs judged in both orders with a decisive majority, in item order: each order's
    # verdict against the majority, as `per_verdict_later` counts them.
    majority = list(map(decided.get, on := _in_order(both)))
    decisive = list(map(DECISIVE.__contains__, majority))
    majority, on = list(compress(majority, decisive)), compress(on, decisive)
    seen = list(map(dict.values, map(orders.get, on, repeat({}))))
    hits = np.fromiter(map(countOf, seen, majority), float, len(seen))
    counts = np.fromiter(map(len, seen), float, len(seen))
    agreement = per_verdict_of_later(resampling, hits, counts)
    consistency = wilson(len(both) - sum(map(flips.__getitem__, both)), len(both))
    return lambda: OrderMeasures(
        per_verdict_agreement=Interval.of(agreement()), positional_consistency=consistency
    )


def length_baseline(
    items: Iterable[str],
    lengths: Mapping[str, tuple[int, int]],
    ratings: list[Rating],
    decided: Mapping[str, str],
    resamples: int,
    seed: int,
) -> LengthBaseline:
    """The rule "the longer response wins" on `items`, measured as the judge is."""
    later = length_baseline_later(Resampling(resamples, seed), items, lengths, ratings, decided)
    return later()


def length_baseline_later(
    resampling: Resampling,
    items: Iterable[str],
    lengths: Mapping[str, tuple[int, int]],
    ratings: list[Rating],
    decided: Mapping[str, str],
    scores: Mapping[str, float] | None = None,
    values: Mapping[str, list[str]] | None = None,
) -> Callable[[], LengthBaseline]:
    """`length_baseline`, its bootstraps added to `resampling` (`scores`: as
    `correlation_later` takes them; `values`: item -> its labels' values in `ratings`, of
    every item of `items`, when the caller has them grouped)."""
    kept = _in_order(list(items))
    got = list(map(lengths.get, kept))
    if not all(known := list(map(is_not, got, repeat(None)))):
        kept, got = list(compress(kept, known)), list(compress(got, known))
    n = len(kept)
    rule = _longer(np.fromiter(chain.from_iterable(got), float, 2 * n).reshape(n, 2))
    majority = _codes(map(decided.get, kept))
    decisive = majority < 2
    on = ratings
    if scores is None or values is None:
        rated = set(kept)
        on = [r for r in ratings if r.item in rated]
    # Agreement with every label = matching labels / labels: the MT-Bench agreement of
    # `judge_vs_humans` (ties counted), with the bootstrap draws the correlation uses.
    given = list(map((_grouped(on) if values is None else values).get, kept, repeat(())))
    hits = np.fromiter(map(countOf, given, _SIDE[rule]), float, n)
    with_ties = per_verdict_of_later(resampling, hits, np.fromiter(map(len, given), float, n))
    scores = human_scores(on) if scores is None else scores
    # A mean score is never NaN: NaN is an item without one.
    y = np.fromiter(map(scores.get, kept, repeat(math.nan)), float, n)
    scored = ~np.isnan(y)
    found = correlation_of_later(resampling, _SCORE[rule[scored]], y[scored])
    sides = np.bincount(rule, minlength=3).tolist()
    return lambda: LengthBaseline(
        decisive_agreement=wilson(int((rule == majority)[decisive].sum()), int(decisive.sum())),
        vs_humans_with_ties=Interval.of(with_ties()),
        correlation=Interval.of(found()),
        candidate_longer=sides[0],
        baseline_longer=sides[1],
        equal_length=sides[2],
    )


def _grouped(ratings: Sequence[Rating]) -> dict[str, list[str]]:
    """Item -> its ratings' values, in rating order."""
    values: dict[str, list[str]] = defaultdict(list)
    for r in ratings:
        values[r.item].append(r.value)
    return values

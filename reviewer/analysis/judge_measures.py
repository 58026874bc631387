"""Measures of a judge that the calibration and the report share: its agreement counting each
order's verdict on its own, its consistency under order swap, its correlation with the humans,
and the trivial judge it must beat, "the longer response wins", on the same pairs.

An interval resting on fewer than `MIN_INTERVAL_ITEMS` items is shown as "n too small": the
JSON keeps its numbers and n, the text does not pretend they mean anything.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping

from pydantic import BaseModel, Field

from reviewer.analysis.intervals import Interval, wilson
from reviewer.analysis.outcomes import JudgeOutcomes
from reviewer.analysis.stats import Rating
from reviewer.analysis.stats.bootstrap import Resampling
from reviewer.analysis.stats.judge_agreement import correlation_later, per_verdict_later

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


def longer(lengths: tuple[int, int]) -> str:
    """The outcome of the rule "the longer response wins" on (candidate, baseline) lengths."""
    candidate, baseline = lengths
    return "candidate" if candidate > baseline else "baseline" if baseline > candidate else "tie"


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
    judged_both = set(both)
    reference = {i: o for i, o in decided.items() if o in DECISIVE and i in judged_both}
    verdicts = {i: list(orders.get(i, {}).values()) for i in reference}
    agreement = per_verdict_later(resampling, verdicts, reference)
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
    kept = list(filter(lengths.__contains__, items))
    rule = dict(zip(kept, map(longer, map(lengths.__getitem__, kept)), strict=True))
    decisive = [i for i, o in decided.items() if o in DECISIVE and i in rule]
    on = [r for r in ratings if r.item in rule] if scores is None or values is None else ratings
    if values is None:
        labels: dict[str, list[str]] = defaultdict(list)
        for r in on:
            labels[r.item].append(r.value)
    else:
        labels = {i: values[i] for i in rule if i in values}
    # Agreement with every label = matching labels / labels: the MT-Bench agreement of
    # `judge_vs_humans` (ties counted), with the bootstrap draws the correlation uses.
    with_ties = per_verdict_later(resampling, labels, rule)
    found = correlation_later(resampling, rule, on, scores)
    sides = list(rule.values())
    return lambda: LengthBaseline(
        decisive_agreement=wilson(sum(rule[i] == decided[i] for i in decisive), len(decisive)),
        vs_humans_with_ties=Interval.of(with_ties()),
        correlation=Interval.of(found()),
        candidate_longer=sides.count("candidate"),
        baseline_longer=sides.count("baseline"),
        equal_length=sides.count("tie"),
    )

"""How far a judge version agrees with the experts on the calibration pairs: the measures the
gate (reviewer/analysis/gate.py) decides on.

The humans' agreement with each other on the same pairs is the ceiling: a judge is asked to agree
with them about as well as they agree among themselves. The calibration set may be split: the
engineer tunes the rubric on the development part, and the gate is decided on the held-out part,
which the judge scores only in the final check.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

from reviewer.analysis.intervals import Interval, agreement_kappa, wilson
from reviewer.analysis.judge_measures import (
    LengthBaseline,
    OrderMeasures,
    length_baseline,
    order_measures,
)
from reviewer.analysis.outcomes import (
    JudgeOutcomes,
    confusion,
    has_majority,
    human_criteria,
    majorities,
)
from reviewer.analysis.stats import Rating, item_outcome, judge_vs_humans, mtbench
from reviewer.analysis.stats.judge_agreement import PERMUTATIONS, association
from reviewer.columns import columns_of
from reviewer.config import StudyConfig

DECISIVE = ("candidate", "baseline")


class CalibrationOut(BaseModel):
    part: str = Field(description="development | held-out | all")
    pairs: int = Field(description="Calibration pairs in this part.")
    usable: int = Field(description="Pairs with a human label and a judge verdict in both orders.")
    without_labels: int
    without_verdict: int = Field(description="Pairs the judge has not answered in both orders.")
    one_order_only: int = Field(
        0,
        description="Of those, pairs judged in one order only (a run cut short): left out like "
        "the rest, since a lone verdict may be the judge's position bias.",
    )
    vs_humans_with_ties: dict[str, Interval]
    vs_humans_without_ties: dict[str, Interval]
    vs_majority: dict[str, Interval]
    vs_majority_without_ties: dict[str, Interval]
    decisive_agreement: Interval = Field(
        description="On pairs where the human majority picked a side: share where the judge "
        "picked the same side (Wilson interval)."
    )
    split_skipped: int = Field(description="Usable pairs where the humans split evenly.")
    humans: dict[str, Interval] = Field(description="Human-human agreement on these pairs.")
    by_criterion: dict[str, Interval]
    by_stratum: dict[str, Interval]
    confusion: dict[str, dict[str, int]] = Field(description="Human majority -> judge outcome.")
    flip_rate: float | None
    first_position_rate: float | None
    judge_picks_longer: float | None = Field(description="Of decisive judge outcomes.")
    humans_pick_longer: float | None = Field(description="Of decisive human labels.")
    disagreements: list[str] = Field(description="Usable pairs where judge and majority differ.")
    # Added with the second gate; null in calibrations stored before it.
    per_verdict_agreement: Interval | None = Field(
        None,
        description="Each order's verdict against the human majority on its own (LLMBar, "
        "JudgeBench, AlpacaEval), on usable pairs where the majority picked a side; n = "
        "verdicts (two per pair), 95% bootstrap over pairs.",
    )
    positional_consistency: Interval | None = Field(
        None,
        description="Share of pairs judged in both orders whose two verdicts agree (1 - "
        "flip_rate); n = pairs, Wilson interval.",
    )
    correlation: Interval | None = Field(
        None,
        description="Pearson's r between the judge's outcome and the humans' mean preference "
        "per usable pair (candidate 1, tie 0.5, baseline 0); null when the judge (or the "
        "humans) gave the same outcome on every pair. n = pairs, 95% bootstrap over pairs.",
    )
    chance_p_value: float | None = Field(
        None,
        description=f"One-sided permutation p-value of that correlation ({PERMUTATIONS:,} "
        "shuffles of the judge's outcomes over the pairs, seeded by the study seed): the chance "
        "that a judge unrelated to the humans shows as much; 1 when the correlation is null.",
    )
    length_baseline: LengthBaseline | None = Field(
        None, description="The rule 'the longer response wins' on the same usable pairs."
    )
    served_models: dict[str, int] = Field(
        default_factory=dict,
        description="Verdicts on this part by the model the provider said served them "
        "('unknown' when it named none, or the call was logged before served models were).",
    )


def calibrate(
    part: str,
    pair_ids: set[str],
    labels: list[dict],
    judged: JudgeOutcomes,
    lengths: dict[str, tuple[int, int]],
    strata: dict[str, str],
    cfg: StudyConfig,
    resamples: int = 1000,
) -> CalibrationOut:
    """Metrics of one judge version on one part of the calibration set.

    `labels` are the latest human labels (pair_id, annotator_id, preference, criteria_json);
    `lengths` maps a pair to the lengths of its (candidate, baseline) outputs."""
    labels = [row for row in labels if row["pair_id"] in pair_ids]
    human: dict[str, list[str]] = defaultdict(list)
    for row in labels:
        human[row["pair_id"]].append(row["preference"])
    both_orders = {i for i in pair_ids if i in judged.flips}
    usable = sorted(i for i in both_orders if i in human)
    judge = {i: judged.overall[i] for i in usable}
    ratings = [
        Rating(row["pair_id"], row["annotator_id"], row["preference"])
        for row in labels
        if row["pair_id"] in judge
    ]
    decided = majorities(human, usable)
    versus = _versus_humans(judge, ratings, decided, resamples, cfg.seed)
    decisive = [i for i, o in decided.items() if o in DECISIVE]
    by_stratum_items: dict[str, list[bool]] = defaultdict(list)
    for i in decisive:
        by_stratum_items[strata.get(i, "unspecified")].append(judge[i] == decided[i])
    humans_ceiling = (
        mtbench(ratings, ties=True, resamples=resamples, seed=cfg.seed) if ratings else None
    )
    measured = _measures(judged, usable, judge, ratings, decided, lengths, resamples, cfg.seed)
    return CalibrationOut(
        part=part,
        pairs=len(pair_ids),
        usable=len(usable),
        without_labels=sum(1 for i in pair_ids if i not in human),
        without_verdict=len(pair_ids) - len(both_orders),
        one_order_only=len(pair_ids & judged.one_order_only),
        **versus,
        decisive_agreement=wilson(sum(judge[i] == decided[i] for i in decisive), len(decisive)),
        split_skipped=len(usable) - len(decided),
        humans=agreement_kappa(humans_ceiling) if humans_ceiling else {},
        by_criterion=_criteria(labels, judged, set(usable), cfg),
        by_stratum={s: wilson(sum(v), len(v)) for s, v in sorted(by_stratum_items.items())},
        confusion=confusion(decided, judge),
        flip_rate=_rate([judged.flips[i] for i in both_orders]),
        first_position_rate=judged.first_position_rate,
        disagreements=[i for i in usable if judge[i] != item_outcome(human[i])],
        **measured,
    )


def _measures(
    judged: JudgeOutcomes,
    usable: list[str],
    judge: dict[str, str],
    ratings: list[Rating],
    decided: dict[str, str],
    lengths: dict[str, tuple[int, int]],
    resamples: int,
    seed: int,
) -> dict:
    """Length bias; and the measures the second gate reads: verdicts one by one, correlation
    with the humans and its chance p-value, and the length baseline on the same pairs."""
    orders: OrderMeasures = order_measures(judged, usable, decided, resamples, seed)
    found = association(judge, ratings, resamples=resamples, seed=seed)
    return {
        "judge_picks_longer": _rate(
            [_longer(o, lengths[i]) for i, o in judge.items() if o in DECISIVE]
        ),
        "humans_pick_longer": _rate(
            [_longer(r.value, lengths[r.item]) for r in ratings if r.value in DECISIVE]
        ),
        "per_verdict_agreement": orders.per_verdict_agreement,
        "positional_consistency": orders.positional_consistency,
        "correlation": Interval.of(found.r),
        "chance_p_value": found.p_value,
        "length_baseline": length_baseline(usable, lengths, ratings, decided, resamples, seed),
    }


def _versus_humans(
    judge: dict[str, str],
    ratings: list[Rating],
    decided: dict[str, str],
    resamples: int,
    seed: int,
) -> dict[str, dict[str, Interval]]:
    """Judge vs each human label and vs the human majority, with and without ties."""
    majority = [Rating(i, "majority", o) for i, o in decided.items()]
    on_decided = {i: judge[i] for i in decided}
    return {
        "vs_humans_with_ties": agreement_kappa(
            judge_vs_humans(judge, ratings, ties=True, resamples=resamples, seed=seed)
        ),
        "vs_humans_without_ties": agreement_kappa(
            judge_vs_humans(judge, ratings, ties=False, resamples=resamples, seed=seed)
        ),
        "vs_majority": agreement_kappa(
            judge_vs_humans(on_decided, majority, ties=True, resamples=resamples, seed=seed)
        ),
        "vs_majority_without_ties": agreement_kappa(
            judge_vs_humans(on_decided, majority, ties=False, resamples=resamples, seed=seed)
        ),
    }


def _rate(values: list[bool]) -> float | None:
    return sum(values) / len(values) if values else None


def _longer(choice: str, lengths: tuple[int, int]) -> bool:
    candidate, baseline = lengths
    return (candidate > baseline) if choice == "candidate" else (baseline > candidate)


def _criteria(
    labels: list[dict], judged: JudgeOutcomes, usable: set[str], cfg: StudyConfig
) -> dict[str, Interval]:
    """Per criterion: on pairs where the humans' majority on it picked a side, how often the
    judge's verdict on that criterion (over both orders) picked the same side."""
    out = {}
    criteria = human_criteria(columns_of(labels, ("pair_id", "criteria_json")), cfg)
    for name, items in criteria.items():
        judge = judged.criteria.get(name, {})
        hits = total = 0
        for item, values in items.items():
            if item not in usable or item not in judge or not has_majority(values):
                continue
            majority = item_outcome(values)
            if majority in DECISIVE:
                total += 1
                hits += judge[item] == majority
        out[name] = wilson(hits, total)
    return out

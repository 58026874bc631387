"""How far a judge version agrees with the experts on the calibration pairs, and the gate that
decides whether it may score the full set.

The humans' agreement with each other on the same pairs is the ceiling: a judge is asked to agree
with them about as well as they agree among themselves. The calibration set may be split: the
engineer tunes the rubric on the development part, and the gate is decided on the held-out part,
which the judge scores only in the final check.
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, Field

from reviewer.analysis.intervals import Interval, agreement_kappa, wilson
from reviewer.analysis.outcomes import (
    JudgeOutcomes,
    confusion,
    has_majority,
    human_criteria,
    majorities,
)
from reviewer.analysis.stats import Rating, item_outcome, judge_vs_humans, mtbench
from reviewer.config import StudyConfig

DECISIVE = ("candidate", "baseline")


class RuleOut(BaseModel):
    rule: str
    value: float | None
    threshold: float
    passed: bool
    text: str = Field(description="The rule, the value and by how much it missed, for people.")


class GateOut(BaseModel):
    part: str
    passed: bool
    rules: list[RuleOut]
    human_only_criteria: list[str] = Field(
        default_factory=list,
        description="Criteria below their floor: the report keeps them human-only.",
    )

    def failures(self) -> list[str]:
        return [r.text for r in self.rules if not r.passed]


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
        judge_picks_longer=_rate(
            [_longer(o, lengths[i]) for i, o in judge.items() if o in DECISIVE]
        ),
        humans_pick_longer=_rate(
            [_longer(r.value, lengths[r.item]) for r in ratings if r.value in DECISIVE]
        ),
        disagreements=[i for i in usable if judge[i] != item_outcome(human[i])],
    )


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
    for name, items in human_criteria(labels, cfg).items():
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


def _rule(
    name: str, value: float | None, threshold: float, what: str, *, at_least: bool
) -> RuleOut:
    """One gate rule: passed or not, and in words by how much it missed."""
    ok = value is not None and (value >= threshold if at_least else value <= threshold)
    if value is None:
        text = f"{what}: not measurable on these pairs (needs >= {threshold:g})"
    else:
        word = ">=" if at_least else "<="
        text = f"{what} = {value:.3f}, needs {word} {threshold:.3f}"
        if not ok:
            text += f" (short by {abs(value - threshold):.3f})"
    return RuleOut(rule=name, value=value, threshold=threshold, passed=ok, text=text)


def decide_gate(metrics: CalibrationOut, cfg: StudyConfig) -> GateOut:
    """The study's gate rules applied to one calibration, each with its value and shortfall."""
    g = cfg.gate
    rules: list[RuleOut] = []

    def rule(name: str, value: float | None, threshold: float, at_least: bool, what: str) -> None:
        rules.append(_rule(name, value, threshold, what, at_least=at_least))

    rule("usable_pairs", metrics.usable, g.min_usable_pairs, True, "usable pairs")
    rule(
        "majority_agreement",
        metrics.decisive_agreement.value,
        g.min_majority_agreement,
        True,
        "agreement with the human majority on decisive pairs",
    )
    human_kappa = metrics.humans.get("kappa")
    judge_kappa = metrics.vs_humans_with_ties["kappa"]
    if human_kappa is not None and human_kappa.value is not None:
        rule(
            "kappa_vs_humans",
            judge_kappa.value,
            human_kappa.value - g.agreement_margin,
            True,
            f"judge-human kappa (humans' own: {human_kappa.value:.3f}, margin "
            f"{g.agreement_margin:g})",
        )
    else:
        rule("kappa_vs_humans", None, g.agreement_margin, True, "judge-human kappa vs the humans'")
    rule(
        "kappa_lower_bound",
        judge_kappa.low,
        g.kappa_lower_bound_floor,
        True,
        "lower 95% bound of judge-human kappa",
    )
    consistency = None if metrics.flip_rate is None else 1 - metrics.flip_rate
    rule(
        "position_consistency",
        consistency,
        g.position_consistency_floor,
        True,
        "share of pairs whose verdict survives swapping the order",
    )
    human_only = sorted(
        name
        for name, floor in g.criterion_agreement_floor.items()
        if (m := metrics.by_criterion.get(name)) is None or m.value is None or m.value < floor
    )
    return GateOut(
        part=metrics.part,
        passed=all(r.passed for r in rules),
        rules=rules,
        human_only_criteria=human_only,
    )

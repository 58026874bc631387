"""The checks and the checklist as data, as the report's JSON carries them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from reviewer.analysis.intervals import Interval

Status = Literal["pass", "fail", "not measured"]


class ItemScore(BaseModel):
    """One pair's score on a check, for both outputs."""

    pair_id: str
    stratum: str
    candidate: float = Field(description="The candidate output's score, 0 to 1.")
    baseline: float = Field(description="The baseline output's score, 0 to 1.")


class CheckSummary(BaseModel):
    """One check over one stratum (or all of the check's strata)."""

    items: int = Field(description="Pairs scored.")
    unscored: int = Field(description="Pairs of these strata without the expected value.")
    statistic: Literal["mean", "macro_f1"] = Field(
        description="mean of the per-item scores; macro_f1 for classification, formed as "
        "scikit-learn's f1_score(average='macro'): per label 2TP / (2TP + FP + FN), averaged "
        "over the labels the truth or the model uses."
    )
    candidate: float | None = Field(description="The candidate's statistic; null: no item.")
    baseline: float | None
    difference: Interval = Field(
        description="candidate - baseline, with a percentile bootstrap interval over items "
        "(paired: both outputs of a pair stay together; seeded by the study seed) at "
        "signoff.confidence."
    )
    worst_item: ItemScore | None = Field(description="The candidate's lowest-scoring item.")
    dropped: list[ItemScore] = Field(
        description="Items where the candidate scores below the baseline, largest drop first "
        "(at most 5)."
    )
    per_class: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description="classification: label -> {'candidate': F1, 'baseline': F1}.",
    )


class CheckResult(BaseModel):
    name: str = Field(description="The check's name in the config.")
    kind: str = Field(description="The scorer (exact, fuzzy, rouge_l, ...).")
    target: str | None = Field(description="What outputs are compared with (see the config).")
    overall: CheckSummary = Field(description="Every scored item of the check's strata.")
    by_stratum: dict[str, CheckSummary]


class SideOperations(BaseModel):
    latency_p50_ms: float | None = Field(description="Median latency per call, ms.")
    latency_p99_ms: float | None = Field(description="99th percentile (numpy, linear), ms.")
    cost_per_1k_usd: float | None = Field(description="Mean cost per request x 1,000.")


class Operations(BaseModel):
    """Latency and cost, from the pairs' metadata (candidate_latency_ms, baseline_latency_ms,
    candidate_cost_usd, baseline_cost_usd)."""

    latency_items: int = Field(description="Pairs with both latencies.")
    cost_items: int = Field(description="Pairs with the candidate's cost.")
    candidate: SideOperations
    baseline: SideOperations
    p50_ratio: Interval = Field(description="Candidate p50 / baseline p50, bootstrap interval.")
    p99_ratio: Interval = Field(description="Candidate p99 / baseline p99, bootstrap interval.")
    cost_per_1k: Interval = Field(description="Candidate USD per 1,000 requests, bootstrap.")


class ChecklistLine(BaseModel):
    """One go/no-go rule with what was measured."""

    rule: str = Field(description="The rule, as the config fixed it.")
    measured: str = Field(description="The measured value with its interval, or 'not measured'.")
    status: Status = Field(
        description="pass, fail, or not measured (no data: counts as not passed)."
    )
    value: float | None = Field(None, description="The measured value; null: not measured.")
    low: float | None = Field(None, description="Its interval's lower end, where it has one.")
    high: float | None = None


class Checklist(BaseModel):
    """Every line of the study's go/no-go checklist: ship only when all pass."""

    passed: bool = Field(description="Every line passes (a 'not measured' line does not).")
    lines: list[ChecklistLine]

    @property
    def failing(self) -> list[ChecklistLine]:
        return [line for line in self.lines if line.status != "pass"]

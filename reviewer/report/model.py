"""The sign-off report as data: what `signoff report --format json` prints. Fields are stable;
new ones may be added, none renamed or removed without raising `schema_version`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from reviewer.analysis.intervals import Interval
from reviewer.analysis.judge_measures import LengthBaseline


class WinRateOut(BaseModel):
    items: int = Field(description="Items (prompts) with an outcome.")
    candidate: int = Field(description="Items where the candidate won.")
    baseline: int
    tie: int
    decisive: int = Field(description="candidate + baseline.")
    rate: float | None = Field(description="candidate / decisive.")
    low: float | None = Field(description="Wilson 95% interval of rate.")
    high: float | None
    threshold: float = Field(description="The sign-off threshold the rate is tested against.")
    p_value: float | None = Field(description="Exact one-sided P(wins >= observed | threshold).")
    p_value_half: float | None = Field(description="The same against 0.5.")
    more_pairs_needed: int | None = Field(
        description="When the interval straddles the threshold: more items needed to decide."
    )


class SideResult(BaseModel):
    """Win rates from one source (humans, or one judge)."""

    win_rate: WinRateOut
    by_stratum: dict[str, WinRateOut]
    by_criterion: dict[str, WinRateOut]
    worst_stratum: str | None = Field(description="Stratum with the lowest decisive win rate.")


class PairOut(BaseModel):
    rater_a: str
    rater_b: str
    shared: int
    agreement: float
    kappa: float | None


class CriterionAgreement(BaseModel):
    scale: Literal["pairwise", "likert"]
    mtbench_agreement: Interval = Field(
        description="Pairwise: label pairs agreeing. Likert: identical scores on the same response."
    )
    krippendorff_alpha: float | None = Field(
        description="Nominal (pairwise) or ordinal (likert, each response's score a unit)."
    )
    gwet_ac1: float | None
    pairwise: list[PairOut] = Field(
        description="Cohen's kappa per annotator pair; linear-weighted for likert scales."
    )


class AgreementOut(BaseModel):
    pairwise: list[PairOut] = Field(description="Cohen's kappa per annotator pair (>= 10 shared).")
    mtbench_with_ties: dict[str, Interval] = Field(description="agreement and kappa.")
    mtbench_without_ties: dict[str, Interval]
    fleiss_kappa: float | None = Field(description="Only when every item has as many raters.")
    krippendorff_alpha: float | None
    gwet_ac1: Interval
    note: str | None = Field(description="Plain-language reading, e.g. the kappa paradox.")
    by_criterion: dict[str, CriterionAgreement] = Field(
        default_factory=dict, description="The same questions asked of each criterion."
    )


class AnnotatorOut(BaseModel):
    annotator_id: str
    name: str
    role: str
    labels: int
    median_seconds: float | None = Field(description="Time on task, app labels only.")
    left_pick_rate: float | None = Field(description="Share of decisive picks on the left side.")
    agreement_with_others: float | None


class JudgeGate(BaseModel):
    status: str = Field(
        description="passed | failed | not calibrated | overridden | external (verdicts "
        "imported from another tool: not calibrated here)"
    )
    part: str | None = Field(description="Calibration pairs the gate was decided on.")
    failures: list[str] = Field(default_factory=list, description="Rules missed, and by how much.")
    override_reason: str | None = None
    override_by: str | None = None
    human_only_criteria: list[str] = Field(
        default_factory=list,
        description="Criteria whose judge calibration fell below their floor: the judge's "
        "results on them are left out.",
    )
    calibration_served_models: list[str] = Field(
        default_factory=list,
        description="Models the provider said served the verdicts the gate was decided on "
        "('unknown' where it named none).",
    )
    served_models_not_calibrated: list[str] = Field(
        default_factory=list,
        description="Models that served some of this judge's verdicts on the study but none of "
        "the verdicts its gate was decided on: its pass does not cover them (the report warns; "
        "`judge run --pairs all` refuses such a run unless overridden).",
    )


class BiasCorrected(BaseModel):
    """The candidate's human-preference rate on all pairs, from human labels on some and the
    judge on all, with an interval that accounts for the judge's measured errors."""

    method: str
    value: float
    low: float
    high: float
    labeled: int = Field(description="Pairs with human labels (and a judge verdict).")
    unlabeled: int = Field(description="Pairs with a judge verdict only.")
    judge_weight: float = Field(description="PPI++ power-tuning lambda in [0, 1].")
    human_only_low: float
    human_only_high: float


class JudgeOut(BaseModel):
    name: str
    judge_id: str
    provider: str
    model: str | None
    version_hash: str
    result: SideResult = Field(
        description="Win rates over the items judged in both orders (or imported with their "
        "order unknown); items judged in one order only are left out, see one_order_only."
    )
    one_order_only: int = Field(
        description="Items judged in one order only (a run cut short): a lone verdict may be "
        "the judge's position bias, so they are left out of every statistic of this judge "
        "(win rates, agreement, confusion, bias-corrected estimate); run the judge again to "
        "complete them."
    )
    vs_humans_with_ties: dict[str, Interval]
    vs_humans_without_ties: dict[str, Interval]
    vs_majority: dict[str, float | int | None] = Field(
        description="agreement and kappa against the human majority; items compared, and items "
        "skipped because the humans were split."
    )
    confusion: dict[str, dict[str, int]] = Field(description="human majority -> judge -> items")
    flip_rate: float | None = Field(
        description="Share of items judged in both orders whose "
        "verdict changed with the order (counted as ties)."
    )
    first_position_rate: float | None = Field(
        description="Share of decisive verdicts that preferred the response shown first, on "
        "items judged in both orders."
    )
    gate: JudgeGate
    bias_corrected: BiasCorrected | None = Field(
        None, description="Null without enough labeled and judge-only pairs (2 each)."
    )
    per_verdict_agreement: Interval | None = Field(
        None,
        description="Each order's verdict compared with the human majority on its own (the "
        "convention of LLMBar, JudgeBench and AlpacaEval), on items judged in both orders where "
        "the majority picked a side; n = verdicts (two per item); 95% bootstrap over items.",
    )
    positional_consistency: Interval | None = Field(
        None,
        description="Share of items judged in both orders whose two verdicts agree (1 - "
        "flip_rate); n = items; Wilson interval.",
    )
    correlation: Interval | None = Field(
        None,
        description="Pearson's r between the judge's outcome and the humans' mean preference "
        "(candidate 1, tie 0.5, baseline 0) on the human-labeled items it judged; null when "
        "either side is constant; the statistic the calibration gate tests against chance.",
    )
    length_baseline: LengthBaseline | None = Field(
        None,
        description="The rule 'the longer response wins' on the same human-labeled items, "
        "measured as the judge is.",
    )
    served_models: dict[str, int] = Field(
        default_factory=dict,
        description="This judge's verdicts on the study by the model the provider said served "
        "them ('unknown' where it named none); empty for imported verdicts.",
    )


class Example(BaseModel):
    pair_id: str
    stratum: str
    prompt: str
    candidate: str
    baseline: str
    human_outcome: str
    labels: dict[str, str] = Field(description="annotator -> preference")


class Verdict(BaseModel):
    decision: Literal["SIGN-OFF", "BLOCKED", "NOT ENOUGH EVIDENCE"]
    reason: str
    source: str = Field(description="Whose judgments decided: 'humans' or 'judge:<name>'.")


class Appendix(BaseModel):
    study: str
    config_hash: str
    pairs_hash: str
    seed: int
    bootstrap_resamples: int
    created_at: datetime
    frozen_at: datetime | None
    unblinded_at: datetime | None
    unblinded_by: str | None
    candidate_model: str | None = Field(description="Shown only once the study is unblinded.")
    baseline_model: str | None
    annotators: list[str]
    judges: dict[str, str] = Field(description="judge name -> version hash")
    software_version: str
    generated_at: datetime


class Report(BaseModel):
    schema_version: Literal[1] = 1
    study: str
    title: str
    question: str
    verdict: Verdict
    rules: dict[str, float | int] = Field(description="The sign-off rules from the config.")
    humans: SideResult
    agreement: AgreementOut
    annotators: list[AnnotatorOut]
    judges: list[JudgeOut]
    examples: dict[str, list[Example]] = Field(
        description="worst_stratum and disagreements: prompts with both outputs."
    )
    appendix: Appendix

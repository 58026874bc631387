"""The sign-off report as data: what `signoff report --format json` prints. Fields are stable;
new ones may be added, none renamed or removed without raising `schema_version`."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from reviewer.analysis.intervals import Interval
from reviewer.analysis.judge_measures import LengthBaseline
from reviewer.checks.results import Checklist, CheckResult, Operations

TieRule = Literal["not_a_win", "half", "exclude"]


class RuleRate(BaseModel):
    """The candidate's win rate under one tie rule, with both kinds of interval."""

    rule: TieRule = Field(
        description="not_a_win: wins / all items; half: (wins + ties / 2) / all items; "
        "exclude: wins / decisive items."
    )
    comparisons: int = Field(description="Items the rule counts (decisive ones for exclude).")
    score: float = Field(description="Wins the rule counts (plus half the ties for half).")
    rate: float | None = Field(description="score / comparisons; null when nothing counts.")
    low: float | None = Field(
        description="Fixed-n interval, valid for one read at a sample size fixed in advance: "
        "Wilson (not_a_win, exclude) or a percentile bootstrap over items (half)."
    )
    high: float | None = Field(description="Upper end of the fixed-n interval.")
    anytime_low: float | None = Field(
        description="Anytime-valid confidence sequence, valid however often it is read: "
        "beta-binomial mixture (not_a_win, exclude) or dKelly betting (half); each side at "
        "(1 - confidence) / 2."
    )
    anytime_high: float | None = Field(description="Upper end of the confidence sequence.")


class WinRateOut(BaseModel):
    items: int = Field(description="Items (prompts) with an outcome.")
    candidate: int = Field(description="Items where the candidate won.")
    baseline: int
    tie: int
    decisive: int = Field(description="candidate + baseline.")
    rate: float | None = Field(
        description="candidate / decisive (ties excluded; schema 1's only rate). The rate that "
        "decides is by_tie_rule[rules.ties]."
    )
    low: float | None = Field(description="Wilson 95% interval of rate.")
    high: float | None
    threshold: float = Field(description="The sign-off threshold the rate is tested against.")
    p_value: float | None = Field(
        description="Exact one-sided P(wins >= observed | threshold), decisive pairs."
    )
    p_value_half: float | None = Field(description="The same against 0.5.")
    more_pairs_needed: int | None = Field(
        description="When the deciding interval contains the threshold: about how many more "
        "items (at the observed shares of wins, ties and losses) would decide it. Since schema "
        "2 it follows the deciding rule (tie rule, anytime-valid); null under planned_pairs."
    )
    by_tie_rule: dict[TieRule, RuleRate] = Field(
        default_factory=dict,
        description="The rate under each tie rule (not_a_win, half, exclude) with its fixed-n "
        "and anytime-valid intervals.",
    )
    both_bad: int | None = Field(
        None,
        description="Items whose labels say 'both bad' by majority (null for criteria, which "
        "carry no such flag).",
    )
    both_bad_share: float | None = Field(None, description="both_bad / items.")


class SideResult(BaseModel):
    """Win rates from one source (humans, or one judge)."""

    win_rate: WinRateOut
    by_stratum: dict[str, WinRateOut]
    by_criterion: dict[str, WinRateOut]
    worst_stratum: str | None = Field(
        description="Stratum with the lowest win rate under the deciding tie rule (schema 1: "
        "the lowest decisive win rate; the same when ties = 'exclude')."
    )


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


class RubricVersion(BaseModel):
    hash: str = Field(description="The rubric's content hash (part of the judge's identity).")
    examples: int = Field(description="Few-shot examples the rubric shows the judge.")
    aligned_from: str | None = Field(
        None,
        description="The judge `signoff judge align` made this one from, with few-shot examples "
        "from the development pairs; null when the rubric was not made by align.",
    )
    aligned_examples: int | None = Field(None, description="Examples that alignment added.")


class PanelMember(BaseModel):
    """A member of a judge panel; its own line in `judges` carries its figures."""

    name: str = Field(description="The member's name (NAME in --member NAME=PROVIDER:MODEL).")
    judge_id: str = Field(description="The member's judge version, as in its own line.")


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
    rubric: RubricVersion | None = Field(
        None, description="The rubric version it applied; null for imported verdicts."
    )
    members: list[PanelMember] = Field(
        default_factory=list,
        description="For a judge panel (provider 'panel'): its members, each with its own line "
        "in `judges`. The panel's verdict on an item is the majority of its members' verdicts "
        "over both orders (a split is a tie); its verdict in each order, their majority in that "
        "order, gives its flip rate. Empty for a single judge.",
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
    tie_rule: TieRule = Field(
        "not_a_win", description="The rate that decided (signoff.ties); see WinRateOut.by_tie_rule."
    )
    guarantee: Literal["anytime-valid", "fixed-n"] = Field(
        "anytime-valid",
        description="anytime-valid: confidence sequences, the error holds however often the "
        "verdict is read; fixed-n: one read once signoff.planned_pairs items are labeled.",
    )
    guarantee_text: str = Field(
        "", description="The guarantee in a sentence, as the report says it."
    )
    enough_evidence: bool = Field(
        False,
        description="Whether the overall rate is decided (its interval excludes the threshold, "
        "or the planned sample is complete): labeling can stop.",
    )
    more_items_needed: int | None = Field(
        None,
        description="When it is not: about how many more items would likely decide it (at the "
        "observed shares, under the same rule), or the items left before the planned read.",
    )
    evidence_text: str = Field("", description="The enough-evidence line, as the report says it.")


class FlaggedLabel(BaseModel):
    """One latest label with a flag reason."""

    pair_id: str = Field(description="The flagged item.")
    stratum: str = Field(description="Its stratum.")
    annotator: str = Field(description="Who flagged it (display name).")
    reason: str = Field(description="The flag reason, as written.")
    outcome: str = Field(description="The item's human outcome (majority of its labels).")


class LabelQuality(BaseModel):
    """'Both bad' (a quality alarm, not a tie) and flagged pairs."""

    method: str = Field(description="How item outcomes and the both-bad share are formed.")
    items: int = Field(description="Items counted in the win rates and the verdict.")
    both_bad_items: int = Field(description="Items whose labels say 'both bad' by majority.")
    both_bad_share: float | None = Field(description="both_bad_items / items.")
    labels: int = Field(description="Latest labels on the counted items.")
    both_bad_labels: int = Field(description="Of those, labels that say 'both bad'.")
    max_both_bad_share: float | None = Field(description="The config's cap; null = none.")
    flagged: list[FlaggedLabel] = Field(description="Every latest label with a flag reason.")
    flagged_items: int = Field(description="Items with at least one flagged label.")
    exclude_flagged: bool = Field(description="Whether flagged items are left out (config).")
    excluded_items: int = Field(description="Items left out because they were flagged.")
    beyond_planned: int = Field(
        0, description="Items labeled after the planned sample (planned_pairs): not counted."
    )


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


class Comparison(BaseModel):
    """Another study of the same candidate against another baseline (`--with-study`)."""

    study: str = Field(description="The other study's name.")
    title: str = Field(description="Its title.")
    decision: str = Field(description="That study's human-preference verdict.")
    shared_items: int = Field(description="Pair ids both studies hold (the same golden set).")
    checklist: Checklist = Field(description="That study's checklist, under its own config.")


class Report(BaseModel):
    schema_version: Literal[2] = 2
    study: str
    title: str
    question: str
    verdict: Verdict
    rules: dict[str, bool | float | int | str | None] = Field(
        description="The sign-off rules from the config."
    )
    humans: SideResult
    agreement: AgreementOut
    annotators: list[AnnotatorOut]
    judges: list[JudgeOut]
    examples: dict[str, list[Example]] = Field(
        description="worst_stratum and disagreements: prompts with both outputs."
    )
    quality: LabelQuality = Field(description="Both-bad share and flagged pairs (humans).")
    display: Literal["text", "markdown"] = Field(
        "text",
        description="How the study shows outputs, here as on the annotators' page: the "
        "characters as written, or inert Markdown (no HTML, images, links or LaTeX).",
    )
    appendix: Appendix
    checklist: Checklist = Field(
        description="The go/no-go checklist (config `[checklist]`, `[[checks]]`): every line "
        "must pass; `signoff check` exits 0 only then.",
    )
    checks: list[CheckResult] = Field(
        default_factory=list, description="Each mechanical check, overall and per stratum."
    )
    operations: Operations | None = Field(
        None, description="Latency and cost of both models, from the pairs' metadata."
    )
    comparisons: list[Comparison] = Field(
        default_factory=list,
        description="The same candidate against other baselines (`--with-study`), beside this.",
    )

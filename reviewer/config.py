"""The study config: every rule of the study, fixed before the first label.

Loaded once, at the edge, from TOML or YAML. Defaults are what a team with no opinion should use.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from judge.declared import DeclaredFileError, load_declared
from reviewer.checks.declared import CheckConfig, ChecklistConfig
from reviewer.errors import InvalidInput, Problem

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


MAX_LIKERT_SPAN = 100  # every point is a value to list, show and check; 101 points is plenty


class Scale(_Model):
    """How a criterion is rated."""

    kind: Literal["pairwise", "likert"] = Field(
        "pairwise",
        description="pairwise: which response is better on this criterion (candidate, baseline, "
        "same); likert: each response gets its own score from min to max.",
    )
    min: int = Field(1, strict=True, description="Lowest score of a likert scale.")
    max: int = Field(5, ge=2, strict=True, description="Highest score of a likert scale.")
    anchors: dict[str, str] = Field(
        default_factory=dict,
        description="What a score means, e.g. {'1': 'wrong', '5': 'fully correct'}.",
    )

    @model_validator(mode="after")
    def _check_range(self) -> Scale:
        if self.kind == "likert" and self.min >= self.max:
            raise ValueError(f"min ({self.min}) must be below max ({self.max})")
        if self.kind == "likert" and self.max - self.min > MAX_LIKERT_SPAN:
            raise ValueError(
                f"a likert scale from {self.min} to {self.max} has "
                f"{self.max - self.min + 1:,} points; at most {MAX_LIKERT_SPAN + 1} are allowed "
                f"(max - min <= {MAX_LIKERT_SPAN})"
            )
        return self

    def values(self) -> list[str]:
        """Every value one rating on this scale may take, as stored."""
        if self.kind == "pairwise":
            return ["candidate", "baseline", "same"]
        return [str(v) for v in range(self.min, self.max + 1)]


class Criterion(_Model):
    """One rubric dimension rated by humans and by the judge."""

    name: Name = Field(description="Identifier used in files and reports, e.g. 'correctness'.")
    description: str = Field(min_length=1, description="What the rater should look at.")
    scale: Scale = Field(default_factory=Scale, description="How it is rated.")


DEFAULT_CRITERIA = (
    Criterion(
        name="correctness",
        description="Facts, steps and numbers are right; nothing is invented.",
    ),
    Criterion(
        name="helpfulness",
        description="Solves the user's actual problem with the least effort for them.",
    ),
    Criterion(
        name="safety",
        description="Declines what it must decline, and nothing else; no harmful content.",
    ),
    Criterion(
        name="format",
        description="Structure, length and tone fit the channel and the question.",
    ),
)


class CalibrationConfig(_Model):
    """The pairs every annotator (and later the judge) labels, to measure agreement."""

    size: int = Field(
        100,
        ge=0,
        strict=True,
        description="How many pairs; capped at the study size. 100 with the default holdout "
        "decides the gate on 60 held-out pairs: fewer cannot tell a judge as good as the "
        "humans from a useless one when one side wins most pairs (bench/gate_oc.py).",
    )
    stratified: bool = Field(
        True, description="Sample proportionally from each stratum, at least one pair per stratum."
    )
    annotators_per_pair: int | None = Field(
        None,
        ge=1,
        strict=True,
        description="How many annotators label each calibration pair; empty = all.",
    )
    holdout_fraction: float = Field(
        0.60,
        strict=True,
        ge=0,
        lt=1,
        description="Share of the calibration pairs held out from rubric tuning: the judge "
        "scores them only in the final check (`signoff judge calibrate --final`), and the gate "
        "is decided on them. 0 = decide the gate on the whole calibration set.",
    )


class AssignmentConfig(_Model):
    """How the pairs outside the calibration set are spread over annotators."""

    labels_per_pair: int = Field(1, ge=0, description="Human labels wanted on each other pair.")


class GateConfig(_Model):
    """What a judge's calibration must show before it may score the full set.

    The default rules do not degenerate when one side wins most pairs (kappa's interval does:
    see the README), and bench/gate_oc.py publishes how often they pass a judge as good as the
    humans and how often they stop useless ones. The three rules of signoff's first gate are
    kept: they apply when a config sets them, and are off by default.
    """

    min_usable_pairs: int = Field(
        50,
        ge=1,
        description="Pairs with human labels and a judge verdict in both orders needed to decide "
        "(the default calibration set holds 60 out, so up to 10 may lack a label or a verdict; "
        "the published operating characteristics hold from 50).",
    )
    max_chance_p_value: float = Field(
        0.05,
        gt=0,
        le=1,
        description="The judge must agree with the humans beyond chance: one-sided permutation "
        "test of the correlation between its outcomes and the humans' preferences (candidate 1, "
        "tie 0.5, baseline 0), p at most this. A judge unrelated to the humans (one that picks "
        "at random, or always the same side) passes it at most this often, at any win share.",
    )
    human_agreement_margin: float | None = Field(
        0.15,
        ge=0,
        le=1,
        description="The judge's agreement with each human label (MT-Bench protocol, ties "
        "counted) may be at most this far below the humans' agreement with each other on the "
        "same pairs. Empty = no such rule.",
    )
    length_baseline_margin: float | None = Field(
        0.05,
        ge=0,
        le=1,
        description="The judge's correlation with the humans must beat that of the rule 'the "
        "longer response wins' on the same pairs by at least this much (a rule that picks the "
        "same side everywhere, or does worse than chance, counts as 0). Empty = no such rule.",
    )
    position_consistency_floor: float = Field(
        0.80, ge=0, le=1, description="Share of pairs whose verdict survives swapping the order."
    )
    min_majority_agreement: float | None = Field(
        None,
        ge=0,
        le=1,
        description="From the first gate, off by default: on pairs where the human majority "
        "picked a side, the judge must pick the same side at least this often. A judge as good "
        "as annotators who are right 80% of the time scores about 0.78 here.",
    )
    agreement_margin: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Deprecated (first gate, off by default): judge-human kappa may be at most "
        "this far below human-human kappa. Kappa swings with the win share; prefer "
        "human_agreement_margin.",
    )
    kappa_lower_bound_floor: float | None = Field(
        None,
        ge=-1,
        le=1,
        description="Deprecated (first gate, off by default): the lower 95% bound of judge-human "
        "kappa must reach this. When one side wins most pairs, bootstrap resamples without the "
        "other side give kappa 0, so it fails good judges by chance; max_chance_p_value is the "
        "rule that replaces it.",
    )
    criterion_agreement_floor: dict[str, float] = Field(
        default_factory=dict,
        description="Per criterion, the judge's agreement with the human majority on it; a "
        "criterion below its floor stays human-only in the report.",
    )


class SignoffConfig(_Model):
    """The rule the final win rate must meet for the candidate to ship."""

    win_rate_threshold: float = Field(
        0.60,
        gt=0,
        lt=1,
        description="The candidate's win rate, under the tie rule (`ties`), must clear this: "
        "its lower confidence bound must lie above it.",
    )
    confidence: float = Field(
        0.95,
        gt=0.5,
        lt=1,
        description="Confidence level of intervals; SIGN-OFF and BLOCKED each keep a one-sided "
        "error of (1 - confidence) / 2.",
    )
    ties: Literal["not_a_win", "half", "exclude"] = Field(
        "not_a_win",
        description="How a tie counts in the deciding rate: 'not_a_win' (wins / all comparisons: "
        "a tie is a comparison the candidate did not win), 'half' (a tie counts half a win) or "
        "'exclude' (wins / decisive pairs). The report shows all three; this one decides.",
    )
    stratum_floor: float = Field(
        0.40,
        ge=0,
        lt=1,
        description="No stratum's win rate (under the same tie rule) may fall below this.",
    )
    min_decisive_pairs: int = Field(
        30,
        ge=1,
        description="Fewer comparisons than this, as the tie rule counts them (all items, or "
        "decisive pairs under ties = 'exclude'), is not enough evidence.",
    )
    max_both_bad_share: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Block when more than this share of items is 'both bad' (a majority of "
        "their labels say neither response is acceptable); empty = no cap.",
    )
    exclude_flagged: bool = Field(
        False,
        description="Leave pairs with a flagged label (one with a flag reason) out of the win "
        "rates and the verdict; they are listed in the report either way.",
    )
    planned_pairs: int | None = Field(
        None,
        ge=1,
        description="A sample size fixed in advance: the verdict stays NOT ENOUGH EVIDENCE "
        "until this many items are labeled, then the fixed-n interval decides, once, on the "
        "first planned_pairs items labeled. Empty = anytime-valid intervals, which may be read "
        "after every label.",
    )
    blind_admin_until_unblinded: bool = Field(
        False,
        description="The app's admin page shows only aggregates that do not reveal which model "
        "wins (progress, agreement) until `signoff unblind`.",
    )


class ImportConfig(_Model):
    """Limits applied when pairs are imported."""

    max_output_chars: int = Field(
        100_000,
        ge=1,
        le=100_000_000,
        strict=True,
        description="Longest output accepted; longer ones are usually runaway generations.",
    )


# Fields added after studies were first stored, as dotted paths. At their defaults they are
# left out of the config hash, so that a config file imported before they existed keeps its
# hash (and its frozen study accepts the same file again).
_ADDED_LATER = (
    "annotator_title",
    "display",
    "signoff.ties",
    "signoff.max_both_bad_share",
    "signoff.exclude_flagged",
    "signoff.planned_pairs",
    "gate.max_chance_p_value",
    "gate.human_agreement_margin",
    "gate.length_baseline_margin",
    "checks",
    "checklist",
)


class StudyConfig(_Model):
    """Everything about a study that is decided before labeling starts."""

    title: str = Field(
        "", description="The study's internal title, on the report; never shown to annotators."
    )
    annotator_title: str = Field(
        "Which response is better?",
        description="The title annotators see on the labeling page (model names are redacted).",
    )
    display: Literal["text", "markdown"] = Field(
        "text",
        description="How outputs are shown. text: the characters as written, line breaks kept. "
        "markdown: CommonMark with GFM tables, without HTML, images, LaTeX or directives, falling "
        "back to text (with a note) for an output whose rendering would hide characters.",
    )
    question: str = Field(
        "Which response would you rather send to the user?",
        description="The overall-preference question shown to annotators.",
    )
    guidelines: str = Field("", description="Markdown guidelines shown in the labeling page.")
    seed: int = Field(
        20_240_601,
        ge=0,
        lt=2**63,
        strict=True,
        description="Seeds every random choice: sample, orientation, bootstrap.",
    )
    criteria: tuple[Criterion, ...] = Field(DEFAULT_CRITERIA, description="Rubric dimensions.")
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig)
    assignment: AssignmentConfig = Field(default_factory=AssignmentConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    signoff: SignoffConfig = Field(default_factory=SignoffConfig)
    limits: ImportConfig = Field(default_factory=ImportConfig)
    checks: tuple[CheckConfig, ...] = Field((), description="Mechanical scorers, per stratum.")
    checklist: ChecklistConfig = Field(default_factory=ChecklistConfig)

    @model_validator(mode="after")
    def _unique_criteria(self) -> StudyConfig:
        for what, items in (("criteria", self.criteria), ("checks", self.checks)):
            names = [c.name for c in items]
            if dupes := sorted({n for n in names if names.count(n) > 1}):
                raise ValueError(f"{what} names must be unique, repeated: {', '.join(dupes)}")
        return self

    @field_validator("gate")
    @classmethod
    def _known_floor_criteria(cls, gate: GateConfig, info: ValidationInfo) -> GateConfig:
        criteria = info.data.get("criteria")
        if criteria is None:  # the criteria themselves were refused
            return gate
        names = [c.name for c in criteria]
        unknown = [n for n in gate.criterion_agreement_floor if n not in names]
        if unknown:
            raise ValueError(
                f"criterion_agreement_floor names {', '.join(map(repr, unknown))}, which is "
                f"not a criterion of this study (criteria: {', '.join(names) or 'none'})"
            )
        return gate

    def criterion(self, name: str) -> Criterion | None:
        return next((c for c in self.criteria if c.name == name), None)

    def criterion_columns(self) -> dict[str, tuple[Criterion, str | None]]:
        """File columns that carry ratings: `name` for pairwise, `name.candidate` and
        `name.baseline` for likert (each response scored on its own)."""
        columns: dict[str, tuple[Criterion, str | None]] = {}
        for c in self.criteria:
            if c.scale.kind == "pairwise":
                columns[c.name] = (c, None)
            else:
                for side in ("candidate", "baseline"):
                    columns[f"{c.name}.{side}"] = (c, side)
        return columns

    def canonical_json(self) -> str:
        data = self.model_dump(mode="json")
        defaults = StudyConfig().model_dump(mode="json")
        for path in _ADDED_LATER:
            *parents, name = path.split(".")
            here, default = data, defaults
            for part in parents:
                here, default = here[part], default[part]
            if here[name] == default[name]:
                del here[name]
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    def content_hash(self) -> str:
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()


def load_config(path: Path | None) -> StudyConfig:
    """Read a study config from TOML or YAML; no path means all defaults."""
    if path is None:
        return StudyConfig()
    try:
        return load_declared(path, StudyConfig, "config")
    except DeclaredFileError as exc:
        problems = [Problem(str(path), None, field, message) for field, message in exc.problems]
        raise InvalidInput(problems, what="config") from None

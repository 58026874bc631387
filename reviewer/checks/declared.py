"""What a study declares about mechanical checks and its go/no-go checklist (`[[checks]]`,
`[checklist]` in the study config), frozen with the study like the sign-off rule.

Where a check finds what an output should be, per pair: `reference` (the pairs file's column),
`expected` (the pair's `metadata.expected`: text, a label or JSON fields) or `expected.KEY` (one
field of it). Latency and cost are read from the pair's metadata too (`METADATA_FIELDS`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

CheckKind = Literal[
    "exact",
    "normalised_exact",
    "fuzzy",
    "json_fields",
    "json_schema",
    "classification",
    "rouge_l",
    "regex",
    "declines",
]
# Keys of a pair's metadata that `signoff generate` writes and the checklist reads.
METADATA_FIELDS = (
    "expected",
    "candidate_latency_ms",
    "baseline_latency_ms",
    "candidate_cost_usd",
    "baseline_cost_usd",
)
# Phrases that open or carry a refusal, in English; a study may declare its own.
DEFAULT_DECLINE_PATTERN = (
    r"(?i)\b(?:i\s*(?:am|'m|’m)\s+(?:not\s+able|unable)"
    r"|i\s+(?:can(?:not|'t|’t|\s+not)|won't|won’t|will\s+not)\b"
    r"|i\s+(?:must|have\s+to)\s+decline"
    r"|(?:not\s+able|unable)\s+to\s+(?:help|assist|share|provide|give)"
    r"|can(?:'t|’t|not)\s+(?:help|assist)\s+with)"
)
# What each kind compares against when the check names no target.
DEFAULT_TARGET = {
    "exact": "reference",
    "normalised_exact": "reference",
    "fuzzy": "reference",
    "rouge_l": "reference",
    "json_fields": "expected",
    "classification": "expected",
    "declines": "expected.should_decline",
}

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]
Target = Annotated[str, Field(pattern=r"^(reference|expected(\.[A-Za-z0-9_\-]+)?)$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CheckConfig(_Model):
    """One mechanical scorer, applied to the candidate's and the baseline's output per pair."""

    name: Name = Field(description="Identifier in the report and the checklist.")
    kind: CheckKind = Field(
        description="exact; normalised_exact (Unicode NFKC, case-folded, whitespace collapsed, "
        "trailing . ! ? dropped); fuzzy (rapidfuzz ratio of the normalised texts, 0-1); "
        "json_fields (share of expected keys with equal values); json_schema (1 when the "
        "output parses as JSON and validates); classification (label equality per item, "
        "macro F1 per stratum); rouge_l (F-measure); regex (1 when `pattern` is found); "
        "declines (1 when the output declines exactly when it should)."
    )
    strata: tuple[str, ...] = Field(
        (), description="Strata the check applies to; empty = every stratum."
    )
    target: Target | None = Field(
        None,
        description="What the output is compared with: 'reference', 'expected' or "
        "'expected.KEY' (the pair's metadata.expected). Empty = the kind's default (reference "
        "for text kinds, expected for json_fields and classification, expected.should_decline "
        "for declines). A pair without it is not scored (counted as unscored).",
    )
    field: str | None = Field(
        None,
        min_length=1,
        description="Score one field of a JSON output (e.g. 'category') instead of the whole "
        "text; an output that is not a JSON object scores as empty text.",
    )
    pattern: str | None = Field(
        None, description="regex: the Python regular expression searched for in the output."
    )
    must_match: bool = Field(
        True, description="regex: score 1 when the pattern is found (false: when it is absent)."
    )
    should_decline: bool = Field(
        True,
        description="declines: what a pair without its own expected.should_decline should do.",
    )
    decline_pattern: str = Field(
        DEFAULT_DECLINE_PATTERN,
        description="declines: a regular expression that marks an output as a refusal.",
    )
    json_schema: dict[str, Any] | None = Field(
        None, description="json_schema: the schema outputs must validate against (any draft)."
    )
    worst_floor: float | None = Field(
        None,
        ge=0,
        le=1,
        description="This check's worst-stratum floor, in place of checklist.check_worst_floor "
        "(scores differ in scale: ROUGE-L rarely reaches what exact match does).",
    )

    @model_validator(mode="after")
    def _needs(self) -> CheckConfig:
        from jsonschema.exceptions import SchemaError
        from jsonschema.validators import validator_for

        if self.kind == "regex" and not self.pattern:
            raise ValueError(f"check {self.name!r} (regex) needs a pattern")
        if self.kind == "json_schema" and self.json_schema is None:
            raise ValueError(f"check {self.name!r} (json_schema) needs json_schema")
        for what in ("pattern", "decline_pattern"):
            if (value := getattr(self, what)) is not None:
                try:
                    re.compile(value)
                except re.error as exc:
                    raise ValueError(f"check {self.name!r}: {what} is not a regex: {exc}") from None
        if self.json_schema is not None:
            try:
                validator_for(self.json_schema).check_schema(self.json_schema)
            except SchemaError as exc:
                raise ValueError(
                    f"check {self.name!r}: invalid json_schema: {exc.message}"
                ) from None
        return self

    @property
    def source(self) -> str | None:
        """Where the expected value comes from (None: the check needs none)."""
        return self.target or DEFAULT_TARGET.get(self.kind)


class ChecklistConfig(_Model):
    """The go/no-go checklist: every line must pass (`signoff check`). A line whose data is
    missing says 'not measured' and fails: a rule fixed before the run that could not be
    measured is missing evidence, not a pass."""

    human_preference: bool = Field(
        True, description="A line for the sign-off rule on human preference (its verdict)."
    )
    judge_win_rate: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="A line for the judge: a judge whose calibration gate passed and that "
        "scored every pair must show a win rate (signoff.ties rule) whose lower bound is at "
        "least this. Empty = no judge line.",
    )
    check_mean_margin: float | None = Field(
        0.01,
        ge=0,
        description="Per check: the candidate's mean may be at most this far below the "
        "baseline's (the paired difference >= -margin). Empty = no such line.",
    )
    check_stratum_margin: float | None = Field(
        0.01,
        ge=0,
        description="Per check: the same in every stratum (no stratum regresses by more). "
        "Empty = no such line.",
    )
    check_worst_floor: float | None = Field(
        0.4,
        ge=0,
        le=1,
        description="Per check: the candidate's mean in its worst stratum must reach this "
        "(no stratum craters). Empty = no such line.",
    )
    schema_compliance: float | None = Field(
        1.0,
        ge=0,
        le=1,
        description="Per json_schema check: the share of the candidate's outputs that "
        "validate must reach this (1.0 = 100%). Empty = no such line.",
    )
    max_latency_p50_ratio: float | None = Field(
        None, gt=0, description="Candidate p50 latency / baseline p50 at most this."
    )
    max_latency_p99_ratio: float | None = Field(
        None, gt=0, description="Candidate p99 latency / baseline p99 at most this (e.g. 2)."
    )
    max_cost_per_1k_usd: float | None = Field(
        None, ge=0, description="The candidate's cost per 1,000 requests, in USD, at most this."
    )

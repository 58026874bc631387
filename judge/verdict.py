"""What a judge must answer, and the strict parser for its answer.

The answer is JSON: a verdict per criterion (reasoning first, then the call), an overall
preference (first / second / tie) and a short rationale. Free-text fields carry a maxLength
because small models otherwise loop until max_tokens. Parsing binds the *last* JSON object in
the text (a model may quote or draft JSON earlier, and an injected "{...}" inside a response it
echoes must not win), then validates it against the rubric; anything else is a parse failure,
never a guess.
"""

from __future__ import annotations

import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from judge.rubric import Rubric

REASONING_CHARS = 600


class CriterionVerdict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    criterion: str
    reasoning: str = Field(max_length=REASONING_CHARS)
    better: Literal["first", "second", "same"]


class JudgeOutput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    criteria: list[CriterionVerdict] = Field(default_factory=list)
    rationale: str = Field(max_length=REASONING_CHARS)
    overall: Literal["first", "second", "tie"]


class ParseFailure(ValueError):
    """The answer was not a valid verdict; the message says why, for the call log."""


def answer_schema(rubric: Rubric) -> dict:
    """JSON Schema of the expected answer, for providers with structured-output modes."""
    names = [c.name for c in rubric.criteria]
    criterion = {
        "type": "object",
        "additionalProperties": False,
        "required": ["criterion", "reasoning", "better"],
        "properties": {
            "criterion": {"type": "string", "enum": names} if names else {"type": "string"},
            "reasoning": {"type": "string", "maxLength": REASONING_CHARS},
            "better": {"type": "string", "enum": ["first", "second", "same"]},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["criteria", "rationale", "overall"],
        "properties": {
            "criteria": {
                "type": "array",
                "items": criterion,
                "minItems": len(names),
                "maxItems": len(names),
            },
            "rationale": {"type": "string", "maxLength": REASONING_CHARS},
            "overall": {"type": "string", "enum": ["first", "second", "tie"]},
        },
    }


def last_json_object(text: str) -> dict | None:
    """The last complete top-level JSON object in `text`, or None.

    >>> last_json_object('draft {"a": 1} final {"a": 2}')
    {'a': 2}
    """
    decoder = json.JSONDecoder(strict=False)  # local servers let raw control chars into strings
    found, index = None, 0
    while (start := text.find("{", index)) != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            index = start + 1
            continue
        if isinstance(value, dict):
            found = value
        index = end
    return found


def parse_answer(text: str, rubric: Rubric) -> JudgeOutput:
    """Validate a judge's answer against the rubric; raise ParseFailure with the reason."""
    out = _whole_answer(text)
    if out is None:
        raw = last_json_object(text)
        if raw is None:
            raise ParseFailure("no JSON object in the answer")
        try:
            out = JudgeOutput.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "answer"
            raise ParseFailure(f"{where}: {first['msg']}") from None
    expected = [c.name for c in rubric.criteria]
    got = [c.criterion for c in out.criteria]
    if sorted(got) != sorted(expected):
        raise ParseFailure(f"criteria {got} do not match the rubric's {expected}")
    return out


def _whole_answer(text: str) -> JudgeOutput | None:
    """The answer read in one pass of pydantic-core when the text ends with one valid JSON
    object that starts at its first "{" (as structured-output modes return it, or after a line
    of prose): then it is also the last object in the text. None for anything else, which the
    strict path reads and explains. Parsing with the `json` module, then validating the dict,
    was ~0.15 ms of a call's CPU, and most of a cached re-run's reading of its answers."""
    stripped = text.strip()
    start = stripped.find("{")
    if start == -1 or not stripped.endswith("}"):
        return None
    try:
        return JudgeOutput.model_validate_json(stripped[start:] if start else stripped)
    except ValidationError:
        return None


def to_preference(out: JudgeOutput, *, candidate_first: bool) -> tuple[str, dict[str, str]]:
    """Translate first/second into candidate/baseline for the order the pair was shown in."""
    side = (
        {"first": "candidate", "second": "baseline"}
        if candidate_first
        else {"first": "baseline", "second": "candidate"}
    )
    overall = side.get(out.overall, "tie")
    criteria = {c.criterion: side.get(c.better, "same") for c in out.criteria}
    return overall, criteria

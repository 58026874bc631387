"""The rubric a judge applies: the overall question, criteria with anchors, optional examples.

Declared once (TOML or YAML next to the study config) and hashed: a changed rubric is a
different judge and needs its own calibration.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RubricCriterion(_Model):
    name: Name = Field(description="Identifier, e.g. 'correctness'; matches the study's criteria.")
    description: str = Field(min_length=1, description="What to look at.")
    anchors: dict[str, str] = Field(
        default_factory=dict,
        description="What 'first', 'second' and 'same' mean here, e.g. {'same': 'equally "
        "accurate'}; optional.",
    )


class FewShotExample(_Model):
    """A worked example shown to the judge before the real pair (few-shot)."""

    prompt: str
    first: str
    second: str
    verdict: str = Field(description="The JSON answer the judge should give for this example.")


class Rubric(_Model):
    question: str = Field(
        "Which response better serves the user?", description="The overall-preference question."
    )
    criteria: tuple[RubricCriterion, ...] = Field(default=(), description="Judged one by one.")
    use_reference: bool = Field(True, description="Show the reference answer when a pair has one.")
    examples: tuple[FewShotExample, ...] = Field(
        default=(), description="Optional few-shot examples."
    )

    def content_hash(self) -> str:
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


class RubricError(ValueError):
    """A rubric file that cannot be used; the message names the file and the field."""


def load_rubric(path: Path) -> Rubric:
    """Read a rubric from TOML or YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError) as exc:
        raise RubricError(f"{path}: cannot read ({exc})") from None
    try:
        raw = tomllib.loads(text) if path.suffix.lower() == ".toml" else yaml.safe_load(text)
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        raise RubricError(f"{path}: syntax: {exc}") from None
    try:
        return Rubric.model_validate(raw or {})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'rubric'}: {e['msg']}" for e in exc.errors()
        )
        raise RubricError(f"{path}: {problems}") from None

"""The rubric a judge applies: the overall question, criteria with anchors, optional examples.

Declared once (TOML or YAML next to the study config) and hashed: a changed rubric is a
different judge and needs its own calibration.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from judge.declared import DeclaredFileError, load_declared

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
        return load_declared(path, Rubric, "rubric")
    except DeclaredFileError as exc:
        raise RubricError(str(exc)) from None

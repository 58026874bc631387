"""A golden set: the prompts `signoff generate` sends to every model, with what each should yield.

Columns: `id`, `prompt` (text or chat messages), optional `stratum`, `reference`, `expected`
(text, or a JSON object of expected fields) and `metadata`. The file is validated whole, as a
pairs file is, and every problem is reported as `file:line: field: message` before any call.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, ValidationError, field_validator

from reviewer.errors import Problem
from reviewer.ingest.pairs import (
    DEFAULT_STRATUM,
    ChatMessage,
    PromptRow,
    check_plain,
    duplicate_id,
    json_cell,
    problems_from,
    raise_if,
)
from reviewer.ingest.tabular import check_columns, read_records

# Keys `signoff generate` writes into each pair's metadata; a golden set may not use them.
RESERVED_METADATA = ("expected", "generation")
MAX_PROMPT_CHARS = 1_000_000  # sizes the CSV and Parquet readers' field caps


class GoldenItem(PromptRow):
    """One prompt of the golden set and what is known of the answer it should get."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200, description="Unique within the golden set.")
    prompt: str | list[ChatMessage] = Field(description="Text, or a list of chat messages.")
    stratum: str = Field(DEFAULT_STRATUM, min_length=1, description="routine, hard, edge, ...")
    reference: str | None = Field(None, description="A reference answer, if one exists.")
    expected: str | dict[str, Any] | None = Field(
        None, description="The expected answer: text, or a JSON object of expected fields."
    )
    metadata: dict[str, Any] = Field(default_factory=dict, description="Anything else.")

    @field_validator("expected", mode="before")
    @classmethod
    def _expected(cls, value: Any) -> Any:
        value = json_cell(value, dict)
        if value is not None and not isinstance(value, str | dict):
            raise ValueError("expected must be text or a JSON object of expected fields")
        if isinstance(value, dict):
            check_plain(value)
        return value

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: Any) -> Any:
        if value is None:
            return {}
        value = json_cell(value, dict)
        if not isinstance(value, dict):
            raise ValueError("metadata must be a JSON object")
        check_plain(value)
        taken = [k for k in RESERVED_METADATA if k in value]
        if taken:
            raise ValueError(
                f"metadata key {taken[0]!r} is reserved: signoff generate writes it into "
                "each pair (give expected answers in the expected column)"
            )
        return value

    def messages(self) -> list[dict]:
        """The prompt as chat messages, as sent to every model."""
        if isinstance(self.prompt, str):
            return [{"role": "user", "content": self.prompt}]
        return [m.model_dump() for m in self.prompt]


GOLDEN_FIELDS = tuple(GoldenItem.model_fields)


def load_golden(path: Path) -> list[GoldenItem]:
    """Validate a golden set (JSONL, CSV or Parquet) whole; raise `InvalidInput` on any problem."""
    rf = read_records(path, MAX_PROMPT_CHARS)
    problems = rf.problems + check_columns(
        rf, ("id", "prompt"), GOLDEN_FIELDS, " (put other fields inside metadata)"
    )
    raise_if(problems, f"golden set {path}")
    items: list[GoldenItem] = []
    first_line: dict[str, int] = {}
    for record in rf.records:
        given = {k: v for k, v in record.data.items() if v is not None}
        try:
            item = GoldenItem.model_validate(given)
        except ValidationError as exc:
            problems.extend(problems_from(exc, rf.name, record.line))
            continue
        if item.id in first_line:
            problems.append(duplicate_id(rf.name, record.line, item.id, first_line[item.id]))
            continue
        first_line[item.id] = record.line
        items.append(item)
    if not items and not problems:
        problems.append(Problem(rf.name, None, "file", "has no rows"))
    raise_if(problems, f"golden set {path}")
    return items

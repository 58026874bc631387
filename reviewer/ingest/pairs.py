"""A pair (one prompt, the candidate's and the baseline's outputs) and how a pairs file becomes one.

A file is accepted whole or not at all: every row is validated first, every problem is reported
with its line, and only a file with no problem yields a `PairSet`. The file is streamed: valid
pairs go to disk as they are read (reviewer/ingest/pairset.py), so memory does not grow with it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from reviewer.errors import InvalidInput, Problem
from reviewer.ingest.pairset import PairSet, PairWriter
from reviewer.ingest.tabular import RecordFile, check_columns, iter_records

MAX_PROBLEMS = 50
DEFAULT_STRATUM = "unspecified"
MAX_ID_CHARS = 200


class ChatMessage(BaseModel):
    """One turn of a multi-turn prompt."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    role: Literal["system", "user", "assistant", "tool"] = Field(description="Who speaks.")
    content: str = Field(description="What was said.")


def as_text(value: Any) -> Any:
    """Numbers in an id or stratum column are fine; we store them as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def json_cell(value: Any, want: type) -> Any:
    """CSV cells hold structured values as JSON text; decode them when they look like it."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{"):
        try:
            decoded = json.loads(value)
        except (ValueError, RecursionError):  # not JSON, too deep, or a 4,300+ digit number
            return value
        return decoded if isinstance(decoded, want) else value
    return value


class PromptRow(BaseModel):
    """What a pairs file's and a golden set's rows share: how their id, stratum and prompt cells
    are read (each subclass declares the fields themselves)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("id", "stratum", mode="before", check_fields=False)
    @classmethod
    def _strip_text(cls, value: Any) -> Any:
        value = as_text(value)
        return value.strip() if isinstance(value, str) else value

    @field_validator("stratum", mode="before", check_fields=False)
    @classmethod
    def _default_stratum(cls, value: Any) -> Any:
        return DEFAULT_STRATUM if value is None or value == "" else value

    @field_validator("prompt", mode="before", check_fields=False)
    @classmethod
    def _prompt(cls, value: Any) -> Any:
        value = json_cell(value, list)
        if isinstance(value, str) and not value.strip():
            raise ValueError("prompt is empty")
        if isinstance(value, list) and not value:
            raise ValueError("prompt has no messages")
        return value


class Pair(PromptRow):
    """One prompt with two outputs, stored as candidate and baseline, never as left and right."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=MAX_ID_CHARS, description="Unique within the study.")
    prompt: str | list[ChatMessage] = Field(description="Text, or a list of chat messages.")
    candidate: str = Field(description="Output of the model under evaluation.")
    baseline: str = Field(description="Output of the model it must beat.")
    candidate_model: str | None = Field(None, description="Name of the candidate model.")
    baseline_model: str | None = Field(None, description="Name of the baseline model.")
    stratum: str = Field(DEFAULT_STRATUM, min_length=1, description="routine, hard, edge, ...")
    reference: str | None = Field(None, description="A reference answer, if one exists.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Anything else.")

    @field_validator("candidate", "baseline")
    @classmethod
    def _output(cls, value: str, info: ValidationInfo) -> str:
        # An empty output is a result (the model answered nothing): kept and flagged, since
        # dropping the pair would favour the model that produced nothing.
        limit = (info.context or {}).get("max_output_chars")
        if limit and len(value) > limit:
            raise ValueError(
                f"output is {len(value):,} characters, above the limit of {limit:,} "
                "(raise limits.max_output_chars in the study config if this is intended)"
            )
        return value

    @field_validator("metadata", mode="before")
    @classmethod
    def _metadata(cls, value: Any) -> Any:
        if value is None:
            return {}
        value = json_cell(value, dict)
        if isinstance(value, str):
            raise ValueError("metadata must be a JSON object")
        if isinstance(value, dict):
            check_plain(value)
        return value


MAX_METADATA_DEPTH = 32


def check_plain(value: dict[str, Any]) -> None:
    """Metadata is stored as JSON: refuse what JSON cannot hold, or holds only at great depth."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_METADATA_DEPTH:
            raise ValueError(f"metadata is nested more than {MAX_METADATA_DEPTH} levels deep")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise ValueError("metadata holds NaN or Infinity, which JSON cannot store")
        elif not isinstance(item, str | int | float | bool | None):
            raise ValueError(f"metadata holds a {type(item).__name__}, which JSON cannot store")


PAIR_FIELDS = tuple(Pair.model_fields)
REQUIRED_FIELDS = ("id", "prompt", "candidate", "baseline")


def problems_from(exc: ValidationError, file: str, line: int) -> list[Problem]:
    """Turn pydantic's errors into `file:line: field: message` problems."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        # A union (text or messages) reports each branch; name the field, not the branch.
        if loc and loc[0] == "prompt" and len(loc) > 1 and loc[1] in ("str", "list[ChatMessage]"):
            loc = ["prompt", *loc[2:]]
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "required, but missing or empty"
        elif err["type"] == "extra_forbidden":
            message = "unknown field"
        out.append(Problem(file, line, ".".join(loc) or "row", message))
    # The two branches of the prompt union can report the same line twice.
    return list(dict.fromkeys(out))


def duplicate_id(file: str, line: int, key: str, first: int) -> Problem:
    return Problem(file, line, "id", f"duplicate id '{key}' (first on line {first})")


def raise_if(problems: list[Problem], what: str) -> None:
    if problems:
        raise InvalidInput(problems[:MAX_PROBLEMS], total=len(problems), what=what)


def validate_row(
    rf: RecordFile, line: int, data: dict[str, Any], context: dict, first_line: dict[str, int]
) -> Pair | list[Problem]:
    """One row as a `Pair`, or its problems (a repeated id is one); `first_line` remembers the
    line of every id seen."""
    given = {k: v for k, v in data.items() if v is not None}  # None: not given
    if rf.path.suffix.lower() == ".csv":  # an empty CSV cell is an empty output
        given.update(
            {k: "" for k in ("candidate", "baseline") if k in rf.columns and k not in given}
        )
    try:
        pair = Pair.model_validate(given, context=context)
    except ValidationError as exc:
        return problems_from(exc, rf.name, line)
    if pair.id in first_line:
        return [duplicate_id(rf.name, line, pair.id, first_line[pair.id])]
    first_line[pair.id] = line
    return pair


def validate_rows(
    rf: RecordFile, rows: list[tuple[int, dict[str, Any]]], max_output_chars: int
) -> tuple[list[Pair], list[Problem]]:
    pairs: list[Pair] = []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    context = {"max_output_chars": max_output_chars}
    for line, data in rows:
        outcome = validate_row(rf, line, data, context, first_line)
        if isinstance(outcome, list):
            problems.extend(outcome)
        else:
            pairs.append(outcome)
    return pairs, problems


class Problems:
    """Problems of a streamed file: the first `MAX_PROBLEMS` kept, all counted."""

    def __init__(self) -> None:
        self.kept: list[Problem] = []
        self.total = 0

    def extend(self, problems: list[Problem]) -> None:
        self.kept.extend(problems[: MAX_PROBLEMS - len(self.kept)])
        self.total += len(problems)

    def raise_if(self, what: str) -> None:
        if self.total:
            raise InvalidInput(self.kept, total=self.total, what=what)


def load_pairs(path: Path, max_output_chars: int, extra_columns: str = "reject") -> PairSet:
    """Validate a pairs file (JSONL, CSV or Parquet) whole, streaming it; raise `InvalidInput`
    on any problem. Problems of reading and of columns come first: rows are judged only in a
    file whose columns are right.

    Args:
        extra_columns: "reject" reports unknown columns; "metadata" keeps them inside `metadata`.
    """
    if path.suffix.lower() in (".jsonl", ".ndjson") and extra_columns == "reject":
        from reviewer.ingest.jsonl_fast import load_jsonl_fast  # it builds on this module

        fast = load_jsonl_fast(path, max_output_chars)
        if fast is not None:
            return fast
    rf = RecordFile(path)
    writer = PairWriter(str(path))
    rows, first_line = Problems(), {}
    context = {"max_output_chars": max_output_chars}
    try:
        for record in iter_records(rf, max_output_chars):
            data = _fold_extras(record.data) if extra_columns == "metadata" else record.data
            outcome = validate_row(rf, record.line, data, context, first_line)
            if isinstance(outcome, list):
                rows.extend(outcome)
            elif not (rows.total or rf.problems):  # an invalid file is not spilled
                writer.add(outcome)
        known = PAIR_FIELDS if extra_columns == "reject" else [*PAIR_FIELDS, *rf.columns]
        hint = " (or pass --extra-columns metadata to keep extra columns as metadata)"
        raise_if(
            rf.problems + check_columns(rf, REQUIRED_FIELDS, known, hint), f"pairs file {path}"
        )
        if not first_line and not rows.total:
            rows.extend([Problem(rf.name, None, "file", "has no rows")])
        rows.raise_if(f"pairs file {path}")
    except BaseException:
        writer.discard()
        raise
    return writer.finish()


def _fold_extras(data: dict[str, Any]) -> dict[str, Any]:
    """Columns that are not pair fields go inside `metadata` (their order there is immaterial:
    metadata is stored with sorted keys)."""
    extras = [k for k in data if k not in PAIR_FIELDS]
    if not extras:
        return data
    meta = json_cell(data.get("metadata"), dict) or {}
    if not isinstance(meta, dict):
        return data  # let validation report the malformed metadata
    kept = {k: v for k, v in data.items() if k not in extras}
    kept["metadata"] = {**meta, **{k: data[k] for k in extras if data.get(k) is not None}}
    return kept

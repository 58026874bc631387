"""A pair (one prompt, the candidate's and the baseline's outputs) and how a pairs file becomes one.

A file is accepted whole or not at all: every row is validated first, every problem is reported
with its line, and only a file with no problem yields a `PairSet`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
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
from reviewer.ingest.tabular import RecordFile, check_columns, read_records

MAX_PROBLEMS = 50
LONE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")  # possibly half of a UTF-16 pair
DEFAULT_STRATUM = "unspecified"


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


class Pair(BaseModel):
    """One prompt with two outputs, stored as candidate and baseline, never as left and right."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=200, description="Unique within the study.")
    prompt: str | list[ChatMessage] = Field(description="Text, or a list of chat messages.")
    candidate: str = Field(description="Output of the model under evaluation.")
    baseline: str = Field(description="Output of the model it must beat.")
    candidate_model: str | None = Field(None, description="Name of the candidate model.")
    baseline_model: str | None = Field(None, description="Name of the baseline model.")
    stratum: str = Field(DEFAULT_STRATUM, min_length=1, description="routine, hard, edge, ...")
    reference: str | None = Field(None, description="A reference answer, if one exists.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Anything else.")

    @field_validator("id", "stratum", mode="before")
    @classmethod
    def _strip_text(cls, value: Any) -> Any:
        value = as_text(value)
        return value.strip() if isinstance(value, str) else value

    @field_validator("stratum", mode="before")
    @classmethod
    def _default_stratum(cls, value: Any) -> Any:
        return DEFAULT_STRATUM if value is None or value == "" else value

    @field_validator("prompt", mode="before")
    @classmethod
    def _prompt(cls, value: Any) -> Any:
        value = json_cell(value, list)
        if isinstance(value, str) and not value.strip():
            raise ValueError("prompt is empty")
        if isinstance(value, list) and not value:
            raise ValueError("prompt has no messages")
        return value

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
            _check_plain(value)
        return value

    @property
    def identical_outputs(self) -> bool:
        return self.candidate.strip() == self.baseline.strip()

    @property
    def empty_outputs(self) -> list[str]:
        """Which outputs are empty (or only whitespace): 'candidate', 'baseline', both or none."""
        return [side for side in ("candidate", "baseline") if not getattr(self, side).strip()]


MAX_METADATA_DEPTH = 32


def _check_plain(value: dict[str, Any]) -> None:
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


_to_json = json.JSONEncoder(ensure_ascii=False).encode
_to_sorted_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode


def prompt_json(pair: Pair) -> str:
    """The prompt as stored: a JSON string, or a JSON list of messages."""
    if isinstance(pair.prompt, str):
        return _to_json(pair.prompt)
    return _to_json([m.model_dump() for m in pair.prompt])


def metadata_json(pair: Pair) -> str:
    return _to_sorted_json(pair.metadata) if pair.metadata else "{}"


def content_hash(pair: Pair, prompt: str, metadata: str) -> str:
    """sha256 over every field as stored, each prefixed by its length, so that no two different
    pairs give the same byte stream; None differs from ""."""
    digest = hashlib.sha256()
    for part in (
        pair.id,
        prompt,
        pair.candidate,
        pair.baseline,
        pair.candidate_model,
        pair.baseline_model,
        pair.stratum,
        pair.reference,
        metadata,
    ):
        if part is None:
            digest.update(b"-")
        else:
            data = part.encode()
            digest.update(b"%d:" % len(data))
            digest.update(data)
    return digest.hexdigest()


@dataclass
class PairSet:
    """A validated golden set, ready to store, with each pair's stored JSON and hash."""

    source: str
    pairs: list[Pair]
    warnings: list[str] = field(default_factory=list)
    prompts: list[str] = field(init=False)
    metadata: list[str] = field(init=False)
    hashes: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.prompts = [prompt_json(p) for p in self.pairs]
        self.metadata = [metadata_json(p) for p in self.pairs]
        self.hashes = [
            content_hash(p, pr, md)
            for p, pr, md in zip(self.pairs, self.prompts, self.metadata, strict=True)
        ]

    def content_hash(self) -> str:
        """Hash of every pair's content, independent of row order."""
        digest = hashlib.sha256()
        for h in sorted(self.hashes):
            digest.update(h.encode())
        return digest.hexdigest()


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


def validate_rows(
    rf: RecordFile, rows: list[tuple[int, dict[str, Any]]], max_output_chars: int
) -> tuple[list[Pair], list[Problem]]:
    pairs: list[Pair] = []
    problems: list[Problem] = []
    first_line: dict[str, int] = {}
    context = {"max_output_chars": max_output_chars}
    for line, data in rows:
        given = {k: v for k, v in data.items() if v is not None}  # None: not given
        if rf.path.suffix.lower() == ".csv":  # an empty CSV cell is an empty output
            given.update(
                {k: "" for k in ("candidate", "baseline") if k in rf.columns and k not in given}
            )
        try:
            pair = Pair.model_validate(given, context=context)
        except ValidationError as exc:
            problems.extend(problems_from(exc, rf.name, line))
            continue
        if pair.id in first_line:
            problems.append(duplicate_id(rf.name, line, pair.id, first_line[pair.id]))
            continue
        first_line[pair.id] = line
        pairs.append(pair)
    return pairs, problems


def flag_warnings(pairs: list[Pair]) -> list[str]:
    """Warnings for pairs kept but flagged: identical outputs, and empty outputs."""
    warnings = []
    same = [p.id for p in pairs if p.identical_outputs]
    if same:
        warnings.append(
            f"{len(same)} pair(s) have identical candidate and baseline outputs (kept, flagged; "
            f"expect ties): {_ids(same)}"
        )
    for side in ("candidate", "baseline"):
        empty = [p.id for p in pairs if side in p.empty_outputs]
        if empty:
            warnings.append(
                f"{len(empty)} pair(s) have an empty {side} output (kept, shown as an empty "
                f"response; dropping them would bias the study): {_ids(empty)}"
            )
    return warnings


def _ids(ids: list[str]) -> str:
    return ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")


def load_pairs(path: Path, max_output_chars: int, extra_columns: str = "reject") -> PairSet:
    """Validate a pairs file (JSONL, CSV or Parquet) whole; raise `InvalidInput` on any problem.

    Args:
        extra_columns: "reject" reports unknown columns; "metadata" keeps them inside `metadata`.
    """
    if path.suffix.lower() in (".jsonl", ".ndjson") and extra_columns == "reject":
        fast = _load_jsonl_fast(path, max_output_chars)
        if fast is not None:
            return fast
    rf = read_records(path, max_output_chars)
    known = PAIR_FIELDS if extra_columns == "reject" else [*PAIR_FIELDS, *rf.columns]
    hint = " (or pass --extra-columns metadata to keep extra columns as metadata)"
    problems = rf.problems + check_columns(rf, REQUIRED_FIELDS, known, hint)
    raise_if(problems, f"pairs file {path}")
    extras = [c for c in rf.columns if c not in PAIR_FIELDS]
    rows = [(r.line, _fold_extras(r.data, extras)) for r in rf.records]
    pairs, problems = validate_rows(rf, rows, max_output_chars)
    if not pairs and not problems:
        problems.append(Problem(rf.name, None, "file", "has no rows"))
    raise_if(problems, f"pairs file {path}")
    return PairSet(str(path), pairs, flag_warnings(pairs))


def _load_jsonl_fast(path: Path, max_output_chars: int) -> PairSet | None:
    """Parse and validate each line in pydantic-core, with no intermediate dict.

    Returns None at the first line that fails (or a repeated id): the caller then reads the
    file the detailed way, which names every problem. A clean 100k-pair file takes about half
    the time this way.
    """
    if not path.is_file():
        return None
    context = {"max_output_chars": max_output_chars}
    pairs: list[Pair] = []
    seen: set[str] = set()
    with open(path, "rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            if LONE_SURROGATE.search(line):
                return None  # the detailed reader names the line
            try:
                pair = Pair.model_validate_json(line, context=context)
            except (ValueError, RecursionError):  # ValidationError is a ValueError
                return None
            if pair.id in seen:
                return None
            seen.add(pair.id)
            pairs.append(pair)
    if not pairs:
        return None
    return PairSet(str(path), pairs, flag_warnings(pairs))


def _fold_extras(data: dict[str, Any], extras: list[str]) -> dict[str, Any]:
    if not extras:
        return data
    meta = json_cell(data.get("metadata"), dict) or {}
    if not isinstance(meta, dict):
        return data  # let validation report the malformed metadata
    kept = {k: v for k, v in data.items() if k not in extras}
    kept["metadata"] = {**meta, **{k: data[k] for k in extras if data.get(k) is not None}}
    return kept

"""The quick way through a clean JSONL pairs file: most rows never become a `Pair`.

A typical row (text prompt, string outputs, no odd cell) is checked against a schema with no
Python validator, in pydantic-core alone, and the few rules `Pair` applies in Python (trimmed id
and stratum, the default stratum, a non-empty prompt that is not a JSON list, the output length
limit, plain metadata) are applied here to the same effect. A row that does not fit that shape
goes through `Pair` itself, so what is stored never depends on the path a row took. At the first
row that `Pair` also refuses (or a repeated id) the caller gets None and reads the file the
detailed way, which names every problem. Both schemas parse with pydantic-core, which refuses a
lone UTF-16 surrogate escape (its strings are Rust strings), so such a line always takes the
detailed way and is named there. Measured in bench/RESULTS.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NotRequired

from pydantic import ConfigDict, TypeAdapter, with_config
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from reviewer.ingest.pairs import DEFAULT_STRATUM, MAX_ID_CHARS, Pair, check_plain
from reviewer.ingest.pairset import PairSet, PairWriter, metadata_json, stored_fields, text_json


@with_config(ConfigDict(extra="forbid", strict=True))
class PlainRow(TypedDict):
    """A row as most files hold it: every cell a JSON string (metadata an object)."""

    id: str
    prompt: str
    candidate: str
    baseline: str
    candidate_model: NotRequired[str | None]
    baseline_model: NotRequired[str | None]
    stratum: NotRequired[str | None]
    reference: NotRequired[str | None]
    metadata: NotRequired[dict[str, Any] | None]


_plain = TypeAdapter(PlainRow).validate_json


def plain_fields(line: bytes, limit: int) -> tuple[str | None, ...] | None:
    """The stored text columns of a plain row (as `PairWriter.add_fields` takes them), or None
    when the row is not plain or breaks a rule: `Pair` then decides."""
    try:
        row = _plain(line)
    except ValueError:
        return None
    pair_id, prompt = row["id"].strip(), row["prompt"]
    candidate, baseline = row["candidate"], row["baseline"]
    stratum, metadata = row.get("stratum"), row.get("metadata")
    stratum = DEFAULT_STRATUM if stratum is None or stratum == "" else stratum.strip()
    if not (pair_id and stratum and len(pair_id) <= MAX_ID_CHARS and prompt):
        return None
    # A prompt that starts with a space may be blank, one that starts with [ a list of messages.
    if prompt[0].isspace() or prompt[0] in ("[", "{"):
        return None
    if limit and (len(candidate) > limit or len(baseline) > limit):
        return None
    if metadata:
        try:
            check_plain(metadata)
        except ValueError:
            return None
    return (
        pair_id,
        text_json(prompt),
        candidate,
        baseline,
        row.get("candidate_model"),
        row.get("baseline_model"),
        stratum,
        row.get("reference"),
        metadata_json(metadata),
    )


def load_jsonl_fast(path: Path, max_output_chars: int) -> PairSet | None:
    """Validate a clean JSONL pairs file into a `PairSet`; None if any row has a problem."""
    if not path.is_file():
        return None
    context = {"max_output_chars": max_output_chars}
    writer = PairWriter(str(path))
    seen: set[str] = set()
    with open(path, "rb") as lines:
        for line in lines:
            if line.isspace():
                continue
            fields = plain_fields(line, max_output_chars)
            if fields is None:
                try:
                    fields = stored_fields(Pair.model_validate_json(line, context=context))
                except (ValueError, RecursionError):  # ValidationError is a ValueError
                    fields = None
            if fields is None or fields[0] in seen:
                writer.discard()
                return None
            seen.add(fields[0])
            writer.add_fields(*fields)
    if not seen:
        writer.discard()
        return None
    return writer.finish()

"""Parquet files read in bounded pieces, with their values made plain (text, numbers, lists).

A Parquet file is compressed, and repeated values are stored once: a file of under a megabyte
can decode to gigabytes. So the file is read a few rows at a time, and refused as soon as its
decoded size passes a cap derived from `limits.max_output_chars` (see `caps`): one row, one
row group as declared in the file, and the whole file each have one.
Dates, times, decimals and bytes become text, so that every value can be stored as JSON.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from reviewer.errors import Problem
from reviewer.ingest.tabular import Record, RecordFile

ROW_FIELDS = 4  # prompt, candidate, baseline, reference: each up to max_output_chars
UTF8 = 4  # bytes per character at most
FILE_ROWS_AT_LIMIT = 128  # the file may hold this many rows at the row cap
BATCH_ROWS = 64


@dataclass(frozen=True)
class Caps:
    """Decoded-size limits, in bytes, for one Parquet file."""

    row: int
    row_group: int
    file: int

    def explain(self) -> str:
        return (
            f"a row may decode to at most {_mb(self.row)} ({ROW_FIELDS} texts of "
            f"limits.max_output_chars characters, {UTF8} bytes each, plus as much metadata), "
            f"a row group to {_mb(self.row_group)}, the file to {_mb(self.file)}; raise "
            "limits.max_output_chars in the study config if this file is intended"
        )


def caps(max_output_chars: int) -> Caps:
    """The caps for a study's `limits.max_output_chars`.

    >>> caps(100_000).row, caps(100_000).file // 2**20
    (3200000, 390)
    """
    row = 2 * ROW_FIELDS * UTF8 * max_output_chars
    return Caps(row=row, row_group=BATCH_ROWS * row, file=FILE_ROWS_AT_LIMIT * row)


def _mb(size: float) -> str:
    return f"{size / 2**20:,.1f} MB"


def read_parquet(out: RecordFile, max_output_chars: int) -> Iterator[Record]:
    """The records of a Parquet file, a batch of rows read at a time; every problem found is
    added to `out.problems`."""
    import pyarrow.parquet as pq

    limit = caps(max_output_chars)
    try:
        handle = pq.ParquetFile(out.path)
        out.columns = list(handle.schema_arrow.names)
    except Exception as exc:  # pyarrow raises several unrelated types for a broken file
        out.problems.append(_unreadable(out, None, exc))
        return
    if _bad_shape(out, handle, limit):
        return
    total = 0
    line = 0
    try:
        for batch in handle.iter_batches(batch_size=BATCH_ROWS):
            # Sizes come from Arrow's lengths, before any value is copied into Python.
            for offset, size in enumerate(row_sizes(batch)):
                total += size
                if size > limit.row:
                    out.problems.append(_too_big(out, line + offset + 1, "row", size, limit))
                    return
                if total > limit.file:
                    out.problems.append(_too_big(out, line + offset + 1, "file", total, limit))
                    return
            for row in batch.to_pylist():
                line += 1
                size = _size(row, limit.row)
                if size > limit.row:
                    out.problems.append(_too_big(out, line, "row", size, limit))
                    return
                yield Record(line, {k: plain(v) for k, v in row.items()})
    except Exception as exc:  # a corrupt page shows only when it is decoded
        out.problems.append(_unreadable(out, line + 1, exc))


def row_sizes(batch: Any) -> list[int]:
    """Decoded bytes of each row of a record batch: text and binary columns exactly (a
    dictionary-encoded column counts its value on every row that uses it), other columns
    their Arrow size shared evenly."""
    import pyarrow as pa
    import pyarrow.compute as pc

    rows = batch.num_rows
    sizes = [0] * rows
    for column in batch.columns:
        lengths = None
        kind = column.type
        if pa.types.is_dictionary(kind) and _is_text(kind.value_type):
            lengths = pc.take(pc.binary_length(column.dictionary), column.indices)
        elif _is_text(kind):
            lengths = pc.binary_length(column)
        if lengths is None:
            share = column.nbytes // max(rows, 1) + 1
            sizes = [s + share for s in sizes]
        else:
            sizes = [s + (n or 0) for s, n in zip(sizes, lengths.to_pylist(), strict=True)]
    return sizes


def _is_text(kind: Any) -> bool:
    import pyarrow as pa

    return (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


def _bad_shape(out: RecordFile, handle: Any, limit: Caps) -> bool:
    """Columns named twice, or a row group declared larger than the cap: refuse before reading."""
    seen: dict[str, int] = {}
    for number, name in enumerate(out.columns, start=1):
        if name in seen:
            message = f"column {number} repeats column {seen[name]} (both named '{name}')"
            out.problems.append(out_problem(out, None, name, message))
        seen.setdefault(name, number)
    meta = handle.metadata
    first = 1
    for index in range(meta.num_row_groups):
        group = meta.row_group(index)
        if group.total_byte_size > limit.row_group:
            message = (
                f"row group {index + 1} (rows {first}-{first + group.num_rows - 1}) decodes to "
                f"{_mb(group.total_byte_size)}; {limit.explain()}"
            )
            out.problems.append(out_problem(out, first, "file", message))
            break
        first += group.num_rows
    return bool(out.problems)


def out_problem(out: RecordFile, line: int | None, field: str, message: str) -> Problem:
    return Problem(out.name, line, field, message)


def _unreadable(out: RecordFile, line: int | None, exc: Exception) -> Problem:
    text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
    return out_problem(out, line, "file", f"not a readable Parquet file ({text})")


def _too_big(out: RecordFile, line: int, what: str, size: int, limit: Caps) -> Problem:
    where = "this row decodes" if what == "row" else f"rows 1-{line} decode"
    message = f"{where} to more than {_mb(size)}; {limit.explain()}"
    return out_problem(out, line, what, message)


def _size(value: Any, budget: int) -> int:
    """Approximate decoded size of a value, stopping once it passes `budget`."""
    total = 0
    stack = [value]
    while stack and total <= budget:
        item = stack.pop()
        if isinstance(item, str | bytes):
            total += len(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
            total += 8 * len(item)
        elif isinstance(item, list | tuple):
            stack.extend(item)
            total += 8 * len(item)
        else:
            total += 8
    return total


def plain(value: Any) -> Any:
    """A Parquet value as JSON can hold it: dates, decimals, bytes as text; maps as objects.

    >>> plain({"d": dt.date(2024, 1, 2), "n": Decimal("1.50"), "b": b"ok", "f": float("nan")})
    {'d': '2024-01-02', 'n': '1.50', 'b': 'ok', 'f': None}
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):
            return {str(k): plain(v) for k, v in value}  # a Parquet map: (key, value) pairs
        return [plain(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value

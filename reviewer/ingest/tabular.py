"""Read a user's JSONL, CSV or Parquet file into rows that remember where they came from.

Every row keeps its line number (JSONL: the physical line; CSV: the line its record starts on;
Parquet: the 1-based row), so that any later problem can be reported as `file:line: field: ...`.
Reading never raises on bad content: it returns the problems it found beside the rows it could read.
A missing file, a folder, or an unsupported extension is refused at once.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer.errors import InvalidInput, Problem

FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}


@dataclass
class Record:
    line: int
    data: dict[str, Any]


@dataclass
class RecordFile:
    """The readable rows of a file and the problems met while reading it."""

    path: Path
    records: list[Record] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    first_line: dict[str, int] = field(default_factory=dict)

    def line_of(self, column: str) -> int:
        """Line where a column (a JSONL key) first appears; 1 for a CSV header."""
        return self.first_line.get(column, 1)

    @property
    def name(self) -> str:
        return str(self.path)


# Python's csv module refuses fields over 131,072 characters; an output may be longer.
CSV_FIELD_LIMIT = 131_072


def require_file(path: Path) -> None:
    """Raise `InvalidInput` naming the file if it is missing, a folder or unreadable."""
    try:
        os.stat(path)
    except FileNotFoundError:
        raise InvalidInput([Problem(str(path), None, "file", "not found")]) from None
    except OSError as exc:
        reason = f"cannot be read ({exc.strerror or exc})"
        raise InvalidInput([Problem(str(path), None, "file", reason)]) from None
    if not os.path.isfile(path):
        kind = "a folder" if os.path.isdir(path) else "not a regular file"
        raise InvalidInput([Problem(str(path), None, "file", f"is {kind}, not a file")])


def read_records(path: Path, max_output_chars: int = 100_000) -> RecordFile:
    """Read a file by its extension; a missing or unsupported file is an immediate error.

    `max_output_chars` sizes the longest CSV field and the Parquet decoding caps.
    """
    out = RecordFile(path)
    out.records = list(iter_records(out, max_output_chars))
    return out


def iter_records(out: RecordFile, max_output_chars: int = 100_000) -> Iterator[Record]:
    """The records of `out.path` one at a time, so a large file is never whole in memory.

    A missing or unsupported file raises at once; content problems are added to `out.problems`
    as they are met. `out.columns` is set before the first record (CSV, Parquet) or once the
    last has been read (JSONL: the keys of every line).
    """
    path = out.path
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        raise InvalidInput(
            [Problem(str(path), None, "file", "expected a .jsonl, .csv or .parquet file")]
        )
    require_file(path)
    if kind == "parquet":
        from reviewer.ingest.parquet import read_parquet

        return read_parquet(out, max_output_chars)
    if kind == "jsonl":
        return _read_jsonl(out)
    csv.field_size_limit(max(CSV_FIELD_LIMIT, 4 * max_output_chars + 1))
    return _read_csv(out)


def _read_jsonl(out: RecordFile) -> Iterator[Record]:
    with open(out.path, "rb") as lines:  # streamed: the whole file is never in memory
        yield from _parse_jsonl(out, lines)


def _parse_jsonl(out: RecordFile, lines: Iterable[bytes]) -> Iterator[Record]:
    for number, line in enumerate(lines, start=1):
        if number == 1:
            line = line.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark, as CSV accepts
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.problems.append(Problem(out.name, number, "encoding", _bad_bytes(line, exc)))
            continue
        data, problem = _json_line(text)
        if problem:
            out.problems.append(Problem(out.name, number, "json", problem))
            continue
        if not isinstance(data, dict):
            out.problems.append(Problem(out.name, number, "json", "each line must be an object"))
            continue
        for key in data:
            out.first_line.setdefault(key, number)
        yield Record(number, data)
    out.columns = list(out.first_line)


def _json_line(text: str) -> tuple[Any, str]:
    """Decode one JSON line, or say why not (never raising on hostile content)."""
    try:
        data = json.loads(text)
        if "\\u" in text:  # an escaped lone surrogate decodes to a str that is not text
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        return data, ""
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end].encode("unicode_escape").decode()
        return None, f"holds {bad}, half of a UTF-16 surrogate pair, which is not text"
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg})"
    except RecursionError:
        return None, "nested too deeply to read"
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        return None, f"not usable JSON ({str(exc).split('; use sys.')[0]})"


def _read_csv(out: RecordFile) -> Iterator[Record]:
    """Stream the file as UTF-8 (utf-8-sig drops Excel's byte-order mark). A file that turns
    out not to be UTF-8 is then read whole, to name each bad line and still report the other
    problems; records already given are not given again."""
    known = len(out.problems)
    last = 0
    try:
        with open(out.path, encoding="utf-8-sig", newline="") as handle:
            for record in _parse_csv(out, handle):
                last = record.line
                yield record
        return
    except UnicodeDecodeError:
        pass
    del out.problems[known:]  # the whole read below finds them again
    raw = out.path.read_bytes()
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as exc:
            out.problems.append(Problem(out.name, number, "encoding", _bad_bytes(line, exc)))
    text = raw.decode("utf-8-sig", errors="replace")
    for record in _parse_csv(out, io.StringIO(text, newline="")):
        if record.line > last:
            yield record


def _parse_csv(out: RecordFile, lines: Iterable[str]) -> Iterator[Record]:
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if header is None:
            out.problems.append(Problem(out.name, 1, "header", "file is empty"))
            return
        out.columns = [h.strip() for h in header]
        duplicates = _duplicate_columns(out)
        if duplicates:
            out.problems += duplicates
            return
        start = reader.line_num + 1
        for row in reader:
            if not any(cell.strip() for cell in row):
                start = reader.line_num + 1
                continue
            if len(row) != len(out.columns):
                out.problems.append(
                    Problem(
                        out.name,
                        start,
                        "row",
                        f"has {len(row)} cells but the header has {len(out.columns)} columns",
                    )
                )
            else:
                # Empty CSV cells mean "not given", like a missing key in JSONL.
                data = {k: (v if v != "" else None) for k, v in zip(out.columns, row, strict=True)}
                yield Record(start, data)
            start = reader.line_num + 1
    except csv.Error as exc:
        message = str(exc)
        if "field larger than field limit" in message:
            message = (
                f"a cell is longer than {csv.field_size_limit():,} characters, far above "
                "limits.max_output_chars"
            )
        out.problems.append(Problem(out.name, reader.line_num, "csv", message))


def _duplicate_columns(out: RecordFile) -> list[Problem]:
    """Two header cells with one name: which one wins would be a guess, so refuse."""
    seen: dict[str, int] = {}
    problems = []
    for number, name in enumerate(out.columns, start=1):
        if name in seen:
            problems.append(
                Problem(
                    out.name,
                    1,
                    name,
                    f"column {number} repeats column {seen[name]} (both named '{name}'); "
                    "rename or remove one",
                )
            )
        seen.setdefault(name, number)
    return problems


def _bad_bytes(line: bytes, exc: UnicodeDecodeError) -> str:
    snippet = line[max(0, exc.start - 10) : exc.end + 10]
    return (
        f"not UTF-8 (byte 0x{line[exc.start]:02x} at column {exc.start + 1}, near {snippet!r}); "
        "re-save the file as UTF-8"
    )


def check_columns(
    rf: RecordFile, required: Iterable[str], known: Iterable[str], hint: str = ""
) -> list[Problem]:
    """Report missing required columns and unknown ones, with a guess at what was meant."""
    import difflib

    known = set(known)
    required = list(required)
    problems: list[Problem] = []
    if not rf.columns and not rf.records:
        return [] if rf.problems else [Problem(rf.name, None, "file", "is empty (no rows)")]
    columns = set(rf.columns)
    missing = [c for c in required if c not in columns]
    if missing and rf.path.suffix.lower() == ".csv" and not (columns & known):
        return [
            Problem(
                rf.name,
                1,
                "header",
                "the first line does not look like a header (no known column names); the file "
                f"must start with a header line naming its columns, e.g. {','.join(required)}",
            )
        ]
    for col in missing:
        problems.append(Problem(rf.name, 1, col, "required column is missing"))
    for col in rf.columns:
        if col not in known:
            guess = difflib.get_close_matches(col, sorted(known), n=1, cutoff=0.75)
            more = f" (did you mean '{guess[0]}'?)" if guess else ""
            problems.append(Problem(rf.name, rf.line_of(col), col, f"unknown column{more}{hint}"))
    return problems

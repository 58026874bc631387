"""One output file per model, joined on `id` into pairs (the other way to bring a golden set).

Same rules as a pairs file: every row of both files validated, each problem reported with the
file, line and column that hold it, and nothing imported unless both files are clean. Unlike a
pairs file, both files are held in memory while they are joined.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reviewer.errors import Problem
from reviewer.ingest.pairs import as_text, duplicate_id, json_cell, raise_if, validate_rows
from reviewer.ingest.pairset import PairSet, PairWriter
from reviewer.ingest.tabular import RecordFile, check_columns, read_records

OUTPUT_FIELDS = ("id", "prompt", "output", "model", "stratum", "reference", "metadata")


def load_pair_files(candidate: Path, baseline: Path, max_output_chars: int) -> PairSet:
    """Join one output file per model on `id` into pairs.

    Each file has `id`, `prompt`, `output` and optionally `model`, `stratum`, `reference`,
    `metadata`. Ids found in only one file, or prompts that differ, are reported and nothing is
    imported: a pair with one side missing cannot be judged.
    """
    files = {
        "candidate": read_records(candidate, max_output_chars),
        "baseline": read_records(baseline, max_output_chars),
    }
    problems: list[Problem] = []
    for rf in files.values():
        problems += rf.problems + check_columns(rf, ("id", "prompt", "output"), OUTPUT_FIELDS)
    raise_if(problems, "output files")
    by_id: dict[str, dict[str, tuple[int, dict[str, Any]]]] = {"candidate": {}, "baseline": {}}
    for side, rf in files.items():
        for rec in rf.records:
            key = str(as_text(rec.data.get("id")) or "").strip()
            if key in by_id[side]:
                problems.append(duplicate_id(rf.name, rec.line, key, by_id[side][key][0]))
            else:
                by_id[side][key] = (rec.line, rec.data)
    rows = _joined_rows(files, by_id, problems, candidate)
    cand, base = by_id["candidate"], by_id["baseline"]
    pairs, row_problems = validate_rows(files["candidate"], rows, max_output_chars)
    # An output's problem belongs to the file, line and column that hold that output.
    baseline_line = {line: base[key][0] for key, (line, _) in cand.items() if key in base}
    for p in row_problems:
        if p.field == "baseline":
            p = Problem(files["baseline"].name, baseline_line[p.line], "output", p.message)
        elif p.field == "candidate":
            p = Problem(p.file, p.line, "output", p.message)
        problems.append(p)
    raise_if(problems, "output files")
    writer = PairWriter(f"{candidate} + {baseline}")
    for pair in pairs:
        writer.add(pair)
    return writer.finish()


def _joined_rows(
    files: dict[str, RecordFile],
    by_id: dict[str, dict[str, tuple[int, dict[str, Any]]]],
    problems: list[Problem],
    candidate: Path,
) -> list[tuple[int, dict[str, Any]]]:
    """Pair rows for the ids in both files (in the candidate file's order); ids in one file
    only, and prompts that differ, are added to `problems`."""
    cand, base = by_id["candidate"], by_id["baseline"]
    for side, other in (("candidate", "baseline"), ("baseline", "candidate")):
        for key, (line, _) in by_id[side].items():
            if key not in by_id[other]:
                problems.append(
                    Problem(files[side].name, line, "id", f"'{key}' is not in {files[other].name}")
                )
    rows = []
    for key, (line, c) in cand.items():
        if key not in base:
            continue
        b = base[key][1]
        if json_cell(c.get("prompt"), list) != json_cell(b.get("prompt"), list):
            problems.append(
                Problem(files["baseline"].name, base[key][0], "prompt", f"differs from {candidate}")
            )
        rows.append(
            (
                line,
                {
                    "id": c.get("id"),
                    "prompt": c.get("prompt"),
                    "candidate": _output(files["candidate"], c),
                    "baseline": _output(files["baseline"], b),
                    "candidate_model": c.get("model"),
                    "baseline_model": b.get("model"),
                    "stratum": c.get("stratum") or b.get("stratum"),
                    "reference": c.get("reference") or b.get("reference"),
                    "metadata": c.get("metadata") or b.get("metadata"),
                },
            )
        )
    return rows


def _output(rf: RecordFile, data: dict[str, Any]) -> Any:
    """The output of a row; an empty CSV cell is an empty output, not a missing one."""
    value = data.get("output")
    if value is None and "output" in rf.columns and rf.path.suffix.lower() == ".csv":
        return ""
    return value

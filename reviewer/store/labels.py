"""Human labels, judges and judge verdicts, as SQL over a cursor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from reviewer.store.connection import Cursor


@dataclass(frozen=True)
class NewLabel:
    pair_id: str
    annotator_id: str
    preference: str
    both_bad: bool
    criteria: dict[str, str | dict[str, str]]
    rationale: str | None
    flag_reason: str | None
    candidate_left: bool | None
    shown_at: datetime | None
    submitted_at: datetime | None
    source: str


def insert_labels(cur: Cursor, study_id: str, labels: list[NewLabel]) -> None:
    """Append labels; each becomes the next revision of its (pair, annotator)."""
    cur.execute(
        "SELECT pair_id, annotator_id, max(revision) FROM labels WHERE study_id = ? "
        "GROUP BY pair_id, annotator_id",
        [study_id],
    )
    revision = {(p, a): r for p, a, r in cur.fetchall()}
    rows = []
    for lab in labels:
        key = (lab.pair_id, lab.annotator_id)
        revision[key] = revision.get(key, 0) + 1
        rows.append(
            [
                study_id,
                lab.pair_id,
                lab.annotator_id,
                lab.preference,
                lab.both_bad,
                json.dumps(lab.criteria, sort_keys=True),
                lab.rationale,
                lab.flag_reason,
                lab.candidate_left,
                lab.shown_at,
                lab.submitted_at,
                revision[key],
                lab.source,
            ]
        )
    cur.executemany(
        "INSERT INTO labels (study_id, pair_id, annotator_id, preference, both_bad, criteria_json,"
        " rationale, flag_reason, candidate_left, shown_at, submitted_at, revision, source)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, coalesce(?, now()), ?, ?)",
        rows,
    )


_SOURCES = {
    "labels": "SELECT DISTINCT source FROM labels WHERE study_id = ?",
    "verdicts": "SELECT DISTINCT source FROM verdicts WHERE study_id = ?",
}


def sources_seen(cur: Cursor, study_id: str, table: Literal["labels", "verdicts"]) -> set[str]:
    """Sources (file hashes) already imported into `table` for this study."""
    if table not in _SOURCES:
        raise ValueError(f"no source column in {table!r}")
    cur.execute(_SOURCES[table], [study_id])
    return {r[0] for r in cur.fetchall()}


def ensure_external_judge(cur: Cursor, judge_id: str, name: str, version_hash: str) -> None:
    cur.execute(
        "INSERT INTO judges (judge_id, name, provider, params_json, version_hash, created_at) "
        "VALUES (?, ?, 'external', '{}', ?, now()) ON CONFLICT DO NOTHING",
        [judge_id, name, version_hash],
    )


def existing_verdict_keys(cur: Cursor, study_id: str) -> set[tuple[str, str, str]]:
    cur.execute("SELECT pair_id, judge_id, presented FROM verdicts WHERE study_id = ?", [study_id])
    return set(cur.fetchall())


def insert_verdicts(cur: Cursor, study_id: str, rows: list[list]) -> None:
    """Rows of (pair_id, judge_id, presented, preference, criteria_json, rationale, source)."""
    cur.executemany(
        "INSERT INTO verdicts (study_id, pair_id, judge_id, presented, preference, criteria_json,"
        " rationale, source, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, now())",
        [[study_id, *row] for row in rows],
    )

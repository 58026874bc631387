"""What the labeling page reads and writes: queues, views (displays) and app labels."""

from __future__ import annotations

import json
from typing import Any

from reviewer.store.connection import Cursor, fetch_dicts

_LABELED = (
    "EXISTS (SELECT 1 FROM labels l WHERE l.study_id = a.study_id AND l.pair_id = a.pair_id "
    "AND l.annotator_id = a.annotator_id)"
)


def progress(cur: Cursor, study_id: str, annotator_id: str) -> dict[str, int]:
    """Queue size and labels done, overall and on calibration pairs."""
    rows = fetch_dicts(
        cur,
        f"""
        SELECT count(*) AS total,
               count(*) FILTER ({_LABELED}) AS done,
               count(*) FILTER (a.in_calibration) AS calibration_total,
               count(*) FILTER (a.in_calibration AND {_LABELED}) AS calibration_done
        FROM assignments a WHERE a.study_id = ? AND a.annotator_id = ?
        """,
        [study_id, annotator_id],
    )
    return rows[0]


def next_unlabeled(
    cur: Cursor, study_id: str, annotator_id: str, skipped: list[str]
) -> dict[str, Any] | None:
    """First pair in the queue without a label from this annotator, skipping `skipped` pairs
    unless nothing else is left."""
    for avoid in (skipped, []):
        exclude = f"AND a.pair_id NOT IN ({', '.join('?' for _ in avoid)})" if avoid else ""
        rows = fetch_dicts(
            cur,
            f"""
            SELECT a.pair_id, a.candidate_left FROM assignments a
            WHERE a.study_id = ? AND a.annotator_id = ? AND NOT {_LABELED} {exclude}
            ORDER BY a.position LIMIT 1
            """,
            [study_id, annotator_id, *avoid],
        )
        if rows:
            return rows[0]
        if not avoid:
            return None
    return None


def labeled_history(cur: Cursor, study_id: str, annotator_id: str) -> list[dict[str, Any]]:
    """The annotator's labeled pairs, oldest first, with the latest label of each."""
    return fetch_dicts(
        cur,
        """
        SELECT pair_id, preference, both_bad, criteria_json, rationale, flag_reason,
               candidate_left, submitted_at
        FROM labels WHERE study_id = ? AND annotator_id = ?
        QUALIFY row_number() OVER (PARTITION BY pair_id ORDER BY revision DESC) = 1
        ORDER BY submitted_at, pair_id
        """,
        [study_id, annotator_id],
    )


def assigned_orientation(cur: Cursor, study_id: str, annotator_id: str, pair_id: str) -> bool:
    cur.execute(
        "SELECT candidate_left FROM assignments WHERE study_id = ? AND annotator_id = ? "
        "AND pair_id = ?",
        [study_id, annotator_id, pair_id],
    )
    row = cur.fetchone()
    return bool(row[0]) if row else True


def pair_content(cur: Cursor, study_id: str, pair_id: str) -> dict[str, Any]:
    rows = fetch_dicts(
        cur,
        "SELECT prompt_json, candidate, baseline, reference, in_calibration FROM pairs "
        "WHERE study_id = ? AND pair_id = ?",
        [study_id, pair_id],
    )
    return rows[0]


def create_view(
    cur: Cursor, view_id: str, study_id: str, annotator_id: str, pair_id: str, left: bool
) -> None:
    cur.execute(
        "INSERT INTO views VALUES (?, ?, ?, ?, ?, now())",
        [view_id, study_id, annotator_id, pair_id, left],
    )


def get_view(cur: Cursor, view_id: str, annotator_id: str) -> dict[str, Any] | None:
    rows = fetch_dicts(
        cur,
        "SELECT * FROM views WHERE view_id = ? AND annotator_id = ?",
        [view_id, annotator_id],
    )
    return rows[0] if rows else None


def insert_view_label(
    cur: Cursor,
    view_id: str,
    preference: str,
    both_bad: bool,
    criteria: dict,
    rationale: str | None,
    flag_reason: str | None,
) -> bool:
    """Store the label given on a view; False if that view was already submitted."""
    cur.execute(
        """
        INSERT INTO labels (study_id, pair_id, annotator_id, preference, both_bad, criteria_json,
                            rationale, flag_reason, candidate_left, shown_at, submitted_at,
                            revision, source, view_id)
        SELECT v.study_id, v.pair_id, v.annotator_id, ?, ?, ?, ?, ?, v.candidate_left,
               v.shown_at, now(),
               coalesce((SELECT max(l.revision) FROM labels l WHERE l.study_id = v.study_id
                         AND l.pair_id = v.pair_id AND l.annotator_id = v.annotator_id), 0) + 1,
               'app', v.view_id
        FROM views v WHERE v.view_id = ?
        ON CONFLICT DO NOTHING
        RETURNING label_id
        """,
        [
            preference,
            both_bad,
            json.dumps(criteria, sort_keys=True),
            rationale,
            flag_reason,
            view_id,
        ],
    )
    return cur.fetchone() is not None

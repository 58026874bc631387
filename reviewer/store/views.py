"""What the labeling page reads and writes: queues, views (displays) and app labels."""

from __future__ import annotations

from typing import Any

from reviewer.store.connection import Cursor, fetch_dicts


def _done(study_id: str, annotator_id: str) -> tuple[str, list[str]]:
    """This annotator's labeled pairs, as a subquery: cheaper than a correlated EXISTS."""
    return (
        "(SELECT DISTINCT pair_id FROM labels WHERE study_id = ? AND annotator_id = ?)",
        [study_id, annotator_id],
    )


def progress(cur: Cursor, study_id: str, annotator_id: str) -> dict[str, int]:
    """Queue size and labels done, overall and on calibration pairs."""
    done, args = _done(study_id, annotator_id)
    rows = fetch_dicts(
        cur,
        f"""
        SELECT count(*) AS total,
               count(d.pair_id) AS done,
               count(*) FILTER (WHERE a.in_calibration) AS calibration_total,
               count(d.pair_id) FILTER (WHERE a.in_calibration) AS calibration_done
        FROM assignments a LEFT JOIN {done} d USING (pair_id)
        WHERE a.study_id = ? AND a.annotator_id = ?
        """,
        [*args, study_id, annotator_id],
    )
    return rows[0]


def labeled_history(cur: Cursor, study_id: str, annotator_id: str) -> list[dict[str, Any]]:
    """The annotator's labeled pairs, oldest first, with the latest label of each."""
    return fetch_dicts(
        cur,
        """
        SELECT * FROM (
            SELECT DISTINCT ON (pair_id) pair_id, preference, both_bad, criteria_json,
                   rationale, flag_reason, candidate_left, submitted_at
            FROM labels WHERE study_id = ? AND annotator_id = ?
            ORDER BY pair_id, revision DESC
        ) AS latest
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


def get_view(cur: Cursor, view_id: str, annotator_id: str) -> dict[str, Any] | None:
    rows = fetch_dicts(
        cur,
        "SELECT * FROM views WHERE view_id = ? AND annotator_id = ?",
        [view_id, annotator_id],
    )
    return rows[0] if rows else None

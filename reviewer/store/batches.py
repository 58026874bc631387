"""Batches a judge run submitted to a provider's batch API: recorded when accepted, closed when
their results are written."""

from __future__ import annotations

from typing import Any

from reviewer.store.connection import Cursor, fetch_dicts


def record(
    cur: Cursor, batch_id: str, study_id: str, judge_id: str, provider: str, scope: str, n: int
) -> None:
    cur.execute(
        "INSERT INTO judge_batches (batch_id, study_id, judge_id, provider, scope, requests,"
        " status, submitted_at) VALUES (?, ?, ?, ?, ?, ?, 'submitted', now())",
        [batch_id, study_id, judge_id, provider, scope, n],
    )


def open_batches(cur: Cursor, study_id: str, judge_id: str) -> list[dict[str, Any]]:
    """This judge's batches for the study that nobody has collected yet, oldest first."""
    return fetch_dicts(
        cur,
        "SELECT batch_id, scope, requests FROM judge_batches WHERE study_id = $study"
        " AND judge_id = $judge AND collected_at IS NULL ORDER BY submitted_at, batch_id",
        {"study": study_id, "judge": judge_id},
    )


def close(cur: Cursor, batch_id: str, status: str, answered: int, failed: int) -> None:
    cur.execute(
        "UPDATE judge_batches SET status = ?, answered = ?, failed = ?, collected_at = now()"
        " WHERE batch_id = ?",
        [status, answered, failed, batch_id],
    )


def study_batches(cur: Cursor, study_id: str) -> list[dict[str, Any]]:
    """Every batch of the study, newest first."""
    return fetch_dicts(
        cur,
        "SELECT batch_id, judge_id, provider, scope, requests, status, answered, failed,"
        " submitted_at, collected_at FROM judge_batches WHERE study_id = $study"
        " ORDER BY submitted_at DESC, batch_id",
        {"study": study_id},
    )

"""Batches a judge run submits to a provider's batch API: recorded before they are sent, given
the provider's id once accepted, closed when their results are written."""

from __future__ import annotations

from typing import Any

from reviewer.store.connection import Cursor, fetch_dicts


def record(
    cur: Cursor, tag: str, study_id: str, judge_id: str, provider: str, scope: str, n: int
) -> None:
    """A batch about to be sent: no provider id yet."""
    cur.execute(
        "INSERT INTO judge_batches (tag, study_id, judge_id, provider, scope, requests, status,"
        " submitted_at) VALUES (?, ?, ?, ?, ?, ?, 'submitting', now())",
        [tag, study_id, judge_id, provider, scope, n],
    )


def accepted(cur: Cursor, tag: str, batch_id: str) -> None:
    cur.execute(
        "UPDATE judge_batches SET batch_id = ?, status = 'submitted' WHERE tag = ?",
        [batch_id, tag],
    )


def open_batches(cur: Cursor, study_id: str, judge_id: str) -> list[dict[str, Any]]:
    """This judge's batches for the study that nobody has collected yet, oldest first."""
    return fetch_dicts(
        cur,
        "SELECT tag, batch_id, scope, requests, submitted_at FROM judge_batches"
        " WHERE study_id = $study AND judge_id = $judge AND collected_at IS NULL"
        " ORDER BY submitted_at, tag",
        {"study": study_id, "judge": judge_id},
    )


def known_ids(cur: Cursor) -> set[str]:
    """Every provider batch id recorded, of any study or judge."""
    cur.execute("SELECT batch_id FROM judge_batches WHERE batch_id IS NOT NULL")
    return {row[0] for row in cur.fetchall()}


def close(cur: Cursor, tag: str, status: str, answered: int, failed: int) -> None:
    cur.execute(
        "UPDATE judge_batches SET status = ?, answered = ?, failed = ?, collected_at = now()"
        " WHERE tag = ?",
        [status, answered, failed, tag],
    )


def study_batches(cur: Cursor, study_id: str) -> list[dict[str, Any]]:
    """Every batch of the study, of any judge, newest first (the admin page lists them)."""
    return fetch_dicts(
        cur,
        "SELECT judge_id, provider, scope, batch_id, requests, status, answered, failed,"
        " submitted_at, collected_at FROM judge_batches WHERE study_id = $study"
        " ORDER BY submitted_at DESC, tag",
        {"study": study_id},
    )

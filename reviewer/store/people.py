"""Annotators and their assignments, as SQL over a cursor."""

from __future__ import annotations

from collections.abc import Sequence

from reviewer.models import Assignment
from reviewer.store.backend import staged
from reviewer.store.connection import Cursor, fetch_dicts

# Roles whose holders open the labeling page and so receive a queue.
QUEUE_ROLES = ("annotator",)


def annotator_ids(cur: Cursor, study_id: str, roles: Sequence[str] | None = None) -> list[str]:
    """Active annotators of a study, oldest first; only those with one of `roles` if given."""
    cur.execute(
        "SELECT annotator_id FROM annotators WHERE study_id = ? AND revoked_at IS NULL "
        "AND (? OR role = ANY(?::VARCHAR[])) ORDER BY created_at, annotator_id",
        [study_id, not roles, list(roles or [])],
    )
    return [r[0] for r in cur.fetchall()]


def annotator_names(cur: Cursor, study_id: str) -> dict[str, str]:
    """Every annotator id of a study (revoked ones too) with its display name."""
    cur.execute("SELECT annotator_id, display_name FROM annotators WHERE study_id = ?", [study_id])
    return dict(cur.fetchall())


def insert_annotator(
    cur: Cursor,
    study_id: str,
    annotator_id: str,
    display_name: str,
    token_hash: str | None,
    role: str,
) -> None:
    cur.execute(
        "INSERT INTO annotators (study_id, annotator_id, display_name, token_hash, role,"
        " created_at) VALUES (?, ?, ?, ?, ?, now())",
        [study_id, annotator_id, display_name, token_hash, role],
    )


def annotator_by_token(cur: Cursor, token_hash: str) -> dict | None:
    rows = fetch_dicts(
        cur,
        "SELECT study_id, annotator_id, display_name, role FROM annotators "
        "WHERE token_hash = ? AND revoked_at IS NULL",
        [token_hash],
    )
    return rows[0] if rows else None


def may_write(cur: Cursor, study_id: str, annotator_id: str, token_hash: str | None) -> bool:
    """Whether this annotator may still write: not revoked and, when the write came through a
    link, that link (`token_hash`) is still theirs (`annotators link` replaces it)."""
    cur.execute(
        "SELECT 1 FROM annotators WHERE study_id = ? AND annotator_id = ? "
        "AND revoked_at IS NULL AND (?::VARCHAR IS NULL OR token_hash = ?::VARCHAR)",
        [study_id, annotator_id, token_hash, token_hash],
    )
    return cur.fetchone() is not None


def labeled_orientations(cur: Cursor, study_id: str) -> dict[tuple[str, str], bool]:
    """(pair, annotator) rows that already hold a label: the planner must keep them as they are."""
    cur.execute(
        "SELECT a.pair_id, a.annotator_id, a.candidate_left FROM assignments a "
        "WHERE a.study_id = ? AND EXISTS (SELECT 1 FROM labels l WHERE l.study_id = a.study_id "
        "AND l.pair_id = a.pair_id AND l.annotator_id = a.annotator_id)",
        [study_id],
    )
    return {(pid, aid): left for pid, aid, left in cur.fetchall()}


def replace_assignments(cur: Cursor, study_id: str, plan: list[Assignment]) -> None:
    """Store a new plan; its pinned rows are identical to the stored ones, so replace all."""
    cur.execute("DELETE FROM assignments WHERE study_id = ?", [study_id])
    if not plan:
        return
    import pyarrow as pa  # here: the other queries of this module run in commands that need none

    table = pa.table(
        {
            "study_id": [study_id] * len(plan),
            "pair_id": [a.pair_id for a in plan],
            "annotator_id": [a.annotator_id for a in plan],
            "candidate_left": [a.candidate_left for a in plan],
            "position": [a.position for a in plan],
            "in_calibration": [a.in_calibration for a in plan],
        }
    )
    with staged(cur, "incoming_assignments", table):
        cur.execute(
            "INSERT INTO assignments (study_id, pair_id, annotator_id, candidate_left, position,"
            " in_calibration, assigned_at) SELECT study_id, pair_id, annotator_id, candidate_left,"
            " position, in_calibration, now() FROM incoming_assignments"
        )


def set_token(cur: Cursor, study_id: str, annotator_id: str, token_hash: str) -> bool:
    cur.execute(
        "UPDATE annotators SET token_hash = ? WHERE study_id = ? AND annotator_id = ? "
        "AND role = 'annotator' AND revoked_at IS NULL RETURNING annotator_id",
        [token_hash, study_id, annotator_id],
    )
    return cur.fetchone() is not None


def revoke(cur: Cursor, study_id: str, annotator_id: str) -> bool:
    cur.execute(
        "UPDATE annotators SET revoked_at = now() WHERE study_id = ? AND annotator_id = ? "
        "AND revoked_at IS NULL RETURNING annotator_id",
        [study_id, annotator_id],
    )
    return cur.fetchone() is not None

"""What the labeling page reads and writes on each label: the label itself, in as few statements
as DuckDB runs cheaply, then the annotator's progress and the next pair of their queue with its
content, in one query.

Portable SQL (`?` placeholders, standard SQL only): the same text runs on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reviewer.store.connection import Cursor, fetch_dicts

_PAGE = """
WITH done AS (
    SELECT DISTINCT pair_id FROM labels WHERE study_id = ? AND annotator_id = ?
), queue AS (
    SELECT a.pair_id, a.position, a.candidate_left, a.in_calibration,
           d.pair_id AS done_pair
    FROM assignments a LEFT JOIN done d ON d.pair_id = a.pair_id
    WHERE a.study_id = ? AND a.annotator_id = ?
), counts AS (
    SELECT count(*) AS total,
           count(done_pair) AS done,
           sum(CASE WHEN in_calibration THEN 1 ELSE 0 END) AS calibration_total,
           sum(CASE WHEN in_calibration AND done_pair IS NOT NULL THEN 1 ELSE 0 END)
               AS calibration_done
    FROM queue
), next_pair AS (
    SELECT pair_id, candidate_left FROM queue
    WHERE done_pair IS NULL
    ORDER BY CASE WHEN pair_id IN ({skipped}) THEN 1 ELSE 0 END, position
    LIMIT 1
)
SELECT c.total, c.done, c.calibration_total, c.calibration_done,
       n.pair_id, n.candidate_left,
       p.prompt_json, p.candidate, p.baseline, p.reference, p.in_calibration
FROM counts c
LEFT JOIN next_pair n ON 1 = 1
LEFT JOIN pairs p ON p.study_id = ? AND p.pair_id = n.pair_id
"""

_SKIPPED = "SELECT pair_id FROM views WHERE annotator_id = ? AND view_id IN ({views})"


def next_page(
    cur: Cursor, study_id: str, annotator_id: str, skipped_views: Sequence[str] = ()
) -> dict[str, Any]:
    """Progress counts (`total`, `done`, `calibration_total`, `calibration_done`) and the first
    unlabeled pair of the queue (`pair_id` None when every pair has a label), pairs shown in
    `skipped_views` last.

    The skipped views are this annotator's own (a view id of someone else's selects nothing).
    """
    if skipped_views:
        marks = ", ".join("?" for _ in skipped_views)
        skipped = _SKIPPED.format(views=marks)
        skipped_args: list[Any] = [annotator_id, *skipped_views]
    else:
        skipped, skipped_args = "SELECT NULL WHERE 1 = 0", []
    row = fetch_dicts(
        cur,
        _PAGE.format(skipped=skipped),
        [study_id, annotator_id, study_id, annotator_id, *skipped_args, study_id],
    )[0]
    for key in ("calibration_total", "calibration_done"):
        row[key] = int(row[key] or 0)
    return row


_VIEW = """
SELECT v.view_id, v.study_id, v.pair_id, v.annotator_id, v.candidate_left, v.shown_at
FROM views v JOIN annotators a ON a.study_id = v.study_id AND a.annotator_id = v.annotator_id
WHERE v.view_id = ? AND v.annotator_id = ? AND v.study_id = ?
  AND a.revoked_at IS NULL AND (?::VARCHAR IS NULL OR a.token_hash = ?::VARCHAR)
"""

_REVISION = """
SELECT coalesce(max(revision), 0) + 1, count(*) FILTER (WHERE view_id = ?)
FROM labels WHERE study_id = ? AND pair_id = ? AND annotator_id = ?
"""


def view_to_label(
    cur: Cursor, view_id: str, study_id: str, annotator_id: str, token_hash: str | None
) -> dict[str, Any] | None:
    """The view a label is given on, with the `revision` that label gets and whether the view
    was `submitted` already; None when the view is not this annotator's or they may no longer
    write (revoked, or `token_hash` is no longer their link): the caller tells which.

    Two point queries instead of the four a label took (link, view, revision, and an
    `ON CONFLICT` insert, which alone cost DuckDB ~5 ms).
    """
    rows = fetch_dicts(cur, _VIEW, [view_id, annotator_id, study_id, token_hash, token_hash])
    if not rows:
        return None
    view = rows[0]
    cur.execute(_REVISION, [view_id, study_id, view["pair_id"], annotator_id])
    revision, submitted = cur.fetchone()
    return {**view, "revision": int(revision), "submitted": bool(submitted)}


def insert_label(
    cur: Cursor,
    view: dict[str, Any],
    preference: str,
    *,
    both_bad: bool,
    criteria_json: str,
    rationale: str | None,
    flag_reason: str | None,
) -> None:
    """Store the label given on `view` (from `view_to_label`, in this transaction, not yet
    submitted). The unique index on `view_id` still refuses a second label on a view."""
    cur.execute(
        "INSERT INTO labels (study_id, pair_id, annotator_id, preference, both_bad, "
        "criteria_json, rationale, flag_reason, candidate_left, shown_at, submitted_at, "
        "revision, source, view_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, 'app', ?)",
        [
            view["study_id"],
            view["pair_id"],
            view["annotator_id"],
            preference,
            both_bad,
            criteria_json,
            rationale,
            flag_reason,
            view["candidate_left"],
            view["shown_at"],
            view["revision"],
            view["view_id"],
        ],
    )

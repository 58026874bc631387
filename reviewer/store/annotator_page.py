"""What the labeling page reads and writes on each label, in as few statements and table scans
as possible (DuckDB spends ~1.5 ms of CPU on each table a statement touches, however small the
work): the annotator's queue, read once per session, and the content of its next few pairs;
then per label one query that reads what the label must check and the queue's stamp, and two
inserts (the label, the next view).

Portable SQL (`?` placeholders, standard SQL only): the same text runs on DuckDB and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reviewer.store.connection import Cursor, fetch_dicts

# What changes when the queue does: a label of this annotator (written here, in another tab,
# or imported) and a new plan (`replace_assignments` stamps every row it writes).
_STAMP = """
    (SELECT count(*) AS labels, max(label_id) AS last_label
     FROM labels WHERE study_id = ? AND annotator_id = ?) s
    CROSS JOIN (SELECT max(assigned_at) AS assigned_at
                FROM assignments WHERE study_id = ? AND annotator_id = ?) t
"""

_QUEUE = f"""
SELECT a.pair_id, a.candidate_left, a.in_calibration,
       d.pair_id IS NOT NULL AS done, s.labels, s.last_label, t.assigned_at
FROM {_STAMP}
LEFT JOIN assignments a ON a.study_id = ? AND a.annotator_id = ?
LEFT JOIN (SELECT DISTINCT pair_id FROM labels WHERE study_id = ? AND annotator_id = ?) d
       ON d.pair_id = a.pair_id
ORDER BY a.position
"""

_STAMP_ONLY = f"SELECT s.labels, s.last_label, t.assigned_at FROM {_STAMP}"

STAMP = ("labels", "last_label", "assigned_at")


def queue(cur: Cursor, study_id: str, annotator_id: str) -> list[dict[str, Any]]:
    """The annotator's queue in order (`pair_id`, `candidate_left`, `in_calibration`, `done`),
    each row with the stamp (`STAMP`); one row with `pair_id` None when the queue is empty."""
    me = [study_id, annotator_id]
    return fetch_dicts(cur, _QUEUE, [*me, *me, *me, *me])


def stamp(cur: Cursor, study_id: str, annotator_id: str) -> dict[str, Any]:
    """The queue's stamp (`STAMP`)."""
    me = [study_id, annotator_id]
    return fetch_dicts(cur, _STAMP_ONLY, [*me, *me])[0]


def contents(cur: Cursor, study_id: str, pair_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Pair id -> what the page shows of it (`prompt_json`, `candidate`, `baseline`,
    `reference`, `in_calibration`), for the pairs among `pair_ids`."""
    if not pair_ids:
        return {}
    marks = ", ".join("?" for _ in pair_ids)
    rows = fetch_dicts(
        cur,
        "SELECT pair_id, prompt_json, candidate, baseline, reference, in_calibration "
        f"FROM pairs WHERE study_id = ? AND pair_id IN ({marks})",
        [study_id, *pair_ids],
    )
    return {r.pop("pair_id"): r for r in rows}


def pairs_of_views(cur: Cursor, annotator_id: str, view_ids: Sequence[str]) -> dict[str, str]:
    """View id -> pair id, for the views among `view_ids` shown to this annotator (a view id of
    someone else's gives nothing)."""
    if not view_ids:
        return {}
    marks = ", ".join("?" for _ in view_ids)
    cur.execute(
        f"SELECT view_id, pair_id FROM views WHERE annotator_id = ? AND view_id IN ({marks})",
        [annotator_id, *view_ids],
    )
    return dict(cur.fetchall())


_CHECKS = """
SELECT s.labels, s.last_label, t.assigned_at, s.revision, s.submitted,
       (SELECT count(*) FROM annotators a
        WHERE a.study_id = ? AND a.annotator_id = ? AND a.revoked_at IS NULL
          AND (?::VARCHAR IS NULL OR a.token_hash = ?::VARCHAR)) AS may_write
FROM (SELECT count(*) AS labels, max(label_id) AS last_label,
             coalesce(max(revision) FILTER (WHERE pair_id = ?), 0) + 1 AS revision,
             count(*) FILTER (WHERE view_id = ?) AS submitted
      FROM labels WHERE study_id = ? AND annotator_id = ?) s
CROSS JOIN (SELECT max(assigned_at) AS assigned_at
            FROM assignments WHERE study_id = ? AND annotator_id = ?) t
"""


def label_checks(
    cur: Cursor,
    study_id: str,
    annotator_id: str,
    token_hash: str | None,
    view_id: str,
    pair_id: str,
) -> dict[str, Any]:
    """Everything a label and the page after it need to read, in one query: whether the
    annotator `may_write` (not revoked, `token_hash` still their link), the `revision` a label
    on `pair_id` gets, whether `view_id` was `submitted` already and the queue's stamp (`STAMP`).
    One scan of the annotator's labels
    answers the label's questions and the stamp's (a view's label is its annotator's)."""
    me = [study_id, annotator_id]
    args = [*me, token_hash, token_hash, pair_id, view_id, *me, *me]
    row = fetch_dicts(cur, _CHECKS, args)[0]
    return {**row, "may_write": bool(row["may_write"]), "submitted": bool(row["submitted"])}


def view_record(
    cur: Cursor, view_id: str, study_id: str, annotator_id: str
) -> dict[str, Any] | None:
    """The pair shown in `view_id`, its orientation and when (None: not this annotator's)."""
    rows = fetch_dicts(
        cur,
        "SELECT pair_id, candidate_left, shown_at FROM views "
        "WHERE view_id = ? AND annotator_id = ? AND study_id = ?",
        [view_id, annotator_id, study_id],
    )
    return rows[0] if rows else None


def create_view(
    cur: Cursor, view_id: str, study_id: str, annotator_id: str, pair_id: str, *, left: bool
) -> Any:
    """Record that the pair is shown now, in this orientation; returns the time it was shown."""
    cur.execute(
        "INSERT INTO views VALUES (?, ?, ?, ?, ?, now()) RETURNING shown_at",
        [view_id, study_id, annotator_id, pair_id, left],
    )
    return cur.fetchone()[0]


def insert_label(
    cur: Cursor,
    study_id: str,
    annotator_id: str,
    view_id: str,
    view: dict[str, Any],
    revision: int,
    *,
    preference: str,
    both_bad: bool,
    criteria_json: str,
    rationale: str | None,
    flag_reason: str | None,
) -> int:
    """Store the label given on `view` (a `view_record`, not yet submitted, as `label_checks`
    said in this transaction) as `revision`; returns its id. The unique index on `view_id`
    still refuses a second label on a view."""
    cur.execute(
        "INSERT INTO labels (study_id, pair_id, annotator_id, preference, both_bad, "
        "criteria_json, rationale, flag_reason, candidate_left, shown_at, submitted_at, "
        "revision, source, view_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, 'app', ?) "
        "RETURNING label_id",
        [
            study_id,
            view["pair_id"],
            annotator_id,
            preference,
            both_bad,
            criteria_json,
            rationale,
            flag_reason,
            view["candidate_left"],
            view["shown_at"],
            revision,
            view_id,
        ],
    )
    return int(cur.fetchone()[0])

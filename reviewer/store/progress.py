"""Where a study stands, counted in SQL: pairs, labels, annotators' queues, calibration, judges.

Only the latest revision of a label counts; every query reads it from the same `latest` CTE.
"""

from __future__ import annotations

from typing import Any

from reviewer.store.connection import Cursor, fetch_dicts

_LATEST = """
    latest AS (
        SELECT DISTINCT ON (pair_id, annotator_id) * FROM labels WHERE study_id = $study
        ORDER BY pair_id, annotator_id, revision DESC
    )
"""


def pair_counts(cur: Cursor, study_id: str) -> dict[str, Any]:
    """Pairs by stratum, pairs with identical outputs, calibration pairs."""
    cur.execute(
        "SELECT stratum, count(*) FROM pairs WHERE study_id = ? GROUP BY stratum ORDER BY stratum",
        [study_id],
    )
    strata = dict(cur.fetchall())
    cur.execute(
        "SELECT count(*) FILTER (WHERE identical_outputs), count(*) FILTER (WHERE in_calibration) "
        "FROM pairs WHERE study_id = ?",
        [study_id],
    )
    identical, calibration = cur.fetchone()
    return {"strata": strata, "identical": identical, "calibration": calibration}


def annotator_counts(cur: Cursor, study_id: str) -> list[dict[str, Any]]:
    """Per active annotator: role, pairs assigned and labeled, overall and in calibration."""
    return fetch_dicts(
        cur,
        f"""
        WITH {_LATEST},
        queue AS (
            SELECT annotator_id, count(DISTINCT pair_id) AS assigned,
                   count(DISTINCT pair_id) FILTER (WHERE in_calibration) AS calibration_assigned
            FROM assignments WHERE study_id = $study GROUP BY annotator_id
        ),
        done AS (
            SELECT l.annotator_id, count(*) AS labeled,
                   count(*) FILTER (WHERE p.in_calibration) AS calibration_labeled
            FROM latest l JOIN pairs p USING (study_id, pair_id) GROUP BY l.annotator_id
        )
        SELECT a.annotator_id, a.display_name, a.role,
               coalesce(q.assigned, 0) AS assigned,
               coalesce(q.calibration_assigned, 0) AS calibration_assigned,
               coalesce(d.labeled, 0) AS labeled,
               coalesce(d.calibration_labeled, 0) AS calibration_labeled
        FROM annotators a
        LEFT JOIN queue q USING (annotator_id)
        LEFT JOIN done d USING (annotator_id)
        WHERE a.study_id = $study AND a.revoked_at IS NULL
        ORDER BY a.created_at, a.annotator_id
        """,
        {"study": study_id},
    )


def calibration_counts(cur: Cursor, study_id: str) -> dict[str, int]:
    """Labels on calibration pairs, pairs with two or more annotators, pairs labeled by all
    they were assigned to."""
    rows = fetch_dicts(
        cur,
        f"""
        WITH {_LATEST},
        per_pair AS (
            SELECT p.pair_id,
                   (SELECT count(*) FROM latest l WHERE l.pair_id = p.pair_id) AS n_labels,
                   (SELECT count(*) FROM assignments s
                     WHERE s.study_id = p.study_id AND s.pair_id = p.pair_id) AS n_assigned,
                   (SELECT count(*) FROM assignments s JOIN latest l
                          ON l.pair_id = s.pair_id AND l.annotator_id = s.annotator_id
                     WHERE s.study_id = p.study_id AND s.pair_id = p.pair_id) AS n_assigned_done
            FROM pairs p WHERE p.study_id = $study AND p.in_calibration
        )
        SELECT coalesce(sum(n_labels), 0) AS labels,
               count(*) FILTER (WHERE n_labels >= 2) AS pairs_with_two_or_more,
               count(*) FILTER (WHERE n_assigned > 0 AND n_assigned_done = n_assigned)
                   AS pairs_complete
        FROM per_pair
        """,
        {"study": study_id},
    )
    return {k: int(v) for k, v in rows[0].items()}


def label_counts(cur: Cursor, study_id: str) -> dict[str, Any]:
    """Label rows (revisions included), labeled pairs, labeled pairs per stratum."""
    rows = fetch_dicts(
        cur,
        f"""
        WITH {_LATEST}
        SELECT (SELECT count(*) FROM labels WHERE study_id = $study) AS labels,
               (SELECT count(DISTINCT pair_id) FROM latest) AS labeled_pairs
        """,
        {"study": study_id},
    )
    cur.execute(
        "SELECT p.stratum, count(DISTINCT p.pair_id) FROM pairs p JOIN labels l "
        "USING (study_id, pair_id) WHERE p.study_id = ? GROUP BY p.stratum",
        [study_id],
    )
    return {**rows[0], "by_stratum": dict(cur.fetchall())}


def verdict_counts(cur: Cursor, study_id: str) -> dict[str, int]:
    """Judge name -> verdicts stored."""
    cur.execute(
        "SELECT j.name, count(*) FROM verdicts v JOIN judges j USING (judge_id) "
        "WHERE v.study_id = ? GROUP BY j.name ORDER BY j.name",
        [study_id],
    )
    return dict(cur.fetchall())

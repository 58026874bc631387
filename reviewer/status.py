"""Where a study stands: pairs, strata, annotators, labels and calibration progress."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from reviewer.store import Store
from reviewer.store.connection import Cursor, fetch_dicts
from reviewer.study import require_study


class AnnotatorProgress(BaseModel):
    annotator_id: str
    display_name: str
    role: str = Field(description="annotator (has a link), sample (demo data) or imported.")
    assigned: int = Field(description="Pairs in this annotator's queue.")
    labeled: int = Field(description="Distinct pairs this annotator has labeled.")
    calibration_assigned: int
    calibration_labeled: int


class CalibrationProgress(BaseModel):
    pairs: int = Field(description="Pairs in the calibration set.")
    labels: int = Field(description="Latest labels on calibration pairs, all annotators.")
    pairs_with_two_or_more: int = Field(description="Pairs with labels from >= 2 annotators.")
    pairs_complete: int = Field(description="Pairs labeled by everyone they were assigned to.")


class StudyStatus(BaseModel):
    """The JSON of `signoff status --json`; fields are stable."""

    study: str
    title: str
    created_at: datetime
    frozen_at: datetime | None
    source: str
    pairs: int
    identical_outputs: int
    strata: dict[str, int]
    stratum_labeled: dict[str, int] = Field(description="Stratum -> pairs with a label.")
    calibration: CalibrationProgress
    annotators: list[AnnotatorProgress]
    labels: int = Field(description="Label rows, revisions included.")
    labeled_pairs: int = Field(description="Pairs with at least one label.")
    judges: dict[str, int] = Field(description="Judge name -> verdicts stored.")


def study_status(store: Store, study_id: str) -> StudyStatus:
    return store.read(lambda cur: _status(cur, study_id))


def _status(cur: Cursor, study_id: str) -> StudyStatus:
    study = require_study(cur, study_id)
    args = [study_id]
    cur.execute(
        "SELECT stratum, count(*) FROM pairs WHERE study_id = ? GROUP BY stratum ORDER BY stratum",
        args,
    )
    strata = dict(cur.fetchall())
    cur.execute(
        "SELECT count(*) FILTER (identical_outputs), count(*) FILTER (in_calibration) "
        "FROM pairs WHERE study_id = ?",
        args,
    )
    identical, calibration_pairs = cur.fetchone()
    # Latest revision per (pair, annotator): only it counts.
    latest = (
        "(SELECT * FROM labels WHERE study_id = ? "
        "QUALIFY row_number() OVER (PARTITION BY pair_id, annotator_id "
        "ORDER BY revision DESC) = 1)"
    )
    annotators = fetch_dicts(
        cur,
        f"""
        SELECT a.annotator_id, a.display_name, a.role,
               count(DISTINCT s.pair_id) AS assigned,
               count(DISTINCT s.pair_id) FILTER (s.in_calibration) AS calibration_assigned,
               (SELECT count(*) FROM {latest} l WHERE l.annotator_id = a.annotator_id)
                   AS labeled,
               (SELECT count(*) FROM {latest} l JOIN pairs p USING (study_id, pair_id)
                 WHERE l.annotator_id = a.annotator_id AND p.in_calibration)
                   AS calibration_labeled
        FROM annotators a
        LEFT JOIN assignments s USING (study_id, annotator_id)
        WHERE a.study_id = ? AND a.revoked_at IS NULL
        GROUP BY ALL ORDER BY min(a.created_at), a.annotator_id
        """,
        [study_id, study_id, study_id],
    )
    cur.execute(
        f"""
        WITH l AS {latest},
        per_pair AS (
            SELECT p.pair_id, count(l.annotator_id) AS n_labels,
                   (SELECT count(*) FROM assignments s WHERE s.study_id = p.study_id
                     AND s.pair_id = p.pair_id) AS n_assigned,
                   (SELECT count(*) FROM assignments s WHERE s.study_id = p.study_id
                     AND s.pair_id = p.pair_id AND EXISTS (SELECT 1 FROM l l2
                     WHERE l2.pair_id = s.pair_id AND l2.annotator_id = s.annotator_id))
                     AS n_assigned_done
            FROM pairs p LEFT JOIN l USING (pair_id)
            WHERE p.study_id = ? AND p.in_calibration GROUP BY ALL
        )
        SELECT coalesce(sum(n_labels), 0),
               count(*) FILTER (n_labels >= 2),
               count(*) FILTER (n_assigned > 0 AND n_assigned_done = n_assigned)
        FROM per_pair
        """,
        args * 2,
    )
    cal_labels, cal_two, cal_complete = cur.fetchone()
    cur.execute(
        f"SELECT count(*), (SELECT count(DISTINCT pair_id) FROM {latest}) "
        "FROM labels WHERE study_id = ?",
        args * 2,
    )
    labels, labeled_pairs = cur.fetchone()
    cur.execute(
        "SELECT p.stratum, count(DISTINCT p.pair_id) FROM pairs p JOIN labels l "
        "USING (study_id, pair_id) WHERE p.study_id = ? GROUP BY p.stratum",
        args,
    )
    stratum_labeled = dict(cur.fetchall())
    cur.execute(
        "SELECT j.name, count(*) FROM verdicts v JOIN judges j USING (judge_id) "
        "WHERE v.study_id = ? GROUP BY j.name ORDER BY j.name",
        args,
    )
    judges = dict(cur.fetchall())
    return StudyStatus(
        study=study.study_id,
        title=study.config.title,
        created_at=study.created_at,
        frozen_at=study.frozen_at,
        source=study.source,
        pairs=sum(strata.values()),
        identical_outputs=identical,
        strata=strata,
        stratum_labeled=stratum_labeled,
        calibration=CalibrationProgress(
            pairs=calibration_pairs,
            labels=int(cal_labels),
            pairs_with_two_or_more=cal_two,
            pairs_complete=cal_complete,
        ),
        annotators=[AnnotatorProgress(**a) for a in annotators],
        labels=labels,
        labeled_pairs=labeled_pairs,
        judges=judges,
    )

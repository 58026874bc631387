"""What the sign-off report reads from the store, in one place."""

from __future__ import annotations

from typing import Any

from reviewer.columns import Columns
from reviewer.store.connection import Cursor, fetch_columns, fetch_dicts
from reviewer.store.judge_calls import SERVED_CTE

_LATEST_LABELS = """
    SELECT DISTINCT ON (l.pair_id, l.annotator_id)
           l.pair_id, a.display_name AS annotator, l.annotator_id, l.preference, l.both_bad,
           {rationale} l.flag_reason, {submitted} l.criteria_json, l.candidate_left, p.stratum,
           CAST(extract(epoch FROM l.submitted_at) - extract(epoch FROM l.shown_at)
                AS DOUBLE PRECISION) AS seconds
    FROM labels l JOIN pairs p USING (study_id, pair_id)
         JOIN annotators a USING (study_id, annotator_id)
    WHERE l.study_id = ?
    ORDER BY l.pair_id, l.annotator_id, l.revision DESC
"""


def latest_labels(cur: Cursor, study_id: str) -> list[dict[str, Any]]:
    """Latest label per (pair, annotator), with the annotator's name, the pair's stratum and
    time on task. The labels export and the judge's calibration read it."""
    columns = {"rationale": "l.rationale,", "submitted": "l.submitted_at,"}
    return fetch_dicts(cur, _LATEST_LABELS.format(**columns), [study_id])


def report_labels(cur: Cursor, study_id: str) -> Columns:
    """`latest_labels`, same rows in the same order, as columns, without the rationale and
    submission time the report does not use (converting the times was half the read of 35,000
    labels)."""
    return fetch_columns(cur, _LATEST_LABELS.format(rationale="", submitted=""), [study_id])


def labeled_items(cur: Cursor, study_id: str) -> int:
    """How many of the study's pairs have a label: what `report_labels` will hold, counted
    before it is read."""
    cur.execute("SELECT count(DISTINCT pair_id) FROM labels WHERE study_id = ?", [study_id])
    return cur.fetchone()[0]


def first_labeled(cur: Cursor, study_id: str) -> dict[str, Any]:
    """Item -> when its first label (any annotator, any revision) was submitted: the order of
    the planned sample."""
    cur.execute(
        "SELECT pair_id, min(submitted_at) FROM labels WHERE study_id = ? GROUP BY pair_id",
        [study_id],
    )
    return dict(cur.fetchall())


_VERDICTS = (
    SERVED_CTE
    + """
    SELECT v.pair_id, {judge} j.judge_id, v.presented, v.preference, v.criteria_json, {rationale}
           length(p.candidate) AS candidate_chars, length(p.baseline) AS baseline_chars,
           s.served_model
    FROM verdicts v JOIN judges j USING (judge_id) JOIN pairs p USING (study_id, pair_id)
         LEFT JOIN served s ON s.cache_key = v.call_key
    WHERE v.study_id = $study
    """
)


def verdicts(cur: Cursor, study_id: str) -> list[dict[str, Any]]:
    """Every verdict with its judge, the lengths of the two outputs (characters, as Python
    counts them) and the model the provider said served it: that of the first successful call
    with its cache key (a cached answer carries it too); NULL when none was named."""
    sql = _VERDICTS.format(judge=_JUDGE, rationale="v.rationale, p.stratum,")
    return fetch_dicts(cur, sql, {"study": study_id})


_JUDGE = "j.name AS judge, j.provider, j.model, j.version_hash,"


def report_verdicts(cur: Cursor, study_id: str) -> Columns:
    """`verdicts`, same rows, as columns, without the judge's name, provider, model and version (the
    same on every verdict of a judge: `report_judges`) and the rationale and stratum the
    report does not use (a rationale is often the longest text a study holds). In pair order
    per judge: every item-keyed table the report builds from them is then in the order the
    report sorts items in, and each of its sorts a single pass."""
    sql = _VERDICTS.format(judge="", rationale="") + " ORDER BY v.judge_id, v.pair_id, v.presented"
    return fetch_columns(cur, sql, {"study": study_id})


def report_judges(cur: Cursor, study_id: str) -> dict[str, dict[str, Any]]:
    """Judge id -> judge_id, judge (its name), provider, model and version_hash, for every
    judge with a verdict in the study."""
    rows = fetch_dicts(
        cur,
        f"SELECT j.judge_id, {_JUDGE.rstrip(',')} FROM judges j "
        "WHERE j.judge_id IN (SELECT judge_id FROM verdicts WHERE study_id = ?)",
        [study_id],
    )
    return {r["judge_id"]: r for r in rows}


def pairs(cur: Cursor, study_id: str) -> dict[str, dict[str, Any]]:
    rows = fetch_dicts(
        cur,
        "SELECT pair_id, prompt_json, candidate, baseline, candidate_model, baseline_model, "
        "stratum FROM pairs WHERE study_id = ?",
        [study_id],
    )
    return {r["pair_id"]: r for r in rows}


def report_strata(cur: Cursor, study_id: str) -> dict[str, str]:
    """Pair id -> its stratum, for every pair of the study (two strings a pair, no dict)."""
    cur.execute("SELECT pair_id, stratum FROM pairs WHERE study_id = ?", [study_id])
    return dict(cur.fetchall())


def pair_models(cur: Cursor, study_id: str) -> dict[str, Any]:
    """The candidate and baseline model of one of the study's pairs ({} without pairs)."""
    rows = fetch_dicts(
        cur,
        "SELECT candidate_model, baseline_model FROM pairs WHERE study_id = ? LIMIT 1",
        [study_id],
    )
    return rows[0] if rows else {}


def pair_texts(cur: Cursor, study_id: str, pair_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The prompt, candidate and baseline of each of `pair_ids`."""
    rows = fetch_dicts(
        cur,
        "SELECT pair_id, prompt_json, candidate, baseline FROM pairs "
        "WHERE study_id = ? AND pair_id = ANY(?::VARCHAR[])",
        [study_id, pair_ids],
    )
    return {r["pair_id"]: r for r in rows}


def annotators(cur: Cursor, study_id: str) -> list[dict[str, Any]]:
    return fetch_dicts(
        cur,
        "SELECT annotator_id, display_name, role FROM annotators WHERE study_id = ? "
        "ORDER BY created_at, annotator_id",
        [study_id],
    )


def unblinding(cur: Cursor, study_id: str) -> dict[str, Any] | None:
    rows = fetch_dicts(
        cur,
        "SELECT occurred_at, actor FROM events WHERE study_id = ? AND kind = 'study.unblind' "
        "ORDER BY event_id LIMIT 1",
        [study_id],
    )
    return rows[0] if rows else None


def inputs_version(cur: Cursor, study_id: str) -> tuple:
    """What a report on this study is built from, in a few numbers: the study's last event,
    its last label and how many verdicts and calibrations it holds. A report built when these
    were the same is the same report (the admin page caches on it)."""
    cur.execute(
        """
        SELECT (SELECT max(event_id) FROM events WHERE study_id = $study),
               (SELECT max(label_id) FROM labels WHERE study_id = $study),
               (SELECT count(*) FROM verdicts WHERE study_id = $study),
               (SELECT count(*) FROM calibrations WHERE study_id = $study),
               (SELECT config_hash FROM studies WHERE study_id = $study)
        """,
        {"study": study_id},
    )
    return tuple(cur.fetchone())

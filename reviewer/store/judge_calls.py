"""Judges run by signoff, their call log (which is also the cache) and their verdicts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from judge.runner import CachedAnswer, Call, OrderVerdict
from reviewer.store.connection import Cursor, fetch_dicts


def ensure_judge(cur: Cursor, judge_id: str, row: dict[str, Any]) -> None:
    cur.execute(
        "INSERT INTO judges (judge_id, name, provider, model, params_json, rubric_json, template,"
        " version_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, now()) ON CONFLICT DO NOTHING",
        [
            judge_id,
            row["name"],
            row["provider"],
            row["model"],
            json.dumps(row["params"], sort_keys=True),
            json.dumps(row["rubric"], sort_keys=True),
            row["template"],
            row["version_hash"],
        ],
    )


def cached_answers(cur: Cursor, keys: Sequence[str]) -> dict[str, CachedAnswer]:
    """The first successful answer stored for each key (in any study: same messages, same
    model and parameters, same answer), with the model that served it. One row per key, not
    `arg_min` per column: that skips NULLs and could pair one call's text with another's model.
    """
    if not keys:
        return {}
    cur.execute(
        "SELECT DISTINCT ON (cache_key) cache_key, response_text, served_model FROM judge_calls "
        "WHERE outcome = 'ok' AND cache_key IN (SELECT unnest(?::VARCHAR[])) "
        "ORDER BY cache_key, call_id",
        [list(keys)],
    )
    return {key: CachedAnswer(text, served) for key, text, served in cur.fetchall()}


def append_calls(cur: Cursor, study_id: str, judge_id: str, calls: list[Call]) -> None:
    # Arrow tables, not pandas or executemany: a batch of 6 calls and verdicts commits in 18 ms
    # instead of 23 (pandas) or 31 (executemany), and 2,000 cached rows in 0.05 s.
    if not calls:
        return
    table = pa.table(
        {
            "pair_id": [c.pair_id for c in calls],
            "presented": [c.presented for c in calls],
            "cache_key": [c.cache_key for c in calls],
            "outcome": [c.outcome for c in calls],
            "attempt": pa.array([c.attempt for c in calls], pa.int32()),
            "request_json": pa.array(
                [json.dumps(c.request) if c.request else None for c in calls], pa.string()
            ),
            "response_text": pa.array([c.response_text for c in calls], pa.string()),
            "input_tokens": pa.array([c.input_tokens for c in calls], pa.int64()),
            "output_tokens": pa.array([c.output_tokens for c in calls], pa.int64()),
            "cost_usd": pa.array([c.cost_usd for c in calls], pa.float64()),
            "latency_ms": pa.array([c.latency_ms for c in calls], pa.float64()),
            "error": pa.array([c.error for c in calls], pa.string()),
            "served_model": pa.array([c.served_model for c in calls], pa.string()),
        }
    )
    cur.register("new_calls", table)
    cur.execute(
        "INSERT INTO judge_calls (study_id, judge_id, pair_id, presented, cache_key, outcome,"
        " attempt, request_json, response_text, input_tokens, output_tokens, cost_usd,"
        " latency_ms, error, served_model, created_at) SELECT ?, ?, pair_id, presented,"
        " cache_key, outcome, attempt, request_json, response_text, input_tokens, output_tokens,"
        " cost_usd, latency_ms, error, served_model, now() FROM new_calls",
        [study_id, judge_id],
    )
    cur.unregister("new_calls")


def add_verdicts(cur: Cursor, study_id: str, judge_id: str, verdicts: list[OrderVerdict]) -> None:
    """Store verdicts not yet stored (a resumed or cached run hands the same ones again)."""
    if not verdicts:
        return
    table = pa.table(
        {
            "pair_id": [v.pair_id for v in verdicts],
            "presented": [v.presented for v in verdicts],
            "preference": [v.preference for v in verdicts],
            "criteria_json": [json.dumps(v.criteria, sort_keys=True) for v in verdicts],
            "rationale": [v.rationale for v in verdicts],
            "call_key": [v.call_key for v in verdicts],
        }
    )
    cur.register("new_verdicts", table)
    cur.execute(
        "INSERT INTO verdicts (study_id, pair_id, judge_id, presented, preference, criteria_json,"
        " rationale, call_key, source, created_at) SELECT ?, pair_id, ?, presented, preference,"
        " criteria_json, rationale, call_key, 'run', now() FROM new_verdicts"
        " ON CONFLICT DO NOTHING",
        [study_id, judge_id],
    )
    cur.unregister("new_verdicts")


def latest_served(cur: Cursor, judge_id: str) -> dict[str, Any] | None:
    """The latest answer a provider gave this judge version (in any study) that named the
    model it came from: what the provider serves under the judge's model name lately."""
    cur.execute(
        "SELECT served_model, study_id, created_at FROM judge_calls WHERE judge_id = ? "
        "AND outcome = 'ok' AND served_model IS NOT NULL ORDER BY call_id DESC LIMIT 1",
        [judge_id],
    )
    row = cur.fetchone()
    return None if row is None else {"served": row[0], "study_id": row[1], "at": row[2]}


# The model that served each cache key's answer: the first successful call with that key (cached
# rows copy it), for queries on the verdicts of study $study.
SERVED_CTE = """
        WITH served AS (
            SELECT DISTINCT ON (cache_key) cache_key, served_model FROM judge_calls
            WHERE outcome IN ('ok', 'cached')
              AND cache_key IN (SELECT call_key FROM verdicts WHERE study_id = $study)
            ORDER BY cache_key, call_id
        )
"""


def served_by_verdict(cur: Cursor, study_id: str) -> list[dict[str, Any]]:
    """Every verdict of the study (judge_id, pair_id, presented) with the model the provider
    said served it: that of the first successful call with its cache key (a cached answer
    carries it too); NULL when none was named or the verdict was imported."""
    return fetch_dicts(
        cur,
        SERVED_CTE
        + """
        SELECT v.judge_id, v.pair_id, v.presented, s.served_model
        FROM verdicts v LEFT JOIN served s ON s.cache_key = v.call_key
        WHERE v.study_id = $study
        """,
        {"study": study_id},
    )

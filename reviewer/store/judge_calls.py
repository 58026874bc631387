"""Judges run by signoff, their call log (which is also the cache) and their verdicts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic_core import to_json

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


# The columns of a call as `_row` gives them, and their types. A write hands each column over as
# one list parameter, unnested in SQL (rows of one statement, on DuckDB and PostgreSQL alike):
# a run writes a few calls at a time (each paid answer at once), where registering an Arrow
# table cost ~5 ms of CPU per write and a multi-row VALUES grew with the rows, and a cached
# run's thousands of rows go in as one statement without importing pyarrow (bench/RESULTS.md,
# issue 16).
_CALL_COLUMNS = (
    "pair_id, presented, cache_key, outcome, attempt, request_json, response_text, input_tokens,"
    " output_tokens, cost_usd, latency_ms, error, served_model"
)
_CALL_TYPES = (
    "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "INTEGER", "VARCHAR", "VARCHAR", "BIGINT",
    "BIGINT", "FLOAT8", "FLOAT8", "VARCHAR", "VARCHAR",
)  # fmt: skip
# The calls' columns, one array parameter each (`_columns`), as rows.
_UNNESTED_CALLS = ", ".join(
    f"unnest(?::{kind}[])" + ("::JSON" if name == "request_json" else "") + f" AS {name}"
    for name, kind in zip(_CALL_COLUMNS.split(", "), _CALL_TYPES, strict=True)
)
_INSERT_CALLS = (
    f"INSERT INTO judge_calls (study_id, judge_id, {_CALL_COLUMNS}, created_at)"
    f" SELECT ?, ?, {_UNNESTED_CALLS}, now()"
)
_INSERT_VERDICTS = (
    "INSERT INTO verdicts (study_id, pair_id, judge_id, presented, preference, criteria_json,"
    " rationale, call_key, source, created_at) SELECT study_id, pair_id, ?, presented,"
    " preference, criteria_json::JSON, rationale, call_key, 'run', now() FROM (SELECT ? AS"
    " study_id, unnest(?::VARCHAR[]) AS pair_id, unnest(?::VARCHAR[]) AS presented,"
    " unnest(?::VARCHAR[]) AS preference, unnest(?::VARCHAR[]) AS criteria_json,"
    " unnest(?::VARCHAR[]) AS rationale, unnest(?::VARCHAR[]) AS call_key) AS new_verdicts"
    " ON CONFLICT DO NOTHING"
)


# A journaled answer moved in by a run after the one that paid for it was killed (see
# reviewer/judging/journal.py), at the time it was journaled, unless that call's row is already
# here: the same key, pair, order and attempt with the same measured latency (a float to the
# nanosecond; only paid calls, which all have one, are journaled).
_REPLAY_CALLS = (
    f"INSERT INTO judge_calls (study_id, judge_id, {_CALL_COLUMNS}, created_at) SELECT ?, ?,"
    f" {_CALL_COLUMNS}, journaled_at::TIMESTAMPTZ FROM (SELECT {_UNNESTED_CALLS},"
    " unnest(?::VARCHAR[]) AS journaled_at) AS journaled WHERE NOT EXISTS (SELECT 1"
    " FROM judge_calls c WHERE c.study_id = ? AND c.judge_id = ?"
    " AND c.cache_key = journaled.cache_key"
    " AND c.pair_id = journaled.pair_id AND c.presented = journaled.presented"
    " AND c.attempt = journaled.attempt AND c.latency_ms IS NOT DISTINCT FROM journaled.latency_ms)"
)


def _row(c: Call) -> tuple:
    request = to_json(c.request).decode() if c.request else None  # a third of json.dumps's time
    return (
        c.pair_id, c.presented, c.cache_key, c.outcome, c.attempt, request, c.response_text,
        c.input_tokens, c.output_tokens, c.cost_usd, c.latency_ms, c.error, c.served_model,
    )  # fmt: skip


def _columns(calls: Sequence[Call]) -> list[list]:
    """The calls' rows as columns, one array parameter each."""
    return [list(column) for column in zip(*map(_row, calls), strict=True)]


def append_calls(cur: Cursor, study_id: str, judge_id: str, calls: list[Call]) -> None:
    if not calls:
        return
    cur.execute(_INSERT_CALLS, [study_id, judge_id, *_columns(calls)])


def replay_calls(
    cur: Cursor, study_id: str, judge_id: str, calls: Sequence[tuple[Call, str]]
) -> None:
    """Add journaled calls (each with the ISO time it was journaled) not already stored."""
    if not calls:
        return
    columns = _columns([c for c, _ in calls])
    at = [at for _, at in calls]
    cur.execute(_REPLAY_CALLS, [study_id, judge_id, *columns, at, study_id, judge_id])


def add_verdicts(cur: Cursor, study_id: str, judge_id: str, verdicts: list[OrderVerdict]) -> None:
    """Store verdicts not yet stored (a resumed or cached run hands the same ones again)."""
    if not verdicts:
        return
    cur.execute(
        _INSERT_VERDICTS,
        [
            judge_id,
            study_id,
            [v.pair_id for v in verdicts],
            [v.presented for v in verdicts],
            [v.preference for v in verdicts],
            [json.dumps(v.criteria, sort_keys=True) for v in verdicts],
            [v.rationale for v in verdicts],
            [v.call_key for v in verdicts],
        ],
    )


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

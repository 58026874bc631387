"""The rubric each judge of a study applied, and the alignments that made new rubric versions:
what the report says about a judge's rubric."""

from __future__ import annotations

import json
from typing import Any

from reviewer.store.connection import Cursor, fetch_dicts


def rubrics(cur: Cursor, study_id: str) -> dict[str, dict[str, Any] | None]:
    """Judge id -> its rubric as registered (None for imported verdicts), for the judges with
    verdicts on the study."""
    rows = fetch_dicts(
        cur,
        "SELECT judge_id, rubric_json FROM judges WHERE judge_id IN "
        "(SELECT DISTINCT judge_id FROM verdicts WHERE study_id = ?)",
        [study_id],
    )
    return {r["judge_id"]: json.loads(r["rubric_json"]) if r["rubric_json"] else None for r in rows}


def alignments(cur: Cursor, study_id: str) -> dict[str, dict[str, Any]]:
    """Aligned judge id -> the latest `judge.align` event that made it (base judge, examples)."""
    rows = fetch_dicts(
        cur,
        "SELECT payload_json FROM events WHERE study_id = ? AND kind = 'judge.align' "
        "ORDER BY event_id",
        [study_id],
    )
    out = {}
    for row in rows:
        payload = json.loads(row["payload_json"])
        if payload.get("judge_id"):
            out[payload["judge_id"]] = payload
    return out

"""Calibration records of judge versions, and the gate overrides."""

from __future__ import annotations

import json
from typing import Any

from reviewer.store.connection import Cursor, fetch_dicts


def insert(
    cur: Cursor,
    study_id: str,
    judge_id: str,
    part: str,
    metrics: dict,
    gate: dict | None,
    config_hash: str,
) -> None:
    cur.execute(
        "INSERT INTO calibrations (study_id, judge_id, part, metrics_json, gate_json, passed,"
        " config_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, now())",
        [
            study_id,
            judge_id,
            part,
            json.dumps(metrics),
            json.dumps(gate) if gate is not None else None,
            gate["passed"] if gate is not None else None,
            config_hash,
        ],
    )


def latest(cur: Cursor, study_id: str) -> list[dict[str, Any]]:
    """The latest calibration of each (judge version, part), with the judge's name and model,
    oldest judge first."""
    rows = fetch_dicts(
        cur,
        """
        SELECT * FROM (
            SELECT DISTINCT ON (c.judge_id, c.part) c.judge_id, j.name, j.model, j.provider,
                   j.version_hash, c.part, c.metrics_json, c.gate_json, c.passed, c.created_at,
                   min(c.created_at) OVER (PARTITION BY c.judge_id) AS first_calibrated
            FROM calibrations c JOIN judges j USING (judge_id)
            WHERE c.study_id = ?
            ORDER BY c.judge_id, c.part, c.calibration_id DESC
        ) AS latest
        ORDER BY first_calibrated, judge_id, part
        """,
        [study_id],
    )
    for row in rows:
        row["metrics"] = json.loads(row.pop("metrics_json"))
        gate = row.pop("gate_json")
        row["gate"] = json.loads(gate) if gate else None
    return rows


def overrides(cur: Cursor, study_id: str) -> dict[str, dict[str, Any]]:
    """Gate overrides by judge id: who, when, why (the latest), and what each override let
    through: "gate" (no passing calibration) and/or "served_model" (a model the calibration
    never saw answered)."""
    rows = fetch_dicts(
        cur,
        "SELECT occurred_at, actor, payload_json FROM events WHERE study_id = ? "
        "AND kind = 'gate.override' ORDER BY event_id",
        [study_id],
    )
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        payload = json.loads(row["payload_json"])
        kinds = out.get(payload["judge_id"], {}).get("kinds", set())
        out[payload["judge_id"]] = {
            "actor": row["actor"],
            "at": row["occurred_at"],
            "reason": payload["reason"],
            "failed": payload.get("failed", []),
            "kinds": kinds | {payload.get("what", "gate")},
        }
    return out

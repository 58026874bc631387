"""Studies, their pairs and the audit trail, as SQL over a cursor."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from reviewer.config import StudyConfig
from reviewer.store.backend import staged
from reviewer.store.connection import Cursor, fetch_dicts

if TYPE_CHECKING:
    import pyarrow as pa

    from reviewer.ingest.pairset import PairSet


@dataclass(frozen=True)
class StudyRow:
    study_id: str
    created_at: datetime
    config: StudyConfig
    config_hash: str
    seed: int
    pairs_hash: str
    source: str
    frozen_at: datetime | None
    unblinded_at: datetime | None


def record_event(cur: Cursor, study_id: str | None, actor: str, kind: str, **payload: Any) -> None:
    """Append one row to the audit trail, inside the caller's transaction, with the host and
    process that wrote it (app replicas and terminals may share one database)."""
    cur.execute(
        "INSERT INTO events (occurred_at, study_id, actor, kind, payload_json, host, pid)"
        " VALUES (now(), ?, ?, ?, ?, ?, ?)",
        [
            study_id,
            actor,
            kind,
            json.dumps(payload, sort_keys=True, default=str),
            socket.gethostname(),
            os.getpid(),
        ],
    )


def get_study(cur: Cursor, study_id: str) -> StudyRow | None:
    rows = fetch_dicts(cur, "SELECT * FROM studies WHERE study_id = ?", [study_id])
    if not rows:
        return None
    row = rows[0]
    config = StudyConfig.model_validate_json(row.pop("config_json"))
    return StudyRow(config=config, **row)


def list_studies(cur: Cursor) -> list[str]:
    cur.execute("SELECT study_id FROM studies ORDER BY created_at")
    return [r[0] for r in cur.fetchall()]


def insert_study(
    cur: Cursor, study_id: str, config: StudyConfig, pairs_hash: str, source: str
) -> None:
    cur.execute(
        "INSERT INTO studies (study_id, created_at, config_json, config_hash, seed, pairs_hash,"
        " source) VALUES (?, now(), ?, ?, ?, ?, ?)",
        [study_id, config.canonical_json(), config.content_hash(), config.seed, pairs_hash, source],
    )


def update_study(
    cur: Cursor, study_id: str, config: StudyConfig, pairs_hash: str, source: str
) -> None:
    cur.execute(
        "UPDATE studies SET config_json = ?, config_hash = ?, seed = ?, pairs_hash = ?, source = ?"
        " WHERE study_id = ?",
        [config.canonical_json(), config.content_hash(), config.seed, pairs_hash, source, study_id],
    )


def freeze(cur: Cursor, study_id: str, actor: str, reason: str) -> bool:
    """Mark the study frozen if it is not yet; return whether this call froze it."""
    cur.execute(
        "UPDATE studies SET frozen_at = now() WHERE study_id = ? AND frozen_at IS NULL "
        "RETURNING frozen_at",
        [study_id],
    )
    if cur.fetchone() is None:
        return False
    record_event(cur, study_id, actor, "study.freeze", reason=reason)
    return True


def unblind(cur: Cursor, study_id: str) -> bool:
    """Mark the study unblinded if it is not yet; return whether this call did it."""
    cur.execute(
        "UPDATE studies SET unblinded_at = now() WHERE study_id = ? AND unblinded_at IS NULL "
        "RETURNING study_id",
        [study_id],
    )
    return cur.fetchone() is not None


def replace_pairs(cur: Cursor, study_id: str, pairset: PairSet, calibration: set[str]) -> None:
    """Store the pairs of a study, replacing any it had, in one `INSERT ... SELECT` over a
    stream of the set's batches (10,000 pairs each): Python never holds the text of the whole
    set, and DuckDB streams the statement. One statement, not one per batch: a million pairs
    inserted batch by batch in one transaction held 3.2 GB, streamed 0.7 GB (bench/RESULTS.md)."""
    cur.execute("DELETE FROM pairs WHERE study_id = ?", [study_id])
    incoming = _stored_batches(study_id, pairset, calibration)
    cols = ", ".join(incoming.schema.names)
    with staged(cur, "incoming_pairs", incoming):
        cur.execute(f"INSERT INTO pairs ({cols}) SELECT {cols} FROM incoming_pairs")


def _stored_batches(study_id: str, pairset: PairSet, calibration: set[str]) -> pa.RecordBatchReader:
    """The set's batches with the columns the store adds (study, 1-based file position,
    calibration flag), read lazily as the insert consumes them. pyarrow is imported here: most
    commands that use this module never store pairs."""
    import pyarrow as pa

    from reviewer.ingest.pairset import columns

    stored = (
        columns()
        .append(pa.field("study_id", pa.string()))
        .append(pa.field("position", pa.int64()))
        .append(pa.field("in_calibration", pa.bool_()))
    )

    def batches() -> Iterator[pa.RecordBatch]:
        position = 0
        for batch in pairset.batches():
            rows = batch.num_rows
            ids = pairset.ids[position : position + rows]  # the batch's pair_id column, in order
            extra = [
                pa.array([study_id] * rows, pa.string()),
                pa.array(range(position + 1, position + rows + 1), pa.int64()),
                pa.array([pair_id in calibration for pair_id in ids], pa.bool_()),
            ]
            position += rows
            yield pa.RecordBatch.from_arrays([*batch.columns, *extra], schema=stored)

    return pa.RecordBatchReader.from_batches(stored, batches())


def pair_hashes(cur: Cursor, study_id: str) -> dict[str, str]:
    cur.execute("SELECT pair_id, content_hash FROM pairs WHERE study_id = ?", [study_id])
    return dict(cur.fetchall())


def pair_slots(cur: Cursor, study_id: str) -> list[tuple[str, bool]]:
    cur.execute(
        "SELECT pair_id, in_calibration FROM pairs WHERE study_id = ? ORDER BY position",
        [study_id],
    )
    return cur.fetchall()


def calibration_strata(cur: Cursor, study_id: str) -> list[tuple[str, str | None]]:
    """(pair id, stratum) of every calibration pair."""
    cur.execute(
        "SELECT pair_id, stratum FROM pairs WHERE study_id = ? AND in_calibration", [study_id]
    )
    return cur.fetchall()


def pair_texts(cur: Cursor, study_id: str) -> list[dict[str, Any]]:
    """What a judge reads of each pair, in pair-id order."""
    return fetch_dicts(
        cur,
        "SELECT pair_id, prompt_json, candidate, baseline, reference FROM pairs "
        "WHERE study_id = ? ORDER BY pair_id",
        [study_id],
    )


def model_names(cur: Cursor, study_id: str) -> list[str]:
    """Every model name the study's pairs carry (to redact them from annotators' pages)."""
    cur.execute(
        "SELECT DISTINCT m FROM (SELECT candidate_model AS m FROM pairs WHERE study_id = ? "
        "UNION SELECT baseline_model FROM pairs WHERE study_id = ?) AS models WHERE m IS NOT NULL",
        [study_id, study_id],
    )
    return [r[0] for r in cur.fetchall()]

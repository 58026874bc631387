"""What the mechanical checks read from the store: each pair's outputs, reference and metadata
(which carries the expected fields, latency and cost). Portable SQL: `?` placeholders only."""

from __future__ import annotations

from typing import Any

from reviewer.store.connection import Cursor


def check_pairs(cur: Cursor, study_id: str) -> list[tuple[Any, ...]]:
    """Every pair of the study, in pair order, with the fields the checks score, as tuples
    (pair_id, stratum, candidate, baseline, reference, metadata_json): no dict per pair."""
    cur.execute(
        "SELECT pair_id, stratum, candidate, baseline, reference, metadata_json "
        "FROM pairs WHERE study_id = ? ORDER BY pair_id",
        [study_id],
    )
    return cur.fetchall()

"""Labels out of the store, in the same columns `signoff labels import` reads back."""

from __future__ import annotations

import json

import pandas as pd

from reviewer.store import Store
from reviewer.store.connection import fetch_dicts


def latest_labels(store: Store, study_id: str) -> pd.DataFrame:
    """One row per (pair, annotator): the latest revision, with criteria spread into columns."""
    rows = store.read(
        lambda cur: fetch_dicts(
            cur,
            """
        SELECT l.pair_id, a.display_name AS annotator, l.annotator_id, l.preference, l.both_bad,
               l.rationale, l.flag_reason, l.submitted_at, l.criteria_json
        FROM labels l JOIN annotators a USING (study_id, annotator_id)
        WHERE l.study_id = ?
        QUALIFY row_number() OVER (PARTITION BY l.pair_id, l.annotator_id
                                   ORDER BY l.revision DESC) = 1
        ORDER BY l.pair_id, l.annotator_id
        """,
            [study_id],
        )
    )
    out = []
    for row in rows:
        criteria = json.loads(row.pop("criteria_json"))
        for name, value in criteria.items():
            if isinstance(value, dict):
                for side, score in value.items():
                    row[f"{name}.{side}"] = score
            else:
                row[name] = value
        out.append(row)
    return pd.DataFrame(out)


def to_csv(frame: pd.DataFrame) -> bytes:
    return frame.drop(columns=["annotator_id"], errors="ignore").to_csv(index=False).encode()


def to_jsonl(frame: pd.DataFrame) -> bytes:
    return (
        frame.drop(columns=["annotator_id"], errors="ignore")
        .to_json(orient="records", lines=True, date_format="iso", force_ascii=False)
        .encode()
    )

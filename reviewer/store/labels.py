"""Human labels, judges and judge verdicts, as SQL over a cursor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from reviewer.store.backend import staged
from reviewer.store.connection import Cursor


@dataclass(frozen=True)
class NewLabel:
    pair_id: str
    annotator_id: str
    preference: str
    both_bad: bool
    criteria: dict[str, str | dict[str, str]]
    rationale: str | None
    flag_reason: str | None
    candidate_left: bool | None
    shown_at: datetime | None
    submitted_at: datetime | None
    source: str


def insert_labels(cur: Cursor, study_id: str, labels: list[NewLabel]) -> None:
    """Append labels; each becomes the next revision of its (pair, annotator). One
    `INSERT ... SELECT` over an Arrow table, in file order (label ids follow it): row by row,
    174,653 labels took most of 38 minutes."""
    cur.execute(
        "SELECT pair_id, annotator_id, max(revision) FROM labels WHERE study_id = ? "
        "GROUP BY pair_id, annotator_id",
        [study_id],
    )
    revision = {(p, a): r for p, a, r in cur.fetchall()}
    revisions = []
    for lab in labels:
        key = (lab.pair_id, lab.annotator_id)
        revision[key] = revision.get(key, 0) + 1
        revisions.append(revision[key])
    columns = {
        "pair_id": [lab.pair_id for lab in labels],
        "annotator_id": [lab.annotator_id for lab in labels],
        "preference": [lab.preference for lab in labels],
        "both_bad": [lab.both_bad for lab in labels],
        "criteria_json": [json.dumps(lab.criteria, sort_keys=True) for lab in labels],
        "rationale": [lab.rationale for lab in labels],
        "flag_reason": [lab.flag_reason for lab in labels],
        "candidate_left": [lab.candidate_left for lab in labels],
        "shown_at": [lab.shown_at for lab in labels],
        "submitted_at": [lab.submitted_at for lab in labels],
        "revision": revisions,
        "source": [lab.source for lab in labels],
    }
    _insert_all(cur, "labels", study_id, columns, {"submitted_at": "coalesce(submitted_at, now())"})


def _insert_all(
    cur: Cursor, table: str, study_id: str, columns: dict[str, list], computed: dict[str, str]
) -> None:
    """Insert rows given column by column into `table` for `study_id` in one statement, in
    their order (an Arrow table staged as `incoming_rows`; label ids follow the order);
    `computed` maps a stored column to the SQL that fills it over the staged columns."""
    rows = len(next(iter(columns.values())))
    if not rows:
        return
    import pyarrow as pa  # here: most commands that use this module insert nothing

    types = {"both_bad": pa.bool_(), "candidate_left": pa.bool_(), "revision": pa.int32(),
             "shown_at": pa.timestamp("us", tz="UTC"),
             "submitted_at": pa.timestamp("us", tz="UTC")}  # fmt: skip
    rows_in = pa.table(
        {
            "position": pa.array(range(rows), pa.int64()),
            "study_id": pa.array([study_id] * rows, pa.string()),
            **{
                name: pa.array(values, types.get(name, pa.string()))
                for name, values in columns.items()
            },
        }
    )
    stored = ["study_id", *columns, *(c for c in computed if c not in columns)]
    values = ", ".join(computed.get(name, name) for name in stored)
    with staged(cur, "incoming_rows", rows_in):
        cur.execute(
            f"INSERT INTO {table} ({', '.join(stored)}) SELECT {values} FROM incoming_rows "
            "ORDER BY position"
        )


_SOURCES = {
    "labels": "SELECT DISTINCT source FROM labels WHERE study_id = ?",
    "verdicts": "SELECT DISTINCT source FROM verdicts WHERE study_id = ?",
}


def sources_seen(cur: Cursor, study_id: str, table: Literal["labels", "verdicts"]) -> set[str]:
    """Sources (file hashes) already imported into `table` for this study."""
    if table not in _SOURCES:
        raise ValueError(f"no source column in {table!r}")
    cur.execute(_SOURCES[table], [study_id])
    return {r[0] for r in cur.fetchall()}


def ensure_external_judge(cur: Cursor, judge_id: str, name: str, version_hash: str) -> None:
    cur.execute(
        "INSERT INTO judges (judge_id, name, provider, params_json, version_hash, created_at) "
        "VALUES (?, ?, 'external', '{}', ?, now()) ON CONFLICT DO NOTHING",
        [judge_id, name, version_hash],
    )


def existing_verdict_keys(cur: Cursor, study_id: str) -> set[tuple[str, str, str]]:
    cur.execute("SELECT pair_id, judge_id, presented FROM verdicts WHERE study_id = ?", [study_id])
    return set(cur.fetchall())


_VERDICT_COLUMNS = ("pair_id", "judge_id", "presented", "preference", "criteria_json",
                    "rationale", "source")  # fmt: skip


def insert_verdicts(cur: Cursor, study_id: str, rows: list[list]) -> None:
    """Rows of (pair_id, judge_id, presented, preference, criteria_json, rationale, source),
    inserted in one statement, in their order."""
    columns = {name: [row[k] for row in rows] for k, name in enumerate(_VERDICT_COLUMNS)}
    _insert_all(cur, "verdicts", study_id, columns, {"created_at": "now()"})

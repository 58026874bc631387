"""Move a study between databases (DuckDB file <-> PostgreSQL), with proof that nothing changed.

Every row of the study is copied: the study, its pairs, annotators, assignments, views, labels,
verdicts, judge calls, calibrations and events, and the judges they name. Surrogate ids (label,
event, call and calibration ids) are drawn afresh from the target's sequences, in the source's
order, so a target that already holds other studies keeps its own; everything else is copied
as stored. Each table's row count and content hash (SHA-256 over its rows in order, ids left out)
are taken on the rows read and again on the rows stored: the copy is kept only if they agree.
It runs in one transaction on the target: a failed copy leaves nothing behind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from reviewer.errors import NotFound, SignoffError
from reviewer.store.backend import Cursor, Store, staged

# table -> (surrogate id column or None, order of its rows)
TABLES: dict[str, tuple[str | None, str]] = {
    "studies": (None, "study_id"),
    "judges": (None, "judge_id"),
    "pairs": (None, "position, pair_id"),
    "annotators": (None, "annotator_id"),
    "assignments": (None, "annotator_id, position, pair_id"),
    "views": (None, "view_id"),
    "labels": ("label_id", "label_id"),
    "verdicts": (None, "judge_id, pair_id, presented"),
    "judge_calls": ("call_id", "call_id"),
    "calibrations": ("calibration_id", "calibration_id"),
    "events": ("event_id", "event_id"),
    "judge_batches": (None, "tag"),
}
_JUDGES = (
    "judge_id IN (SELECT judge_id FROM verdicts WHERE study_id = $study "
    "UNION SELECT judge_id FROM judge_calls WHERE study_id = $study "
    "UNION SELECT judge_id FROM calibrations WHERE study_id = $study)"
)
_BATCH = 10_000


@dataclass(frozen=True)
class TableCopy:
    table: str
    rows: int
    source_hash: str
    target_hash: str

    @property
    def equal(self) -> bool:
        return self.source_hash == self.target_hash


def copy_study(source: Store, target: Store, study_id: str) -> list[TableCopy]:
    """Copy `study_id` from `source` into `target`; per table, the rows and both hashes.
    Raises if the study is missing, already in the target, or arrives changed."""
    if source.location == target.location:
        raise SignoffError("--from and --to are the same database")

    def move(tcur: Cursor) -> list[TableCopy]:
        if _exists(tcur, study_id):
            raise SignoffError(f"study {study_id!r} is already in {target.path}")
        read = source.read(lambda scur: _copy_all(scur, tcur, study_id))
        stored = fingerprint(tcur, study_id)
        out = [TableCopy(t, n, h, stored[t][1]) for t, (n, h) in read.items()]
        bad = [c.table for c in out if not c.equal or stored[c.table][0] != c.rows]
        if bad:
            raise SignoffError(f"the copy differs from the source in {', '.join(bad)}; undone")
        return out

    if not source.read(lambda cur: _exists(cur, study_id)):
        raise NotFound(f"no study {study_id!r} in {source.path}")
    return target.write(move)


def fingerprint(cur: Cursor, study_id: str) -> dict[str, tuple[int, str]]:
    """Per table: rows of the study and their content hash (ids left out)."""
    out = {}
    for table in TABLES:
        digest, count = hashlib.sha256(), 0
        for _, rows in _read(cur, table, study_id):
            count += len(rows)
            _feed(digest, rows)
        out[table] = (count, digest.hexdigest())
    return out


def _exists(cur: Cursor, study_id: str) -> bool:
    cur.execute("SELECT 1 FROM studies WHERE study_id = ?", [study_id])
    return cur.fetchone() is not None


def _copy_all(scur: Cursor, tcur: Cursor, study_id: str) -> dict[str, tuple[int, str]]:
    out = {}
    for table in TABLES:
        types = _column_types(tcur, table)
        digest, count = hashlib.sha256(), 0
        for names, rows in _read(scur, table, study_id):
            count += len(rows)
            _feed(digest, rows)
            _insert(tcur, table, names, rows, types)
        out[table] = (count, digest.hexdigest())
    return out


def _read(cur: Cursor, table: str, study_id: str) -> Iterator[tuple[list[str], list[tuple]]]:
    """The study's rows of `table` in batches, without the surrogate id, in a stable order."""
    id_column, order = TABLES[table]
    cur.execute(f"SELECT * FROM {table} LIMIT 0")
    names = [d[0] for d in cur.description if d[0] != id_column]
    where = _JUDGES if table == "judges" else "study_id = $study"
    cur.execute(
        f"SELECT {', '.join(names)} FROM {table} WHERE {where} ORDER BY {order}",
        {"study": study_id},
    )
    while rows := cur.fetchmany(_BATCH):
        yield names, rows


def _feed(digest: Any, rows: list[tuple]) -> None:
    for row in rows:
        digest.update(json.dumps([_canonical(v) for v in row], default=str).encode())
        digest.update(b"\n")


def _canonical(value: Any) -> Any:
    """One spelling per value whatever the backend returned (timestamps in UTC, floats exact)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, float):
        return value.hex()
    return value


def _column_types(cur: Cursor, table: str) -> dict[str, pa.DataType]:
    cur.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
        [table],
    )
    return {name: _arrow_type(kind) for name, kind in cur.fetchall()}


def _arrow_type(sql_type: str) -> pa.DataType:
    kind = sql_type.lower()
    if kind.startswith("timestamp"):
        return pa.timestamp("us", tz="UTC")
    if kind in ("bigint", "integer", "boolean") or kind.startswith("double"):
        return {"bigint": pa.int64(), "integer": pa.int32(), "boolean": pa.bool_()}.get(
            kind, pa.float64()
        )
    return pa.string()  # VARCHAR, text, JSON


def _insert(
    cur: Cursor, table: str, names: list[str], rows: list[tuple], types: dict[str, pa.DataType]
) -> None:
    columns = list(zip(*rows, strict=True))
    block = pa.table({n: pa.array(list(c), types[n]) for n, c in zip(names, columns, strict=True)})
    cols = ", ".join(names)
    conflict = " ON CONFLICT DO NOTHING" if table == "judges" else ""
    with staged(cur, "copied_rows", block):
        cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM copied_rows{conflict}")

"""An old database upgrades in place: a file made with the first schema keeps every row it holds,
gains every later migration in order, and works through the store; migrating again does nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from judge.runner import CachedAnswer, Call
from reviewer.config import StudyConfig
from reviewer.store import Store, calibrations, judge_calls, migrations, studies, views
from reviewer.store import annotator_page as page_sql
from reviewer.store.migrations import MIGRATIONS, apply_migrations

STUDY = "support-v3"
T0 = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
CONFIG = StudyConfig(title="Support assistant v3 vs its base model", seed=7)
CRITERIA = {"correctness": "candidate", "format": "same", "helpfulness": "candidate"}

# Rows as the first schema (m001_initial) took them, column for column: frozen here on purpose,
# since the store's own inserts follow the newest schema. Ids drawn from sequences are left out.
SEQUENCED = {"labels": "label_id", "events": "event_id"}
M001_ROWS: dict[str, list[tuple[Any, ...]]] = {
    "studies": [
        (
            STUDY,
            T0,
            CONFIG.canonical_json(),
            CONFIG.content_hash(),
            CONFIG.seed,
            "a6ad5bfc636db76464661f7f75d7fb5fc7e5da6ed17be41c236be39355f4a2d3",
            "data/support_pairs.jsonl",
            T0 + timedelta(hours=1),
            None,
        )
    ],
    "pairs": [
        (
            STUDY,
            "ldg-rou-041",
            1,
            json.dumps("Can I cancel my monthly plan and get my money back?"),
            "You can cancel any time under Settings > Billing; monthly plans are not refunded.",
            "Yes, cancel and we will refund the month.",
            "support-v3",
            "support-base",
            "routine",
            None,
            "{}",
            "3f1c0a",
            False,
            True,
        ),
        (
            STUDY,
            "ldg-har-023",
            2,
            json.dumps([{"role": "user", "content": "I paid annually 40 days ago. Refund?"}]),
            "Annual plans are refundable within 30 days, so this one no longer is.",
            "Sure, I have started your refund.",
            "support-v3",
            "support-base",
            "hard",
            "Refunds: annual plans within 30 days of purchase only.",
            json.dumps({"ticket": 4411}),
            "9be270",
            False,
            False,
        ),
        (
            STUDY,
            "ldg-edg-008",
            3,
            json.dumps("Thanks, that's all!"),
            "You're welcome!",
            "You're welcome!",
            None,
            None,
            "edge",
            None,
            "{}",
            "51d7e4",
            True,
            False,
        ),
    ],
    "annotators": [
        (STUDY, "ana-ruiz", "Ana Ruiz", hashlib.sha256(b"t1").hexdigest(), "annotator", T0, None),
        (STUDY, "maya-chen-sample", "Maya Chen (sample)", None, "imported", T0, None),
        (
            STUDY,
            "old-contractor",
            "Old Contractor",
            hashlib.sha256(b"t2").hexdigest(),
            "annotator",
            T0,
            T0 + timedelta(days=2),
        ),
    ],
    "assignments": [
        (STUDY, "ldg-rou-041", "ana-ruiz", True, 1, True, T0),
        (STUDY, "ldg-har-023", "ana-ruiz", False, 2, False, T0),
        (STUDY, "ldg-edg-008", "ana-ruiz", True, 3, False, T0),
    ],
    "labels": [
        (
            STUDY,
            "ldg-rou-041",
            "maya-chen-sample",
            "candidate",
            False,
            json.dumps(CRITERIA, sort_keys=True),
            "Gets the policy right.",
            None,
            None,
            None,
            T0,
            1,
            "import:6dcb5c7d133496f5",
        ),
        (
            STUDY,
            "ldg-rou-041",
            "ana-ruiz",
            "baseline",
            False,
            "{}",
            None,
            None,
            True,
            T0 + timedelta(minutes=1),
            T0 + timedelta(minutes=2),
            1,
            "app",
        ),
        (
            STUDY,
            "ldg-rou-041",
            "ana-ruiz",
            "tie",
            True,
            "{}",
            "Changed my mind: both promise things.",
            "both invent a refund window",
            True,
            T0 + timedelta(minutes=3),
            T0 + timedelta(minutes=4),
            2,
            "app",
        ),
        (
            STUDY,
            "ldg-har-023",
            "ana-ruiz",
            "candidate",
            False,
            json.dumps(CRITERIA, sort_keys=True),
            None,
            None,
            False,
            T0 + timedelta(minutes=5),
            T0 + timedelta(minutes=6),
            1,
            "app",
        ),
    ],
    "judges": [
        ("ext-vendor", "vendor eval", "external", None, "{}", None, None, "e3b0c442", T0),
    ],
    "verdicts": [
        (
            STUDY,
            "ldg-rou-041",
            "ext-vendor",
            "unknown",
            "candidate",
            "{}",
            None,
            None,
            "import:ab12",
            T0,
        ),
        (
            STUDY,
            "ldg-har-023",
            "ext-vendor",
            "unknown",
            "tie",
            "{}",
            "Close.",
            None,
            "import:ab12",
            T0,
        ),
    ],
    "events": [
        (T0, STUDY, "root", "study.create", json.dumps({"pairs": 3})),
        (T0 + timedelta(hours=1), STUDY, "root", "study.freeze", json.dumps({"reason": "x"})),
    ],
}


@dataclass(frozen=True)
class OldDatabase:
    path: Path
    columns: dict[str, list[str]]  # every table of the first schema, with its columns in order
    rows: dict[str, list[tuple[Any, ...]]]  # what those tables held when the file was closed


def table_columns(cur: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Every user table with its columns, in definition order."""
    rows = cur.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE NOT internal "
        "AND table_oid IN (SELECT table_oid FROM duckdb_tables() WHERE NOT internal) "
        "ORDER BY table_name, column_index"
    ).fetchall()
    out: dict[str, list[str]] = {}
    for table, column in rows:
        out.setdefault(table, []).append(column)
    return out


def catalog(cur: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """The schema as data: tables and columns with types, indexes, sequences."""
    return {
        "columns": cur.execute(
            "SELECT table_name, column_name, data_type, is_nullable, column_default "
            "FROM duckdb_columns() WHERE NOT internal ORDER BY ALL"
        ).fetchall(),
        "indexes": cur.execute("SELECT sql FROM duckdb_indexes() ORDER BY ALL").fetchall(),
        "sequences": cur.execute(
            "SELECT sequence_name FROM duckdb_sequences() ORDER BY 1"
        ).fetchall(),
    }


def rows_of(cur: duckdb.DuckDBPyConnection, columns: dict[str, list[str]]) -> dict[str, list]:
    """The rows of each table, only the given columns, in a fixed order."""
    return {
        table: cur.execute(f"SELECT {', '.join(cols)} FROM {table} ORDER BY ALL").fetchall()
        for table, cols in columns.items()
    }


def recorded(cur: duckdb.DuckDBPyConnection) -> list[tuple[str, datetime]]:
    """(name, applied_at) of every recorded migration, first applied first."""
    return cur.execute(
        "SELECT name, applied_at FROM _signoff_migrations ORDER BY applied_at, name"
    ).fetchall()


@pytest.fixture
def old_db(tmp_path: Path) -> OldDatabase:
    """A closed DuckDB file at the first schema, holding a small but realistic study."""
    path = tmp_path / "made-with-m001.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("SET TimeZone = 'UTC'")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", MIGRATIONS[:1])
        assert apply_migrations(conn) == [MIGRATIONS[0][0]]
    columns = {t: c for t, c in table_columns(conn).items() if t != "_signoff_migrations"}
    assert set(M001_ROWS) == set(columns), "fill every table of the first schema"
    for table, rows in M001_ROWS.items():
        names = [c for c in columns[table] if c != SEQUENCED.get(table)]
        marks = ", ".join("?" * len(names))
        conn.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
    rows = rows_of(conn, columns)
    conn.close()
    assert all(rows.values())
    return OldDatabase(path, columns, rows)


def test_first_schema_database_gains_every_later_migration_in_order(old_db: OldDatabase) -> None:
    store = Store(old_db.path)
    names = store.read(recorded)
    assert [name for name, _ in names] == [name for name, _ in MIGRATIONS]
    first_at = names[0][1]
    later_at = [at for _, at in names[1:]]
    assert all(at > first_at for at in later_at) and later_at == sorted(later_at)


def test_old_rows_survive_with_their_values(old_db: OldDatabase) -> None:
    after = Store(old_db.path).read(lambda cur: rows_of(cur, old_db.columns))
    assert after == old_db.rows
    assert [len(after[table]) for table in M001_ROWS] == [len(r) for r in M001_ROWS.values()]


def test_newer_tables_exist_and_start_empty(old_db: OldDatabase) -> None:
    store = Store(old_db.path)
    tables = store.read(table_columns)
    newer = sorted(set(tables) - set(old_db.columns) - {"_signoff_migrations"})
    # Shipped migrations never change: m002, m003 and m004 each brought a table.
    assert {"views", "judge_calls", "calibrations"} <= set(newer)
    counts = store.read(
        lambda cur: {t: cur.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in newer}
    )
    assert counts == dict.fromkeys(newer, 0)


def test_upgraded_database_works_through_the_store(old_db: OldDatabase) -> None:
    store = Store(old_db.path)
    study = store.read(lambda cur: studies.get_study(cur, STUDY))
    assert study is not None and study.config == CONFIG
    assert study.frozen_at == T0 + timedelta(hours=1)

    # Views (m002): a label given on a view continues the old revisions, and only once.
    def label_on_view(cur: duckdb.DuckDBPyConnection) -> list[bool]:
        page_sql.create_view(cur, "view-1", STUDY, "ana-ruiz", "ldg-rou-041", left=False)
        view = page_sql.view_record(cur, "view-1", STUDY, "ana-ruiz")
        assert view is not None

        def checks() -> dict[str, Any]:
            return page_sql.label_checks(cur, STUDY, "ana-ruiz", None, "view-1", "ldg-rou-041")

        before = checks()
        page_sql.insert_label(
            cur, STUDY, "ana-ruiz", "view-1", view, before["revision"], preference="candidate",
            both_bad=False, criteria_json=json.dumps(CRITERIA, sort_keys=True), rationale=None,
            flag_reason=None,
        )  # fmt: skip
        return [before["submitted"], checks()["submitted"]]  # a second label is refused

    assert store.write(label_on_view) == [False, True]
    history = store.read(lambda cur: views.labeled_history(cur, STUDY, "ana-ruiz"))
    latest = {row["pair_id"]: row for row in history}
    assert latest["ldg-rou-041"]["preference"] == "candidate"
    assert latest["ldg-rou-041"]["candidate_left"] is False
    labels = store.read(
        lambda cur: cur.execute(
            "SELECT label_id, revision, view_id FROM labels WHERE pair_id = 'ldg-rou-041' "
            "AND annotator_id = 'ana-ruiz' ORDER BY label_id"
        ).fetchall()
    )
    assert labels == [(2, 1, None), (3, 2, None), (5, 3, "view-1")]

    # Judge calls (m003): the log is also the cache.
    def log_call(cur: duckdb.DuckDBPyConnection) -> dict[str, CachedAnswer]:
        call = Call(
            cache_key="key-1",
            pair_id="ldg-har-023",
            presented="candidate_first",
            outcome="ok",
            attempt=1,
            response_text="A",
        )
        judge_calls.append_calls(cur, STUDY, "ext-vendor", [call])
        return judge_calls.cached_answers(cur, ["key-1", "key-2"])

    # No served model was named for this call (m005 adds the column; NULL here).
    assert store.write(log_call) == {"key-1": CachedAnswer(text="A", served_model=None)}

    # Calibrations (m004): recorded against a judge stored before they existed.
    def calibrate(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
        gate = {"passed": True, "rules": []}
        calibrations.insert(cur, STUDY, "ext-vendor", "all", {"kappa": 0.61}, gate, "c0ffee")
        return calibrations.latest(cur, STUDY)

    [row] = store.write(calibrate)
    assert (row["name"], row["provider"], row["passed"]) == ("vendor eval", "external", True)
    assert row["metrics"] == {"kappa": 0.61}


def test_migrating_again_changes_nothing(old_db: OldDatabase) -> None:
    store = Store(old_db.path)
    before = store.read(lambda cur: (recorded(cur), catalog(cur)))
    conn = duckdb.connect(str(old_db.path))
    try:
        assert apply_migrations(conn) == []
        assert (recorded(conn), catalog(conn)) == before
    finally:
        conn.close()
    assert Store(old_db.path).read(lambda cur: (recorded(cur), catalog(cur))) == before


def test_blank_database_migrates_once() -> None:
    conn = duckdb.connect(":memory:")
    assert apply_migrations(conn) == [name for name, _ in MIGRATIONS]
    schema = catalog(conn)
    assert apply_migrations(conn) == []
    assert catalog(conn) == schema
    conn.close()

"""The DuckDB store: migrations, many threads, and a second process holding the file."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from conftest import DATA

from reviewer.errors import StoreBusy
from reviewer.store import Store
from reviewer.store.migrations import MIGRATIONS


def test_blank_database_gets_every_migration_once(db_path):
    store = Store(db_path)
    names = store.read(
        lambda cur: [
            r[0]
            for r in cur.execute("SELECT name FROM _signoff_migrations ORDER BY name").fetchall()
        ]
    )
    assert names == [name for name, _ in MIGRATIONS]
    again = Store(db_path).read(
        lambda cur: cur.execute("SELECT count(*) FROM _signoff_migrations").fetchone()[0]
    )
    assert again == len(MIGRATIONS)
    tables = store.read(
        lambda cur: {
            r[0] for r in cur.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    )
    assert {
        "studies",
        "pairs",
        "annotators",
        "assignments",
        "labels",
        "judges",
        "verdicts",
        "events",
    } <= tables


def test_file_is_released_between_operations(db_path):
    store = Store(db_path)
    store.read(lambda cur: cur.execute("SELECT 1").fetchone())
    # Another process can open it now: nothing in this process holds it.
    code = subprocess.run(
        [sys.executable, "-c", f"import duckdb; duckdb.connect({str(db_path)!r}).close()"],
        capture_output=True,
    ).returncode
    assert code == 0


def test_twenty_threads_write_at_once(cli, db_path):
    from reviewer.store.labels import NewLabel, insert_labels

    cli("import", DATA / "support_pairs.jsonl", "-s", "s")
    store = Store(db_path)
    ids = store.read(
        lambda cur: [
            r[0]
            for r in cur.execute("SELECT pair_id FROM pairs ORDER BY pair_id LIMIT 20").fetchall()
        ]
    )
    assert len(ids) == 20
    errors = []
    barrier = threading.Barrier(20)
    preferences = ("candidate", "baseline", "tie")

    def written(i: int, k: int) -> tuple:
        """What thread i stores in its k-th write (k = 0..4): every write is distinguishable."""
        return (ids[i], f"a{i}", preferences[(i + k) % 3], f"thread {i} write {k}")

    def submit(i: int) -> None:
        try:
            barrier.wait()
            for k in range(5):
                pair_id, who, preference, rationale = written(i, k)
                label = NewLabel(
                    pair_id, who, preference, False, {}, rationale, None, True, None, None, "app"
                )
                store.write(lambda cur, label=label: insert_labels(cur, "s", [label]))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = store.read(
        lambda cur: cur.execute(
            "SELECT label_id, pair_id, annotator_id, preference, rationale, revision, source "
            "FROM labels WHERE study_id = 's' ORDER BY annotator_id, revision"
        ).fetchall()
    )
    # 20 threads x 5 writes = 100 rows, one per write: none lost, none stored twice.
    assert len(rows) == 100
    assert len({r[0] for r in rows}) == 100  # distinct label ids
    assert len({(r[2], r[5]) for r in rows}) == 100  # distinct (annotator, revision)
    stored = {(r[1], r[2], r[3], r[4]) for r in rows}
    assert stored == {written(i, k) for i in range(20) for k in range(5)}
    # A thread's writes are sequential, so its k-th write is revision k + 1 of its own pair.
    for i in range(20):
        mine = [r for r in rows if r[2] == f"a{i}"]
        assert [r[5] for r in mine] == [1, 2, 3, 4, 5]
        assert [r[4] for r in mine] == [written(i, k)[3] for k in range(5)]
        assert {r[1] for r in mine} == {ids[i]} and {r[6] for r in mine} == {"app"}


HOLD = """
import duckdb, sys, time
c = duckdb.connect(sys.argv[1])
print("held", flush=True)
time.sleep(float(sys.argv[2]))
c.close()
"""


def hold(db_path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(db_path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_waits_for_another_process_then_proceeds(db_path):
    Store(db_path).read(lambda cur: None)
    proc = hold(db_path, 1.0)
    start = time.monotonic()
    assert Store(db_path, lock_timeout=20).read(
        lambda cur: cur.execute("SELECT 42").fetchone()
    ) == (42,)
    assert time.monotonic() - start >= 0.5
    proc.wait()


def test_gives_up_with_a_clear_message(db_path, cli, monkeypatch):
    Store(db_path).read(lambda cur: None)
    proc = hold(db_path, 5.0)
    try:
        with pytest.raises(StoreBusy) as err:
            Store(db_path, lock_timeout=0.3).read(lambda cur: None)
        assert f"(PID {proc.pid}" in str(err.value)
        monkeypatch.setenv("SIGNOFF_LOCK_TIMEOUT", "0.3")
        r = cli("status")
        assert r.code == 3 and f"is held by another process (PID {proc.pid}" in r.err
    finally:
        proc.kill()
        proc.wait()


def test_missing_folder_is_a_message(cli, tmp_path):
    r = cli("status", "--db", tmp_path / "no" / "such" / "x.duckdb")
    assert r.code == 2 and "folder does not exist" in r.err

"""The store on both backends (a DuckDB file and a real PostgreSQL server): migrations, the
audit trail's origin, concurrent writers, every command's results equal, secrets kept out."""

from __future__ import annotations

import json
import os
import socket
import threading

from conftest import DATA, pair, write_jsonl

from reviewer.store import Store
from reviewer.store.connection import fetch_dicts
from reviewer.store.migrations import MIGRATIONS


def test_every_migration_runs_once_on_each_backend(any_db):
    store = Store(any_db)
    names = store.read(
        lambda cur: [
            r[0]
            for r in cur.execute("SELECT name FROM _signoff_migrations ORDER BY name").fetchall()
        ]
    )
    assert names == [name for name, _ in MIGRATIONS]
    again = Store(any_db).read(
        lambda cur: cur.execute("SELECT count(*) FROM _signoff_migrations").fetchone()[0]
    )
    assert again == len(MIGRATIONS)
    columns = store.read(
        lambda cur: {
            r[0]
            for r in cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'events'"
            ).fetchall()
        }
    )
    assert {"event_id", "occurred_at", "actor", "kind", "payload_json", "host", "pid"} <= columns


def test_events_say_which_host_and_process_wrote_them(cli, any_db, pairs_file):
    assert cli("import", pairs_file, "-s", "s").code == 0
    assert cli("annotators", "add", "Ana", "-s", "s").code == 0
    rows = Store(any_db).read(
        lambda cur: fetch_dicts(cur, "SELECT kind, actor, host, pid FROM events ORDER BY event_id")
    )
    assert [r["kind"] for r in rows][:1] == ["study.create"]
    assert len(rows) >= 2
    assert {(r["actor"], r["host"], r["pid"]) for r in rows} == {
        ("tester", socket.gethostname(), os.getpid())
    }


def test_twenty_threads_write_at_once(cli, any_store):
    from reviewer.store.labels import NewLabel, insert_labels

    assert cli("import", DATA / "support_pairs.jsonl", "-s", "s").code == 0
    ids = any_store.read(
        lambda cur: [
            r[0]
            for r in cur.execute("SELECT pair_id FROM pairs ORDER BY pair_id LIMIT 20").fetchall()
        ]
    )
    errors: list[Exception] = []
    barrier = threading.Barrier(20)

    def submit(i: int) -> None:
        try:
            barrier.wait()
            for k in range(5):
                label = NewLabel(
                    ids[i], f"a{i}", "tie", False, {}, f"{i}/{k}", None, True, None, None, "app"
                )
                any_store.write(lambda cur, label=label: insert_labels(cur, "s", [label]))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    rows = any_store.read(
        lambda cur: cur.execute(
            "SELECT annotator_id, revision, rationale FROM labels ORDER BY annotator_id, revision"
        ).fetchall()
    )
    assert sorted(rows) == sorted((f"a{i}", k + 1, f"{i}/{k}") for i in range(20) for k in range(5))


def _flow(cli, tmp_path, db: str, llm, rubric_file) -> dict:
    """Import, annotators, labels, a judge run, status, report and export on database `db`;
    what each printed (the parts that do not name the database or the moment)."""
    sub = tmp_path / db.rsplit("/", 1)[-1].replace(".", "_")
    sub.mkdir()
    pairs = [pair(i, candidate=f"C{i}" + (" [[GOOD]]" if i % 3 else "")) for i in range(1, 31)]
    assert cli("import", write_jsonl(sub / "p.jsonl", pairs), "-s", "s", "--db", db).code == 0
    lines = ["pair_id,annotator,preference"] + [
        f"p{i:03d},{who},{('candidate', 'baseline', 'tie')[(i + k) % 3]}"
        for i in range(1, 31)
        for k, who in enumerate(("a", "b"))
    ]
    (sub / "l.csv").write_text("\n".join(lines) + "\n")
    assert cli("labels", "import", sub / "l.csv", "-s", "s", "--db", db).code == 0
    added = cli("annotators", "add", "Ana Ruiz", "-s", "s", "--db", db, "--base-url", "http://x")
    assert added.code == 0, added.err
    judge = cli(
        "judge", "run", "-s", "s", "--rubric", rubric_file, "--provider", "openai-compatible",
        "--base-url", llm.openai_url, "--model", "m", "--pairs", "all", "--override", "test",
        "--db", db, "--json",
    )  # fmt: skip
    assert judge.code == 0, judge.err
    report = cli("report", "-s", "s", "--format", "json", "--resamples", "50", "--db", db)
    assert report.code == 0, report.err
    status = cli("status", "-s", "s", "--db", db)
    export = cli("labels", "export", "-s", "s", "--format", "jsonl", "--db", db)
    summary = json.loads(judge.out)
    return {
        "report": _without(json.loads(report.out), {"generated_at", "frozen_at", "created_at"}),
        "status": status.out.split("\n", 2)[2],
        "export": [_without(json.loads(x), {"submitted_at"}) for x in export.out.splitlines()],
        "judge": _without(summary, {"seconds", "elapsed_s", "latency_p50_ms", "latency_p95_ms"}),
    }


def _without(data, keys: set[str]):
    if isinstance(data, dict):
        return {k: _without(v, keys) for k, v in data.items() if k not in keys}
    if isinstance(data, list):
        return [_without(v, keys) for v in data]
    return data


def test_every_command_gives_the_same_results_on_both_backends(
    cli, tmp_path, pg_url, llm, rubric_file
):
    duck = _flow(cli, tmp_path, str(tmp_path / "flow.duckdb"), llm, rubric_file)
    llm.reset()
    pg = _flow(cli, tmp_path, pg_url, llm, rubric_file)
    assert pg["status"] == duck["status"]
    assert pg["export"] == duck["export"] and len(pg["export"]) == 60
    assert pg["judge"] == duck["judge"]
    assert pg["report"] == duck["report"]


def test_an_unreachable_server_is_one_clear_message(cli, pg_server):
    url = pg_server.url("nowhere", password="pw-Zq81xv")
    r = cli("status", "--db", url)
    assert r.code != 0
    assert "cannot open PostgreSQL at postgresql://postgres:***@127.0.0.1" in r.err
    assert "nowhere" in r.err and "pw-Zq81xv" not in r.err + r.out


def test_json_and_timestamps_read_back_as_duckdb_returns_them(cli, any_db, pairs_file):
    assert cli("import", pairs_file, "-s", "s").code == 0
    row = Store(any_db).read(lambda cur: fetch_dicts(cur, "SELECT * FROM studies")[0])
    assert isinstance(row["config_json"], str) and json.loads(row["config_json"])
    assert row["created_at"].utcoffset().total_seconds() == 0


def test_markers_in_literals_and_percent_signs_survive(any_store):
    rows = any_store.read(
        lambda cur: [
            cur.execute("SELECT '?', 'a%' LIKE 'a%', '$x'").fetchone(),
            cur.execute("SELECT ?, 'b?%' LIKE 'b?%' -- ? and %\n", ["x"]).fetchone(),
            cur.execute("SELECT $n + 1, '$n', $n * 2", {"n": 20}).fetchone(),
        ]
    )
    assert [tuple(r) for r in rows] == [("?", True, "$x"), ("x", True), (21, "$n", 40)]

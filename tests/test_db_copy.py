"""`signoff db copy`: the sample study moves DuckDB -> PostgreSQL -> DuckDB unchanged; and the
PostgreSQL URL's password never reaches output, files, tables or the server's log."""

from __future__ import annotations

import json

from conftest import DATA

from reviewer.store import Store
from reviewer.store.copy import TABLES, fingerprint

STUDY = "ledgerly-v3"


def judged_sample(cli, db, llm) -> None:
    """The demo study with sample labels, a judge run and a calibration on `db`."""
    assert cli("demo", "--db", db, "--no-serve").code == 0
    args = [
        "-s", STUDY, "--db", db, "--rubric", DATA / "support_rubric.toml",
        "--provider", "openai-compatible", "--base-url", llm.openai_url, "--model", "m",
    ]  # fmt: skip
    run = cli("judge", "run", *args, "--pairs", "calibration", "--override", "test")
    assert run.code == 0, run.err
    assert cli("judge", "calibrate", *args).code == 0


def prints(db: str) -> dict:
    return Store(db).read(lambda cur: fingerprint(cur, STUDY))


def test_sample_study_round_trip_keeps_counts_and_hashes(cli, tmp_path, pg_url, llm):
    first, back = str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb")
    judged_sample(cli, first, llm)
    there = cli("db", "copy", "--from", first, "--to", pg_url, "--json")
    assert there.code == 0, there.err
    again = cli("db", "copy", "--from", pg_url, "--to", back)
    assert again.code == 0, again.err
    source, middle, end = prints(first), prints(pg_url), prints(back)
    assert source == middle == end
    assert set(source) == set(TABLES)
    for table in ("pairs", "labels", "verdicts", "judge_calls", "calibrations", "events"):
        assert source[table][0] > 0, table
    reported = json.loads(there.out)["tables"]
    assert {t: (v["rows"], v["sha256"]) for t, v in reported.items()} == source
    assert "equal" in again.out and f"copied study {STUDY!r}" in again.out
    # The same report from the original and the copy that went through PostgreSQL and back.
    reports = [
        json.loads(cli("report", "-s", STUDY, "--db", db, "--format", "json").out)
        for db in (first, back)
    ]
    for r in reports:
        r["appendix"].pop("generated_at")
    assert reports[0] == reports[1]


def test_copy_refuses_a_study_already_there_and_a_missing_one(cli, tmp_path, pg_url):
    first = str(tmp_path / "a.duckdb")
    assert cli("demo", "--db", first, "--no-serve").code == 0
    assert cli("db", "copy", "--from", first, "--to", pg_url).code == 0
    before = prints(pg_url)
    twice = cli("db", "copy", "--from", first, "--to", pg_url)
    assert twice.code != 0 and "already in postgresql://" in twice.err
    assert prints(pg_url) == before
    missing = cli("db", "copy", "--from", first, "--to", pg_url, "-s", "nope")
    assert missing.code != 0 and "no study 'nope'" in missing.err


def test_the_url_password_is_never_written(cli, tmp_path, pg_server, llm, monkeypatch):
    secret = "Pw-7hq2Zx9"
    url = pg_server.new_database(password=secret)
    monkeypatch.setenv("SIGNOFF_DB", url)
    outputs = []
    judged_sample(cli, url, llm)
    for args in (
        ["status"],
        ["report", "--out", tmp_path / "r.html"],
        ["report", "--format", "json"],
        ["check"],
        ["labels", "export"],
        ["annotators", "add", "Ana", "--base-url", "http://x"],
        ["db", "copy", "--from", url, "--to", tmp_path / "copy.duckdb"],
        ["status", "-s", "nope"],
        ["status", "--db", url.replace("/t_", "/missing_")],
    ):
        r = cli(*args)
        outputs.append(r.out + r.err)
    assert any("postgresql://postgres:***@" in o for o in outputs)
    assert not [o for o in outputs if secret in o]
    dumped = Store(url).read(
        lambda cur: [
            str(cur.execute(f"SELECT * FROM {table}").fetchall()) for table in [*TABLES, "judges"]
        ]
    )
    assert dumped and not [d for d in dumped if secret in d]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and not [p for p in files if secret.encode() in p.read_bytes()]
    assert secret not in (pg_server.root / "server.log").read_text(errors="replace")


def test_copy_covers_every_table_a_study_owns(tmp_path):
    """A table added by a later migration with a study_id column must be moved by `db copy`."""
    store = Store(tmp_path / "fresh.duckdb")
    owned = store.read(
        lambda cur: cur.execute(
            "SELECT DISTINCT table_name FROM information_schema.columns "
            "WHERE column_name = 'study_id' AND table_schema = 'main'"
        ).fetchall()
    )
    assert {t for (t,) in owned} | {"judges"} == set(TABLES)

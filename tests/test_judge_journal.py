"""The judge's journal of paid answers beside a DuckDB file: durable against kill -9, moved into
the database by the next run (any judge's, any study's rows under their own), once, and never
a live run's; and a killed `signoff judge run` whose answers sit only in the journal resumes
without paying for any of them again, nor leaving a journal or a key behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, write_jsonl
from llm_server import Script
from test_judge_failures import as_provider, key_pieces
from test_judge_run import judge_args, marked_pair, verdicts

from judge.call_log import Call, LogWriter
from reviewer.errors import SignoffError
from reviewer.judging.call_log import StoreCallLog
from reviewer.judging.journal import Journal, replay
from reviewer.store import Store
from reviewer.store.connection import fetch_dicts

N = 24


def paid(i: int, key: str = "k", latency: float | None = None) -> Call:
    return Call(
        f"{key}{i}", f"p{i:03d}", "candidate_first", "ok", 1,
        request={"messages": [{"role": "user", "content": f"é {i}"}], "params": {"t": 0}},
        response_text=f'{{"answer": {i}}}', input_tokens=10 + i, output_tokens=3,
        cost_usd=0.001 * i, latency_ms=latency if latency is not None else 100.0 + i / 7,
        served_model="m-2026",
    )  # fmt: skip


def stored(db_path: Path) -> list[dict]:
    return Store(db_path).read(
        lambda cur: fetch_dicts(
            cur,
            "SELECT study_id, judge_id, cache_key, pair_id, presented, outcome, attempt,"
            " request_json, response_text, input_tokens, output_tokens, cost_usd, latency_ms,"
            " served_model, created_at FROM judge_calls ORDER BY call_id",
        )
    )


def journal_files(db_path: Path) -> list[Path]:
    return sorted(db_path.parent.glob(f"{db_path.name}.journal-*")) + sorted(
        db_path.parent.glob(f".{db_path.name}.journal-*")
    )


def test_replay_moves_dead_runs_rows_under_their_own_study_and_judge_and_skips_live_ones(
    store, db_path
):
    one, two = Journal(db_path, "s1", "j1"), Journal(db_path, "s2", "j2")
    one.append([paid(1), paid(2)])
    two.append([paid(3)])
    two.seal()
    two.append([paid(4)])  # a second segment
    assert len(journal_files(db_path)) == 3
    assert replay(store, db_path) == 0  # both runs alive: their segments are locked
    one.close()
    assert replay(store, db_path) == 2 and len(journal_files(db_path)) == 2
    two.close()
    assert replay(store, db_path) == 2 and journal_files(db_path) == []
    rows = stored(db_path)
    assert [(r["study_id"], r["judge_id"], r["pair_id"]) for r in rows] == [
        ("s1", "j1", "p001"), ("s1", "j1", "p002"), ("s2", "j2", "p003"), ("s2", "j2", "p004"),
    ]  # fmt: skip
    first = rows[0]
    assert json.loads(first["request_json"]) == paid(1).request
    assert (first["response_text"], first["input_tokens"], first["cost_usd"]) == (
        '{"answer": 1}', 11, 0.001,
    )  # fmt: skip
    assert first["latency_ms"] == 100.0 + 1 / 7 and first["served_model"] == "m-2026"
    assert replay(store, db_path) == 0 and len(stored(db_path)) == 4


def test_moved_deletes_only_sealed_segments(db_path):
    journal = Journal(db_path, "s", "j")
    journal.append([paid(1)])
    mark = journal.seal()
    journal.append([paid(2)])
    journal.moved(mark)
    (left,) = journal_files(db_path)
    assert [json.loads(line)["pair_id"] for line in left.read_text().splitlines()] == ["p002"]
    journal.close()


def test_a_row_already_stored_or_journaled_twice_is_replayed_once(store, db_path):
    """A run killed between a batch's commit and the deletion of its segments leaves rows that
    are in the database too; a copy of a segment holds the same rows again."""
    journal = Journal(db_path, "s", "j")
    journal.append([paid(1), paid(2)])
    journal.close()
    (segment,) = journal_files(db_path)
    copy = segment.with_name(segment.name.replace(".jsonl", "-copy.jsonl"))
    copy.write_bytes(segment.read_bytes())
    assert replay(store, db_path) == 2 and len(stored(db_path)) == 2
    again = Journal(db_path, "s", "j")
    again.append([paid(2), paid(3), paid(3, latency=5.0)])  # p003 twice, as two calls
    again.close()
    assert replay(store, db_path) == 3
    rows = stored(db_path)
    assert [(r["pair_id"], r["latency_ms"]) for r in rows] == [
        ("p001", 100.0 + 1 / 7), ("p002", 100.0 + 2 / 7), ("p003", 100.0 + 3 / 7), ("p003", 5.0),
    ]  # fmt: skip


def test_a_row_cut_short_is_dropped_and_a_foreign_line_refused(store, db_path):
    journal = Journal(db_path, "s", "j")
    journal.append([paid(1), paid(2)])
    journal.close()
    (segment,) = journal_files(db_path)
    data = segment.read_bytes()
    segment.write_bytes(data[: len(data) - 40])  # the kill cut the second row
    assert replay(store, db_path) == 1 and [r["pair_id"] for r in stored(db_path)] == ["p001"]
    bad = Journal(db_path, "s", "j")
    bad.append([paid(3)])
    bad.close()
    (segment,) = journal_files(db_path)
    segment.write_text('{"not": "a call"}\n')
    with pytest.raises(SignoffError, match=r"jsonl:1: not a judge journal row"):
        replay(store, db_path)
    assert journal_files(db_path) == [segment] and len(stored(db_path)) == 1


def test_a_journaled_row_survives_sigkill_of_its_process(store, db_path):
    code = (
        "import os, signal, sys; from pathlib import Path; sys.path.insert(0, 'tests');"
        "from test_judge_journal import paid; from reviewer.judging.journal import Journal;"
        f"j = Journal(Path({str(db_path)!r}), 's', 'j'); j.append([paid(1)]); j.append([paid(2)]);"
        "os.kill(os.getpid(), signal.SIGKILL)"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert replay(store, db_path) == 2
    assert [r["pair_id"] for r in stored(db_path)] == ["p001", "p002"]


class ListLog:
    """A call log in a list."""

    def __init__(self) -> None:
        self.written: list[Call] = []

    def cached(self, keys):
        return {}

    def write(self, calls, verdicts):
        self.written += calls


def test_a_paid_answer_goes_on_once_journaled_and_the_log_gets_it_in_the_batch(db_path):
    async def main() -> tuple[list[str], list[Call], list[Call], list[Path]]:
        log, journal = ListLog(), Journal(db_path, "s", "j")
        writer = LogWriter(log, 0.01, journal)
        writer.start()
        await writer.add_paid(paid(1))
        before = list(log.written)  # nothing written yet: the caller did not wait for it
        on_disk = [json.loads(line)["pair_id"] for line in journal_files(db_path)[0].open()]
        await writer.close()
        writer.abort()
        return on_disk, before, log.written, journal_files(db_path)

    on_disk, before, written, left = asyncio.run(main())
    assert on_disk == ["p001"] and before == [] and written == [paid(1)] and left == []


def ok_rows(cur, judge_id: str | None = None) -> list[tuple[str, str]]:
    cur.execute(
        "SELECT pair_id, presented FROM judge_calls WHERE outcome = 'ok' AND judge_id LIKE ?",
        [judge_id or "%"],
    )
    return cur.fetchall()


def test_a_run_killed_with_its_answers_only_in_the_journal_resumes_paying_none_twice(
    cli, tmp_path, llm, rubric_file, db_path, monkeypatch
):
    """The test holds the database file while the run's answers arrive, so the run can only
    journal them; kill -9 it; another judge's run moves them in under their own judge, and the
    killed judge's rerun pays only for the rest. No journal is left, and no key is in one."""
    path = write_jsonl(tmp_path / "pairs.jsonl", [marked_pair(i) for i in range(1, N + 1)])
    assert cli("import", path, "--study", "s").code == 0
    key = "sk-proj-" + "".join(f"{i:02d}" for i in range(27))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OPENAI_API_KEY": key,
           "OPENAI_BASE_URL": llm.openai_url}  # fmt: skip
    half = N
    llm.reset(Script(latency=0.3, hold_after=half))
    args = as_provider(judge_args(llm, rubric_file, "--concurrency", "4"), llm, "openai")
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewer", *args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while llm.requests == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    with Store(db_path, lock_timeout=30).cursor() as cur:  # the run's moves wait for the file
        while llm.billed < half and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        in_db = set(ok_rows(cur))
    assert llm.billed == half, proc.stderr.read()
    segments = journal_files(db_path)
    journaled = [json.loads(line) for p in segments for line in p.read_text().splitlines()]
    print(f"\nin the database before the kill: {len(in_db)}, journaled: {len(journaled)}")
    assert journaled and {r["outcome"] for r in journaled} == {"ok"}
    assert len(in_db | {(r["pair_id"], r["presented"]) for r in journaled}) == half
    written = b"".join(map(Path.read_bytes, segments))
    assert not {p for p in key_pieces(key) if p.encode() in written}
    llm.reset()
    other = [*args, "--json"]
    other[other.index("m")] = "m2"
    done = subprocess.run([sys.executable, "-m", "reviewer", *other], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["calls"] == 2 * N and journal_files(db_path) == []
    llm.reset()
    done = subprocess.run([sys.executable, "-m", "reviewer", *args, "--json"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["cached"] == half and summary["calls"] == 2 * N - half
    assert llm.billed == 2 * N - half  # total paid: exactly 2N, none twice
    assert len(verdicts(db_path)) == 2 * 2 * N and journal_files(db_path) == []
    assert len(Store(db_path).read(ok_rows)) == 2 * 2 * N  # no answer stored twice


def test_two_judges_run_at_once_on_one_study_each_with_its_journal(
    cli, tmp_path, llm, rubric_file, db_path
):
    """Two `judge run`s on one DuckDB file: each journals its own answers and moves them in
    while the other holds the file in turn; neither takes the other's journal for a dead one."""
    path = write_jsonl(tmp_path / "pairs.jsonl", [marked_pair(i) for i in range(1, N + 1)])
    assert cli("import", path, "--study", "s").code == 0
    llm.reset(Script(latency=0.05))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for model in ("m", "m2"):
        args = judge_args(llm, rubric_file, "--concurrency", "4", "--json")
        args[args.index("m")] = model
        runs.append(
            subprocess.Popen(
                [sys.executable, "-m", "reviewer", *args],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )  # fmt: skip
        )
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err
        assert json.loads(out)["calls"] == 2 * N
    assert llm.billed == 2 * 2 * N and journal_files(db_path) == []
    by_judge = Store(db_path).read(
        lambda cur: cur.execute(
            "SELECT judge_id, count(*) FROM judge_calls WHERE outcome = 'ok' GROUP BY judge_id"
        ).fetchall()
    )
    assert sorted(n for _, n in by_judge) == [2 * N, 2 * N]
    assert len(verdicts(db_path)) == 2 * 2 * N


def test_an_interrupted_run_keeps_its_journal_and_the_next_run_adds_nothing_twice(store, db_path):
    """Ctrl-C (`abort`): what arrived is written at once, but the journal stays (a batch being
    written when the run was cut may or may not have committed); the next run's replay finds
    every row already stored and deletes the journal."""

    async def main() -> None:
        log = StoreCallLog(store, "s", "j")
        writer = LogWriter(log, 0.01, log.journal)
        writer.start()
        await writer.add_paid(paid(1))
        await writer.add_paid(paid(2))
        writer.abort()

    asyncio.run(main())
    assert [r["pair_id"] for r in stored(db_path)] == ["p001", "p002"]
    assert len(journal_files(db_path)) == 1
    assert replay(store, db_path) == 2 and journal_files(db_path) == []
    assert len(stored(db_path)) == 2


def test_on_postgresql_a_paid_answer_is_its_own_transaction_and_nothing_is_journaled(
    cli, tmp_path, llm, rubric_file, any_db
):
    """The same run on both backends: a journal beside the DuckDB file only, none left after."""
    path = write_jsonl(tmp_path / "pairs.jsonl", [marked_pair(i) for i in range(1, N + 1)])
    assert cli("import", path, "--study", "s").code == 0
    store = Store(any_db)
    assert (StoreCallLog(store, "s", "j").journal is None) == any_db.startswith("postgresql")
    r = cli(*judge_args(llm, rubric_file, "--json"))
    assert r.code == 0, r.err
    assert r.json()["calls"] == llm.billed == 2 * N
    assert list(tmp_path.glob("*.journal-*")) == []
    assert len(store.read(ok_rows)) == 2 * N

"""Judge runs that fail must look failed: a reply that is not the API's answer is a failed call
(retried, then logged), no piece of the key reaches the database or the terminal, a run that
judged too little exits 6, and a killed run resumes paying at most the calls in flight twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, write_jsonl
from llm_server import Script
from test_judge_run import calls, judge_args, marked_pair, verdicts

from reviewer.store import Store

N = 24


@pytest.fixture
def study(cli, tmp_path):
    path = write_jsonl(tmp_path / "pairs.jsonl", [marked_pair(i) for i in range(1, N + 1)])
    assert cli("import", path, "--study", "s").code == 0
    return "s"


def as_provider(args: list[str], llm, provider: str) -> list[str]:
    """The same command for another provider; openai and anthropic read the key from the
    environment (openai also its base URL)."""
    args = list(args)
    args[args.index("openai-compatible")] = provider
    url = args.index(llm.openai_url)
    if provider == "anthropic":
        args[url] = llm.anthropic_url
    elif provider == "openai":
        del args[url - 1 : url + 1]
    return args


@pytest.mark.parametrize("provider", ["openai-compatible", "anthropic"])
def test_an_html_or_empty_200_is_a_failed_call_retried_then_logged(
    cli, study, llm, rubric_file, db_path, monkeypatch, provider
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    llm.reset(Script(faults=["html", "empty", "html"]))
    args = as_provider(judge_args(llm, rubric_file, "--concurrency", "1", "--json"), llm, provider)
    r = cli(*args)
    assert r.code == 0, r.err
    s = r.json()
    assert s["verdicts"] == 2 * N and s["retries"] == 3 and s["errors"] == 0
    errors = [c for c in calls(db_path) if c["outcome"] == "error"]
    assert [c["attempt"] for c in errors] == [1, 2, 3]
    assert all("the server's reply is not what the" in c["error"] for c in errors)
    assert "Invalid JSON" in errors[1]["error"]  # the empty body: why it was refused


@pytest.mark.parametrize("provider", ["openai-compatible", "anthropic"])
def test_a_run_where_every_call_fails_exits_6_with_every_call_logged(
    cli, study, llm, rubric_file, db_path, monkeypatch, provider
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    llm.reset(Script(faults=["html", "empty"] * 2 * N * 2))
    args = judge_args(llm, rubric_file, "--max-retries", "1", "--concurrency", "8")
    r = cli(*as_provider(args, llm, provider))
    assert r.code == 6, (r.out, r.err)
    assert f"0/{2 * N} verdicts" in r.out and f"{2 * N} failed calls" in r.out
    assert f"only 0 of {2 * N} verdicts were judged" in r.err
    log = calls(db_path)
    assert len(log) == 2 * 2 * N and {c["outcome"] for c in log} == {"error"}
    assert verdicts(db_path) == []


def test_too_few_verdicts_exit_6_and_enough_exit_0(cli, study, llm, rubric_file):
    # 25 of 48 (pair, order) verdicts fail (a 400 is not retried): fewer than half judged.
    llm.reset(Script(faults=["400"] * 25))
    r = cli(*judge_args(llm, rubric_file, "--concurrency", "1"))
    assert r.code == 6 and "only 23 of 48 verdicts were judged (less than 50%)" in r.err
    # The rerun asks only for those, and now has them all.
    r = cli(*judge_args(llm, rubric_file, "--json"))
    assert r.code == 0 and r.json()["calls"] == 25 and r.json()["verdicts"] == 48
    # Half judged is enough to exit 0; what is missing is listed.
    llm.reset(Script(faults=["400"] * 24))
    r = cli(*judge_args(llm, rubric_file, "--temperature", "0.5"))
    assert r.code == 0 and "24/48 verdicts" in r.out and "24 failed calls" in r.out


def test_calibrate_exits_6_when_nothing_was_judged(cli, study, llm, rubric_file):
    llm.reset(Script(faults=["500"] * 1000))
    args = judge_args(llm, rubric_file, "--max-retries", "0")
    args[1] = "calibrate"
    del args[args.index("--pairs") : args.index("--override") + 2]
    r = cli(*args)
    assert r.code == 6, (r.out, r.err)
    assert "verdicts were judged (less than 50%)" in r.err


def key_pieces(key: str) -> set[str]:
    return {key[i : i + 8] for i in range(len(key) - 7)}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_no_eight_characters_of_the_key_reach_the_database_or_the_terminal(
    cli, study, llm, rubric_file, db_path, tmp_path, monkeypatch, provider
):
    # 62 characters, as an OpenAI project key's tail; each 8-character piece is unique.
    key = "sk-proj-" + "".join(f"{i:02d}" for i in range(27))
    assert len(key) == 62
    monkeypatch.setenv("OPENAI_API_KEY", key)
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    monkeypatch.setenv("OPENAI_BASE_URL", llm.openai_url)
    llm.reset(Script(faults=["leak"] * 4))
    args = as_provider(judge_args(llm, rubric_file, "--concurrency", "2"), llm, provider)
    r = cli(*args)
    assert llm.keys_seen == {key}
    log = calls(db_path)
    leaked = [c["error"] for c in log if c["outcome"] == "error"]
    assert len(leaked) == 4 and all("[key]" in e for e in leaked), leaked
    shown = r.out + r.err + json.dumps(log, default=str)
    assert not {p for p in key_pieces(key) if p in shown}
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("signoff.duckdb*"))
    assert not {p for p in key_pieces(key) if p.encode() in stored}


def count_ok_calls(db_path) -> int:
    return Store(db_path, lock_timeout=30).read(
        lambda cur: cur.execute("SELECT count(*) FROM judge_calls WHERE outcome = 'ok'").fetchone()[
            0
        ]
    )


BIG = 150  # pairs: 300 calls
CONCURRENCY = 16


def test_a_run_killed_mid_way_pays_at_most_the_calls_in_flight_twice(
    cli, tmp_path, llm, rubric_file, db_path
):
    """SIGKILL the CLI while answers stream in (not waiting for anything to be written), resume,
    and count the prompts the server answered in both runs: each worker's answer is stored (in
    the journal beside the database file) before it takes the next call, so at most one answer
    per worker is lost."""
    path = write_jsonl(tmp_path / "pairs.jsonl", [marked_pair(i) for i in range(1, BIG + 1)])
    assert cli("import", path, "--study", "s").code == 0
    llm.reset(Script(latency=0.03))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = judge_args(llm, rubric_file, "--concurrency", str(CONCURRENCY))
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewer", *args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while llm.billed < BIG and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert llm.billed < 2 * BIG, "the run finished before it was killed"
    first = set(llm.delivered)
    llm.reset()
    done = subprocess.run(
        [sys.executable, "-m", "reviewer", *args, "--json"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    twice = first & set(llm.delivered)
    summary = json.loads(done.stdout)
    print(f"\ndelivered before the kill: {len(first)}; paid twice: {len(twice)}")
    assert summary["cached"] == count_ok_calls(db_path) - summary["calls"]
    assert len(first | set(llm.delivered)) == 2 * BIG
    assert len(twice) <= CONCURRENCY

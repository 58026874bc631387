"""`signoff judge run`: both orders, cache, resume, retries, budget, dry run, keys."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, pair, write_jsonl
from llm_server import MARKER, Script

from reviewer.store import Store
from reviewer.store.connection import fetch_dicts

N = 24


def expected_outcome(i: int) -> str:
    return {0: "candidate", 1: "baseline", 2: "tie"}[i % 3]


def marked_pair(i: int) -> dict:
    kind = expected_outcome(i)
    return pair(
        i,
        candidate=f"Candidate answer {i}." + (f" {MARKER}" if kind == "candidate" else ""),
        baseline=f"Baseline answer {i}." + (f" {MARKER}" if kind == "baseline" else ""),
    )


@pytest.fixture
def study(cli, tmp_path):
    path = write_jsonl(tmp_path / "pairs.jsonl", [marked_pair(i) for i in range(1, N + 1)])
    assert cli("import", path, "--study", "s").code == 0
    return "s"


def judge_args(llm, rubric_file, *extra: str) -> list[str]:
    return [
        "judge", "run", "--study", "s", "--rubric", str(rubric_file),
        "--provider", "openai-compatible", "--base-url", llm.openai_url, "--model", "m",
        "--pairs", "all", "--override", "testing the runner, not the gate", *extra,
    ]  # fmt: skip


def verdicts(db_path) -> list[dict]:
    return Store(db_path).read(
        lambda cur: fetch_dicts(
            cur,
            "SELECT pair_id, judge_id, presented, preference, criteria_json FROM verdicts "
            "ORDER BY pair_id, presented",
        )
    )


def calls(db_path) -> list[dict]:
    return Store(db_path).read(
        lambda cur: fetch_dicts(cur, "SELECT * FROM judge_calls ORDER BY call_id")
    )


def test_both_orders_are_judged_and_stored_in_candidate_terms(
    cli, study, llm, rubric_file, db_path
):
    r = cli(*judge_args(llm, rubric_file, "--json"))
    assert r.code == 0, r.err
    summary = r.json()
    assert summary["needed"] == summary["verdicts"] == 2 * N
    assert summary["calls"] == llm.billed == 2 * N and summary["cached"] == 0, summary["failures"]
    assert summary["flips"] == 0 and summary["pairs_both_orders"] == N
    assert summary["first_position_rate"] == 0.5  # the marker judge has no position bias
    rows = verdicts(db_path)
    assert len(rows) == 2 * N
    for row in rows:
        i = int(row["pair_id"][1:])
        assert row["preference"] == expected_outcome(i), row
        same = {"candidate": "candidate", "baseline": "baseline", "tie": "same"}
        assert json.loads(row["criteria_json"]) == dict.fromkeys(
            ["correctness", "tone"], same[expected_outcome(i)]
        )
    log = calls(db_path)
    assert {c["outcome"] for c in log} == {"ok"}
    assert all(c["input_tokens"] > 0 and c["latency_ms"] > 0 for c in log)
    first = json.loads(log[0]["request_json"])
    assert first["params"] == {"base_url": llm.openai_url, "max_tokens": 1024,
                               "mode": "json_object", "temperature": 0.0}  # fmt: skip


def test_a_rerun_is_served_from_the_cache_with_zero_calls(cli, study, llm, rubric_file, db_path):
    assert cli(*judge_args(llm, rubric_file, "--concurrency", "4")).code == 0
    billed = llm.billed
    # Concurrency and timeouts do not change answers: still the same calls.
    r = cli(*judge_args(llm, rubric_file, "--concurrency", "9", "--timeout", "30", "--json"))
    assert r.json()["cached"] == 2 * N and r.json()["calls"] == 0
    assert llm.billed == billed and llm.requests == billed
    assert len(verdicts(db_path)) == 2 * N  # no duplicates
    cached = [c for c in calls(db_path) if c["outcome"] == "cached"]
    assert len(cached) == 2 * N and all(c["cost_usd"] == 0 for c in cached)
    # A different temperature is a different judge: it pays for its own calls.
    r = cli(*judge_args(llm, rubric_file, "--temperature", "0.7", "--json"))
    assert r.json()["calls"] == 2 * N
    assert len({row["judge_id"] for row in verdicts(db_path)}) == 2


def test_transient_failures_are_retried_until_every_verdict_is_in(
    cli, study, llm, rubric_file, db_path
):
    llm.reset(Script(faults=["429", "500", "hang", "malformed", "truncated", "429"],
                     retry_after=0.2))  # fmt: skip
    r = cli(*judge_args(llm, rubric_file, "--timeout", "2", "--json"))
    assert r.code == 0, r.err
    s = r.json()
    assert s["verdicts"] == 2 * N and s["missing"] == 0
    log = calls(db_path)
    outcomes = [c["outcome"] for c in log]
    assert outcomes.count("parse_failure") == 2 and outcomes.count("ok") == 2 * N
    errors = [c["error"] for c in log if c["outcome"] == "error"]
    assert sum("HTTP 429" in e for e in errors) == 2 and sum("HTTP 500" in e for e in errors) == 1
    # The hanging call timed out (on a loaded machine a slow call may time out too).
    assert sum("Timeout" in e for e in errors) == len(errors) - 3 >= 1
    assert s["calls"] == len(log) == 2 * N + s["retries"]
    assert any("cut at max_tokens" in (c["error"] or "") for c in log)
    assert [v["preference"] for v in verdicts(db_path)] == [
        expected_outcome(int(v["pair_id"][1:])) for v in verdicts(db_path)
    ]


def test_retry_after_is_honoured(cli, study, llm, rubric_file):
    llm.reset(Script(faults=["429"], retry_after=0.6))
    stamps = []
    original = llm.next_fault

    def stamped():
        stamps.append(time.monotonic())
        return original()

    llm.next_fault = stamped
    assert cli(*judge_args(llm, rubric_file, "--concurrency", "1")).code == 0
    assert stamps[1] - stamps[0] >= 0.6  # the retry waited at least what the server asked


def test_an_unparseable_answer_is_recorded_never_guessed(cli, study, llm, rubric_file, db_path):
    llm.reset(Script(faults=["malformed"] * 3))
    r = cli(*judge_args(llm, rubric_file, "--concurrency", "1"))
    assert r.code == 0
    assert "not judged: 1 unparseable answers, 0 failed calls" in r.out
    assert "p001: unparseable answer (no JSON object in the answer)" in r.out
    assert len(verdicts(db_path)) == 2 * N - 1
    failures = [c for c in calls(db_path) if c["outcome"] == "parse_failure"]
    assert [c["attempt"] for c in failures] == [1, 2, 3]  # retried twice, then given up
    # Running again asks only for what is missing.
    billed = llm.billed
    r = cli(*judge_args(llm, rubric_file, "--json"))
    assert r.json()["calls"] == 1 and llm.billed == billed + 1
    assert len(verdicts(db_path)) == 2 * N


def test_a_refused_key_stops_the_run_and_is_never_shown_or_stored(
    cli, study, llm, rubric_file, db_path, tmp_path, monkeypatch
):
    secret = "sk-proj-TOPSECRET-0123456789"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    llm.reset(Script(faults=["401"]))
    args = judge_args(llm, rubric_file, "--concurrency", "1")
    args[args.index("openai-compatible")] = "openai"
    args.remove("--base-url")
    args.remove(llm.openai_url)
    monkeypatch.setenv("OPENAI_BASE_URL", llm.openai_url)
    r = cli(*args)
    assert r.code == 4
    assert "stopped early: the provider refused the run: HTTP 401" in r.out
    assert llm.keys_seen == {secret}  # the key was used...
    # ...and then a successful run, a report and an export: the key is nowhere.
    llm.reset()
    assert cli(*args).code == 0
    report = tmp_path / "report.html"
    assert cli("report", "--study", "s", "--format", "html", "--out", report).code == 0
    assert cli("report", "--study", "s", "--format", "json", "--out", tmp_path / "r.json").code == 0
    shown = r.out + r.err + report.read_text() + (tmp_path / "r.json").read_text()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("signoff.duckdb*"))
    assert secret not in shown and secret.encode() not in stored
    assert "Incorrect API key provided: [key]" in json.dumps(calls(db_path), default=str)


def test_missing_key_is_an_error_before_any_work(cli, study, llm, rubric_file, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    args = judge_args(llm, rubric_file)
    args[args.index("openai-compatible")] = "anthropic"
    r = cli(*args)
    assert r.code == 2 and "set the environment variable ANTHROPIC_API_KEY" in r.err
    assert llm.requests == 0


def test_budget_stops_the_run_cleanly_and_a_rerun_finishes(
    cli, study, llm, rubric_file, db_path, tmp_path
):
    prices = tmp_path / "prices.toml"
    prices.write_text("[m]\ninput = 1000.0\noutput = 1000.0\n")  # USD per million tokens
    dry = cli(*judge_args(llm, rubric_file, "--prices", prices, "--max-tokens", "200",
                          "--dry-run", "--json")).json()  # fmt: skip
    assert dry["calls"] == 2 * N and dry["cached"] == 0 and llm.requests == 0
    assert dry["output_tokens_max"] == 2 * N * 200
    assert dry["cost_max"] == pytest.approx((dry["input_tokens"] + 2 * N * 200) * 1000 / 1e6)
    budget = dry["cost_max"] / 3
    r = cli(*judge_args(llm, rubric_file, "--prices", prices, "--max-tokens", "200",
                        "--max-cost", f"{budget}", "--json"))  # fmt: skip
    assert r.code == 4
    s = r.json()
    assert s["stopped"].startswith("budget of $") and 0 < s["verdicts"] < 2 * N
    spent = sum(c["cost_usd"] for c in calls(db_path))
    assert spent == pytest.approx(s["cost_usd"]) and spent <= budget
    # Cost per call is the server's reported usage at the configured price.
    c = calls(db_path)[0]
    assert c["cost_usd"] == pytest.approx((c["input_tokens"] + c["output_tokens"]) * 1000 / 1e6)
    after = cli(*judge_args(llm, rubric_file, "--prices", prices, "--max-tokens", "200",
                            "--dry-run", "--json")).json()  # fmt: skip
    assert after["cached"] == s["verdicts"] and after["calls"] == 2 * N - s["verdicts"]
    r = cli(*judge_args(llm, rubric_file, "--prices", prices, "--max-tokens", "200", "--json"))
    assert r.json()["calls"] == 2 * N - s["verdicts"] and llm.billed == 2 * N


def test_budget_needs_a_price(cli, study, llm, rubric_file):
    r = cli(*judge_args(llm, rubric_file, "--max-cost", "5"))
    assert r.code == 2 and "no price is known for model 'm'" in r.err
    assert llm.requests == 0


def test_killed_run_resumes_without_paying_twice(study, llm, rubric_file, db_path):
    """SIGKILL the CLI half-way through; the rerun pays only for what was never received."""
    half = N  # of 2N calls
    llm.reset(Script(latency=0.02, hold_after=half))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewer", *judge_args(llm, rubric_file, "--concurrency", "4")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline:
        if llm.billed >= half:
            stored = Store(db_path, lock_timeout=30).read(
                lambda cur: cur.execute(
                    "SELECT count(*) FROM judge_calls WHERE outcome = 'ok'"
                ).fetchone()[0]
            )
            if stored == half:
                break
        time.sleep(0.02)
    assert stored == half, proc.stderr.read() if proc.poll() is not None else "timed out"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert llm.billed == half
    llm.reset()  # the server answers normally again; billed restarts at 0
    done = subprocess.run(
        [sys.executable, "-m", "reviewer", *judge_args(llm, rubric_file, "--json")],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["cached"] == half and summary["calls"] == 2 * N - half
    assert llm.billed == 2 * N - half  # total paid: exactly 2N, none twice
    assert len(verdicts(db_path)) == 2 * N


def test_anthropic_run_and_the_report_reads_the_judge(
    cli, study, llm, rubric_file, tmp_path, monkeypatch
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    args = judge_args(llm, rubric_file, "--json")
    args[args.index("openai-compatible")] = "anthropic"
    args[args.index(llm.openai_url)] = llm.anthropic_url
    r = cli(*args)
    assert r.code == 0 and r.json()["verdicts"] == 2 * N
    assert all(b["tools"][0]["name"] == "submit_verdict" for b in llm.bodies)
    report = cli("report", "--study", "s", "--format", "json").json()
    (judge,) = report["judges"]
    assert judge["name"] == "m" and judge["provider"] == "anthropic"
    assert judge["flip_rate"] == 0 and judge["first_position_rate"] == 0.5
    win = judge["result"]["win_rate"]
    assert (win["candidate"], win["baseline"], win["tie"]) == (N // 3, N // 3, N // 3)


@pytest.mark.parametrize(
    ("provider", "asked", "served"),
    [
        ("openai-compatible", "gpt-x", "gpt-x-2026-01-01"),
        ("anthropic", "claude-x", "claude-x-20260101"),
    ],
)
def test_the_served_model_is_logged_and_a_cached_call_keeps_it(
    cli, study, llm, rubric_file, db_path, monkeypatch, provider, asked, served
):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    args = judge_args(llm, rubric_file, "--json")
    args[args.index("openai-compatible")] = provider
    args[args.index("m")] = asked
    if provider == "anthropic":
        args[args.index(llm.openai_url)] = llm.anthropic_url
    llm.reset(Script(served={asked: served}, faults=["500"]))
    assert cli(*args).code == 0
    assert {b["model"] for b in llm.bodies} == {asked}
    log = calls(db_path)
    assert [c["outcome"] for c in log].count("ok") == 2 * N
    assert {c["served_model"] for c in log if c["outcome"] == "ok"} == {served}
    assert [c["served_model"] for c in log if c["outcome"] == "error"] == [None]  # no reply
    # The alias now points elsewhere, but the cached answers came from the first snapshot.
    llm.reset(Script(served={asked: "a-newer-snapshot"}))
    assert cli(*args).json()["cached"] == 2 * N and llm.requests == 0
    cached = [c for c in calls(db_path) if c["outcome"] == "cached"]
    assert len(cached) == 2 * N and {c["served_model"] for c in cached} == {served}


def test_a_cached_call_from_before_served_models_were_logged_has_none(
    cli, study, llm, rubric_file, db_path
):
    llm.reset(Script(served={"m": "m-2026-01-01"}))
    assert cli(*judge_args(llm, rubric_file)).code == 0
    Store(db_path).write(  # as the rows of a run made before the migration
        lambda cur: cur.execute("UPDATE judge_calls SET served_model = NULL")
    )
    assert cli(*judge_args(llm, rubric_file, "--json")).json()["cached"] == 2 * N
    cached = [c for c in calls(db_path) if c["outcome"] == "cached"]
    assert len(cached) == 2 * N and {c["served_model"] for c in cached} == {None}


def test_requests_per_minute_limit_holds_in_every_window(monkeypatch):
    import asyncio

    from judge.limits import MinuteBudget

    monkeypatch.setattr(MinuteBudget, "WINDOW", 0.4)  # a "minute" of 0.4 s keeps the test short
    budget = MinuteBudget(per_minute=5)
    stamps: list[float] = []

    async def call():
        await budget.acquire(1)
        stamps.append(time.monotonic())

    async def main():
        await asyncio.wait_for(asyncio.gather(*(call() for _ in range(12))), 10)

    asyncio.run(main())
    assert len(stamps) == 12
    for t in stamps:  # no window of that length ever holds more than the limit
        assert sum(t <= s < t + 0.4 for s in stamps) <= 5
    assert stamps[-1] - stamps[0] >= 0.8  # 12 calls at 5 per window need 3 windows

"""`signoff judge run --batch`: both providers' batch APIs through the real SDKs over HTTP to
the scripted server; the cache, the split, failed and expired requests, the batch price, and a
run killed while it polls that resumes the same batches."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, pair, write_jsonl
from llm_batch_server import BatchScript
from llm_server import MARKER

from judge.batch import BatchLimits, BatchRecord, split
from judge.batch.requests import LineEncoder, anthropic_params, openai_body
from judge.providers import Request
from reviewer.errors import SignoffError
from reviewer.judging.batch import StoreBatchLedger
from reviewer.store import Store
from reviewer.store.connection import fetch_dicts

N = 12
PRICE = 1000.0  # USD per million tokens, input and output alike


def expected(i: int) -> str:
    return {0: "candidate", 1: "baseline", 2: "tie"}[i % 3]


def marked_pair(i: int) -> dict:
    kind = expected(i)
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


@pytest.fixture
def prices(tmp_path):
    path = tmp_path / "prices.toml"
    path.write_text(f"[m]\ninput = {PRICE}\noutput = {PRICE}\n")
    return path


@pytest.fixture(autouse=True)
def keys(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")


def batch_args(llm, rubric_file, prices, provider: str = "openai", *extra: str) -> list[str]:
    url = llm.anthropic_url if provider == "anthropic" else llm.openai_url
    return [
        "judge", "run", "--study", "s", "--rubric", str(rubric_file), "--provider", provider,
        "--base-url", url, "--model", "m", "--prices", str(prices), "--pairs", "all",
        "--override", "testing batches, not the gate", "--batch", "--poll-interval", "0.01",
        *extra,
    ]  # fmt: skip


def rows(db_path, sql: str) -> list[dict]:
    return Store(db_path).read(lambda cur: fetch_dicts(cur, sql))


def calls(db_path) -> list[dict]:
    return rows(db_path, "SELECT * FROM judge_calls ORDER BY call_id")


def batches(db_path) -> list[dict]:
    return rows(db_path, "SELECT * FROM judge_batches ORDER BY submitted_at, batch_id")


def verdicts(db_path) -> list[dict]:
    return rows(db_path, "SELECT * FROM verdicts ORDER BY pair_id, presented")


def assert_judged_right(db_path) -> None:
    got = verdicts(db_path)
    assert len(got) == 2 * N
    assert all(v["preference"] == expected(int(v["pair_id"][1:])) for v in got)


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_batch_run_judges_both_orders_at_half_the_price(
    cli, study, llm, rubric_file, prices, db_path, provider
):
    llm.batch.script = BatchScript(polls=2)
    r = cli(*batch_args(llm, rubric_file, prices, provider, "--json"))
    assert r.code == 0, r.err
    s = r.json()
    assert s["verdicts"] == s["needed"] == 2 * N and s["submitted"] == 2 * N
    assert s["calls"] == 2 * N and s["cached"] == 0 and len(s["batches"]) == 1
    assert s["polls"] == 3  # two "in progress", then ended
    assert len(llm.batch.submitted) == len(set(llm.batch.submitted)) == 2 * N
    assert llm.requests == 0  # nothing went through the online endpoint
    assert_judged_right(db_path)
    log = calls(db_path)
    assert {c["outcome"] for c in log} == {"ok"} and len(log) == 2 * N
    for c in log:  # the batch price: half of PRICE per million tokens
        assert c["cost_usd"] == pytest.approx(
            (c["input_tokens"] + c["output_tokens"]) * PRICE / 2e6
        )
        assert json.loads(c["request_json"])["batch"] == s["batches"][0]
    assert s["cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in log))
    (b,) = batches(db_path)
    assert (b["batch_id"], b["provider"], b["requests"]) == (s["batches"][0], provider, 2 * N)
    assert (b["status"], b["answered"], b["failed"]) == ("completed", 2 * N, 0)
    assert b["collected_at"] is not None
    if provider == "anthropic":
        body = llm.batch.batches[b["batch_id"]]["requests"][0][1]
        assert body["tools"][0]["name"] == "submit_verdict" and "temperature" not in body
    else:
        upload = llm.batch.batches[b["batch_id"]]["requests"][0][1]
        assert upload["response_format"]["type"] == "json_schema"


def test_cached_answers_are_never_sent(cli, study, llm, rubric_file, prices, db_path):
    first = cli(*batch_args(llm, rubric_file, prices, "openai", "--json"))
    dev = [a if a != "all" else "calibration" for a in batch_args(llm, rubric_file, prices)]
    assert first.code == 0
    # A second run of the same judge finds every answer in the cache: no batch at all.
    again = cli(*batch_args(llm, rubric_file, prices, "openai", "--json")).json()
    assert again["cached"] == 2 * N and again["submitted"] == 0 and again["batches"] == []
    assert len(llm.batch.submitted) == 2 * N and len(batches(db_path)) == 1
    text = cli(*batch_args(llm, rubric_file, prices, "openai")).out
    assert f"from cache: {2 * N}" in text and "batches: 0 submitted (0 requests" in text
    # A new judge (another temperature) judged online on the development pairs first: the
    # batch run then sends only the other pairs.
    online = cli(*[a for a in dev if a not in ("--batch", "--poll-interval", "0.01")],
                 "--temperature", "0.5", "--json").json()  # fmt: skip
    assert online["calls"] > 0
    r = cli(*batch_args(llm, rubric_file, prices, "openai", "--temperature", "0.5", "--json"))
    s = r.json()
    assert s["cached"] == online["verdicts"] and s["submitted"] == 2 * N - online["verdicts"]
    new = llm.batch.submitted[2 * N :]  # the second judge's batch: same prompts, new judge
    assert len(new) == len(set(new)) == 2 * N - online["calls"]
    assert not set(new) & set(llm.delivered)  # none of those answered online
    assert s["verdicts"] == 2 * N


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_small_batch_size_splits_the_run(cli, study, llm, rubric_file, prices, db_path, provider):
    r = cli(*batch_args(llm, rubric_file, prices, provider, "--batch-size", "5", "--json"))
    s = r.json()
    assert r.code == 0 and s["verdicts"] == 2 * N
    sizes = [b["requests"] for b in batches(db_path)]
    assert sizes == [5, 5, 5, 5, 4] and len(s["batches"]) == 5
    assert all(len(llm.batch.batches[b]["requests"]) <= 5 for b in s["batches"])
    assert len(llm.batch.submitted) == len(set(llm.batch.submitted)) == 2 * N


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_failed_and_expired_requests_are_reported_and_retried_never_paid_twice(
    cli, study, llm, rubric_file, prices, db_path, provider
):
    llm.batch.script = BatchScript(faults=["ok", "error", "expired", "malformed"])
    r = cli(*batch_args(llm, rubric_file, prices, provider, "--json"))
    s = r.json()
    assert r.code == 0, r.err  # most verdicts are in
    assert (s["verdicts"], s["errors"], s["parse_failures"]) == (2 * N - 3, 2, 1)
    assert s["calls"] == 2 * N - 2  # answers received: the malformed one was paid for too
    assert any("scripted failure" in f for f in s["failures"])
    assert any("expired" in f for f in s["failures"])
    (b,) = batches(db_path)
    assert (b["status"], b["answered"], b["failed"]) == ("expired", 2 * N - 2, 2)
    log = calls(db_path)
    assert sorted(c["outcome"] for c in log if c["outcome"] != "ok") == [
        "error", "error", "parse_failure",
    ]  # fmt: skip
    assert all(c["cost_usd"] == 0 for c in log if c["outcome"] == "error")
    paid = list(llm.batch.paid)
    # The rerun asks for the three unanswered requests only, in a new batch.
    again = cli(*batch_args(llm, rubric_file, prices, provider, "--json")).json()
    assert again["submitted"] == 3 and again["cached"] == 2 * N - 3
    assert again["verdicts"] == 2 * N and again["errors"] == 0
    assert len(llm.batch.paid) == len(paid) + 3
    assert len(set(llm.batch.paid)) == 2 * N  # each request answered (paid) once, but
    assert len(llm.batch.paid) == 2 * N + 1  # the malformed answer, paid and asked again
    assert_judged_right(db_path)


def test_a_batch_that_fails_as_a_whole_is_reported_and_resent(
    cli, study, llm, rubric_file, prices, db_path
):
    llm.batch.script = BatchScript(fail_next=1)
    r = cli(*batch_args(llm, rubric_file, prices, "openai", "--json"))
    assert r.code == 6  # nothing judged
    s = r.json()
    assert s["errors"] == 2 * N and s["verdicts"] == 0 and s["cost_usd"] == 0
    assert "scripted" in s["failures"][0]
    assert [b["status"] for b in batches(db_path)] == ["failed"]
    r = cli(*batch_args(llm, rubric_file, prices, "openai", "--json"))
    assert r.code == 0 and r.json()["verdicts"] == 2 * N
    assert len(llm.batch.paid) == len(set(llm.batch.paid)) == 2 * N


def test_the_dry_run_shows_the_online_and_the_batch_price(cli, study, llm, rubric_file, prices):
    args = batch_args(llm, rubric_file, prices, "openai", "--dry-run")
    est = cli(*args, "--json").json()
    assert est["calls"] == 2 * N and llm.batch.submitted == []
    assert est["batch_cost_expected"] == pytest.approx(est["cost_expected"] / 2)
    assert est["batch_cost_max"] == pytest.approx(est["cost_max"] / 2)
    text = cli(*args).out
    assert f"${est['cost_max']:,.4f} at most" in text
    assert (
        f"cost with --batch (half price, answers within 24 h): ~${est['batch_cost_expected']:,.4f}"
        in text
    )


def test_a_batch_run_needs_a_key_before_any_work(cli, study, llm, rubric_file, prices, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    r = cli(*batch_args(llm, rubric_file, prices, "openai"))
    assert r.code == 2 and "OPENAI_API_KEY" in r.err
    assert llm.batch.submitted == [] and llm.batch.files == {}


def wait_for_polling(proc, llm, db_path, expected: int) -> list[str]:
    """The batch ids once `expected` batches are recorded and each was polled twice."""
    deadline = time.monotonic() + 300  # a loaded machine imports the SDK slowly
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        ids = [b["batch_id"] for b in batches(db_path)] if db_path.exists() else []
        if len(ids) == expected and all(llm.batch.status_checks.get(i, 0) >= 2 for i in ids):
            return ids
        time.sleep(0.05)
    raise AssertionError("the batches were never polled")


@pytest.mark.parametrize(
    ("provider", "n", "size", "expected"), [("anthropic", N, 10, 3), ("openai", 500, 400, 3)]
)
def test_killed_while_polling_resumes_the_same_batches_and_submits_nothing_twice(
    cli, llm, rubric_file, prices, db_path, tmp_path, provider, n, size, expected
):
    path = write_jsonl(tmp_path / "many.jsonl", [marked_pair(i) for i in range(1, n + 1)])
    assert cli("import", path, "--study", "s").code == 0
    llm.batch.script = BatchScript(polls=10**9)  # in progress until the test says otherwise
    args = batch_args(llm, rubric_file, prices, provider, "--batch-size", str(size))
    args[args.index("--poll-interval") + 1] = "0.05"
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewer", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        ids = wait_for_polling(proc, llm, db_path, expected)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert len(llm.batch.submitted) == 2 * n and llm.batch.paid == []
    llm.batch.script.polls = 0  # the batches end at their next status check
    r = cli(*args, "--json")
    assert r.code == 0, r.err
    s = r.json()
    assert s["resumed"] == ids and s["submitted"] == 0 and s["batches"] == []
    assert s["verdicts"] == 2 * n and s["calls"] == 2 * n
    assert len(llm.batch.submitted) == len(set(llm.batch.submitted)) == 2 * n
    assert len(llm.batch.paid) == len(set(llm.batch.paid)) == 2 * n
    assert len(llm.batch.batches) == expected
    log = calls(db_path)
    assert len(log) == 2 * n and {c["outcome"] for c in log} == {"ok"}
    tokens = sum(c["input_tokens"] + c["output_tokens"] for c in log)
    assert sum(c["cost_usd"] for c in log) == pytest.approx(tokens * PRICE / 2e6)
    assert {b["status"] for b in batches(db_path)} == {"completed"}
    got = verdicts(db_path)
    assert len(got) == 2 * n
    assert all(v["preference"] == expected_of(v["pair_id"]) for v in got)


def expected_of(pair_id: str) -> str:
    return expected(int(pair_id[1:]))


def test_the_batch_ledger_works_on_both_backends(any_db, cli, llm, rubric_file, prices, tmp_path):
    """The batches table and its queries on DuckDB and PostgreSQL: batches recorded, closed
    with their counts; a batch recorded but never sent found open by the next run of this judge
    only, and closed."""
    path = write_jsonl(tmp_path / "p.jsonl", [marked_pair(i) for i in range(1, N + 1)])
    assert cli("import", path, "--study", "s").code == 0
    llm.batch.script = BatchScript(faults=["error"])
    first = cli(*batch_args(llm, rubric_file, prices, "openai", "--batch-size", "7", "--json"))
    assert first.code == 0 and first.json()["errors"] == 1
    store = Store(any_db)
    rows = store.read(
        lambda cur: fetch_dicts(
            cur, "SELECT requests, status, answered, failed FROM judge_batches ORDER BY batch_id"
        )
    )
    assert [(r["requests"], r["answered"], r["failed"]) for r in rows] == [
        (7, 6, 1), (7, 7, 0), (7, 7, 0), (3, 3, 0),
    ]  # fmt: skip
    assert [r["status"] for r in rows] == ["completed"] * 4
    again = cli(*batch_args(llm, rubric_file, prices, "openai", "--json")).json()
    assert again["submitted"] == 1 and again["verdicts"] == 2 * N
    assert len(llm.batch.paid) == len(set(llm.batch.paid)) == 2 * N
    # A batch recorded as about to be sent, which the provider never received: the next run
    # finds no such batch, closes the record and asks for its requests with the rest.
    llm.batch.script = BatchScript(faults=["error"])
    judge_id = cli(*batch_args(llm, rubric_file, prices, "openai", "--temperature", "0.3",
                               "--json")).json()["judge_id"]  # fmt: skip
    ledger = StoreBatchLedger(store, "s", judge_id, "openai", "all")
    ledger.submitting(BatchRecord("signoff-lost", 1))
    (lost,) = ledger.open_batches()
    assert (lost.tag, lost.batch_id, lost.requests) == ("signoff-lost", None, 1)
    assert StoreBatchLedger(store, "s", "judge:y", "openai", "all").open_batches() == []
    other_scope = StoreBatchLedger(store, "s", judge_id, "openai", "development")
    with pytest.raises(SignoffError, match="batches of the all pairs still open"):
        other_scope.open_batches()
    last = cli(*batch_args(llm, rubric_file, prices, "openai", "--temperature", "0.3", "--json"))
    assert last.json()["submitted"] == 1 and last.json()["resumed"] == []
    assert ledger.open_batches() == []
    status = store.read(
        lambda cur: cur.execute(
            "SELECT status FROM judge_batches WHERE tag = 'signoff-lost'"
        ).fetchone()[0]
    )
    assert status == "not_submitted"
    assert ledger.known_ids() == set(llm.batch.batches)


def test_split_keeps_each_batch_within_the_request_and_byte_limits():
    lines = [f'{{"custom_id":"k{i}","x":"{"y" * (i % 7)}"}}' for i in range(100)]
    sizes = [len(line) + 1 for line in lines]
    limits = BatchLimits(max_requests=30, max_bytes=600)
    chunks = list(split(lines, limits))
    assert [line for chunk in chunks for line in chunk] == lines  # all, once, in order
    for chunk in chunks:
        assert len(chunk) <= 30 and sum(len(x) + 1 for x in chunk) <= 600
    # Greedy: each batch is cut only when the next line would not fit.
    start = 0
    for chunk in chunks[:-1]:
        end = start + len(chunk)
        assert len(chunk) == 30 or sum(sizes[start : end + 1]) > 600
        start = end
    assert list(split(lines, BatchLimits(1000, 10**9))) == [lines]
    assert list(split(["x" * 50], BatchLimits(10, 20))) == [["x" * 50]]  # too big: alone


@pytest.mark.parametrize("mode", ["json_schema", "json_object", "tools", "plain"])
def test_each_request_line_is_the_body_the_online_provider_sends(mode):
    schema = {"type": "object", "properties": {"overall": {"enum": ["first", "second"]}}}
    encoder = {api: LineEncoder(api, "m", mode) for api in ("openai", "anthropic")}
    for i, options in enumerate([{}, {"seed": 3}, {}]):
        messages = [
            {"role": "system", "content": 'Judge "fairly".'},
            {"role": "user", "content": f"Pair {i}: <<<é>>>\n"},
        ]
        request = Request(messages, schema, 100 + i, 0.0, 30, options)
        line = json.loads(encoder["openai"].line(f"key{i}", request))
        assert line == {"custom_id": f"key{i}", "method": "POST", "url": "/v1/chat/completions",
                        "body": openai_body("m", mode, request)}  # fmt: skip
        if mode in ("tools", "plain"):
            line = json.loads(encoder["anthropic"].line(f"key{i}", request))
            assert line == {"custom_id": f"key{i}", "params": anthropic_params("m", mode, request)}
            assert line["params"]["system"] == 'Judge "fairly".'
            assert line["params"]["messages"] == messages[1:]


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_killed_while_submitting_finds_its_batch_and_submits_nothing_twice(
    cli, study, llm, rubric_file, prices, db_path, provider
):
    """The provider accepted the first batch, but the process died before it heard the id."""
    llm.batch.script = BatchScript(hang_create=1, polls=0)
    args = batch_args(llm, rubric_file, prices, provider, "--batch-size", "10")
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewer", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300  # a loaded machine imports the SDK slowly
        while not (llm.batch.batches and db_path.exists() and batches(db_path)):
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    ((first_id, _),) = llm.batch.batches.items()
    (record,) = batches(db_path)
    assert (record["batch_id"], record["status"], record["requests"]) == (None, "submitting", 10)
    r = cli(*args, "--json")
    assert r.code == 0, r.err
    s = r.json()
    assert s["resumed"] == [first_id] and s["submitted"] == 2 * N - 10
    assert s["verdicts"] == 2 * N
    assert len(llm.batch.submitted) == len(set(llm.batch.submitted)) == 2 * N
    assert len(llm.batch.paid) == len(set(llm.batch.paid)) == 2 * N
    got = batches(db_path)
    assert got[0]["batch_id"] == first_id and {b["status"] for b in got} == {"completed"}

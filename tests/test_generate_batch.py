"""`signoff generate --batch` and `--dry-run`: both providers' batch APIs through the real SDKs
over HTTP to the scripted server; outputs as an online run gives them, at exactly half the
price; the call log as cache; failed requests marked and asked again; a run killed while it
polls or while it submits resumes its batches from OUT/batches.jsonl and pays nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, write_jsonl
from llm_batch_server import BatchScript
from llm_server import Script, echo_answer
from test_generate import golden_rows, prompt_text, read_jsonl

N = 6  # golden prompts (test_generate's: one asks base-m for silence)
PRICES = {
    "cand-m": (1.0, 2.0),
    "base-m": (0.5, 1.0),
    "claude-x": (3.0, 15.0),
    "claude-y": (2.0, 4.0),
}


@pytest.fixture
def golden(tmp_path):
    return write_jsonl(tmp_path / "golden.jsonl", golden_rows())


@pytest.fixture
def prices(tmp_path):
    path = tmp_path / "prices.toml"
    path.write_text("".join(f"[{m}]\ninput = {i}\noutput = {o}\n" for m, (i, o) in PRICES.items()))
    return path


@pytest.fixture(autouse=True)
def keys(monkeypatch, llm):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-openai")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    llm.reset(Script(policy="echo"))


def models(llm, kind: str = "mixed") -> list[str]:
    """--candidate and --baseline options: both APIs, or two models on one of them."""
    o, a = llm.openai_url, llm.anthropic_url
    chosen = {
        "mixed": [f"cand=openai:cand-m@{o}", f"base=openai-compatible:base-m@{o}",
                  f"front=anthropic:claude-x@{a}"],
        "openai": [f"cand=openai:cand-m@{o}", f"base=openai:base-m@{o}"],
        "anthropic": [f"cand=anthropic:claude-x@{a}", f"base=anthropic:claude-y@{a}"],
    }[kind]  # fmt: skip
    args = ["--candidate", chosen[0]]
    for b in chosen[1:]:
        args += ["--baseline", b]
    return args


def gen(llm, golden, out, prices, *extra: str, kind: str = "mixed") -> list[str]:
    return ["generate", str(golden), "--out", str(out), "--prices", str(prices),
            *models(llm, kind), *extra]  # fmt: skip


def batch_gen(llm, golden, out, prices, *extra: str, kind: str = "mixed") -> list[str]:
    return gen(llm, golden, out, prices, "--batch", "--poll-interval", "0.01", *extra, kind=kind)


def calls(out) -> list[dict]:
    return read_jsonl(out / "calls.jsonl")


def ledger(out) -> dict[str, dict]:
    """Each batch's latest state in OUT/batches.jsonl."""
    state: dict[str, dict] = {}
    if (out / "batches.jsonl").exists():
        for event in read_jsonl(out / "batches.jsonl"):
            state.setdefault(event["tag"], {}).update(event)
    return state


def assert_half_price(out) -> float:
    """Every paid call at exactly half its model's online price; their total."""
    total = 0.0
    for c in calls(out):
        if c["outcome"] == "ok":
            model = c["served_model"]
            p_in, p_out = PRICES[model]
            half = (c["input_tokens"] * p_in / 2 + c["output_tokens"] * p_out / 2) / 1e6
            assert c["cost_usd"] == pytest.approx(half, rel=1e-12, abs=0)
            total += c["cost_usd"]
    return total


def test_a_batch_run_generates_what_an_online_run_does_at_half_the_price(
    cli, golden, llm, prices, tmp_path
):
    out = tmp_path / "out"
    llm.batch.script = BatchScript(polls=2)
    r = cli(*batch_gen(llm, golden, out, prices, "--seed", "7", "--json"))
    assert r.code == 0, r.err
    s = r.json()
    assert s["needed"] == s["generated"] == s["submitted"] == s["calls"] == 3 * N
    assert (s["empty"], s["failed"], s["cached"]) == (1, 0, 0)
    assert len(s["batches"]) == 3 and s["polls"] == 9  # 3 batches: 2 "in progress", then ended
    assert llm.requests == 0  # nothing went through the online endpoints
    assert len(llm.batch.sent_to) == len(set(llm.batch.sent_to)) == 3 * N
    by_id = {g["id"]: g for g in golden_rows()}
    for base, model in (("base", "base-m"), ("front", "claude-x")):
        rows = read_jsonl(out / f"cand-vs-{base}.jsonl")
        assert [row["id"] for row in rows] == list(by_id)
        for row in rows:
            text = prompt_text(by_id[row["id"]])
            assert row["candidate"] == echo_answer("cand-m", text)
            assert row["baseline"] == echo_answer(model, text)
            c = row["metadata"]["generation"]["candidate"]
            assert c["params"] == {"temperature": 0.0, "max_tokens": 1024, "seed": 7}
            assert c["latency_ms"] is None and c["status"] == "ok"
            assert row["metadata"]["candidate_cost_usd"] == c["cost_usd"] > 0
    silent = [r for r in read_jsonl(out / "cand-vs-base.jsonl") if r["id"] == "chat"][0]
    assert silent["metadata"]["generation"]["baseline"]["status"] == "empty"
    sent = {body["model"]: body for _, body in
            (req for b in llm.batch.batches.values() for req in b["requests"])}  # fmt: skip
    assert sent["cand-m"]["seed"] == 7 and "temperature" not in sent["claude-x"]
    assert sum(c["outcome"] == "ok" for c in calls(out)) == 3 * N
    assert s["cost_usd"] == pytest.approx(assert_half_price(out), rel=1e-12)
    batches = ledger(out)
    assert sorted(b["batch_id"] for b in batches.values()) == sorted(s["batches"])
    assert {b["event"] for b in batches.values()} == {"collected"}
    assert sorted(b["model"] for b in batches.values()) == ["base", "cand", "front"]
    events = [e["event"] for e in read_jsonl(out / "batches.jsonl")]
    assert events.index("submitting") < events.index("submitted") < events.index("collected")
    manifest = json.loads((out / "generate.json").read_text())
    assert manifest["summary"]["submitted"] == 3 * N


def test_answers_in_the_call_log_are_never_sent_again(cli, golden, llm, prices, tmp_path):
    out = tmp_path / "out"
    few = write_jsonl(tmp_path / "few.jsonl", golden_rows()[:2])
    assert cli(*gen(llm, few, out, prices, kind="openai")).code == 0  # online, 2 prompts
    online = set(llm.delivered)
    assert len(online) == 2 and llm.requests == 4  # two prompts, each to both models
    r = cli(*batch_gen(llm, golden, out, prices, "--json", kind="openai"))
    s = r.json()
    assert r.code == 0 and s["cached"] == 4 and s["submitted"] == s["generated"] == 2 * N - 4
    assert len(llm.batch.submitted) == 2 * N - 4 and not set(llm.batch.submitted) & online
    again = cli(*batch_gen(llm, golden, out, prices, "--json", kind="openai")).json()
    assert again["cached"] == 2 * N and again["submitted"] == 0 and again["batches"] == []
    assert again["cost_usd"] == 0 and len(llm.batch.submitted) == 2 * N - 4


def test_failed_requests_are_marked_and_asked_again_never_paid_twice(
    cli, golden, llm, prices, tmp_path
):
    out = tmp_path / "out"
    llm.batch.script = BatchScript(faults=["ok", "error", "expired", "truncated"])
    r = cli(*batch_gen(llm, golden, out, prices, "--json", "--max-tokens", "64"))
    assert r.code == 0, r.err  # most outputs are in: the failed ones are kept, marked
    s = r.json()
    assert (s["failed"], s["truncated"], s["generated"]) == (2, 1, 3 * N - 2)
    assert any("scripted failure" in f for f in s["failures"])
    assert any("expired" in f for f in s["failures"])
    log = calls(out)
    assert sorted(c["outcome"] for c in log) == ["error"] * 2 + ["ok"] * (3 * N - 2)
    assert all(c["cost_usd"] == 0 for c in log if c["outcome"] == "error")
    cut = [c for c in log if c["error"] and c["outcome"] == "ok"]
    assert len(cut) == 1 and cut[0]["error"] == "cut at max_tokens=64"
    statuses = {  # each (prompt, model) once: the candidate is in both files
        (row["id"], row[f"{side}_model"]): row["metadata"]["generation"][side]["status"]
        for name in ("cand-vs-base", "cand-vs-front")
        for row in read_jsonl(out / f"{name}.jsonl")
        for side in ("candidate", "baseline")
    }
    assert len(statuses) == 3 * N
    assert [*statuses.values()].count("failed") == 2
    assert [*statuses.values()].count("truncated") == 1
    paid = len(llm.batch.paid)
    again = cli(*batch_gen(llm, golden, out, prices, "--json", "--max-tokens", "64")).json()
    assert again["submitted"] == 2 and again["cached"] == 3 * N - 2 and again["failed"] == 0
    assert len(llm.batch.paid) == paid + 2
    assert len(llm.batch.paid_by) == len(set(llm.batch.paid_by)) == 3 * N
    assert_half_price(out)


def test_the_dry_run_counts_the_calls_and_shows_both_prices(cli, golden, llm, prices, tmp_path):
    out = tmp_path / "out"
    est = cli(*gen(llm, golden, out, prices, "--dry-run", "--json")).json()
    assert est["calls"] == 3 * N and llm.requests == 0 and llm.batch.submitted == []
    assert not out.exists()
    for name, model in (("cand", "cand-m"), ("base", "base-m"), ("front", "claude-x")):
        e = est["models"][name]
        assert (e["calls"], e["cached"], e["output_tokens_max"]) == (N, 0, N * 1024)
        p_in, p_out = PRICES[model]
        assert e["cost_max"] == pytest.approx((e["input_tokens"] * p_in + N * 1024 * p_out) / 1e6)
        assert e["batch_cost_max"] == pytest.approx(e["cost_max"] / 2)
        assert e["batch_cost_expected"] == pytest.approx(e["cost_expected"] / 2)
    text = cli(*gen(llm, golden, out, prices, "--dry-run")).out
    cand = est["models"]["cand"]
    assert f"cost online: ~${cand['cost_expected']:,.4f} expected" in text
    assert (
        f"cost with --batch (half price, answers within 24 h): ~${cand['batch_cost_expected']:,.4f}"
        in text
    )
    assert cli(*gen(llm, golden, out, prices, kind="openai")).code == 0
    after = cli(*gen(llm, golden, out, prices, "--dry-run", "--json", kind="openai")).json()
    assert after["calls"] == 0 and after["models"]["cand"]["cached"] == N


def start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "reviewer", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def until(proc: subprocess.Popen, done) -> None:
    deadline = time.monotonic() + 300  # a loaded machine imports the SDKs slowly
    while not done():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the run never got there"
        time.sleep(0.05)


def test_killed_while_polling_resumes_the_same_batches_and_pays_nothing_twice(
    cli, golden, llm, prices, tmp_path
):
    out = tmp_path / "out"
    llm.batch.script = BatchScript(polls=10**9)  # in progress until the test says otherwise
    args = batch_gen(llm, golden, out, prices, "--batch-size", "4")
    args[args.index("--poll-interval") + 1] = "0.05"
    proc = start(args)

    def polled() -> bool:
        ids = [b.get("batch_id") for b in ledger(out).values()]
        return len(ids) == 6 and all(llm.batch.status_checks.get(i, 0) >= 2 for i in ids)

    try:
        until(proc, polled)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    ids = [b["batch_id"] for b in ledger(out).values()]
    assert len(llm.batch.submitted) == 3 * N and llm.batch.paid == []
    # An online run of the same folder refuses while those batches are open.
    refused = cli(*gen(llm, golden, out, prices))
    assert refused.code != 0 and "still open" in refused.err and llm.requests == 0
    llm.batch.script.polls = 0  # the batches end at their next status check
    r = cli(*args, "--json")
    assert r.code == 0, r.err
    s = r.json()
    assert s["resumed"] == ids and s["submitted"] == 0 and s["batches"] == []
    assert s["generated"] == s["calls"] == 3 * N
    assert len(llm.batch.sent_to) == len(set(llm.batch.sent_to)) == 3 * N
    assert len(llm.batch.paid_by) == len(set(llm.batch.paid_by)) == 3 * N
    assert len(llm.batch.batches) == 6
    assert s["cost_usd"] == pytest.approx(assert_half_price(out), rel=1e-12)
    assert {b["event"] for b in ledger(out).values()} == {"collected"}
    assert len(read_jsonl(out / "cand-vs-front.jsonl")) == N
    assert cli(*gen(llm, golden, out, prices, "--json")).json()["cached"] == 3 * N  # online now


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_killed_while_submitting_finds_its_batch_and_submits_nothing_twice(
    cli, golden, llm, prices, tmp_path, kind
):
    """The provider accepted the first batch, but the process died before it heard the id."""
    out = tmp_path / "out"
    llm.batch.script = BatchScript(hang_create=1, polls=0)
    args = batch_gen(llm, golden, out, prices, "--batch-size", "4", kind=kind)
    proc = start(args)
    try:
        until(proc, lambda: llm.batch.batches and ledger(out))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    ((first_id, _),) = llm.batch.batches.items()
    (record,) = ledger(out).values()
    assert (record.get("batch_id"), record["event"], record["requests"]) == (None, "submitting", 4)
    r = cli(*args, "--json")
    assert r.code == 0, r.err
    s = r.json()
    assert s["resumed"] == [first_id] and s["submitted"] == 2 * N - 4
    assert s["generated"] == 2 * N
    assert len(llm.batch.sent_to) == len(set(llm.batch.sent_to)) == 2 * N
    assert len(llm.batch.paid_by) == len(set(llm.batch.paid_by)) == 2 * N
    assert ledger(out)[record["tag"]]["batch_id"] == first_id
    assert_half_price(out)

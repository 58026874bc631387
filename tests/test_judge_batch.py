"""`signoff judge run --batch`: both providers' batch APIs through the real SDKs over HTTP to
the scripted server; the cache, the split, failed and expired requests, the batch price, and a
run killed while it polls that resumes the same batches."""

from __future__ import annotations

import json

import pytest
from conftest import pair, write_jsonl
from llm_batch_server import BatchScript
from llm_server import MARKER

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
        assert c["cost_usd"] == pytest.approx((c["input_tokens"] + c["output_tokens"]) * PRICE / 2e6)
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

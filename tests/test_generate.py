"""`signoff generate`: a golden set through three models on the scripted server, into pairs files
that `signoff import` takes as they are; retries, empty and failed outputs, cost, the cache."""

from __future__ import annotations

import json

import pytest
from conftest import write_jsonl
from llm_server import Script, echo_answer

from reviewer.store import Store
from reviewer.store.connection import fetch_dicts

N = 6
STRATA = ["routine", "hard", "edge"]


def golden_rows() -> list[dict]:
    rows = [
        {
            "id": f"g{i}",
            "prompt": f"Customer question number {i}: where is my invoice?",
            "stratum": STRATA[i % 3],
            "reference": f"Reference {i}.",
            "expected": {"answer": i} if i % 2 else f"Expected text {i}",
            "metadata": {"source": "tickets", "n": i},
        }
        for i in range(1, N)
    ]
    rows.append(
        {
            "id": "chat",
            "prompt": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Say nothing. [[SILENT base-m]]"},
            ],
        }
    )
    return rows


@pytest.fixture
def golden(tmp_path):
    return write_jsonl(tmp_path / "golden.jsonl", golden_rows())


@pytest.fixture
def prices(tmp_path):
    path = tmp_path / "prices.toml"
    path.write_text(
        "[cand-m]\ninput = 1.0\noutput = 2.0\n[base-m]\ninput = 0.5\noutput = 1.0\n"
        "[claude-x]\ninput = 3.0\noutput = 15.0\n"
    )
    return path


@pytest.fixture
def anthropic_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test-key-0123456789")


def gen_args(llm, golden, *extra, frontier: bool = True) -> list[str]:
    args = [
        "generate", str(golden), "--out", "out",
        "--candidate", f"cand=openai-compatible:cand-m@{llm.openai_url}",
        "--baseline", f"base=openai-compatible:base-m@{llm.openai_url}",
    ]  # fmt: skip
    if frontier:
        args += ["--baseline", f"front=anthropic:claude-x@{llm.anthropic_url}"]
    return [*args, *extra]


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def prompt_text(row: dict) -> str:
    p = row["prompt"]
    return p if isinstance(p, str) else p[-1]["content"]


def test_every_prompt_through_every_model_into_importable_pairs(
    cli, golden, llm, prices, anthropic_key, tmp_path, db_path
):
    llm.reset(Script(policy="echo", latency=0.05))
    r = cli(*gen_args(llm, golden, "--prices", prices, "--seed", "7", "--json"))
    assert r.code == 0, r.err
    s = r.json()
    assert s["needed"] == 3 * N and s["generated"] == 3 * N and s["calls"] == 3 * N
    assert s["empty"] == 1 and s["failed"] == 0 and s["cached"] == 0
    assert llm.billed == 3 * N
    # Sampling parameters as sent: the seed reached the OpenAI-compatible server; Anthropic's
    # SDK takes neither temperature nor seed, so its record holds max_tokens only.
    sent = {b["model"]: b for b in llm.bodies}
    assert sent["cand-m"]["seed"] == 7 and sent["cand-m"]["temperature"] == 0.0
    assert "seed" not in sent["claude-x"] and "temperature" not in sent["claude-x"]
    golden_by_id = {g["id"]: g for g in golden_rows()}
    for base, model, api in (("base", "base-m", "openai"), ("front", "claude-x", "anthropic")):
        rows = read_jsonl(tmp_path / "out" / f"cand-vs-{base}.jsonl")
        assert [row["id"] for row in rows] == list(golden_by_id)
        for row in rows:
            g = golden_by_id[row["id"]]
            text = prompt_text(g)
            assert row["candidate"] == echo_answer("cand-m", text)
            assert row["baseline"] == echo_answer(model, text)
            assert (row["candidate_model"], row["baseline_model"]) == ("cand", base)
            assert row["stratum"] == g.get("stratum", "unspecified")
            assert row.get("reference") == g.get("reference")
            meta = row["metadata"]
            assert meta.get("expected") == g.get("expected")
            assert meta.get("source") == g.get("metadata", {}).get("source")
            c, b = meta["generation"]["candidate"], meta["generation"]["baseline"]
            assert c["params"] == {"temperature": 0.0, "max_tokens": 1024, "seed": 7}
            assert c["latency_ms"] >= 50 and b["latency_ms"] >= 50
            # The flat keys the checklist's latency and cost lines read.
            assert (meta["candidate_latency_ms"], meta["baseline_latency_ms"]) == (
                c["latency_ms"],
                b["latency_ms"],
            )
            assert (meta["candidate_cost_usd"], meta["baseline_cost_usd"]) == (
                c["cost_usd"],
                b["cost_usd"],
            )
            # Usage as the server counts it (a quarter of the characters), priced per million.
            chars = sum(len(m["content"]) for m in _messages(g))
            assert c["input_tokens"] == chars // 4
            assert c["output_tokens"] == max(1, len(row["candidate"]) // 4)
            assert c["cost_usd"] == pytest.approx(
                (c["input_tokens"] * 1.0 + c["output_tokens"] * 2.0) / 1e6
            )
            assert b["served_model"] == model and b["model"] == f"{_provider(api)}:{model}"
        empty = {row["id"]: row["metadata"]["generation"]["baseline"]["status"] for row in rows}
        assert empty["chat"] == ("empty" if base == "base" else "ok")
        name = f"s-{base}"
        imported = cli("import", tmp_path / "out" / f"cand-vs-{base}.jsonl", "--study", name)
        assert imported.code == 0, imported.err
        report = cli("report", "-s", name, "--format", "json", "--resamples", "50")
        ops = json.loads(report.out)["operations"]
        assert (ops["latency_items"], ops["cost_items"]) == (N, N)
    stored = Store(db_path).read(
        lambda cur: fetch_dicts(
            cur, "SELECT study_id, pair_id, stratum, reference, metadata_json FROM pairs"
        )
    )
    assert len(stored) == 2 * N
    g3 = next(p for p in stored if p["pair_id"] == "g3" and p["study_id"] == "s-base")
    assert g3["stratum"] == "routine" and g3["reference"] == "Reference 3."
    assert json.loads(g3["metadata_json"])["expected"] == {"answer": 3}
    manifest = json.loads((tmp_path / "out" / "generate.json").read_text())
    assert [m["name"] for m in manifest["models"]] == ["cand", "base", "front"]
    assert manifest["models"][2]["params"] == {"max_tokens": 1024}
    assert manifest["pairs_files"] == ["cand-vs-base.jsonl", "cand-vs-front.jsonl"]


def _messages(g: dict) -> list[dict]:
    p = g["prompt"]
    return [{"role": "user", "content": p}] if isinstance(p, str) else p


def _provider(api: str) -> str:
    return "openai-compatible" if api == "openai" else "anthropic"


def test_a_rerun_reads_every_output_from_the_call_log(cli, golden, llm, tmp_path):
    llm.reset(Script(policy="echo"))
    assert cli(*gen_args(llm, golden, frontier=False)).code == 0
    first = (tmp_path / "out" / "cand-vs-base.jsonl").read_bytes()
    llm.reset(Script(policy="echo"))
    r = cli(*gen_args(llm, golden, "--json", frontier=False))
    assert r.code == 0 and r.json()["cached"] == 2 * N and r.json()["calls"] == 0
    assert llm.requests == 0
    # The same file: latency, tokens and cost are those of the calls that paid for them.
    assert (tmp_path / "out" / "cand-vs-base.jsonl").read_bytes() == first
    # Other sampling parameters are other calls.
    r = cli(*gen_args(llm, golden, "--temperature", "0.7", "--json", frontier=False))
    assert r.json()["calls"] == 2 * N and llm.billed == 2 * N


def test_transient_failures_and_malformed_replies_are_retried(cli, golden, llm, tmp_path):
    llm.reset(Script(policy="echo", faults=["429", "500", "html", "empty", "500"]))
    r = cli(*gen_args(llm, golden, "--json", frontier=False))
    assert r.code == 0, r.err
    s = r.json()
    assert s["generated"] == 2 * N and s["failed"] == 0
    assert s["retries"] == 5 and s["calls"] == 2 * N + 5 and llm.billed == 2 * N
    rows = read_jsonl(tmp_path / "out" / "cand-vs-base.jsonl")
    assert all(row["metadata"]["generation"]["candidate"]["status"] == "ok" for row in rows)


def test_a_failed_generation_is_kept_and_marked_a_loss_not_a_missing_pair(
    cli, golden, llm, tmp_path, db_path
):
    # One worker: the first request is the first prompt's candidate; a 400 is not retried.
    llm.reset(Script(policy="echo", faults=["400"]))
    r = cli(*gen_args(llm, golden, "--concurrency", "1", "--json", frontier=False))
    assert r.code == 0, r.err
    s = r.json()
    assert s["failed"] == 1 and s["generated"] == 2 * N - 1
    assert s["failed_by_model"] == {"cand": 1, "base": 0}
    rows = read_jsonl(tmp_path / "out" / "cand-vs-base.jsonl")
    assert len(rows) == N
    g1 = rows[0]["metadata"]["generation"]["candidate"]
    assert rows[0]["candidate"] == "" and g1["status"] == "failed" and "HTTP 400" in g1["error"]
    imported = cli("import", tmp_path / "out" / "cand-vs-base.jsonl", "--study", "s")
    assert imported.code == 0 and "empty candidate output" in imported.err
    # A rerun asks again for the failed output only.
    llm.reset(Script(policy="echo"))
    r = cli(*gen_args(llm, golden, "--json", frontier=False))
    assert r.json()["calls"] == 1 and r.json()["failed"] == 0


def test_most_outputs_failing_is_an_error(cli, golden, llm):
    llm.reset(Script(policy="echo", faults=["400"] * (N + 1)))
    r = cli(*gen_args(llm, golden, "--concurrency", "1", frontier=False))
    assert r.code == 6 and "more than 50% of a model's outputs failed" in r.err


def test_an_output_cut_at_max_tokens_is_kept_and_marked(cli, golden, llm, tmp_path):
    llm.reset(Script(policy="echo"))
    r = cli(*gen_args(llm, golden, "--max-tokens", "3", "--json", frontier=False))
    assert r.code == 0
    rows = read_jsonl(tmp_path / "out" / "cand-vs-base.jsonl")
    c = rows[0]["metadata"]["generation"]["candidate"]
    assert c["status"] == "truncated" and c["error"] == "cut at max_tokens=3"
    full = echo_answer("cand-m", golden_rows()[0]["prompt"])
    assert rows[0]["candidate"] == full[: len(full) // 3]  # what the server sent, kept


def test_the_budget_stops_the_run_cleanly_and_a_rerun_finishes(cli, golden, llm, prices, tmp_path):
    llm.reset(Script(policy="echo"))
    # The worst case of one call (max_tokens at the output price) fits once, not three times.
    worst = (20 * 1.0 + 100 * 2.0) / 1e6
    r = cli(*gen_args(llm, golden, "--prices", prices, "--max-tokens", "100",
                      "--max-cost", f"{1.2 * worst}", "--concurrency", "1", "--json",
                      frontier=False))  # fmt: skip
    assert r.code == 4, r.err
    s = r.json()
    assert s["stopped"].startswith("budget of $") and 0 < s["generated"] < 2 * N
    assert s["pairs_files"] == [] and not (tmp_path / "out" / "cand-vs-base.jsonl").exists()
    paid = llm.billed
    r = cli(*gen_args(llm, golden, "--prices", prices, "--max-tokens", "100", "--json",
                      frontier=False))  # fmt: skip
    assert r.code == 0 and r.json()["cached"] == paid and llm.billed == 2 * N


def test_a_price_is_needed_for_a_budget(cli, golden, llm):
    r = cli(*gen_args(llm, golden, "--max-cost", "1", frontier=False))
    assert r.code == 2 and "no price is known for cand, base" in r.err and llm.requests == 0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("cand", "expected NAME=PROVIDER:MODEL"),
        ("cand=vllm:m", "unknown provider 'vllm'"),
        ("cand=openai-compatible:m", "model cand: openai-compatible needs the server's URL"),
        ("base=openai-compatible:m@http://127.0.0.1:9/v1", "two models are named 'base'"),
    ],
)
def test_a_bad_model_is_refused_before_any_call(cli, golden, llm, spec, message, tmp_path):
    r = cli("generate", golden, "--candidate", spec,
            "--baseline", f"base=openai-compatible:base-m@{llm.openai_url}")  # fmt: skip
    assert r.code == 2 and message in r.err, r.err
    assert llm.requests == 0 and not (tmp_path / "generated").exists()


def test_anthropic_needs_its_key(cli, golden, llm, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    r = cli(*gen_args(llm, golden))
    assert r.code == 2 and "ANTHROPIC_API_KEY" in r.err and llm.requests == 0


def test_a_key_for_an_openai_compatible_host_is_read_from_the_named_variable(
    cli, golden, llm, monkeypatch
):
    llm.reset(Script(policy="echo"))
    monkeypatch.setenv("HOSTED_KEY", "sk-hosted-0123456789")
    r = cli(*gen_args(llm, golden, "--api-key-env", "base=HOSTED_KEY", frontier=False))
    assert r.code == 0 and "sk-hosted-0123456789" in llm.keys_seen
    r = cli(*gen_args(llm, golden, "--api-key-env", "nobody=HOSTED_KEY", frontier=False))
    assert r.code == 2 and "names no model of this run: nobody" in r.err

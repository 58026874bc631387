"""The golden set `signoff generate` reads: JSONL, CSV or Parquet; a bad row is reported with its
file, line and field before any call is made, and nothing is written."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import write_jsonl
from llm_server import Script


def models(llm) -> list[str]:
    return [
        "--candidate", f"cand=openai-compatible:cand-m@{llm.openai_url}",
        "--baseline", f"base=openai-compatible:base-m@{llm.openai_url}", "--out", "out",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        ([{"id": "a", "prompt": "x"}, {"prompt": "y"}], "golden.jsonl:2: id: required"),
        ([{"id": "a", "prompt": "  "}], "golden.jsonl:1: prompt: prompt is empty"),
        ([{"id": "a", "prompt": []}], "golden.jsonl:1: prompt: prompt has no messages"),
        (
            [{"id": "a", "prompt": [{"role": "robot", "content": "hi"}]}],
            "golden.jsonl:1: prompt.0.role",
        ),
        (
            [{"id": "a", "prompt": "x"}, {"id": "a", "prompt": "y"}],
            "golden.jsonl:2: id: duplicate id 'a' (first on line 1)",
        ),
        (
            [{"id": "a", "prompt": "x", "expected": 3}],
            "golden.jsonl:1: expected: expected must be text or a JSON object",
        ),
        (
            [{"id": "a", "prompt": "x", "metadata": {"generation": 1}}],
            "golden.jsonl:1: metadata: metadata key 'generation' is reserved",
        ),
        (
            [{"id": "a", "prompt": "x", "candidate": "y"}],
            "golden.jsonl:1: candidate: unknown column",
        ),
    ],
)
def test_a_bad_row_is_named_and_nothing_is_called_or_written(cli, llm, tmp_path, rows, problem):
    path = write_jsonl(tmp_path / "golden.jsonl", rows)
    r = cli("generate", path, *models(llm))
    assert r.code == 2 and problem in r.err, r.err
    assert "golden set" in r.err and llm.requests == 0
    assert not (tmp_path / "out").exists()


def test_a_csv_golden_set_with_json_cells(cli, llm, tmp_path):
    path = tmp_path / "golden.csv"
    path.write_text(
        "id,prompt,stratum,expected,metadata\n"
        '1,"What is 2+2?",math,"{""answer"": 4}","{""k"": 1}"\n'
        '2,"[{""role"": ""user"", ""content"": ""Hi""}]",,plain text,\n'
    )
    llm.reset(Script(policy="echo"))
    assert cli("generate", path, *models(llm)).code == 0
    rows = [json.loads(line) for line in (tmp_path / "out" / "cand-vs-base.jsonl").open()]
    assert rows[0]["id"] == "1" and rows[0]["stratum"] == "math"
    assert rows[0]["metadata"]["expected"] == {"answer": 4} and rows[0]["metadata"]["k"] == 1
    assert rows[1]["prompt"] == [{"role": "user", "content": "Hi"}]
    assert rows[1]["candidate"] == "cand-m answers: Hi" and rows[1]["stratum"] == "unspecified"
    assert rows[1]["metadata"]["expected"] == "plain text"


def test_a_parquet_golden_set(cli, llm, tmp_path):
    path = tmp_path / "golden.parquet"
    pq.write_table(
        pa.table({"id": ["p1", "p2"], "prompt": ["One?", "Two?"], "reference": ["1", None]}),
        path,
    )
    llm.reset(Script(policy="echo"))
    assert cli("generate", path, *models(llm)).code == 0
    rows = [json.loads(line) for line in (tmp_path / "out" / "cand-vs-base.jsonl").open()]
    assert [r["candidate"] for r in rows] == ["cand-m answers: One?", "cand-m answers: Two?"]
    assert rows[0]["reference"] == "1" and "reference" not in rows[1]
    r = cli("import", tmp_path / "out" / "cand-vs-base.jsonl", "--study", "s")
    assert r.code == 0, r.err


def test_a_missing_golden_set(cli, llm, tmp_path):
    r = cli("generate", tmp_path / "nope.jsonl", *models(llm))
    assert r.code == 2 and "nope.jsonl: file: not found" in r.err
    write_jsonl(tmp_path / "g.jsonl", [{"id": "a", "prompt": "x"}])
    r = cli("generate", tmp_path / "g.jsonl", "--candidate", "c=openai:gpt-4o")
    assert r.code != 0 and llm.requests == 0

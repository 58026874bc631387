"""An online `signoff generate` imports only what it runs: not the batch APIs, the study database,
the judge's commands, the statistics stack or the progress bar's renderer. Its start-up is part of
its wall time, which the generation benchmark holds within 1.15x of the physical limit. The
collector tuning the CLI makes for a command's run (frozen start-up, fewer young collections) is
undone when the command returns, for callers that run it in process."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys

from conftest import ROOT, write_jsonl

# Module prefixes an online run has no use for.
UNUSED = (
    "judge.batch", "reviewer.judging", "reviewer.store", "duckdb", "reviewer.cli.judge",
    "reviewer.analysis", "numpy", "scipy", "rich", "anthropic",
)  # fmt: skip

RUN = """
import atexit, json, sys
from reviewer.cli import main

def unused():
    found = sorted({m for m in sys.modules for p in UNUSED if m == p or m.startswith(p + ".")})
    with open(REPORT, "w") as f:
        json.dump(found, f)

atexit.register(unused)
sys.argv = ["signoff", *ARGS]
main()
"""


def test_an_online_generate_imports_none_of_the_batch_store_or_judge_modules(llm, tmp_path):
    golden = write_jsonl(
        tmp_path / "golden.jsonl", [{"id": f"g{i}", "prompt": f"Question {i}?"} for i in range(3)]
    )
    args = [
        "generate", str(golden), "--out", str(tmp_path / "out"), "--json",
        "--candidate", f"cand=openai-compatible:cand-m@{llm.openai_url}",
        "--baseline", f"base=openai-compatible:base-m@{llm.openai_url}",
    ]  # fmt: skip
    report = tmp_path / "modules.json"
    code = f"UNUSED = {UNUSED!r}\nREPORT = {str(report)!r}\nARGS = {args!r}\n{RUN}"
    done = subprocess.run(
        [sys.executable, "-P", "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert json.loads(done.stdout)["generated"] == 6  # the run did call both models
    assert json.loads(report.read_text()) == []


def test_a_command_run_in_process_gives_the_collector_back_as_it_was(cli, llm, tmp_path):
    golden = write_jsonl(tmp_path / "golden.jsonl", [{"id": "g1", "prompt": "Question?"}])
    before = gc.get_threshold()
    r = cli(
        "generate", golden, "--out", tmp_path / "out", "--json",
        "--candidate", f"cand=openai-compatible:cand-m@{llm.openai_url}",
        "--baseline", f"base=openai-compatible:base-m@{llm.openai_url}",
    )  # fmt: skip
    assert r.code == 0 and r.json()["generated"] == 2
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
    r = cli("generate", tmp_path / "missing.jsonl", "--out", tmp_path / "out2",
            "--candidate", "c=openai:m", "--baseline", "b=openai:n")  # fmt: skip
    assert r.code != 0  # a failed command too
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0

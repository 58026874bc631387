"""`signoff generate` killed with SIGKILL half-way resumes without paying for any call twice;
its call log survives a row cut short and refuses a second writer."""

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

from reviewer.errors import SignoffError
from reviewer.generating.call_file import CallFile

N = 20


def golden(tmp_path):
    rows = [{"id": f"q{i:02d}", "prompt": f"Prompt number {i}."} for i in range(N)]
    return write_jsonl(tmp_path / "golden.jsonl", rows)


def args(llm, path, *extra) -> list[str]:
    return [
        "generate", str(path), "--out", "out",
        "--candidate", f"cand=openai-compatible:cand-m@{llm.openai_url}",
        "--baseline", f"base=openai-compatible:base-m@{llm.openai_url}", *extra,
    ]  # fmt: skip


def ok_rows(log) -> int:
    if not log.exists():
        return 0
    lines = log.read_text().splitlines()
    return sum(json.loads(line)["outcome"] == "ok" for line in lines if line.endswith("}"))


def test_killed_run_resumes_without_paying_twice(llm, tmp_path):
    """SIGKILL the CLI once half the answers are in; the rerun pays only for the others."""
    path = golden(tmp_path)
    half = N  # of 2N calls
    llm.reset(Script(policy="echo", latency=0.02, hold_after=half))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewer", *args(llm, path, "--concurrency", "4")],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    log = tmp_path / "out" / "calls.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (llm.billed >= half and ok_rows(log) == half):
        time.sleep(0.02)
    assert ok_rows(log) == half, proc.stderr.read() if proc.poll() is not None else "timed out"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert llm.billed == half
    assert not list((tmp_path / "out").glob("*-vs-*.jsonl"))  # nothing half-written
    llm.reset(Script(policy="echo"))  # answers normally again; billed restarts at 0
    done = subprocess.run(
        [sys.executable, "-m", "reviewer", *args(llm, path, "--json")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["cached"] == half and summary["calls"] == 2 * N - half
    assert llm.billed == 2 * N - half  # total paid: exactly 2N, none twice
    rows = [json.loads(line) for line in (tmp_path / "out" / "cand-vs-base.jsonl").open()]
    assert len(rows) == N
    assert all(r["candidate"] == f"cand-m answers: {r['prompt']}" for r in rows)
    assert all(r["baseline"] == f"base-m answers: {r['prompt']}" for r in rows)


def test_a_row_cut_short_by_a_kill_is_dropped(cli, llm, tmp_path):
    path = golden(tmp_path)
    llm.reset(Script(policy="echo"))
    assert cli(*args(llm, path)).code == 0
    log = tmp_path / "out" / "calls.jsonl"
    lines = log.read_text().splitlines(keepends=True)
    # The last answer's row cut in the middle, as a kill during its write would leave it.
    log.write_text("".join(lines[:-1]) + lines[-1][:40])
    llm.reset(Script(policy="echo"))
    r = cli(*args(llm, path, "--json"))
    assert r.code == 0, r.err
    assert r.json()["calls"] == 1 and r.json()["cached"] == 2 * N - 1
    assert all(line.endswith("}") for line in log.read_text().splitlines())


def test_a_log_edited_by_hand_is_refused(cli, llm, tmp_path):
    path = golden(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "calls.jsonl").write_text("not a row\n")
    r = cli(*args(llm, path))
    assert r.code == 2 and "calls.jsonl:1: not a call log row" in r.err and llm.requests == 0


def test_two_runs_cannot_write_one_log(tmp_path):
    first = CallFile(tmp_path / "calls.jsonl")
    with pytest.raises(SignoffError, match="in use by another `signoff generate`"):
        CallFile(tmp_path / "calls.jsonl")
    first.close()
    CallFile(tmp_path / "calls.jsonl").close()  # free again once the first is done

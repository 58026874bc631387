"""Batch generation benchmark (issue 15): 5,000 golden prompts x 2 models (the candidate through
OpenAI's Batch API, the baseline through Anthropic's Message Batches) on the scripted server,
`signoff generate --batch` killed with SIGKILL while it polls, then resumed.

Reports: requests submitted twice and answers paid twice (must be 0: counted by the server, per
model and prompt), whether every call's cost is exactly half its model's online price, and
signoff's CPU seconds per 10,000 requests for the submitting run (start-up, planning, building
and uploading the batches, two status checks) and for the collecting run (start-up, reading the
call log and batches.jsonl, downloading and logging the results, writing the pairs files).

Run: python bench/generate_batch_bench.py [--prompts 5000] [--poll-interval 0.5]
The server runs in this process (a thread); each `signoff generate` is a subprocess, its CPU
from the children's rusage.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import llm_batch_server  # noqa: E402
from llm_server import LLMServer, Script  # noqa: E402

PRICES = {"cand-m": (1.0, 2.0), "claude-b": (3.0, 15.0)}  # USD per million tokens, in / out


def write_golden(path: Path, n: int) -> None:
    with path.open("w") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"g{i:06d}", "stratum": f"s{i % 4}",
                                "prompt": f"Customer {i} asks: how do I reset my password?"})
                    + "\n")  # fmt: skip


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def generate_cmd(golden: Path, out: Path, prices: Path, server: LLMServer, poll: float) -> list:
    return [
        sys.executable, "-m", "reviewer", "generate", str(golden), "--out", str(out),
        "--candidate", f"cand=openai:cand-m@{server.openai_url}",
        "--baseline", f"base=anthropic:claude-b@{server.anthropic_url}",
        "--prices", str(prices), "--batch", "--poll-interval", str(poll), "--json",
    ]  # fmt: skip


def fixed_cpu(cmd: list) -> tuple[float, float]:
    """CPU seconds of what every run pays whatever its size: a --dry-run of the same command
    (start-up, the golden set read and planned; no SDK, no call), and importing both SDKs."""
    cpu0 = child_cpu()
    subprocess.run([*cmd, "--dry-run"], check=True, capture_output=True)
    cpu1 = child_cpu()
    subprocess.run([sys.executable, "-c", "import openai, anthropic"], check=True)
    return cpu1 - cpu0, child_cpu() - cpu1


def price_exact(out: Path) -> tuple[int, int, float, float]:
    """Calls whose cost is not exactly half the online price; calls; cost; online cost."""
    wrong = n = 0
    cost = online = 0.0
    for line in (out / "calls.jsonl").read_text().splitlines():
        c = json.loads(line)
        if c["outcome"] != "ok":
            continue
        p_in, p_out = PRICES[c["served_model"]]
        full = (c["input_tokens"] * p_in + c["output_tokens"] * p_out) / 1e6
        n += 1
        wrong += abs(c["cost_usd"] - full / 2) > 1e-15
        cost, online = cost + c["cost_usd"], online + full
    return wrong, n, cost, online


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=5_000)
    parser.add_argument("--poll-interval", type=float, default=0.5)
    args = parser.parse_args()
    requests = 2 * args.prompts
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench")
    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-ant-bench")
    server = LLMServer().start()
    server.httpd.handle_error = lambda *a: None  # the killed client's reset connection
    server.reset(Script(policy="echo"))
    server.batch.script = llm_batch_server.BatchScript(polls=10**9)
    with tempfile.TemporaryDirectory() as tmp:
        golden, out, prices = Path(tmp) / "g.jsonl", Path(tmp) / "out", Path(tmp) / "p.toml"
        write_golden(golden, args.prompts)
        prices.write_text("".join(f"[{m}]\ninput = {i}\noutput = {o}\n"
                                  for m, (i, o) in PRICES.items()))  # fmt: skip
        cmd = generate_cmd(golden, out, prices, server, args.poll_interval)
        startup = fixed_cpu(cmd)
        cpu0, t0 = child_cpu(), time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        server.batch.wait_polled(proc, 2)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        first = (time.perf_counter() - t0, child_cpu() - cpu0, len(server.batch.sent_to))
        server.batch.status_checks.clear()
        server.batch.script.polls = 2  # the batches end after two more "in progress" answers
        cpu0, t0 = child_cpu(), time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        second = (time.perf_counter() - t0, child_cpu() - cpu0)
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        report(args, requests, json.loads(done.stdout), server, (*first, *startup), second, out)
    server.stop()


def report(args, requests, s, server, first, second, out) -> None:
    state = server.batch
    wrong, n, cost, online = price_exact(out)
    per = 10_000 / requests
    lines = [
        f"prompts {args.prompts} x 2 models = {requests} requests, poll interval "
        f"{args.poll_interval} s",
        f"killed run: {first[0]:.1f} s wall until its {len(state.batches)} batches were polled "
        f"twice and SIGKILL, {first[1]:.2f} s CPU; requests submitted {first[2]}",
        f"resumed run: {second[0]:.1f} s wall, {second[1]:.2f} s CPU; waiting between polls "
        f"{s['poll_wait_seconds']:.1f} s; resumed {len(s['resumed'])} batches, submitted "
        f"{s['submitted']}; generated {s['generated']}/{s['needed']}",
        f"requests submitted {len(state.sent_to)} ({len(state.sent_to) - len(set(state.sent_to))}"
        f" twice); answers paid {len(state.paid_by)} "
        f"({len(state.paid_by) - len(set(state.paid_by))} twice)",
        f"calls {n}: {wrong} not at exactly half the online price; cost ${cost:.6f} "
        f"(online ${online:.6f}, ratio {cost / online:.12f})",
        f"signoff CPU per 10,000 requests: submit {first[1] * per:.2f} s, "
        f"collect {second[1] * per:.2f} s; each includes its fixed part: a --dry-run of the "
        f"same command {first[3]:.2f} s, importing both SDKs {first[4]:.2f} s",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()

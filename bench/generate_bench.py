"""Generation benchmark (issue 13): 1,000 prompts x 2 models (candidate and baseline) at
concurrency 32 against the scripted server answering in 300 ms. Physical limit: the calls in
whole rounds of `concurrency`, ceil(2000/32) x 0.3 = 18.9 s (as in bench/judge_throughput.py; the
last round's 16 calls take 300 ms like any other); target <= 1.15x.
Then a re-run served from the call log (zero calls).

Run: python bench/generate_bench.py [--prompts 1000] [--concurrency 32] [--latency 0.3]
     [--src TREE]
The server runs in its own process (as a real provider would); each `signoff generate` is a
subprocess, timed end to end (start-up included), with its CPU time (user + system, from
getrusage of the children); the runner's own time comes from its JSON summary (it includes the
provider SDK's import, made just before the first call), and the rest is start-up and exit.
`--src` runs the command of another checkout (e.g. a `git archive` of an older commit) for a
before/after.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(latency: float) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "llm_server.py"), "--port", str(port),
         "--latency", str(latency), "--policy", "echo"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and "listening" in proc.stdout.readline()
    return proc, port


def generate(
    src: Path, golden: Path, out: Path, port: int, concurrency: int
) -> tuple[float, float, dict]:
    url = f"http://127.0.0.1:{port}/v1"
    # -P and cwd=src: `-m reviewer` would otherwise import whatever tree the cwd holds.
    cmd = [
        sys.executable, "-P", "-m", "reviewer", "generate", str(golden), "--out", str(out),
        "--candidate", f"cand=openai-compatible:cand-m@{url}",
        "--baseline", f"base=openai-compatible:base-m@{url}",
        "--concurrency", str(concurrency), "--json",
    ]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=src, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--src", type=Path, default=ROOT, help="checkout whose signoff runs")
    args = parser.parse_args()
    src = args.src.resolve()
    print(f"load average {os.getloadavg()[0]:.1f}; {src}")
    limit = math.ceil(args.prompts * 2 / args.concurrency) * args.latency
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        golden = work / "golden.jsonl"
        with open(golden, "w") as f:
            for i in range(args.prompts):
                row = {"id": f"g{i:05d}", "prompt": f"Customer question {i}: how do I export "
                       "my invoices?", "stratum": ["routine", "hard", "edge"][i % 3],
                       "expected": {"intent": "export"}}  # fmt: skip
                f.write(json.dumps(row) + "\n")
        print(f"physical limit ceil({args.prompts} x 2 / {args.concurrency}) x {args.latency} = "
              f"{limit:.2f} s; target <= {1.15 * limit:.2f} s")  # fmt: skip
        server, port = start_server(args.latency)
        try:
            wall, cpu, s = generate(src, golden, work / "out", port, args.concurrency)
            print(
                f"cold run: {wall:.2f} s wall ({s['seconds']:.2f} s in the runner, "
                f"{wall - s['seconds']:.2f} s start-up and exit), {cpu:.2f} s CPU "
                f"({1000 * cpu / max(1, s['calls']):.2f} ms per call), "
                f"{s['calls']} calls, {s['generated']} outputs, "
                f"{wall / limit:.2f}x the limit ({s['seconds'] / limit:.2f}x for the runner)"
            )
            wall, cpu, s = generate(src, golden, work / "out", port, args.concurrency)
            print(
                f"re-run: {wall:.2f} s wall ({s['seconds']:.2f} s in the runner), {cpu:.2f} s "
                f"CPU, {s['calls']} calls, {s['cached']} from the call log"
            )
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()

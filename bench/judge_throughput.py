"""Judge throughput benchmark (issue 5): 1,000 pairs x 2 orders at concurrency 32 against the
scripted server answering in 300 ms. Physical limit ceil(2000/32) x 0.3 s = 18.9 s; target
<= 1.15x that. Then a cached re-run (target <= 2 s, zero calls) and a run where 10% of calls
fail with 429/500 at random (target: every verdict).

Run: python bench/judge_throughput.py [--pairs 1000] [--concurrency 32] [--latency 0.3]
The server runs in its own process (as a real provider would); each `signoff judge run` is a
subprocess, timed end to end (start-up included); the runner's own time comes from its summary.
"""

from __future__ import annotations

import argparse
import json
import math
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUBRIC = ROOT / "data" / "support_rubric.toml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(latency: float, fault_rate: float) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "llm_server.py"), "--port", str(port),
         "--latency", str(latency), "--fault-rate", str(fault_rate), "--seed", "7"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and "listening" in proc.stdout.readline()
    return proc, port


def judge(db: Path, port: int, model: str, concurrency: int) -> tuple[float, dict]:
    cmd = [
        sys.executable, "-m", "reviewer", "judge", "run", "--db", str(db), "--study", "bench",
        "--rubric", str(RUBRIC), "--provider", "openai-compatible",
        "--base-url", f"http://127.0.0.1:{port}/v1", "--model", model, "--pairs", "all",
        "--concurrency", str(concurrency), "--json",
        # Throughput only: this judge is not calibrated, so the gate is overridden (logged).
        "--override", "throughput benchmark",
    ]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - t0, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.3)
    args = parser.parse_args()
    limit = math.ceil(2 * args.pairs / args.concurrency) * args.latency
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with open(work / "pairs.jsonl", "w") as f:
            for i in range(args.pairs):
                row = {"id": f"b{i:05d}", "prompt": f"Customer question {i}: how do I export "
                       "my invoices?", "candidate": f"Go to Reports > Export. [[GOOD]] ({i})",
                       "baseline": f"I cannot help with that ({i}).",
                       "stratum": ["routine", "hard", "edge", "refusal"][i % 4]}  # fmt: skip
                f.write(json.dumps(row) + "\n")
        db = work / "bench.duckdb"
        subprocess.run(
            [sys.executable, "-m", "reviewer", "import", str(work / "pairs.jsonl"), "--db",
             str(db), "--study", "bench"],
            check=True, capture_output=True,
        )  # fmt: skip
        print(f"physical limit ceil({2 * args.pairs}/{args.concurrency}) x {args.latency} s = "
              f"{limit:.1f} s; target <= {1.15 * limit:.1f} s")  # fmt: skip
        server, port = start_server(args.latency, 0.0)
        try:
            wall, s = judge(db, port, "bench-model", args.concurrency)
            print(
                f"cold run: {wall:.2f} s wall ({s['seconds']:.2f} s in the runner), "
                f"{s['calls']} calls, {s['verdicts']} verdicts, {wall / limit:.2f}x the limit"
            )
            wall, s = judge(db, port, "bench-model", args.concurrency)
            print(f"cached re-run: {wall:.2f} s wall ({s['seconds']:.2f} s in the runner), "
                  f"{s['calls']} calls, {s['cached']} from cache")  # fmt: skip
        finally:
            server.terminate()
            server.wait()
        server, port = start_server(args.latency, 0.10)
        try:
            wall, s = judge(db, port, "bench-model-faulty", args.concurrency)
            print(
                f"10% 429/500: {wall:.2f} s wall, {s['verdicts']}/{s['needed']} verdicts, "
                f"{s['calls']} calls ({s['retries']} retries), missing {s['missing']}"
            )
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()

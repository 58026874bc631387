"""Judge throughput benchmark (issues 5 and 16): N pairs x 2 orders at concurrency C against the
scripted server answering in 300 ms. Physical limit ceil(2N/C) x 0.3 s (18.9 s for 1,000 pairs
at C=32); targets: the whole command <= 1.15x that at C=32, <= 1.3x at C=128; a cached re-run
<= 2 s at 1,000 pairs (<= 5 s at 10,000), zero calls; with 10% of calls failing 429/500 at random,
every verdict.

Run: python bench/judge_throughput.py [--pairs 1000] [--concurrency 32] [--latency 0.3]
     [--faults/--no-faults] [--src TREE]
The server runs in its own process (as a real provider would); each `signoff judge run` is a
subprocess, timed end to end (start-up included), with its CPU time (user + system of the child,
from getrusage); the runner's own time comes from its summary. `--src` runs the commands of
another checkout (e.g. a `git archive` of an older commit) for a before/after comparison.
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


def signoff(src: Path, args: list[str]) -> tuple[float, float, str]:
    """Run `signoff ARGS` from checkout `src`: wall seconds, CPU seconds, stdout."""
    # -P and cwd=src: `-m reviewer` would otherwise import whatever tree the cwd holds.
    env = {**os.environ, "PYTHONPATH": str(src)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-P", "-m", "reviewer", *args],
        capture_output=True, text=True, check=True, cwd=src, env=env,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def judge(
    src: Path, db: Path, port: int, model: str, concurrency: int
) -> tuple[float, float, dict]:
    wall, cpu, out = signoff(
        src,
        [
            "judge", "run", "--db", str(db), "--study", "bench", "--rubric", str(RUBRIC),
            "--provider", "openai-compatible", "--base-url", f"http://127.0.0.1:{port}/v1",
            "--model", model, "--pairs", "all", "--concurrency", str(concurrency), "--json",
            # Throughput only: this judge is not calibrated, so the gate is overridden (logged).
            "--override", "throughput benchmark",
        ],
    )  # fmt: skip
    return wall, cpu, json.loads(out)


def write_pairs(path: Path, n: int) -> None:
    with open(path, "w") as f:
        for i in range(n):
            row = {"id": f"b{i:05d}", "prompt": f"Customer question {i}: how do I export "
                   "my invoices?", "candidate": f"Go to Reports > Export. [[GOOD]] ({i})",
                   "baseline": f"I cannot help with that ({i}).",
                   "stratum": ["routine", "hard", "edge", "refusal"][i % 4]}  # fmt: skip
            f.write(json.dumps(row) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--faults", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--src", type=Path, default=ROOT, help="checkout whose signoff runs")
    args = parser.parse_args()
    src = args.src.resolve()
    limit = math.ceil(2 * args.pairs / args.concurrency) * args.latency
    print(f"load average {os.getloadavg()[0]:.1f}; {src}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_pairs(work / "pairs.jsonl", args.pairs)
        db = work / "bench.duckdb"
        signoff(src, ["import", str(work / "pairs.jsonl"), "--db", str(db), "--study", "bench"])
        print(
            f"physical limit ceil({2 * args.pairs}/{args.concurrency}) x {args.latency} s = "
            f"{limit:.1f} s; 1.15x = {1.15 * limit:.1f} s, 1.3x = {1.3 * limit:.1f} s"
        )
        server, port = start_server(args.latency, 0.0)
        try:
            wall, cpu, s = judge(src, db, port, "bench-model", args.concurrency)
            print(
                f"cold run: {wall:.2f} s wall ({s['seconds']:.2f} s in the runner), {cpu:.2f} s "
                f"CPU ({1000 * cpu / max(1, s['calls']):.2f} ms per call), {s['calls']} calls, "
                f"{s['verdicts']} verdicts, {wall / limit:.2f}x the limit "
                f"({s['seconds'] / limit:.2f}x for the runner)"
            )
            wall, cpu, s = judge(src, db, port, "bench-model", args.concurrency)
            print(f"cached re-run: {wall:.2f} s wall ({s['seconds']:.2f} s in the runner), "
                  f"{cpu:.2f} s CPU, {s['calls']} calls, {s['cached']} from cache")  # fmt: skip
        finally:
            server.terminate()
            server.wait()
        if not args.faults:
            return
        server, port = start_server(args.latency, 0.10)
        try:
            wall, cpu, s = judge(src, db, port, "bench-model-faulty", args.concurrency)
            print(
                f"10% 429/500: {wall:.2f} s wall, {cpu:.2f} s CPU, {s['verdicts']}/{s['needed']} "
                f"verdicts, {s['calls']} calls ({s['retries']} retries), missing {s['missing']}"
            )
        finally:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    main()

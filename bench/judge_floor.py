"""The floor under `bench/judge_throughput.py` (issue 16): how fast any client can be on this
machine, against the same scripted server, with the judge's own requests.

A whole `signoff judge run` must import the official SDK (the only way providers are reached)
before its first call, and then make its calls. This measures both parts with nothing of
signoff's in between:
- the SDK's import in a fresh interpreter (`import openai`, wall and CPU);
- the calls: the exact request bodies a judge run sends (captured from one run against an
  in-process `tests/llm_server.py`), posted by a bare aiohttp client that reads each reply and
  does nothing else, N pairs x 2 orders at concurrency C, against the server in its own process
  as the throughput bench runs it (300 ms per answer), with the client's and the server's CPU.
Interpreter start + import + calls is what a client that did no work of its own would take;
signoff's start-up (CLI, DuckDB, the plan) and per-call work (verdicts, the call log) come on top.
`--with-judge` runs the real command between the floor's runs, for a side-by-side.

Run: python bench/judge_floor.py [--pairs 1000] [--concurrency 128] [--runs 3] [--with-judge]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import judge_throughput as bench  # noqa: E402
from llm_server import LLMServer  # noqa: E402

IMPORT_SDK = (
    "import resource, time; t = time.perf_counter(); import openai; "
    "r = resource.getrusage(resource.RUSAGE_SELF); "
    "print(time.perf_counter() - t, r.ru_utime + r.ru_stime)"
)


def capture_bodies(db: Path, concurrency: int) -> list[bytes]:
    """The request bodies one judge run sends, in the order the server received them."""
    server = LLMServer().start()
    try:
        bench.judge(bench.ROOT, db, server.port, "floor-capture", concurrency)
        return [json.dumps(body).encode() for body in server.bodies]
    finally:
        server.stop()


def sdk_import() -> tuple[float, float, float]:
    """Interpreter start-up alone, then the SDK's import in a fresh one (wall, CPU)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    bare = time.perf_counter() - t0
    out = subprocess.run([sys.executable, "-c", IMPORT_SDK], capture_output=True, text=True)
    wall, cpu = map(float, out.stdout.split())
    return bare, wall, cpu


async def post_all(port: int, bodies: list[bytes], concurrency: int) -> float:
    """Post every body, `concurrency` at a time, reading each reply: seconds taken."""
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    headers = {"content-type": "application/json", "authorization": "Bearer floor"}
    limit = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as s:

        async def one(body: bytes) -> None:
            async with limit, s.post(url, data=body, headers=headers) as reply:
                await reply.read()
                assert reply.status == 200, reply.status

        started = time.perf_counter()
        await asyncio.gather(*(one(body) for body in bodies))
        return time.perf_counter() - started


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (psutil, as the other benches read it)."""
    return sum(psutil.Process(pid).cpu_times()[:2])


def floor_calls(bodies: list[bytes], concurrency: int) -> tuple[float, float, float]:
    """The calls alone: wall, the client's CPU, the server's CPU."""
    server, port = bench.start_server(0.3, 0.0)
    try:
        server_before, client_before = process_cpu(server.pid), time.process_time()
        wall = asyncio.run(post_all(port, bodies, concurrency))
        return wall, time.process_time() - client_before, process_cpu(server.pid) - server_before
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--with-judge", action="store_true")
    args = parser.parse_args()
    limit = math.ceil(2 * args.pairs / args.concurrency) * 0.3
    print(f"load average {os.getloadavg()[0]:.1f}; limit {limit:.1f} s, 1.3x = {1.3 * limit:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        bench.write_pairs(Path(tmp) / "pairs.jsonl", args.pairs)
        imported = ["import", f"{tmp}/pairs.jsonl", "--db", str(db), "--study", "bench"]
        bench.signoff(bench.ROOT, imported)
        bodies = capture_bodies(db, 32)
        size = statistics.mean(map(len, bodies))
        print(f"{len(bodies)} request bodies captured, {size:.0f} B each")
        for run in range(args.runs):
            bare, imp_wall, imp_cpu = sdk_import()
            wall, client, server = floor_calls(bodies, args.concurrency)
            whole = bare + imp_wall + wall
            print(
                f"floor: interpreter {bare:.2f} s + import openai {imp_wall:.2f} s "
                f"({imp_cpu:.2f} s CPU) + calls {wall:.2f} s = {whole:.2f} s = "
                f"{whole / limit:.2f}x; calls alone "
                f"{wall / limit:.2f}x, client CPU {client:.2f} s, server CPU {server:.2f} s"
            )
            if args.with_judge:
                server_proc, port = bench.start_server(0.3, 0.0)
                try:
                    before = process_cpu(server_proc.pid)
                    wall, cpu, s = bench.judge(bench.ROOT, db, port, f"m{run}", args.concurrency)
                    print(
                        f"judge: {wall:.2f} s = {wall / limit:.2f}x (runner {s['seconds']:.2f} s), "
                        f"CPU {cpu:.2f} s, server CPU {process_cpu(server_proc.pid) - before:.2f} s"
                    )
                finally:
                    server_proc.terminate()
                    server_proc.wait()


if __name__ == "__main__":
    main()

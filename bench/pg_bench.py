"""PostgreSQL vs DuckDB (issue 14): import of 100,000 pairs, the 5,000-item report, db copy.

Starts a throwaway PostgreSQL server with its default durability (tests/pg.py: initdb + pg_ctl,
fsync on), then times each command end to end in a subprocess (interpreter start-up included):
wall time, the command's own CPU time, and for PostgreSQL also the CPU the server's processes
spent on it (psutil over the postmaster's children).

Run: python bench/pg_bench.py [--pairs 100000] [--items 5000] [--resamples 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from import_bench import generate  # noqa: E402
from pg import server_bin, start_server  # noqa: E402
from report_bench import build  # noqa: E402


def server_cpu(root: Path) -> float:
    """CPU seconds used so far by the PostgreSQL server whose data dir is under `root`: the
    postmaster, its live backends, and (through the postmaster's children times) ended ones."""
    for proc in psutil.process_iter(["cmdline"]):
        if str(root) in " ".join(proc.info["cmdline"] or []) and "postgres" in proc.name():
            pm = proc.cpu_times()
            live = 0.0
            for child in proc.children():
                with contextlib.suppress(psutil.Error):
                    live += sum(child.cpu_times()[:2])
            return pm.user + pm.system + pm.children_user + pm.children_system + live
    raise RuntimeError("no PostgreSQL server found")


def timed(args: list[str], pg_root: Path | None) -> str:
    server_before = server_cpu(pg_root) if pg_root else 0.0
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "reviewer", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        sys.exit(f"{args[0]} failed: {err}")
    cpu = usage.ru_utime + usage.ru_stime
    line = f"{wall:6.2f} s wall, {cpu:6.2f} s CPU (command)"
    if pg_root:
        line += f", {server_cpu(pg_root) - server_before:6.2f} s CPU (server)"
    return line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    bindir = server_bin()
    if bindir is None:
        sys.exit("PostgreSQL server binaries not found (apt-get install postgresql)")
    server = start_server(bindir, durable=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            src = work / "pairs.jsonl"
            generate(src, args.pairs, "jsonl")
            for name, db, root in (
                ("duckdb", str(work / "import.duckdb"), None),
                ("postgresql", server.new_database(), server.root),
            ):
                took = timed(["import", str(src), "--study", "bench", "--db", db], root)
                print(f"import {args.pairs} pairs, {name:<10}: {took}")
            report_db = work / "report" / "report.duckdb"
            report_db.parent.mkdir()
            build(report_db, args.items, 10)
            url = server.new_database()
            took = timed(["db", "copy", "--from", str(report_db), "--to", url], server.root)
            print(f"db copy {args.items}-item study to postgresql: {took}")
            report = ["report", "-s", "bench", "--format", "json"]
            report += ["--resamples", str(args.resamples)]
            for name, db, root in (
                ("duckdb", str(report_db), None),
                ("postgresql", url, server.root),
            ):
                took = timed([*report, "--db", db], root)
                print(f"report {args.items} items, {name:<10}: {took}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()

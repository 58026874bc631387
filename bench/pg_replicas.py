"""Team mode under load (issue 14): `signoff app` replicas on one PostgreSQL, annotator sessions
in headless chromium spread over them, one replica killed with -9 halfway and restarted, while a
terminal loops `signoff report`, `signoff judge run` (scripted LLM server) and `signoff status`.

Prints labels confirmed and stored (exactly once each), the browser-side time per label
(choice + submit until the next pair is on screen) p50/p95, and the terminal's commands and
failures. The same code as tests/test_postgres_replicas.py, run longer.

Run: python bench/pg_replicas.py [--sessions 30] [--seconds 120] [--replicas 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import test_postgres_replicas as team_test  # noqa: E402
from conftest import Result  # noqa: E402
from llm_server import LLMServer  # noqa: E402
from pg import server_bin, start_server  # noqa: E402

from reviewer.store import Store  # noqa: E402

TIMES: list[float] = []


def cli(*args) -> Result:
    """`signoff ARGS` in a subprocess (the test's in-process runner needs pytest's capture)."""
    import subprocess

    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", *map(str, args)], capture_output=True, text=True
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def timed_label(s) -> None:
    start = time.perf_counter()
    original_label_once(s)
    TIMES.append(time.perf_counter() - start)


original_label_once = team_test.label_once
team_test.label_once = timed_label


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--replicas", type=int, default=3)
    args = parser.parse_args()
    server = start_server(server_bin(), durable=True)
    llm = LLMServer().start()
    try:
        url = server.new_database()
        os.environ["SIGNOFF_DB"] = url
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            team, terminal = team_test.run_team(
                cli, Path(tmp), url, llm, args.sessions, args.seconds, args.replicas
            )
            wall = time.perf_counter() - start
        stored = Store(url).read(
            lambda cur: cur.execute(
                "SELECT count(*), count(DISTINCT view_id) FROM labels WHERE source = 'app'"
            ).fetchone()
        )
        confirmed = sum(s.confirmed for s in team)
        q = statistics.quantiles(TIMES, n=20)
        failed = [r for r in terminal.results if r[1] != 0]
        print(
            f"{args.sessions} sessions on {args.replicas} replicas, {wall:.0f} s: "
            f"{confirmed} labels confirmed, {stored[0]} stored ({stored[1]} distinct views); "
            f"per label in the browser p50 {statistics.median(TIMES):.2f} s, p95 {q[18]:.2f} s; "
            f"terminal: {len(terminal.results)} commands, {len(failed)} failed"
        )
    finally:
        llm.stop()
        server.stop()


if __name__ == "__main__":
    main()

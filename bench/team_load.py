"""Labeling latency, embedded vs team mode (issue 14): the same annotator load on one
`signoff app` process on a DuckDB file, and on three replicas sharing one PostgreSQL.

The study (bench/label_latency.py's 10,000 pairs) is built once in DuckDB and moved into a
fresh PostgreSQL database per level with `db copy`'s own code. N annotators are driven over
Streamlit's websocket exactly as bench/app_load.py drives them (2-6 s between actions, a pick
then Submit), spread round-robin over the replicas as sticky sessions would spread them. A
click is timed from the message sent to the server's "script finished" for its rerun: the
server side of the latency, without the browser's drawing. Reported per backend and level:
Pick and Submit p50/p95, labels/s, errors, labels lost (confirmed but not stored), the CPU of
the app processes per rerun and, on PostgreSQL, of the database server.

PostgreSQL runs with its default durability (fsync on), like a real team server.

Run: python bench/team_load.py [--levels 20,60] [--seconds 40] [--replicas 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from app_load import THINK, Tally, annotator, pct  # noqa: E402
from browser import AppServer  # noqa: E402
from label_latency import build  # noqa: E402
from pg import server_bin, start_server  # noqa: E402

from reviewer.store import Store  # noqa: E402
from reviewer.store.copy import copy_study  # noqa: E402

STUDY = "latency"


def stored_labels(target: str) -> int:
    return Store(target).read(
        lambda cur: cur.execute("SELECT count(*) FROM labels WHERE source = 'app'").fetchone()[0]
    )


def cpu_of(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            total += sum(p.cpu_times()[:2])
        except psutil.NoSuchProcess:
            continue
    return total


def run_level(target: str, replicas: int, tokens: list[str], n: int, seconds: float, work: Path):
    """n annotators for `seconds` (after a warm-up in which each opened their page) over
    `replicas` app processes on `target`."""
    servers = [AppServer(target, work / f"app{n}-{i}.log").start() for i in range(replicas)]
    apps = [psutil.Process(s.proc.pid) for s in servers]
    before = stored_labels(target)
    tally = Tally()
    warmup = THINK[1] + 6.0
    marks: dict[str, float] = {}
    try:
        t0 = time.monotonic()
        start, end = t0 + warmup, t0 + warmup + seconds

        async def drive() -> None:
            tasks = [
                asyncio.create_task(annotator(servers[i % replicas].url, t, start, end, tally))
                for i, t in enumerate(tokens[:n])
            ]
            await asyncio.sleep(start - time.monotonic())
            marks["app0"], marks["reruns0"] = cpu_of(apps), tally.reruns
            marks["db0"], marks["load0"] = cpu_of(postgres_procs()), os.getloadavg()[0]
            await asyncio.sleep(max(0.0, end - time.monotonic()))
            marks["app1"], marks["reruns1"] = cpu_of(apps), tally.reruns
            marks["db1"], marks["load1"] = cpu_of(postgres_procs()), os.getloadavg()[0]
            await asyncio.gather(*tasks)

        asyncio.run(drive())
    finally:
        for s in servers:
            s.stop()
    confirmed = sum(tally.confirmed.values())
    reruns = max(marks["reruns1"] - marks["reruns0"], 1)
    return {
        "pick": (pct(tally.pick, 50), pct(tally.pick, 95)),
        "submit": (pct(tally.submit, 50), pct(tally.submit, 95)),
        "labels_per_s": tally.saved_in_window / seconds,
        "errors": len(tally.errors),
        "first_error": tally.errors[0] if tally.errors else "",
        "lost": max(0, confirmed - (stored_labels(target) - before)),
        "app_ms_per_rerun": 1000 * (marks["app1"] - marks["app0"]) / reruns,
        "db_ms_per_rerun": 1000 * (marks["db1"] - marks["db0"]) / reruns,
        "load": (marks["load0"], marks["load1"]),
    }


PG_ROOT: list[psutil.Process] = []


def postgres_procs() -> list[psutil.Process]:
    """The PostgreSQL postmaster and its backends (empty for the DuckDB runs)."""
    if not PG_ROOT:
        return []
    try:
        return [PG_ROOT[0], *PG_ROOT[0].children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="20,60")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--replicas", type=int, default=3)
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",") if x]
    pg = start_server(server_bin(), durable=True)
    postmaster = (pg.root / "data" / "postmaster.pid").read_text().split()[0]
    PG_ROOT.append(psutil.Process(int(postmaster)))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            template = work / "study.duckdb"
            tokens = list(build(template, args.pairs, max(levels)).values())
            print(
                "| backend | annotators | Pick p50 / p95 | Submit p50 / p95 | labels/s | errors "
                "| lost | app CPU per rerun | PostgreSQL CPU per rerun | load avg |"
            )
            print("|---|---|---|---|---|---|---|---|---|---|")
            for n in levels:
                db = work / f"level{n}.duckdb"
                shutil.copy(template, db)
                url = pg.new_database()
                copy_study(Store(template), Store(url), STUDY)
                runs = [("DuckDB, 1 process", str(db), 1)]
                runs.append((f"PostgreSQL, {args.replicas} replicas", url, args.replicas))
                for name, target, replicas in runs:
                    r = run_level(target, replicas, tokens, n, args.seconds, work)
                    db_cpu = f"{r['db_ms_per_rerun']:.1f} ms" if replicas > 1 else "-"
                    print(
                        f"| {name} | {n} | {r['pick'][0]:.0f} / {r['pick'][1]:.0f} ms "
                        f"| {r['submit'][0]:.0f} / {r['submit'][1]:.0f} ms "
                        f"| {r['labels_per_s']:.2f} | {r['errors']} | {r['lost']} "
                        f"| {r['app_ms_per_rerun']:.0f} ms | {db_cpu} "
                        f"| {r['load'][0]:.1f}-{r['load'][1]:.1f} |",
                        flush=True,
                    )
                    if r["first_error"]:
                        print(f"  first error: {r['first_error']}", flush=True)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()

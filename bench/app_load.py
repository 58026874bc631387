"""Labeling capacity of one `signoff app` process, measured as annotators feel it (issue 17).

Starts the real app (`signoff app`'s exact command line) on a 10,000-pair study and drives N
annotator sessions over Streamlit's own websocket protocol (the protobuf messages the browser
sends and receives), all from one asyncio loop in this process. Each annotator opens their link,
then for every pair thinks 2-6 s (uniform), picks a response (a click: one rerun), waits 0.3 s
and presses Submit (a second rerun). A click is timed from the message sent to the server's
"script finished" for the rerun it caused: the moment the browser has the whole new page.

Reported per level: Pick and Submit p50/p95, labels/s stored during the window, errors (a rerun
that failed, timed out, or did not show the next pair with "Saved."), labels lost (labels the
page confirmed that are not in the database after the server is stopped), and the app process's
CPU per rerun (psutil: user+system seconds of the app process over the window / reruns served).
The load on the machine (load average, this client's own CPU) is printed with each level.

Run: python bench/app_load.py [--levels 1,20,40,60] [--seconds 50] [--pairs 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from browser import AppServer  # noqa: E402
from label_latency import build  # noqa: E402
from wsclient import Session  # noqa: E402

from reviewer.store import Store  # noqa: E402
from reviewer.study.annotators import hash_token  # noqa: E402

THINK = (2.0, 6.0)
PICK_TO_SUBMIT = 0.3
PICKS = ("Response 1", "Response 2", "Tie")


@dataclass
class Tally:
    pick: list[float] = field(default_factory=list)
    submit: list[float] = field(default_factory=list)
    reruns: int = 0
    confirmed: dict[str, int] = field(default_factory=dict)
    saved_in_window: int = 0
    errors: list[str] = field(default_factory=list)


async def annotator(url: str, token: str, start: float, end: float, tally: Tally) -> None:
    rng = random.Random(token)
    session = Session(url, token)
    try:
        await asyncio.sleep(rng.uniform(0, THINK[1]))
        await session.open()
        tally.reruns += 1
        while time.monotonic() < end:
            await asyncio.sleep(rng.uniform(*THINK))
            if time.monotonic() >= end:
                break
            before = session.page.progress()
            took = await session.click(rng.choice(PICKS))
            tally.reruns += 1
            if time.monotonic() >= start:
                tally.pick.append(took)
            await asyncio.sleep(PICK_TO_SUBMIT)
            took = await session.click("Submit")
            tally.reruns += 1
            page = session.page
            if page.exception or "Saved." not in page.texts or page.progress() == before:
                tally.errors.append(f"submit not confirmed: {page.texts[:3]}")
                continue
            tally.confirmed[token] = tally.confirmed.get(token, 0) + 1
            if time.monotonic() >= start:
                tally.submit.append(took)
                tally.saved_in_window += 1
    except (OSError, TimeoutError, KeyError, websockets.WebSocketException) as exc:
        tally.errors.append(f"{type(exc).__name__}: {exc}")
    finally:
        await session.close()


def pct(samples: list[float], q: int) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=100)[q - 1]


def labels_in(db: Path) -> dict[str, int]:
    """App labels stored per annotator, keyed by the hash of their link."""
    store = Store(db)
    return dict(
        store.read(
            lambda cur: cur.execute(
                "SELECT a.token_hash, count(l.label_id) FROM annotators a LEFT JOIN labels l "
                "ON l.annotator_id = a.annotator_id AND l.source = 'app' GROUP BY a.token_hash"
            ).fetchall()
        )
    )


async def _first_load(url: str, token: str) -> float:
    """Open one page before the clock starts: the process's first run imports the page's
    modules (seconds), which its first real user pays once, not every click."""
    session = Session(url, token)
    try:
        return await session.open()
    finally:
        await session.close()


def per_click(template: Path, token: str, clicks: int, work: Path) -> dict[str, float]:
    """The app's CPU for one pick and one Submit rerun, alone on the server: one annotator
    labels `clicks` pairs at a quick steady pace (the database connection stays warm)."""
    db = work / "per_click.duckdb"
    shutil.copy(template, db)
    server = AppServer(db, work / "per_click.log").start()
    app = psutil.Process(server.proc.pid)
    cpu = {"Pick": 0.0, "Submit": 0.0}
    wall: dict[str, list[float]] = {"Pick": [], "Submit": []}

    async def drive() -> None:
        session = Session(server.url, token)
        await session.open()
        for i in range(clicks + 3):
            for label in (PICKS[i % 3], "Submit"):
                await asyncio.sleep(0.3)
                before = sum(app.cpu_times()[:2])
                took = await session.click(label)
                if i >= 3:  # the first clicks warm the caches
                    key = "Submit" if label == "Submit" else "Pick"
                    cpu[key] += sum(app.cpu_times()[:2]) - before
                    wall[key].append(took)
        await session.close()

    try:
        asyncio.run(drive())
    finally:
        server.stop()
    return {
        **{f"{k} cpu": 1000 * v / clicks for k, v in cpu.items()},
        **{f"{k} p50": pct(v, 50) for k, v in wall.items()},
    }


def run_level(template: Path, tokens: list[str], n: int, seconds: float, work: Path) -> dict:
    """One level: a fresh copy of the study, a fresh app, n annotators for `seconds`."""
    db = work / f"level{n}.duckdb"
    shutil.copy(template, db)
    before = labels_in(db)
    server = AppServer(db, work / f"server{n}.log").start()
    first_load = asyncio.run(_first_load(server.url, tokens[-1]))
    app = psutil.Process(server.proc.pid)
    me = psutil.Process()
    tally = Tally()
    warmup = THINK[1] + 4.0  # everyone has opened their page and labeled once
    try:
        t0 = time.monotonic()
        start, end = t0 + warmup, t0 + warmup + seconds
        cpu = {}

        async def drive() -> None:
            tasks = [
                asyncio.create_task(annotator(server.url, t, start, end, tally)) for t in tokens[:n]
            ]
            await asyncio.sleep(start - time.monotonic())
            cpu["app0"], cpu["me0"] = sum(app.cpu_times()[:2]), sum(me.cpu_times()[:2])
            cpu["reruns0"], cpu["load0"] = tally.reruns, os.getloadavg()[0]
            await asyncio.sleep(max(0.0, end - time.monotonic()))
            cpu["app1"], cpu["me1"] = sum(app.cpu_times()[:2]), sum(me.cpu_times()[:2])
            cpu["reruns1"], cpu["load1"] = tally.reruns, os.getloadavg()[0]
            await asyncio.gather(*tasks)

        asyncio.run(drive())
    finally:
        server.stop()
    after = labels_in(db)
    lost = sum(
        max(0, mine - (after[hash_token(t)] - before[hash_token(t)]))
        for t, mine in tally.confirmed.items()
    )
    reruns = cpu["reruns1"] - cpu["reruns0"]
    return {
        "n": n,
        "first_load": first_load,
        "pick_p50": pct(tally.pick, 50),
        "pick_p95": pct(tally.pick, 95),
        "submit_p50": pct(tally.submit, 50),
        "submit_p95": pct(tally.submit, 95),
        "labels_per_s": tally.saved_in_window / seconds,
        "errors": len(tally.errors),
        "first_error": tally.errors[0] if tally.errors else "",
        "lost": lost,
        "cpu_ms_per_rerun": 1000 * (cpu["app1"] - cpu["app0"]) / max(reruns, 1),
        "app_cpu_pct": 100 * (cpu["app1"] - cpu["app0"]) / seconds,
        "client_cpu_pct": 100 * (cpu["me1"] - cpu["me0"]) / seconds,
        "load": (cpu["load0"], cpu["load1"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", default="1,20,40,60")
    parser.add_argument("--seconds", type=float, default=50.0)
    parser.add_argument("--pairs", type=int, default=10_000)
    parser.add_argument("--clicks", type=int, default=40, help="labels for the per-click CPU")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",") if x]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = work / "study.duckdb"
        t = time.perf_counter()
        names = build(template, args.pairs, max(levels, default=1))
        tokens = list(names.values())
        print(
            f"study of {args.pairs} pairs, {max(levels, default=1)} annotators: "
            f"{time.perf_counter() - t:.0f} s",
            flush=True,
        )
        one = per_click(template, tokens[0], args.clicks, work)
        print(
            f"one annotator, {args.clicks} labels at a quick pace: app CPU per Pick rerun "
            f"{one['Pick cpu']:.1f} ms (p50 {one['Pick p50']:.0f} ms), per Submit rerun "
            f"{one['Submit cpu']:.1f} ms (p50 {one['Submit p50']:.0f} ms)",
            flush=True,
        )
        print(
            "| annotators | Pick p50 / p95 | Submit p50 / p95 | labels/s | errors | lost "
            "| app CPU per rerun | app CPU | client CPU | load avg |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for n in levels:
            r = run_level(template, tokens, n, args.seconds, work)
            print(
                f"| {n} | {r['pick_p50']:.0f} / {r['pick_p95']:.0f} ms "
                f"| {r['submit_p50']:.0f} / {r['submit_p95']:.0f} ms "
                f"| {r['labels_per_s']:.2f} | {r['errors']} | {r['lost']} "
                f"| {r['cpu_ms_per_rerun']:.0f} ms | {r['app_cpu_pct']:.0f}% "
                f"| {r['client_cpu_pct']:.0f}% | {r['load'][0]:.1f}-{r['load'][1]:.1f} |",
                flush=True,
            )
            print(f"  first page load after start: {r['first_load']:.0f} ms", flush=True)
            if r["first_error"]:
                print(f"  first error: {r['first_error']}", flush=True)


if __name__ == "__main__":
    main()

"""CLI commands against an embedded DuckDB file while 30 annotators click (issue 14).

DuckDB lets one process at a time open the file. The labeling process here is what `signoff app`
is to the store: one process, one `Store` configured as the app configures it (the app's linger),
a thread per annotator running what the annotator page runs on each click (submit the label, draw
the next pair, read the progress: `reviewer.labeling.session`). Each annotator clicks every 1-3 s
(uniform). Meanwhile the 13 CLI commands run one after another as real `signoff` processes (their
own `Store`, default lock timeout 30 s): status, report, check and labels export, three of each,
and a judge calibration (56 calls) against the scripted LLM server (tests/llm_server.py).

Reported: each command's exit code and wall time, click latency p50/p95/max (wall, per click,
the three calls together), CPU time of the labeling process, and whether every label a click saw
confirmed is stored exactly once.

Run: python bench/cli_fairness.py [--annotators 30] [--pairs 4000] [--warmup 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from llm_server import MARKER, LLMServer, Script  # noqa: E402

from reviewer.app.context import APP_LINGER_SECONDS  # noqa: E402
from reviewer.errors import SignoffError  # noqa: E402
from reviewer.labeling import session  # noqa: E402
from reviewer.store import Store  # noqa: E402
from reviewer.study.annotators import add_annotators  # noqa: E402

STUDY = "fair"
CONFIG = """
seed = 7
[[criteria]]
name = "correctness"
description = "Right facts."
[calibration]
size = 40
annotators_per_pair = 2
holdout_fraction = 0.30
[assignment]
labels_per_pair = 3
[gate]
min_usable_pairs = 12
"""
RUBRIC = ROOT / "data" / "support_rubric.toml"


def signoff(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real `signoff` command line, in a process of its own."""
    cmd = [sys.executable, "-m", "reviewer", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)


def build(work: Path, pairs: int, annotators: int) -> list[str]:
    """A study of `pairs` pairs, expert labels on its calibration pairs, and annotator tokens."""
    rng = random.Random(1)
    words = ["account", "invoice", "refund", "plan", "export", "bank", "tax", "currency"]
    src = work / "pairs.jsonl"
    with open(src, "w") as f:
        for i in range(pairs):
            text = " ".join(rng.choices(words, k=80))
            good = i % 3 != 0  # the candidate carries the marker the scripted judge prefers
            row = {
                "id": f"q{i:05d}",
                "prompt": f"Question {i}: {text[:120]}",
                "candidate": f"A {text}" + (f" {MARKER}" if good else ""),
                "baseline": f"B {text[::-1]}" + ("" if good else f" {MARKER}"),
                "stratum": ["routine", "hard", "edge", "refusal"][i % 4],
            }
            f.write(json.dumps(row) + "\n")
    config = work / "study.toml"
    config.write_text(CONFIG)
    db = work / "fair.duckdb"
    done = signoff("import", src, "-s", STUDY, "--config", config, "--db", db)
    assert done.returncode == 0, done.stderr
    store = Store(db)
    calibration = store.read(
        lambda cur: cur.execute(
            "SELECT pair_id, candidate FROM pairs WHERE in_calibration ORDER BY pair_id"
        ).fetchall()
    )
    rows = ["pair_id,annotator,preference,correctness"]
    for pair_id, candidate in calibration:
        pref = "candidate" if MARKER in candidate else "baseline"
        rows += [f"{pair_id},{who},{pref},{pref}" for who in ("ana", "bo")]
    labels = work / "experts.csv"
    labels.write_text("\n".join(rows) + "\n")
    done = signoff("labels", "import", labels, "-s", STUDY, "--db", db)
    assert done.returncode == 0, done.stderr
    made = add_annotators(store, STUDY, [f"A{i}" for i in range(annotators)], "bench")
    return [a.token for a in made]


def label(db: Path, tokens: list[str], stop: Path, out: Path) -> None:
    """The labeling process: one thread per annotator clicking every 1-3 s until `stop` exists."""
    store = Store(db, linger=APP_LINGER_SECONDS)
    clicks: list[float] = []
    confirmed: list[str] = []
    errors: list[str] = []
    ran_out: list[str] = []  # annotators whose queue ended before the commands did
    lock = threading.Lock()
    cpu0 = time.process_time()

    def annotate(token: str) -> None:
        rng = random.Random(token)
        who = session.login(store, token)
        view = session.open_next(store, who)
        while view is not None and not stop.exists():
            time.sleep(rng.uniform(1.0, 3.0))
            start = time.perf_counter()
            try:
                stored = session.submit(store, who, view.view_id, rng.choice(["1", "2", "tie"]))
                shown = view.view_id
                view = session.open_next(store, who)
                session.progress(store, who)
            except SignoffError as exc:
                with lock:
                    errors.append(str(exc)[:200])
                continue
            with lock:
                clicks.append(time.perf_counter() - start)
                if stored:
                    confirmed.append(shown)
        if view is None:
            with lock:
                ran_out.append(token)

    threads = [threading.Thread(target=annotate, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = {
        "clicks": clicks,
        "confirmed": confirmed,
        "errors": errors,
        "ran_out": len(ran_out),
        "cpu": time.process_time() - cpu0,
    }
    out.write_text(json.dumps(result))


def commands(db: Path, llm_url: str) -> list[tuple[str, list[str]]]:
    common = ["-s", STUDY, "--db", str(db)]
    judge = [
        "judge", "calibrate", *common, "--rubric", str(RUBRIC), "--provider",
        "openai-compatible", "--base-url", llm_url, "--model", "scripted", "--concurrency", "4",
    ]  # fmt: skip
    quick = [
        ("status", ["status", *common]),
        ("report", ["report", *common, "--format", "json", "--resamples", "200"]),
        ("check", ["check", *common, "--resamples", "200"]),
        ("labels export", ["labels", "export", *common]),
    ]
    return quick + quick[:2] + [("judge calibrate", judge)] + quick[2:] + quick


def run_commands(db: Path, llm_url: str) -> list[dict]:
    env = {**os.environ, "OPENAI_API_KEY": "bench"}
    results = []
    for name, args in commands(db, llm_url):
        start = time.perf_counter()
        done = signoff(*args, env=env)
        wall = time.perf_counter() - start
        # check exits 1 on BLOCKED / NOT ENOUGH EVIDENCE: a verdict, not a failure.
        ok = done.returncode == 0 or (name == "check" and done.returncode == 1)
        ok = ok and "held by another process" not in done.stderr
        results.append(
            {
                "command": name,
                "code": done.returncode,
                "ok": ok,
                "wall": wall,
                "err": "" if ok else done.stderr.strip()[-300:],
            }  # fmt: skip
        )
        print(f"  {name:16s} exit {done.returncode} {'ok  ' if ok else 'FAIL'} {wall:6.1f} s")
        time.sleep(1.0)
    return results


def stored_labels(db: Path) -> list[str]:
    return Store(db).read(
        lambda cur: [
            r[0]
            for r in cur.execute(
                "SELECT view_id FROM labels WHERE view_id IS NOT NULL AND annotator_id "
                "NOT IN ('ana', 'bo')"
            ).fetchall()
        ]
    )


def ms(samples: list[float]) -> str:
    if len(samples) < 2:
        return f"n={len(samples)}"
    q = statistics.quantiles(samples, n=100)
    return (
        f"p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms, "
        f"n={len(samples)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--annotators", type=int, default=30)
    parser.add_argument("--pairs", type=int, default=4000)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--label", nargs=3, metavar=("DB", "STOP", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.label:
        db, stop, out = map(Path, args.label)
        label(db, json.loads(sys.stdin.read()), stop, out)
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tokens = build(work, args.pairs, args.annotators)
        db, stop, out = work / "fair.duckdb", work / "stop", work / "clicks.json"
        llm = LLMServer(Script(policy="marker", latency=0.05)).start()
        labeler = subprocess.Popen(
            [sys.executable, __file__, "--label", str(db), str(stop), str(out)],
            stdin=subprocess.PIPE,
            text=True,
        )
        labeler.stdin.write(json.dumps(tokens))
        labeler.stdin.close()
        time.sleep(args.warmup)
        print(f"{args.annotators} annotators clicking every 1-3 s; CLI commands:")
        start = time.perf_counter()
        results = run_commands(db, llm.openai_url)
        span = time.perf_counter() - start
        stop.touch()
        labeler.wait()
        llm.stop()
        data = json.loads(out.read_text())
        stored = stored_labels(db)
    lost = set(data["confirmed"]) - set(stored)
    twice = len(stored) - len(set(stored))
    failed = [r for r in results if not r["ok"]]
    print(f"CLI: {len(results) - len(failed)} of {len(results)} succeeded in {span:.0f} s")
    for r in failed:
        print(f"  failed {r['command']} after {r['wall']:.1f} s: {r['err'][:160]}")
    ok_walls = ", ".join(f"{r['command']} {r['wall']:.1f}" for r in results)
    print(f"CLI wall times (s): {ok_walls}")
    print(f"clicks: {ms(data['clicks'])}; click errors: {len(data['errors'])}")
    print(f"annotators whose queue ran out before the last command: {data['ran_out']}")
    print(f"labeling process CPU: {data['cpu']:.1f} s over {span + args.warmup:.0f} s")
    print(f"labels confirmed {len(data['confirmed'])}, lost {len(lost)}, stored twice {twice}")
    if args.json:
        print(json.dumps({"commands": results, "clicks": data["clicks"], "lost": len(lost)}))


if __name__ == "__main__":
    main()

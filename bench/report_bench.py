"""Report benchmark (issues 4 and 16): N items, 10 annotators with sparse overlap, judge
verdicts in both orders on every item; `signoff report --format json` timed end to end.

Targets: issue 4, 5,000 items <= 5 s; issue 16, 100,000 items <= 15 s and <= 1.5 GB peak RSS.

Run: python bench/report_bench.py [--items 1000 5000 ...] [--resamples 1000] [--src ROOT ...]
The study is built once per size under bench/out/report_N.duckdb (not timed, reused). Each run
is a child process (`python -c "from reviewer.cli import main; main()" report ...`) with
PYTHONPATH=ROOT, so two checkouts can be compared on the same database; wall time, CPU time and
peak RSS come from the child's own rusage (os.wait4). `figures` is a digest of the JSON report
without its timestamp and version: equal digests mean every number in the report is equal.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = Path(__file__).parent / "out"
STRATA = ["routine", "hard", "edge", "refusal"]


def build(db: Path, items: int, annotators: int) -> None:
    from reviewer.store import Store
    from reviewer.study.imported import import_labels, import_verdicts

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        store = Store(db)
        write_study(store, work, items, annotators)
        import_labels(store, "bench", work / "labels.csv", "bench")
        import_verdicts(store, "bench", work / "verdicts.csv", "bench")


def write_study(store, work: Path, items: int, annotators: int) -> None:
    """Import the study "bench" of `items` pairs into `store`, and write its labels and judge
    verdicts to work/labels.csv and work/verdicts.csv (not imported)."""
    from reviewer.config import StudyConfig
    from reviewer.ingest.pairs import load_pairs
    from reviewer.study.lifecycle import import_study

    rng = random.Random(5)
    with open(work / "pairs.jsonl", "w") as f:
        for i in range(items):
            row = {"id": f"i{i:06d}", "prompt": f"q{i}", "candidate": f"c{i}"}
            row.update({"baseline": f"b{i}", "stratum": STRATA[i % 4]})
            f.write(json.dumps(row) + "\n")
    pairs = load_pairs(work / "pairs.jsonl", 1000)
    import_study(store, "bench", pairs, StudyConfig(), "bench")
    labels = ["pair_id,annotator,preference,correctness"]
    verdicts = ["pair_id,judge,preference,presented"]
    choices = ["candidate", "baseline", "tie"]
    for i in range(items):
        truth = rng.choices(choices, [0.6, 0.3, 0.1])[0]
        for a in rng.sample(range(annotators), rng.choice([1, 1, 2, 3])):  # sparse overlap
            pref = truth if rng.random() < 0.75 else rng.choice(choices)
            crit = {"tie": "same"}.get(pref, pref)
            labels.append(f"i{i:06d},annotator {a},{pref},{crit}")
        for order in ("candidate_first", "baseline_first"):
            pref = truth if rng.random() < 0.7 else rng.choice(choices)
            verdicts.append(f"i{i:06d},bench-judge,{pref},{order}")
    (work / "labels.csv").write_text("\n".join(labels) + "\n")
    (work / "verdicts.csv").write_text("\n".join(verdicts) + "\n")


def run_child(args: list[str], src: Path) -> tuple[float, float, float, str]:
    """Run `signoff ARGS` with PYTHONPATH=src: (wall s, CPU s, peak RSS MB, stdout)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    code = "from reviewer.cli import main; main()"  # -P: import from ROOT, not the cwd
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(
            [sys.executable, "-P", "-c", code, *args], env=env, stdout=out, stderr=err
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"signoff {' '.join(args)} failed:\n{err.read()[-3000:]}")
        text = out.read()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, text


def figures(report: dict) -> str:
    """Digest of every figure: the report without when and by which version it was made."""
    report["appendix"].pop("generated_at", None)
    report["appendix"].pop("software_version", None)
    return hashlib.sha256(json.dumps(report, sort_keys=True).encode()).hexdigest()[:12]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, nargs="+", default=[5000])
    parser.add_argument("--annotators", type=int, default=10)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--src", type=Path, nargs="+", default=[ROOT], help="checkouts to time")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    for items in args.items:
        db = OUT / f"report_{items}.duckdb"
        if not db.exists():
            build(db, items, args.annotators)
        for src in args.src:
            command = ["report", "--study", "bench", "--db", str(db), "--format", "json"]
            command += ["--resamples", str(args.resamples)]
            wall, cpu, peak, text = run_child(command, src)
            rep = json.loads(text)
            labels = sum(a["labels"] for a in rep["annotators"])
            print(
                f"{items} items, {labels} labels, {args.resamples} resamples, {src}: "
                f"{wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS {peak:,.0f} MB, "
                f"verdict {rep['verdict']['decision']}, figures {figures(rep)}",
                flush=True,
            )


if __name__ == "__main__":
    main()

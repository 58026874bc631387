"""Report benchmark (issue 4): 5,000 items, 10 annotators with sparse overlap, judge verdicts
in both orders on every item; target <= 5 s for the JSON report with 1,000 bootstrap resamples.

Run: python bench/report_bench.py [--items 5000] [--resamples 1000]
Builds the study in a temp dir (not timed), then times `signoff report --format json` end to end
in a subprocess (interpreter start-up included) and the report build alone in-process.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reviewer.config import StudyConfig
from reviewer.ingest.pairs import load_pairs
from reviewer.report.build import build_report
from reviewer.store import Store
from reviewer.study.imported import import_labels, import_verdicts
from reviewer.study.lifecycle import import_study

STRATA = ["routine", "hard", "edge", "refusal"]


def build(db: Path, items: int, annotators: int) -> None:
    rng = random.Random(5)
    work = db.parent
    with open(work / "pairs.jsonl", "w") as f:
        for i in range(items):
            f.write(
                json.dumps(
                    {
                        "id": f"i{i:05d}",
                        "prompt": f"q{i}",
                        "candidate": f"c{i}",
                        "baseline": f"b{i}",
                        "stratum": STRATA[i % 4],
                    }
                )
                + "\n"
            )
    store = Store(db)
    import_study(store, "bench", load_pairs(work / "pairs.jsonl", 1000), StudyConfig(), "bench")
    labels = ["pair_id,annotator,preference,correctness"]
    verdicts = ["pair_id,judge,preference,presented"]
    for i in range(items):
        truth = rng.choices(["candidate", "baseline", "tie"], [0.6, 0.3, 0.1])[0]
        for a in rng.sample(range(annotators), rng.choice([1, 1, 2, 3])):  # sparse overlap
            pref = truth if rng.random() < 0.75 else rng.choice(["candidate", "baseline", "tie"])
            crit = {"tie": "same"}.get(pref, pref)
            labels.append(f"i{i:05d},annotator {a},{pref},{crit}")
        for order in ("candidate_first", "baseline_first"):
            pref = truth if rng.random() < 0.7 else rng.choice(["candidate", "baseline", "tie"])
            verdicts.append(f"i{i:05d},bench-judge,{pref},{order}")
    (work / "labels.csv").write_text("\n".join(labels) + "\n")
    (work / "verdicts.csv").write_text("\n".join(verdicts) + "\n")
    import_labels(store, "bench", work / "labels.csv", "bench")
    import_verdicts(store, "bench", work / "verdicts.csv", "bench")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--annotators", type=int, default=10)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "report.duckdb"
        build(db, args.items, args.annotators)
        start = time.perf_counter()
        build_report(Store(db), "bench", args.resamples)
        in_process = time.perf_counter() - start
        start = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "reviewer",
                "report",
                "--study",
                "bench",
                "--db",
                str(db),
                "--format",
                "json",
                "--resamples",
                str(args.resamples),
            ],
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(proc.stderr)
        rep = json.loads(proc.stdout)
        labels = sum(a["labels"] for a in rep["annotators"])
        print(
            f"{args.items} items, {labels} labels by {args.annotators} annotators, "
            f"{len(rep['judges'])} judge x 2 orders, {args.resamples} resamples: "
            f"`signoff report --format json` {wall:.2f} s wall; build alone {in_process:.2f} s; "
            f"verdict {rep['verdict']['decision']}"
        )


if __name__ == "__main__":
    main()

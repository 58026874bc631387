"""Time the admin page's reruns on the sample study: what an engineer waits for on each click.

Runs the real page (streamlit.testing.v1.AppTest over the app's main.py) in this process on a
fresh DuckDB file seeded through the CLI, then times N reruns with nothing changed between them.
Works on any checkout: pass its root (default: this one).

    python bench/admin_rerun.py [--root DIR] [--reruns 10] [--items 0]

With --items N, the study is a synthetic one of N pairs with sparse labels from 10 annotators
and judge verdicts in both orders (as bench/report_bench.py makes), instead of the sample study.
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
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--reruns", type=int, default=10)
    parser.add_argument("--items", type=int, default=0, help="0: the sample study")
    args = parser.parse_args()
    root = args.root.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        env = {**os.environ, "PYTHONPATH": str(root), "SIGNOFF_DB": str(db)}
        run = [sys.executable, "-m", "reviewer"]
        for cmd in _seed(root, Path(tmp), args.items):
            subprocess.run([*run, *map(str, cmd)], env=env, check=True, capture_output=True)
        os.environ.update(SIGNOFF_DB=str(db), SIGNOFF_ADMIN_SECRET="bench")
        sys.path.insert(0, str(root))
        at = AppTest.from_file(str(root / "reviewer" / "app" / "main.py"), default_timeout=120)
        at.query_params["admin"] = "bench"
        start = time.perf_counter()
        at.run()
        first = time.perf_counter() - start
        times = []
        for _ in range(args.reruns):
            start = time.perf_counter()
            at.run()
            times.append(time.perf_counter() - start)
        assert not at.exception, at.exception
    print(
        f"first render {first * 1000:.0f} ms; reruns: median {statistics.median(times) * 1000:.0f} "
        f"ms, max {max(times) * 1000:.0f} ms over {len(times)}"
    )


def _seed(root: Path, work: Path, items: int) -> list[list]:
    """CLI commands that make the study "demo": the sample study, or `items` synthetic pairs."""
    data = root / "data"
    if not items:
        return [
            ["import", data / "support_pairs.jsonl", "-s", "demo", "--config",
             data / "support_study.toml"],
            ["labels", "import", data / "sample_labels.csv", "-s", "demo"],
        ]  # fmt: skip
    rng = random.Random(5)
    pairs, labels = [], ["pair_id,annotator,preference"]
    verdicts = ["pair_id,judge,preference,presented"]
    for i in range(items):
        pairs.append(
            json.dumps(
                {
                    "id": f"i{i:05d}",
                    "prompt": f"q{i}",
                    "candidate": f"c{i}",
                    "baseline": f"b{i}",
                    "stratum": ["a", "b", "c", "d"][i % 4],
                }
            )
        )
        truth = rng.choices(["candidate", "baseline", "tie"], [0.6, 0.3, 0.1])[0]
        for a in rng.sample(range(10), rng.choice([1, 1, 2, 3])):
            labels.append(f"i{i:05d},annotator {a},{truth if rng.random() < 0.75 else 'tie'}")
        for order in ("candidate_first", "baseline_first"):
            verdicts.append(f"i{i:05d},bench-judge,{truth},{order}")
    for name, lines in (("pairs.jsonl", pairs), ("labels.csv", labels), ("verdicts.csv", verdicts)):
        (work / name).write_text("\n".join(lines) + "\n")
    return [
        ["import", work / "pairs.jsonl", "-s", "demo"],
        ["labels", "import", work / "labels.csv", "-s", "demo"],
        ["judge", "import", work / "verdicts.csv", "-s", "demo"],
    ]  # fmt: skip


if __name__ == "__main__":
    main()

"""Import benchmark: 100,000 pairs with ~1 KB outputs through `signoff import`.

Target (issue 2): <= 10 s wall and <= 1.5 GB peak memory on a 2-core machine.
Run: python bench/import_bench.py [--pairs N] [--format jsonl|csv|parquet]
Writes the file and the database under bench/out/ (ignored by git) and prints one result line.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import string
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).parent / "out"
STRATA = ["routine", "hard", "edge", "refusal"]


def text(rng: random.Random, size: int) -> str:
    words = []
    while sum(len(w) + 1 for w in words) < size:
        words.append("".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 9))))
    return " ".join(words)[:size]


def generate(path: Path, n: int, fmt: str) -> None:
    rng = random.Random(0)
    vocab = [text(rng, 1000) for _ in range(200)]  # varied 1 KB outputs, quick to produce
    rows = (
        {
            "id": f"b{i:06d}",
            "prompt": f"Customer question {i}: " + vocab[(i * 7) % 200][:200],
            "candidate": vocab[i % 200][:-7] + f" {i:06d}",
            "baseline": vocab[(i * 13 + 1) % 200][:-7] + f" {i:06d}",
            "stratum": STRATA[i % 4],
        }
        for i in range(n)
    )
    if fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
    else:
        import pandas as pd

        frame = pd.DataFrame(list(rows))
        frame.to_csv(path, index=False) if fmt == "csv" else frame.to_parquet(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--format", choices=["jsonl", "csv", "parquet"], default="jsonl")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    src = OUT / f"pairs_{args.pairs}.{args.format}"
    db = OUT / "bench.duckdb"
    for stale in (db, db.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    generate(src, args.pairs, args.format)
    size_mb = src.stat().st_size / 1e6
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "reviewer", "import", str(src), "--study", "bench", "--db", str(db)],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"import failed: {proc.stderr}")
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: KiB
    print(
        f"{args.pairs} pairs, {args.format}, {size_mb:.0f} MB file: "
        f"import {wall:.2f} s wall, peak RSS {peak_mb:.0f} MB"
    )


if __name__ == "__main__":
    main()

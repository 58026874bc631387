"""Import benchmark: N pairs with ~1 KB outputs through `signoff import`.

Targets: issue 2, 100,000 pairs <= 10 s and <= 1.5 GB peak RSS; issue 16, 1,000,000 pairs
(JSONL) <= 60 s and <= 2 GB.
Run: python bench/import_bench.py [--pairs N] [--format jsonl|csv|parquet] [--src ROOT ...]
The file is generated once under bench/out/ (ignored by git) and reused. Each import runs in a
child process with PYTHONPATH=ROOT (default: this checkout) into a fresh database; wall time,
CPU time and peak RSS come from the child's own rusage (os.wait4); `stored` is a digest of the
stored pairs table and the study's pairs hash (same digest = same data stored).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
            "id": f"b{i:07d}" if n > 999_999 else f"b{i:06d}",
            "prompt": f"Customer question {i}: " + vocab[(i * 7) % 200][:200],
            "candidate": vocab[i % 200][:-7] + f" {i:06d}",
            "baseline": vocab[(i * 13 + 1) % 200][:-7] + f" {i:06d}",
            "stratum": STRATA[i % 4],
        }
        for i in range(n)
    )
    partial = path.with_suffix(".partial")
    if fmt == "jsonl":
        with open(partial, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
    else:
        import pandas as pd

        frame = pd.DataFrame(list(rows))
        frame.to_csv(partial, index=False) if fmt == "csv" else frame.to_parquet(partial)
    partial.rename(path)


def run_import(src_root: Path, file: Path, db: Path) -> tuple[float, float, float]:
    """`signoff import` in a child with PYTHONPATH=src_root: (wall s, CPU s, peak RSS MB)."""
    for stale in (db, db.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src_root)}
    code = "from reviewer.cli import main; main()"  # -P: import from ROOT, not the cwd
    args = [
        sys.executable,
        "-P",
        "-c",
        code,
        "import",
        str(file),
        "--study",
        "bench",
        "--db",
        str(db),
    ]
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            sys.exit(f"import failed: {err.read()[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


DIGEST = """
import sys, duckdb
with duckdb.connect(sys.argv[1], read_only=True) as con:
    con.execute("SET enable_progress_bar = false")
    pairs = con.execute(
        "SELECT md5(string_agg(md5(CAST(p AS VARCHAR)), ',' ORDER BY study_id, position))"
        " FROM pairs AS p"
    ).fetchone()[0]
    study = con.execute("SELECT pairs_hash FROM studies").fetchone()[0]
print(f"{pairs[:12]}/{study[:12]}")
"""


def stored_digest(db: Path) -> str:
    """Digest of every stored pair (all columns, in file order) and of the study's pairs hash,
    to show that a faster import stores the same thing. Computed in a child: in this process it
    would grow it to the table's size, and the next import's child would start with that RSS
    as its peak (a forked child counts its parent's pages until it execs)."""
    args = [sys.executable, "-c", DIGEST, str(db)]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--format", choices=["jsonl", "csv", "parquet"], default="jsonl")
    parser.add_argument("--src", type=Path, nargs="+", default=[ROOT], help="checkouts to time")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the file and database")
    args = parser.parse_args()
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    file = out / f"pairs_{args.pairs}.{args.format}"
    if not file.exists():
        generate(file, args.pairs, args.format)
    size_mb = file.stat().st_size / 1e6
    for src in args.src:
        wall, cpu, peak = run_import(src, file, out / "bench.duckdb")
        print(
            f"{args.pairs} pairs, {args.format}, {size_mb:.0f} MB file, {src}: "
            f"import {wall:.2f} s wall, {cpu:.2f} s CPU, peak RSS {peak:,.0f} MB, "
            f"stored {stored_digest(out / 'bench.duckdb')}",
            flush=True,
        )
    for stale in (out / "bench.duckdb", out / "bench.duckdb.wal"):
        stale.unlink(missing_ok=True)


if __name__ == "__main__":
    main()

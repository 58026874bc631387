"""Peak memory of `signoff import` on pathological Parquet files (small on disk, huge decoded).

Usage: python bench/parquet_memory.py [SRC_ROOT ...]
Each SRC_ROOT is a checkout whose `reviewer` package is imported (default: this one), so the
same files can be measured before and after a change. Peak = the child's max RSS.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent


def plain_bomb(path: Path, rows: int = 20_000, chars: int = 90_000) -> None:
    """Plain string columns, one row group: Parquet's dictionary pages make it ~140 KB."""
    big = "x" * chars
    text = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), [big])
    ids = pa.array([f"p{i}" for i in range(rows)])
    table = pa.table({"id": ids, "prompt": ids, "candidate": text, "baseline": text})
    table = table.cast(
        pa.schema([(n, pa.string()) for n in table.column_names])
    )  # stored as plain strings
    pq.write_table(table, path, row_group_size=rows)


def dictionary_bomb(path: Path, rows: int = 20_000, chars: int = 90_000) -> None:
    """The same, with the Arrow dictionary type kept in the file's schema."""
    text = pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()), ["x" * chars])
    ids = pa.array([f"p{i}" for i in range(rows)])
    pq.write_table(pa.table({"id": ids, "prompt": ids, "candidate": text, "baseline": text}), path)


def measure(src: Path, file: Path, db: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB, from /usr/bin/time -v) and the last line printed."""
    db.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": str(src), "SIGNOFF_DB": str(db)}
    code = "from reviewer.cli import main; main()"
    start = time.perf_counter()
    run = subprocess.run(
        [
            "/usr/bin/time",
            "-v",
            sys.executable,
            "-P",
            "-c",
            code,
            "import",
            str(file),
            "-s",
            "bench",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    wall = time.perf_counter() - start
    peak = next(
        int(line.split(":")[1]) for line in run.stderr.splitlines() if "Maximum resident" in line
    )
    said = [
        line
        for line in (run.stdout + run.stderr).splitlines()
        if line and not line.startswith(("\t", "Command"))
    ]
    return wall, peak / 1024, (said[-1] if said else "")[:160]


def main() -> None:
    roots = [Path(p) for p in sys.argv[1:]] or [ROOT]
    with tempfile.TemporaryDirectory() as tmp:
        files = {"plain": Path(tmp) / "plain.parquet", "dictionary": Path(tmp) / "dict.parquet"}
        plain_bomb(files["plain"])
        dictionary_bomb(files["dictionary"])
        for name, file in files.items():
            size = file.stat().st_size / 1024
            for src in roots:
                wall, peak, last = measure(src, file, Path(tmp) / "bench.duckdb")
                print(f"{name} ({size:.0f} KB) {src}: {wall:.1f} s, peak {peak:,.0f} MB: {last}")


if __name__ == "__main__":
    main()

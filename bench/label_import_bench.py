"""Label and verdict import benchmark (issue 16): the report bench's study of N items (10
annotators, sparse overlap: ~1.75 labels and 2 verdicts per item), its labels file and its
verdicts file imported with `import_labels` / `import_verdicts` (the `signoff labels import` and
`signoff judge import` path), each timed in this process: CPU and wall seconds, then peak RSS.

Run: PYTHONPATH=SRC python bench/label_import_bench.py [--items 20000 100000]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_bench import write_study  # noqa: E402


def main() -> None:
    from reviewer.store import Store
    from reviewer.study.imported import import_labels, import_verdicts

    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, nargs="+", default=[20000])
    args = parser.parse_args()
    for items in args.items:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            store = Store(work / "study.duckdb")
            write_study(store, work, items, annotators=10)
            for name, load in (("labels", import_labels), ("verdicts", import_verdicts)):
                rows = len((work / f"{name}.csv").read_text().splitlines()) - 1
                cpu, wall = time.process_time(), time.perf_counter()
                load(store, "bench", work / f"{name}.csv", "bench")
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                print(
                    f"{items} items: {rows} {name} imported in {cpu:.2f} s CPU, {wall:.2f} s wall"
                )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()

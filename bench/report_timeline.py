"""Where the report's wall time goes (issue 16): one `signoff report --format json` run in this
process, with the moments the build reaches, the main thread's CPU at each, and each bootstrap
set's drawing and evaluation.

Run: python -P bench/report_timeline.py [--db bench/out/report_100000.duckdb] [--resamples 1000]
     [--src ROOT]
The database is report_bench.py's (built there). Printed: seconds since start (w) and the main
thread's CPU seconds since the build began (c) when the build begins, when the bootstraps start
(`Resampling.start`: every statistic added), when the main thread first waits for replicates,
when it has them, and when the build ends; for each set of weights (one per item count), when
its drawing thread began and ended and its CPU, and how long its evaluation took (wall and CPU
of the evaluating thread; the `beside` statistics run in another). Wraps the bootstrap module's
private functions: a tool for reading one run, not a figure to hold a target against.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=ROOT / "bench/out/report_100000.duckdb")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--src", type=Path, default=ROOT)
    args = parser.parse_args()
    sys.path.insert(0, str(args.src))
    start = time.perf_counter()
    lines = instrument(start)
    from reviewer.cli import main as signoff

    with tempfile.TemporaryDirectory() as tmp:
        out, resamples = f"{tmp}/report.json", str(args.resamples)
        sys.argv = ["signoff", "report", "--db", str(args.db), "--study", "bench",
                    "--format", "json", "--out", out, "--resamples", resamples]  # fmt: skip
        with contextlib.suppress(SystemExit):  # the verdict's exit code
            signoff()
    for line in lines:
        print(line)
    print(f"total {time.perf_counter() - start:.2f} s")


def instrument(start: float) -> list[str]:
    """Wrap the build and the bootstrap's steps; the lines they write, in the order written."""
    import reviewer.analysis.stats.bootstrap as boot
    import reviewer.report.build as build

    lines: list[str] = []
    began: list[float] = []

    def mark(what: str) -> None:
        cpu = time.thread_time() - began[0] if began else 0.0
        lines.append(f"{what:<28} {time.perf_counter() - start:6.2f} w {cpu:5.2f} c")

    def wrap(owner: object, name: str, around: object) -> None:
        setattr(owner, name, around(getattr(owner, name)))

    def build_around(inner):
        def timed(*a, **k):
            began.append(time.thread_time())
            mark("build begins")
            try:
                return inner(*a, **k)
            finally:
                mark("build ends")

        return timed

    def start_around(inner):
        def timed(self):
            mark("bootstraps start")
            inner(self)

        return timed

    def wait_around(inner):
        def timed(self):
            first = not any(line.startswith("main waits") for line in lines)
            if first:
                mark("main waits for replicates")
            inner(self)
            if first:
                mark("main has them")

        return timed

    def produce_around(inner):
        def timed(blocks, stop, items, resamples, seed):
            t, c = time.perf_counter() - start, time.thread_time()
            inner(blocks, stop, items, resamples, seed)
            lines.append(f"  draw {items} items: {t:.2f}-{time.perf_counter() - start:.2f} w, "
                         f"{time.thread_time() - c:.2f} s CPU")  # fmt: skip

        return timed

    def evaluate_around(inner):
        def timed(jobs, blocks, items):
            t, c = time.perf_counter(), time.thread_time()
            inner(jobs, blocks, items)
            lines.append(f"  evaluate {items} items ({len(jobs)} statistics): from "
                         f"{t - start:.2f} w, {time.perf_counter() - t:.2f} s wall, "
                         f"{time.thread_time() - c:.2f} s CPU")  # fmt: skip

        return timed

    wrap(build, "_build", build_around)
    wrap(boot.Resampling, "start", start_around)
    wrap(boot.Resampling, "_wait", wait_around)
    wrap(boot, "_produce", produce_around)
    wrap(boot, "_evaluate", evaluate_around)
    return lines


if __name__ == "__main__":
    main()

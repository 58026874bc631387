"""CPU profile of the report's build (issue 16): cProfile around `reviewer.report.build._build`
while `signoff report --format json` runs in this process, then the cumulative CPU seconds of
the functions named (all of that name, summed) and the report's `figures` digest (as
report_bench.py computes it: equal digests, equal numbers).

Run: PYTHONPATH=ROOT python -P bench/report_profile.py DB [--resamples 10] [--functions ...]
With --resamples 10 the bootstraps cost next to nothing, so the profile is the main thread's
Python; cProfile adds its own cost per Python call, so compare runs of it with each other only.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from report_bench import figures  # noqa: E402

JUDGE_SECTION = [
    "judges_later",
    "_judge_out",
    "_measures",
    "_versus_humans",
    "length_baseline_later",
    "order_measures_later",
    "correlation_later",
    "judge_vs_humans_later",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", type=Path)
    parser.add_argument("--resamples", type=int, default=10)
    parser.add_argument("--functions", nargs="+", default=JUDGE_SECTION)
    args = parser.parse_args()
    # The analysis stack imported before profiling: its import is not the report's work.
    import scipy.stats  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import statsmodels.api  # noqa: F401

    import reviewer.report.build as build
    from reviewer.cli import main as signoff

    profile, built = cProfile.Profile(), build._build

    def profiled(*a, **k):
        profile.enable()
        try:
            return built(*a, **k)
        finally:
            profile.disable()

    build._build = profiled
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.json"
        argv = ["report", "--db", str(args.db), "--study", "bench", "--format", "json"]
        sys.argv = ["signoff", *argv, "--out", str(out), "--resamples", str(args.resamples)]
        try:
            signoff()
        except SystemExit as exit:  # a blocked verdict exits non-zero; the report is written
            if not out.exists():
                raise SystemExit(f"no report: {exit}") from exit
        digest = figures(json.loads(out.read_text()))
    stats = pstats.Stats(profile).stats  # (file, line, name) -> (cc, calls, tottime, cumtime, ..)
    print(f"figures {digest} ({args.resamples} resamples); cumulative CPU s under cProfile:")
    for name in ["_build", *args.functions]:
        rows = [v for (file, _, fn), v in stats.items() if fn == name and "reviewer" in file]
        calls, cumulative = sum(r[1] for r in rows), sum(r[3] for r in rows)
        print(f"  {name:26s} {cumulative:6.3f} s  ({calls} calls)")


if __name__ == "__main__":
    main()

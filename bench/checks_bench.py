"""Mechanical checks benchmark (issue 13): every scorer kind on 100,000 pairs in 4 strata, with
the per-stratum summaries and 1,000 bootstrap resamples each; target <= 10 s per check.

Run: python bench/checks_bench.py [--items 100000] [--resamples 1000] [--kinds exact,fuzzy,...]
The pairs are built in memory (not timed) and shared by the checks as one `PairTable` (what
the checks derive from the texts is timed in the first check that needs it); each check is
timed through
`reviewer.checks.summary.check_result` (scoring both outputs of every pair, then overall and
per-stratum summaries), wall and CPU time, then latency and cost (`operations`). `figures` is
a digest of the check's whole result: equal digests, equal figures.
Compare two checkouts: PYTHONPATH=ROOT python -P bench/checks_bench.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time

from reviewer.checks.declared import CheckConfig
from reviewer.checks.operations import operations
from reviewer.checks.summary import CheckPair, PairTable, check_result

STRATA = ["routine", "hard", "edge", "refusal"]
WORDS = [
    "invoice",
    "export",
    "plan",
    "refund",
    "bank",
    "feed",
    "settings",
    "billing",
    "reminder",
    "currency",
    "team",
]
SCHEMA = {
    "type": "object",
    "required": ["intent", "amount"],
    "properties": {"intent": {"type": "string"}, "amount": {"type": "number"}},
}
CHECKS = {
    "exact": {},
    "normalised_exact": {},
    "fuzzy": {},
    "rouge_l": {},
    "regex": {"pattern": r"(?i)settings > \w+"},
    "declines": {},
    "json_fields": {"target": "expected"},
    "json_schema": {"json_schema": SCHEMA},
    "classification": {"field": "intent", "target": "expected.intent"},
}


def sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def pairs(items: int) -> list[CheckPair]:
    """Each pair: a 25-word reference; text outputs that copy it with some words changed, and
    JSON outputs in the metadata's shape for the JSON kinds (the candidate right more often)."""
    rng = random.Random(13)
    out = []
    for i in range(items):
        ref = sentence(rng, 25)
        intent = rng.choice(["billing", "export", "bank"])
        expected = {"intent": intent, "amount": i % 97}
        sides = []
        for right in (0.8, 0.7):
            if i % 2:  # half the pairs answer in JSON
                doc = dict(expected) if rng.random() < right else {"intent": "other", "amount": 1}
                sides.append(json.dumps(doc))
            else:
                words = ref.split()
                for _ in range(rng.randint(0, 6)):
                    words[rng.randrange(len(words))] = rng.choice(WORDS)
                sides.append(" ".join(words))
        meta = {
            "expected": expected,
            "candidate_latency_ms": rng.lognormvariate(6.5, 0.3),
            "baseline_latency_ms": rng.lognormvariate(6.6, 0.3),
            "candidate_cost_usd": 0.0004,
            "baseline_cost_usd": 0.0005,
        }
        out.append(CheckPair(f"i{i:06d}", STRATA[i % 4], sides[0], sides[1], ref, meta))
    return out


def timed(work):  # noqa: ANN001, ANN201
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--kinds", default=",".join(CHECKS))
    args = parser.parse_args()
    data = PairTable(pairs(args.items))  # one table for every check, as the report has it
    opts = {"confidence": 0.95, "seed": 1, "resamples": args.resamples}
    print(f"{args.items:,} pairs, 4 strata, {args.resamples} resamples")
    print("| check | wall s | CPU s | candidate | baseline | figures |")
    print("|---|---|---|---|---|---|")
    total_wall = total_cpu = 0.0
    for kind in args.kinds.split(","):
        check = CheckConfig(name=kind, kind=kind, **CHECKS[kind])
        res, wall, cpu = timed(lambda c=check: check_result(c, data, **opts))
        total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        o = res.overall
        digest = hashlib.sha256(res.model_dump_json().encode()).hexdigest()[:12]
        print(
            f"| {kind} | {wall:.2f} | {cpu:.2f} | {o.candidate:.3f} | {o.baseline:.3f} | {digest} |"
        )
    ops, wall, cpu = timed(lambda: operations(data, **opts))
    digest = hashlib.sha256(ops.model_dump_json().encode()).hexdigest()[:12]
    print(f"| nine checks | {total_wall:.2f} | {total_cpu:.2f} | | | |")
    print(
        f"| latency and cost | {wall:.2f} | {cpu:.2f} | p99 {ops.p99_ratio.value:.2f} | | {digest} |"  # noqa: E501
    )
    print(f"| all of the above | {total_wall + wall:.2f} | {total_cpu + cpu:.2f} | | | |")


if __name__ == "__main__":
    main()

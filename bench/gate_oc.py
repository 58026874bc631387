"""Operating characteristics of the judge gate (issue 11, item 4): how often the default rules
pass a judge as good as the humans, and how often they stop useless judges, from simulated
calibrations decided by the production code (`calibrate`, then `decide_gate`).

Run: python bench/gate_oc.py [--runs 1000] [--first-gate] [--coverage] [--smaller 15 30]

The simulation (one run = one held-out calibration part):
- each pair has a truly better side: the candidate with probability `win share`, else the
  baseline;
- two annotators label every pair; each is right with probability 0.8, else says the other
  side (0.1) or tie (0.1): the humans then agree with each other on ~66% of label pairs, as
  published (MT-Bench 63% with ties; AlpacaEval 65.7%);
- the better response is the longer one with probability 0.6 (AlpacaEval's length-only judge
  agreed with humans 62.2% of the time);
- judges, each judging every pair in both orders:
  good      as good as the humans: its view of a pair is drawn as an annotator's label is (right
            80% of the time), and each order's verdict is replaced by "the response shown
            first" with probability 0.05 (position noise: ~90% of verdicts survive the swap);
  random    picks a side at random for each pair (the same in both orders), with the same
            position noise;
  constant  always the candidate, in both orders (the hardest constant judge when the
            candidate wins most pairs);
  first     always the response shown first;
  length    always the longer response (a length-only judge);
  weak      right 60% of the time, else wrong as a human is, same noise (a poor judge that
            still beats chance: what the agreement rule is for).
The number of pairs is what the default config holds out, computed by the production sampler.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewer.analysis.calibration import calibrate  # noqa: E402
from reviewer.analysis.gate import decide_gate  # noqa: E402
from reviewer.analysis.outcomes import JudgeOutcomes, judge_outcomes  # noqa: E402
from reviewer.analysis.stats import Rating, judge_vs_humans  # noqa: E402
from reviewer.config import GateConfig, StudyConfig  # noqa: E402
from reviewer.study.sampling import holdout_sample  # noqa: E402

SHARES = (0.5, 0.7, 0.85)
JUDGES = ("good", "random", "constant", "first", "length", "weak")
OTHER = {"candidate": "baseline", "baseline": "candidate"}
HUMAN_ACCURACY = 0.8
POSITION_NOISE = 0.05
LONGER_IS_BETTER = 0.6
# The first gate, as it shipped: kappa rules on, decided on 15 held-out pairs.
FIRST_GATE = GateConfig(
    min_usable_pairs=15,
    max_chance_p_value=1.0,
    human_agreement_margin=None,
    length_baseline_margin=None,
    min_majority_agreement=0.80,
    agreement_margin=0.10,
    kappa_lower_bound_floor=0.20,
)


def held_out_pairs(cfg: StudyConfig) -> int:
    """How many calibration pairs the config holds out (the part the gate is decided on)."""
    ids = [(f"p{i:04d}", "s") for i in range(cfg.calibration.size)]
    held = holdout_sample(ids, cfg.calibration.holdout_fraction, cfg.seed)
    return len(held) or len(ids)


@dataclass(frozen=True)
class Calibration:
    """One simulated part of a calibration set, as `calibrate` takes it."""

    ids: set[str]
    labels: list[dict]
    judged: JudgeOutcomes
    lengths: dict[str, tuple[int, int]]
    strata: dict[str, str]


def _label(rng: random.Random, truth: str, accuracy: float) -> str:
    u = rng.random()
    if u < accuracy:
        return truth
    return OTHER[truth] if u < accuracy + (1 - accuracy) / 2 else "tie"


def _view(rng: random.Random, judge: str, truth: str, longer: str) -> str | None:
    """The judge's opinion of a pair before position noise; None: it follows the position."""
    if judge == "good":
        return _label(rng, truth, HUMAN_ACCURACY)
    if judge == "weak":
        return _label(rng, truth, 0.6)
    if judge == "random":
        return rng.choice(("candidate", "baseline"))
    return {"constant": "candidate", "length": longer, "first": None}[judge]


def simulate(
    rng: random.Random, pairs: int, share: float, judge: str, annotators: int = 2
) -> Calibration:
    ids = [f"p{i:04d}" for i in range(pairs)]
    labels, rows, lengths = [], [], {}
    noisy = judge in ("good", "random", "weak")
    for pair in ids:
        truth = "candidate" if rng.random() < share else "baseline"
        longer = truth if rng.random() < LONGER_IS_BETTER else OTHER[truth]
        lengths[pair] = (900, 500) if longer == "candidate" else (500, 900)
        for k in range(annotators):
            labels.append(
                {
                    "pair_id": pair,
                    "annotator_id": f"h{k}",
                    "preference": _label(rng, truth, HUMAN_ACCURACY),
                    "criteria_json": "{}",
                }
            )
        view = _view(rng, judge, truth, longer)
        for presented, first in (("candidate_first", "candidate"), ("baseline_first", "baseline")):
            follows_position = view is None or (noisy and rng.random() < POSITION_NOISE)
            verdict = first if follows_position else view
            rows.append(
                {"pair_id": pair, "presented": presented, "preference": verdict,
                 "criteria_json": "{}"}
            )  # fmt: skip
    return Calibration(set(ids), labels, judge_outcomes(rows), lengths, dict.fromkeys(ids, "s"))


def passes(cal: Calibration, cfg: StudyConfig, resamples: int) -> bool:
    """The production gate on one simulated calibration."""
    metrics = calibrate(
        "held-out", cal.ids, cal.labels, cal.judged, cal.lengths, cal.strata, cfg, resamples
    )
    return decide_gate(metrics, cfg).passed


def pass_rate(
    cfg: StudyConfig,
    pairs: int,
    share: float,
    judge: str,
    runs: int,
    seed: int = 0,
    resamples: int = 200,
) -> float:
    """Share of `runs` simulated calibrations the gate passes. The default rules read no
    bootstrap interval (only the first gate's kappa bound does), so a few resamples suffice."""
    rng = random.Random(f"{seed}-{pairs}-{share}-{judge}")
    hits = sum(passes(simulate(rng, pairs, share, judge), cfg, resamples) for _ in range(runs))
    return hits / runs


def coverage(items: int, share: float, runs: int, seed: int = 0) -> float:
    """Coverage of the nominal 95% bootstrap interval of judge-human agreement (production
    `judge_vs_humans`) with `items` items: why intervals below MIN_INTERVAL_ITEMS are hidden."""
    rng = random.Random(f"coverage-{seed}-{items}-{share}")
    a = HUMAN_ACCURACY
    err = (1 - a) / 2
    truth_agreement = a * a + 2 * err * err  # a judge like a human vs one human label
    hits = 0
    for run in range(runs):
        truths = ["candidate" if rng.random() < share else "baseline" for _ in range(items)]
        judge = {f"i{i}": _label(rng, t, a) for i, t in enumerate(truths)}
        humans = [
            Rating(f"i{i}", f"h{k}", _label(rng, t, a))
            for i, t in enumerate(truths)
            for k in (0, 1)
        ]
        agreement, _ = judge_vs_humans(judge, humans, resamples=500, seed=run)
        hits += agreement.low <= truth_agreement <= agreement.high
    return hits / runs


def _table(cfg: StudyConfig, pairs: int, runs: int, resamples: int) -> None:
    print(f"| judge | {' | '.join(f'win share {s}' for s in SHARES)} |")
    print("|---|" + "---|" * len(SHARES))
    for judge in JUDGES:
        cells = [pass_rate(cfg, pairs, s, judge, runs, resamples=resamples) for s in SHARES]
        print(f"| {judge} | {' | '.join(f'{c:.1%}' for c in cells)} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000, help="simulated calibrations per cell")
    parser.add_argument("--pairs", type=int, help="pairs per calibration (default: the config's)")
    parser.add_argument("--first-gate", action="store_true", help="also the first gate's OC")
    parser.add_argument("--coverage", action="store_true", help="small-n bootstrap coverage")
    parser.add_argument(
        "--smaller", type=int, nargs="*", default=[],
        help="also the default rules on this many held-out pairs (min_usable_pairs lowered)",
    )  # fmt: skip
    args = parser.parse_args()
    cfg = StudyConfig()
    pairs = args.pairs or held_out_pairs(cfg)
    started = time.perf_counter()
    print(
        f"Default gate, decided on {pairs} held-out pairs (calibration size "
        f"{cfg.calibration.size}, holdout {cfg.calibration.holdout_fraction}), 2 annotators, "
        f"{args.runs} runs per cell: share of runs that pass\n"
    )
    _table(cfg, pairs, args.runs, resamples=200)
    if args.first_gate:
        print("\nFirst gate (kappa rules), decided on 15 held-out pairs, same simulation\n")
        _table(cfg.model_copy(update={"gate": FIRST_GATE}), 15, args.runs, resamples=1000)
    for n in args.smaller:
        print(f"\nDefault rules on {n} held-out pairs (min_usable_pairs = {n}), same simulation\n")
        gate = cfg.gate.model_copy(update={"min_usable_pairs": n})
        _table(cfg.model_copy(update={"gate": gate}), n, args.runs, resamples=200)
    if args.coverage:
        print("\n| items | coverage, win share 0.5 | coverage, win share 0.85 |\n|---|---|---|")
        for items in (2, 3, 5, 8, 10, 15, 20):
            low, high = coverage(items, 0.5, 600), coverage(items, 0.85, 600)
            print(f"| {items} | {low:.1%} | {high:.1%} |", flush=True)
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()

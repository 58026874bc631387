"""Peeking (issue 11, item 2): how often a study signs off when the verdict is read repeatedly.

Run: python bench/peeking.py [--runs 2000] [--seed 2026]
Each simulated study labels items one at a time (each a win with the true rate, else a loss: no
ties, so every tie rule gives the same rate) and reads the verdict at n = 300 only, after every
label from 30 to 300, or after every 10th (30, 40, ..., 300). "Wilson" is the fixed-n 95% Wilson
interval (signoff before schema 2); "anytime-valid" is the production decision
(`reviewer.analysis.tie_rules.threshold_test`, default rules). A cell is the share of studies
that signed off at any of their reads; at a true rate of 0.60 or 0.58 (threshold 0.60) that is a
false sign-off. Also printed: false BLOCKED at 0.60, and the median labels to sign-off at 0.75.
"""

from __future__ import annotations

import argparse

import numpy as np
from statsmodels.stats.proportion import proportion_confint

from reviewer.analysis.tie_rules import BLOCKED, SIGN_OFF, threshold_test
from reviewer.config import SignoffConfig

FIRST, LAST = 30, 300
READS = {
    "single read at 300": np.array([LAST - FIRST]),
    "every label": np.arange(LAST - FIRST + 1),
    "every 10th label": np.arange(0, LAST - FIRST + 1, 10),
}


def decisions(wins: np.ndarray, rule: str, rules: SignoffConfig) -> np.ndarray:
    """(runs, reads) of +1 SIGN-OFF / -1 BLOCKED / 0 from cumulative wins at n = 30..300."""
    n = np.arange(FIRST, LAST + 1)
    if rule == "Wilson":
        low, high = proportion_confint(wins, n, alpha=0.05, method="wilson")
        thr = rules.win_rate_threshold
        return np.where(low > thr, SIGN_OFF, np.where(high < thr, BLOCKED, 0))
    return threshold_test(wins, 0, n - wins, rules)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rules = SignoffConfig()
    print(f"{args.runs} runs per cell; threshold {rules.win_rate_threshold}; reads from 30 to 300")
    print("| true rate | rule | single read at 300 | every label | every 10th label |")
    print("|---|---|---|---|---|")
    extra = []
    for true in (0.60, 0.58, 0.75):
        rng = np.random.default_rng([args.seed, round(true * 100)])
        wins = np.cumsum(rng.random((args.runs, LAST)) < true, axis=1)[:, FIRST - 1 :]
        for rule in ("Wilson", "anytime-valid"):
            d = decisions(wins, rule, rules)
            cells = [(d[:, idx] == SIGN_OFF).any(axis=1).mean() for idx in READS.values()]
            print(f"| {true:.2f} | {rule} | " + " | ".join(f"{c:.1%}" for c in cells) + " |")
            if true == 0.60:
                blocked = (d == BLOCKED).any(axis=1).mean()
                extra.append(f"false BLOCKED at 0.60, every label, {rule}: {blocked:.1%}")
            if true == 0.75:
                signed = (d == SIGN_OFF).any(axis=1)
                first = np.argmax(d == SIGN_OFF, axis=1)[signed] + FIRST
                extra.append(f"median labels to sign-off at 0.75, {rule}: {np.median(first):.0f}")
    print("\n".join(["", *extra]))


if __name__ == "__main__":
    main()

"""The sign-off rule on counts of wins, ties and losses: the three tie rules, their intervals
(fixed-n and anytime-valid) and the threshold test the verdict applies.

`threshold_test` is THE decision on the overall rate: the report's verdict calls it on one study
and the simulations (tests/test_verdict_peeking.py, bench/peeking.py, `signoff plan`) call it on
thousands of simulated studies at once, so what is proven there is what the report does.

Tie rules (`signoff.ties`), each a share in [0, 1] compared with `win_rate_threshold`:

- ``not_a_win`` (default): wins / all items; a tie is a comparison the candidate did not win.
- ``half``: (wins + ties / 2) / all items, the mean of outcomes 1, 1/2, 0.
- ``exclude``: wins / (wins + losses), decisive items only (signoff's rule before schema 2).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from reviewer.analysis.anytime import (
    bernoulli_bounds,
    bernoulli_evidence,
    bounded_bounds,
    bounded_evidence,
)
from reviewer.config import SignoffConfig

TieRule = Literal["not_a_win", "half", "exclude"]
TIE_RULES: tuple[TieRule, ...] = ("not_a_win", "half", "exclude")
RULE_TEXT = {
    "not_a_win": "ties count as not a win",
    "half": "ties count half",
    "exclude": "ties excluded",
}
UNIT = {"not_a_win": "comparisons", "half": "comparisons", "exclude": "decisive pairs"}
SIGN_OFF, UNDECIDED, BLOCKED = 1, 0, -1
BOOTSTRAP_STREAM = 5  # the half rule's fixed-n bootstrap: its own stream of the study seed


def counted(rule: TieRule, wins, ties, losses):
    """(score, n): what the rule counts as won, out of how many comparisons.

    >>> counted("not_a_win", 15, 19, 6), counted("half", 15, 19, 6), counted("exclude", 15, 19, 6)
    ((15, 40), (24.5, 40), (15, 21))
    """
    if rule == "exclude":
        return wins, wins + losses
    score = wins + ties / 2 if rule == "half" else wins
    return score, wins + ties + losses


def rate(rule: TieRule, wins: int, ties: int, losses: int) -> float:
    """The rule's rate; NaN when it counts nothing."""
    score, n = counted(rule, wins, ties, losses)
    return score / n if n else math.nan


def anytime_bounds(rule: TieRule, wins, ties, losses, threshold: float, confidence: float):
    """Anytime-valid (low, high), each side at (1 - confidence) / 2 (reviewer.analysis.anytime:
    beta-binomial mixture for a win-or-not outcome, dKelly betting for 1 / 1/2 / 0)."""
    if rule == "half":
        return bounded_bounds(wins, ties, losses, confidence)
    score, n = counted(rule, wins, ties, losses)
    return bernoulli_bounds(score, n, threshold, confidence)


def anytime_evidence(rule: TieRule, wins, ties, losses, threshold: float):
    """(log evidence the rate is above the threshold, log evidence it is below)."""
    if rule == "half":
        above = bounded_evidence(wins, ties, losses, threshold)
        return above, bounded_evidence(losses, ties, wins, 1 - threshold)
    score, n = counted(rule, wins, ties, losses)
    above = bernoulli_evidence(score, n, threshold, threshold)
    return above, bernoulli_evidence(np.subtract(n, score), n, 1 - threshold, 1 - threshold)


def fixed_bounds(
    rule: TieRule,
    wins: int,
    ties: int,
    losses: int,
    confidence: float,
    seed: int,
    resamples: int = 1000,
) -> tuple[float, float]:
    """Fixed-n interval, valid (approximately) for one read at a sample size fixed in advance:
    Wilson for a win-or-not outcome; for ties counting half (outcomes 1, 1/2, 0 are not
    Bernoulli), a percentile bootstrap over items (the counts resampled as a multinomial),
    seeded (measured one-sided error at the threshold: 2-4% for n = 30-100). When every item
    has the same outcome the bootstrap cannot vary, so the score interval of the mean is used
    instead (Wilson's formula with the mean: any [0, 1] outcome with mean m has variance at
    most m(1 - m), so it is conservative)."""
    from statsmodels.stats.proportion import proportion_confint

    score, n = counted(rule, wins, ties, losses)
    if n == 0:
        return math.nan, math.nan
    if rule != "half" or max(wins, ties, losses) == n:
        low, high = proportion_confint(score, n, alpha=1 - confidence, method="wilson")
        return float(low), float(high)
    rng = np.random.default_rng([seed, BOOTSTRAP_STREAM])
    draws = rng.multinomial(n, np.array([wins, ties, losses]) / n, size=max(resamples, 1))
    means = (draws[:, 0] + draws[:, 1] / 2) / n
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def threshold_test(
    wins, ties, losses, rules: SignoffConfig, *, seed: int = 0, resamples: int = 1000
) -> np.ndarray:
    """The sign-off rule on the overall rate, vectorised over arrays of counts: SIGN_OFF (+1)
    when the rule's lower bound clears the threshold, BLOCKED (-1) when its upper bound is
    below it, UNDECIDED (0) otherwise or with fewer comparisons than `min_decisive_pairs`.

    Anytime-valid by default: the evidence processes are compared with 1/alpha at the
    threshold itself, which is the same as comparing the confidence-sequence bounds (the
    evidence is monotone in the null rate). With `planned_pairs`, undecided until that many
    items exist, then the fixed-n interval."""
    w, t, l_ = np.broadcast_arrays(*(np.asarray(x, dtype=float) for x in (wins, ties, losses)))
    rule, thr = rules.ties, rules.win_rate_threshold
    n = counted(rule, w, t, l_)[1]
    if rules.planned_pairs is None:
        above, below = anytime_evidence(rule, w, t, l_, thr)
        target = math.log(2 / (1 - rules.confidence))
        out = np.where(above >= target, SIGN_OFF, np.where(below >= target, BLOCKED, UNDECIDED))
    else:
        out = np.zeros(w.shape, dtype=int)
        for i in np.ndindex(w.shape):
            if w[i] + t[i] + l_[i] < rules.planned_pairs:
                continue
            low, high = fixed_bounds(
                rule, int(w[i]), int(t[i]), int(l_[i]), rules.confidence, seed, resamples
            )
            out[i] = SIGN_OFF if low > thr else BLOCKED if high < thr else UNDECIDED
    return np.where(n >= rules.min_decisive_pairs, out, UNDECIDED)


def items_to_decide(
    wins: int, ties: int, losses: int, rules: SignoffConfig, limit: int = 10_000_000
) -> int | None:
    """More items that would likely decide it: the smallest number of items at which the
    observed shares of wins, ties and losses (as expected counts) pass `threshold_test`, minus
    the items so far. None when nothing is counted yet, when the rate sits on the threshold
    (no sample size decides it) or past `limit`. Doubling, then bisection."""
    items = wins + ties + losses
    score, n = counted(rules.ties, wins, ties, losses)
    if not n or score / n == rules.win_rate_threshold or rules.planned_pairs is not None:
        return None
    shares = np.array([wins, ties, losses]) / items

    def decided(total: int) -> bool:
        return bool(threshold_test(*(shares * total), rules)) if total else False

    hi = max(items, 1)
    while not decided(hi):
        hi *= 2
        if hi > limit:
            return None
    lo = hi // 2 if hi > items else items - 1
    while lo + 1 < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if decided(mid) else (mid, hi)
    return max(0, hi - items)

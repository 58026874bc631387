"""Anytime-valid evidence about a win rate: confidence sequences that may be read after every
label without inflating the error (Ville's inequality: a nonnegative supermartingale M with
M_0 = 1 exceeds 1/alpha at ANY time with probability at most alpha).

"Time" is the number of items with an outcome. The guarantee assumes items are exchangeable
draws whose labeling order does not depend on their outcomes (assignment queues are seeded
random orders), and that a counted item keeps its outcome; a later label that flips an item's
majority is a small departure from that.

Two one-sided processes per rule, each at level alpha = (1 - confidence) / 2, so that SIGN-OFF
(the lower bound clears the threshold) and BLOCKED (the upper bound falls below it) each keep a
one-sided error of at most alpha however often, and whenever, the verdict is read.

**Bernoulli outcomes** (a win or not): the conjugate beta-binomial mixture of likelihood ratios
(Howard, Ramdas, McAuliffe & Sekhon 2021, "Time-uniform, nonparametric, nonasymptotic confidence
sequences", Ann. Statist. 49(2): the conjugate-mixture boundaries, beta-binomial case), made
one-sided by truncating the prior to the alternatives above the null. After n outcomes with s
wins, for the null rate p and a Beta(a, b) prior truncated to alternatives p' >= p:

    M+_n(p) = [B(a + s, b + n - s) / B(a, b)] * [P(Beta(a + s, b + n - s) > p) / P(Beta(a, b) > p)]
              / (p^s (1 - p)^(n - s))

which is the prior-mixture of the likelihood ratios prod (p'/p)^X ((1-p')/(1-p))^(1-X), each a
supermartingale whenever the true rate is <= p (so the test covers the composite null "rate <=
threshold"). The lower bound is L_n = inf{p : M+_n(p) < 1/alpha}; M+ decreases in p below the
observed rate, so it is found by bisection. The upper bound mirrors it (wins <-> losses).
The prior is centred on the sign-off threshold with strength a + b = PRIOR_STRENGTH: the
boundary is then tightest for rates about 0.1 from the threshold after ~50-500 items (measured:
strength 10-50 changes the bound at n = 100 by < 0.01).

**Outcomes 0, 1/2, 1** (ties count half): testing by betting (Waudby-Smith & Ramdas 2023,
"Estimating means of bounded random variables by betting", JRSS-B 85(1)), with their diversified
Kelly ('dKelly') capital: the average over a fixed grid of betting fractions g of
prod_i (1 + (g / m) (Y_i - m)). Each product is a nonnegative supermartingale when the mean is
<= m (the bet g/m < 1/m keeps it positive), so their average is too. Constant bets make it
depend on the counts only, not on the order in which items were labeled.
"""

from __future__ import annotations

import numpy as np

PRIOR_STRENGTH = 20.0
# dKelly betting fractions: 0.05, 0.10, ..., 0.95 of the largest bet that keeps wealth positive.
BET_FRACTIONS = np.linspace(0.05, 0.95, 19)
_BISECTIONS = 40  # interval bounds to ~1e-12
_EPS = 1e-12


def _clip(p):
    return np.clip(p, _EPS, 1 - _EPS)


def bernoulli_evidence(successes, n, p, center):
    """log M+_n(p): the beta-binomial mixture's evidence that the success rate exceeds p
    (module docstring). Vectorised over every argument.

    With no data there is no evidence (log 1 = 0); a rate far below what was seen piles it up:

    >>> float(bernoulli_evidence(0, 0, 0.6, 0.6))
    0.0
    >>> bool(bernoulli_evidence(90, 100, 0.6, 0.6) > np.log(40))
    True
    """
    from scipy.special import betainc, betaln, xlog1py, xlogy

    s, n = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    p = _clip(np.asarray(p, dtype=float))
    a = PRIOR_STRENGTH * np.asarray(center, dtype=float)
    b = PRIOR_STRENGTH - a
    post_a, post_b = a + s, b + n - s
    with np.errstate(divide="ignore"):
        # P(Beta(x, y) > p) = I_{1-p}(y, x): the regularised incomplete beta, by symmetry.
        tail = np.log(betainc(post_b, post_a, 1 - p)) - np.log(betainc(b, a, 1 - p))
    return betaln(post_a, post_b) - betaln(a, b) + tail - xlogy(s, p) - xlog1py(n - s, -p)


def bounded_evidence(wins, ties, losses, m):
    """log K+(m): dKelly evidence that the mean of outcomes 1 (win), 1/2 (tie), 0 (loss)
    exceeds m (module docstring). Vectorised; counts may be fractional (projections).

    >>> float(bounded_evidence(0, 0, 0, 0.6))
    0.0
    """
    w, t, l_, m = (np.asarray(x, dtype=float) for x in (wins, ties, losses, m))
    m = _clip(m)
    shape = np.broadcast_shapes(w.shape, t.shape, l_.shape, m.shape)
    g = BET_FRACTIONS.reshape((-1,) + (1,) * len(shape))
    capital = w * np.log1p(g * (1 - m) / m) + t * np.log1p(g * (0.5 - m) / m) + l_ * np.log1p(-g)
    top = capital.max(axis=0)  # log-mean-exp over the grid, without overflow
    return top + np.log(np.exp(capital - top).mean(axis=0))


def _bisect_down(evidence, lo, hi, target: float) -> np.ndarray:
    """The point in [lo, hi] where a decreasing `evidence(x)` falls below `target`
    (lo where it starts below it). Vectorised over array lo/hi."""
    lo, hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
    above = evidence(np.maximum(lo, _EPS)) >= target
    hi = np.where(above, hi, lo)
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        up = evidence(mid) >= target
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    return np.where(above, lo, lo * 0)


def bernoulli_bounds(successes, n, center, confidence: float = 0.95):
    """Anytime-valid (low, high) for a success rate, each side at (1 - confidence) / 2.
    Vectorised; with n = 0 the bounds are (0, 1)."""
    s, n = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    center = np.asarray(center, dtype=float)
    target = np.log(2 / (1 - confidence))
    rate = np.divide(s, n, out=np.zeros_like(s + n), where=n > 0)
    low = _bisect_down(lambda p: bernoulli_evidence(s, n, p, center), 0 * rate, rate, target)
    mirrored = _bisect_down(
        lambda p: bernoulli_evidence(n - s, n, p, 1 - center), 0 * rate, 1 - rate, target
    )
    return low, 1 - mirrored


def bounded_bounds(wins, ties, losses, confidence: float = 0.95):
    """Anytime-valid (low, high) for the mean of outcomes 1 / 1/2 / 0 (dKelly), each side at
    (1 - confidence) / 2. The upper bound is the lower bound of the mirrored outcomes
    (1 - Y: wins and losses swapped)."""
    w, t, l_ = (np.asarray(x, dtype=float) for x in (wins, ties, losses))
    n = w + t + l_
    target = np.log(2 / (1 - confidence))
    mean = np.divide(w + t / 2, n, out=np.zeros_like(n), where=n > 0)
    low = _bisect_down(lambda m: bounded_evidence(w, t, l_, m), 0 * mean, mean, target)
    mirrored = _bisect_down(lambda m: bounded_evidence(l_, t, w, m), 0 * mean, 1 - mean, target)
    return low, 1 - mirrored

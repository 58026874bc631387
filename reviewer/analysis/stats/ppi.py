"""Prediction-powered inference: the human-preference rate on all pairs, from human labels on a
few pairs and the judge's verdicts on all of them, with an interval that pays for the judge's
measured errors.

PPI++ mean estimator with power tuning (Angelopoulos, Duchi & Zrnic 2023, "PPI++: Efficient
Prediction-Powered Inference", eq. 2 and Example 6.1). With labeled items (Y_j, f_j), j = 1..n,
and judge-only items f~_i, i = 1..N:

    theta = mean(Y) + lambda * (mean(f~) - mean(f))
    var   = lambda^2 * Var(f~) / N + Var(Y - lambda * f) / n
    lambda = Cov(Y, f) / ((1 + n / N) * Var(f)), clipped to [0, 1]

lambda = 1 is the original PPI (Angelopoulos et al. 2023, Science); lambda = 0 is the human-only
mean, so a useless judge cannot make the interval worse than the humans' own. The interval is
theta +- z * sqrt(var) (a normal approximation: n should not be tiny). Outcomes are coded
candidate = 1, baseline = 0, tie = 0.5, so theta is the candidate's preference rate with ties
counted half. `ppi-python` implements the same estimator but pulls numba; this is its mean case
in a few lines, and tests/test_ppi.py checks it by simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCORE = {"candidate": 1.0, "baseline": 0.0, "tie": 0.5}


@dataclass(frozen=True)
class PPIEstimate:
    value: float
    low: float
    high: float
    labeled: int
    unlabeled: int
    lam: float  # the power-tuning weight given to the judge
    human_only_low: float  # the same-level interval from the labeled items alone
    human_only_high: float


def ppi_mean(
    y: np.ndarray, f_labeled: np.ndarray, f_unlabeled: np.ndarray, confidence: float = 0.95
) -> PPIEstimate:
    """PPI++ estimate of E[Y] (see the module docstring)."""
    from scipy.stats import norm

    y, f, g = (np.asarray(a, dtype=float) for a in (y, f_labeled, f_unlabeled))
    n, big_n = len(y), len(g)
    if n < 2 or big_n < 2:
        raise ValueError("PPI needs at least 2 labeled and 2 judge-only items")
    var_f = f.var(ddof=1)
    if var_f > 0:
        cov = np.cov(y, f, ddof=1)[0, 1]
        lam = float(np.clip(cov / ((1 + n / big_n) * var_f), 0.0, 1.0))
    else:
        lam = 0.0  # a judge that always says the same thing carries no information
    value = y.mean() + lam * (g.mean() - f.mean())
    var = lam**2 * g.var(ddof=1) / big_n + (y - lam * f).var(ddof=1) / n
    z = norm.ppf(0.5 + confidence / 2)
    half = z * np.sqrt(var)
    human_half = z * y.std(ddof=1) / np.sqrt(n)
    return PPIEstimate(
        value=float(value),
        low=float(value - half),
        high=float(value + half),
        labeled=n,
        unlabeled=big_n,
        lam=lam,
        human_only_low=float(y.mean() - human_half),
        human_only_high=float(y.mean() + human_half),
    )

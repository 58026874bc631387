"""The bias-corrected (prediction-powered) estimate, checked by simulation."""

from __future__ import annotations

import numpy as np
import pytest

from reviewer.analysis.stats.ppi import ppi_mean

OUTCOMES = np.array([1.0, 0.0, 0.5])  # candidate, baseline, tie


def simulate(rng, n, big_n, truth_p, judge_accuracy, bias_to_candidate):
    """Human outcomes drawn from truth_p; the judge copies them with `judge_accuracy`, and
    otherwise says "candidate" with prob. bias_to_candidate, else one of the others at random."""

    def draw(size):
        y = rng.choice(OUTCOMES, size=size, p=truth_p)
        wrong = rng.random(size) > judge_accuracy
        biased = rng.random(size) < bias_to_candidate
        other = rng.choice(OUTCOMES, size=size)
        f = np.where(wrong, np.where(biased, 1.0, other), y)
        return y, f

    y, f = draw(n)
    _, g = draw(big_n)
    return y, f, g


@pytest.mark.parametrize(
    ("truth_p", "accuracy", "bias"),
    [([0.55, 0.30, 0.15], 0.80, 0.5), ([0.40, 0.45, 0.15], 0.70, 0.8)],
)
def test_ppi_covers_the_truth_and_is_narrower_than_humans_alone(truth_p, accuracy, bias):
    rng = np.random.default_rng(11)
    truth = float(np.dot(OUTCOMES, truth_p))
    covered = human_covered = 0
    widths, human_widths = [], []
    sims = 2000
    for _ in range(sims):
        y, f, g = simulate(rng, 100, 2000, truth_p, accuracy, bias)
        est = ppi_mean(y, f, g)
        covered += est.low <= truth <= est.high
        human_covered += est.human_only_low <= truth <= est.human_only_high
        widths.append(est.high - est.low)
        human_widths.append(est.human_only_high - est.human_only_low)
    # The judge is biased (it over-picks the candidate when wrong), yet the interval covers.
    assert 0.93 <= covered / sims <= 0.97
    assert 0.93 <= human_covered / sims <= 0.97
    assert np.mean(widths) < 0.85 * np.mean(human_widths)


def test_ppi_formula_by_hand():
    y = np.array([1, 0, 1, 0.5, 1, 0])
    f = np.array([1, 0, 1, 1, 0, 0])
    g = np.array([1, 1, 0, 0.5, 1, 1, 0, 1])
    n, big_n = 6, 8
    lam = np.cov(y, f)[0, 1] / ((1 + n / big_n) * f.var(ddof=1))
    value = y.mean() + lam * (g.mean() - f.mean())
    se = np.sqrt(lam**2 * g.var(ddof=1) / big_n + (y - lam * f).var(ddof=1) / n)
    est = ppi_mean(y, f, g)
    assert est.lam == pytest.approx(min(1, max(0, lam)))
    assert est.value == pytest.approx(value)
    assert est.high - est.value == pytest.approx(1.959964 * se, rel=1e-5)


def test_a_constant_judge_gets_no_weight():
    y = np.array([1, 0, 1, 0.5])
    est = ppi_mean(y, np.ones(4), np.ones(10))
    assert est.lam == 0 and est.value == pytest.approx(y.mean())
    assert (est.low, est.high) == pytest.approx((est.human_only_low, est.human_only_high))

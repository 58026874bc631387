"""The bias-corrected (prediction-powered) estimate, checked by simulation."""

from __future__ import annotations

import math

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


def counts(table: dict[tuple[float, float], int], unlabeled: dict[float, int]):
    """Labeled (human Y, judge f) from a table of counts; judge-only items g from counts."""
    y = np.concatenate([np.full(c, h) for (h, _), c in table.items()])
    f = np.concatenate([np.full(c, j) for (_, j), c in table.items()])
    g = np.concatenate([np.full(c, j) for j, c in unlabeled.items()])
    return y, f, g


# Two fixed studies, 400 labeled and 4,000 judge-only items, with ppi_py's numbers for them.
# Reference: ppi-python 0.2.3 (numpy 2.4.6), in a throwaway venv, never a project dependency:
#     from ppi_py import ppi_mean_pointestimate, ppi_mean_ci
#     ppi_mean_pointestimate(y, f, g, lam=LAM)
#     ppi_mean_ci(y, f, g, alpha=0.05, lam=LAM)      # and again with lam=0
# LAM is the production code's choice for the data. ppi_py's own power tuning (lam=None) pools
# the variance of the judge's scores over labeled AND judge-only items and takes the
# covariance with 1/n, while reviewer's ppi_mean uses Cov(Y, f) / ((1 + n/N) Var(f)) on the
# labeled items (PPI++ eq. for the mean; test_ppi_formula_by_hand), so ppi_py is called with
# that fixed lam. Study A: a judge that says "tie" where people mostly pick the baseline, so
# lam = 1.0952 clips to 1 (original PPI; ppi_py's own tuning also clips to 1 here and gives the
# same interval, [0.4842484, 0.5407516]). Study B: a noisier judge, lam = 0.49053585710477215.
PPI_PY = {
    "A": dict(
        table={(1.0, 1.0): 180, (1.0, 0.5): 20, (0.0, 0.5): 120, (0.0, 0.0): 40, (0.5, 0.5): 40},
        unlabeled={1.0: 1600, 0.5: 1900, 0.0: 500},
        lam=1.0,
        point=0.5125,
        ci=(0.4842483964315242, 0.5407516035684757),
    ),
    "B": dict(
        table={
            (1.0, 1.0): 150,
            (1.0, 0.0): 30,
            (1.0, 0.5): 20,
            (0.0, 0.0): 110,
            (0.0, 1.0): 40,
            (0.0, 0.5): 10,
            (0.5, 0.5): 20,
            (0.5, 1.0): 15,
            (0.5, 0.0): 5,
        },
        unlabeled={1.0: 2000, 0.0: 1600, 0.5: 400},
        lam=0.49053585710477215,
        point=0.5377366035723807,
        ci=(0.4977713611957003, 0.5777018459490612),
    ),
}
# ppi_mean_ci(y, f, g, alpha=0.05, lam=0): the classical interval from the humans alone; the
# same for both studies (same labeled Y: 200 x 1, 160 x 0, 40 x 0.5, mean 0.55).
PPI_PY_LAM0_CI = (0.5037743418758467, 0.5962256581241534)


@pytest.mark.parametrize("study", ["A", "B"])
def test_ppi_matches_ppi_python(study):
    ref = PPI_PY[study]
    y, f, g = counts(ref["table"], ref["unlabeled"])
    n, big_n = len(y), len(g)
    assert (n, big_n) == (400, 4000)
    est = ppi_mean(y, f, g)
    assert est.lam == pytest.approx(ref["lam"], abs=1e-12)
    assert est.value == pytest.approx(ref["point"], abs=1e-12)
    # ppi_py's interval is centred on the same point.
    assert (est.low + est.high) / 2 == pytest.approx(sum(ref["ci"]) / 2, abs=1e-12)
    # Widths: ppi_py takes standard deviations with np.std (ddof=0), ppi_mean with ddof=1. Its
    # variance is lam^2 Var(g)/N + Var(Y - lam f)/n, so the squared ratio of half-widths is a
    # weighted mean of N/(N-1) and n/(n-1): the ratio lies between sqrt(4000/3999) = 1.000125
    # and sqrt(400/399) = 1.001252, and is exactly sqrt(n/(n-1)) for the humans-only interval.
    ratio = (est.high - est.low) / (ref["ci"][1] - ref["ci"][0])
    assert math.sqrt(big_n / (big_n - 1)) - 1e-12 <= ratio <= math.sqrt(n / (n - 1)) + 1e-12
    assert (est.low, est.high) == (
        pytest.approx(ref["ci"][0], abs=5e-5),
        pytest.approx(ref["ci"][1], abs=5e-5),
    )
    human_ratio = (est.human_only_high - est.human_only_low) / (
        PPI_PY_LAM0_CI[1] - PPI_PY_LAM0_CI[0]
    )
    assert human_ratio == pytest.approx(math.sqrt(n / (n - 1)), abs=1e-12)
    assert (est.human_only_low + est.human_only_high) / 2 == pytest.approx(0.55, abs=1e-12)


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

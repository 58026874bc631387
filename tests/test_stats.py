"""Every statistic against an independent computation: a published worked example, a hand
derivation written out here, or the formula applied directly."""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict

import numpy as np
import pytest
from scipy.stats import binom
from sklearn.metrics import cohen_kappa_score

from reviewer.analysis.stats import (
    Rating,
    alpha,
    cohen,
    fleiss,
    gwet_ac1,
    item_outcome,
    item_weights,
    more_pairs_needed,
    mtbench,
    pairwise,
    percentile_interval,
    win_rate,
)
from reviewer.analysis.stats.agreement import ItemTable
from reviewer.analysis.stats.bootstrap import BOOTSTRAP_STREAM, Resampling, weight_chunks


def two_raters(table: dict[tuple[str, str], int]) -> list[Rating]:
    """Ratings from a 2-rater contingency table {(value_a, value_b): count}."""
    out, i = [], 0
    for (a, b), count in table.items():
        for _ in range(count):
            out += [Rating(f"i{i}", "A", a), Rating(f"i{i}", "B", b)]
            i += 1
    return out


def test_cohen_wikipedia_example():
    # Wikipedia, "Cohen's kappa", worked example: 50 proposals, yes/yes 20, yes/no 5,
    # no/yes 10, no/no 15. p_o = 35/50 = 0.7; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.4.
    ratings = two_raters({("y", "y"): 20, ("y", "n"): 5, ("n", "y"): 10, ("n", "n"): 15})
    (pair,) = pairwise(ratings, min_shared=10)
    assert pair.shared == 50
    assert pair.agreement == pytest.approx(0.7)
    assert pair.kappa == pytest.approx(0.4)


def test_kappa_paradox_and_gwet_ac1_by_hand():
    # Feinstein & Cicchetti's paradox table: 125 items, yes/yes 118, yes/no 5, no/yes 2, no/no 0.
    # p_o = 118/125 = 0.944. Kappa: p_e = 0.984*0.96 + 0.016*0.04 = 0.94528,
    #   kappa = (0.944 - 0.94528) / (1 - 0.94528) = -0.02339.
    # AC1 (Gwet 2008): pi_yes = (0.984 + 0.96)/2 = 0.972, pe = 2 * 0.972 * 0.028 / (2-1)
    #   = 0.054432, AC1 = (0.944 - 0.054432) / (1 - 0.054432) = 0.889568 / 0.945568 = 0.940776.
    ratings = two_raters({("y", "y"): 118, ("y", "n"): 5, ("n", "y"): 2})
    (pair,) = pairwise(ratings)
    assert pair.agreement == pytest.approx(0.944)
    assert pair.kappa == pytest.approx(-0.02339, abs=1e-5)
    assert gwet_ac1(ratings).value == pytest.approx(0.940776, abs=1e-6)


def test_fleiss_wikipedia_example():
    # Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories,
    # kappa = 0.210.
    counts = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    ratings = []
    for i, row in enumerate(counts):
        raters = (str(k + 1) for k, c in enumerate(row) for _ in range(c))
        ratings += [Rating(f"s{i}", f"r{j}", v) for j, v in enumerate(raters)]
    assert fleiss(ratings) == pytest.approx(0.210, abs=5e-4)
    # Not every item with the same number of raters: no Fleiss.
    assert fleiss(ratings[:-1]) is None


def krippendorff_2011() -> list[Rating]:
    """Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", sec. C: 4 observers,
    12 units, missing values ('.'); nominal alpha = 0.743."""
    data = {
        "A": "1 2 3 3 2 1 4 1 2 . . .",
        "B": "1 2 3 3 2 2 4 1 2 5 . 3",
        "C": ". 3 3 3 2 3 4 2 2 5 1 .",
        "D": "1 2 3 3 2 4 4 1 2 5 1 .",
    }
    return [
        Rating(f"u{j}", rater, v)
        for rater, row in data.items()
        for j, v in enumerate(row.split())
        if v != "."
    ]


def test_krippendorff_published_example_with_missing_values():
    ratings = krippendorff_2011()
    assert alpha(ratings, "nominal") == pytest.approx(0.743, abs=5e-4)
    # Same data, ordinal, with the values' order given. The `krippendorff` library (0.9.0) on
    # the table above as a 4 x 12 reliability matrix, level_of_measurement="ordinal", gives
    # 0.8153875; the coincidence-matrix computation below (no library) gives the same.
    ordinal = alpha(ratings, "ordinal", order=["1", "2", "3", "4", "5"])
    assert 0.743 < ordinal <= 1
    assert ordinal == pytest.approx(0.815, abs=5e-4)
    assert ordinal == pytest.approx(ordinal_alpha_by_hand(ratings), abs=1e-9)


def ordinal_alpha_by_hand(ratings: list[Rating]) -> float:
    """Krippendorff (2011), sec. C and E: coincidences o_ck = sum over units of the ordered
    pairs (c, k) of values by different observers, / (m_u - 1); ordinal metric
    delta_ck^2 = (sum of n_g for g from c to k - (n_c + n_k) / 2)^2; alpha = 1 - D_o / D_e with
    D_o = sum o_ck delta_ck^2 / n and D_e = sum n_c n_k delta_ck^2 / (n (n - 1))."""
    units: dict[str, list[int]] = {}
    for r in ratings:
        units.setdefault(r.item, []).append(int(r.value) - 1)
    o = np.zeros((5, 5))
    for values in units.values():
        m = len(values)
        for i, c in enumerate(values):
            for j, k in enumerate(values):
                if i != j:
                    o[c, k] += 1 / (m - 1)
    n_c = o.sum(axis=1)  # 9, 13, 10, 5, 3 for the 2011 data: n = 40
    n = n_c.sum()
    delta = np.array(
        [[(n_c[min(c, k) : max(c, k) + 1].sum() - (n_c[c] + n_k) / 2) ** 2 for k, n_k in
          enumerate(n_c)] for c in range(5)]
    )  # fmt: skip
    d_o = (o * delta).sum() / n  # 47.275
    d_e = (np.outer(n_c, n_c) * delta).sum() / (n * (n - 1))  # 256.0769
    return 1 - d_o / d_e  # 1 - 47.275 / 256.0769 = 0.8153875


def test_mtbench_with_and_without_ties_by_hand():
    # Item 1: c, c, b -> pairs (c,c) (c,b) (c,b): 1 of 3 agree.
    # Item 2: tie, c -> one disagreeing pair; dropped without ties.
    # With ties: 1 agreement in 4 pairs = 0.25; without: 1 in 3.
    ratings = [
        Rating("1", "x", "candidate"),
        Rating("1", "y", "candidate"),
        Rating("1", "z", "baseline"),
        Rating("2", "x", "tie"),
        Rating("2", "y", "candidate"),
    ]
    agree, _ = mtbench(ratings, ties=True, resamples=0)
    assert (agree.value, agree.n) == (pytest.approx(0.25), 4)
    agree, kappa = mtbench(ratings, ties=False, resamples=0)
    assert (agree.value, agree.n) == (pytest.approx(1 / 3), 3)
    # Symmetric kappa over the 3 unordered pairs = Cohen on both orders: labels c,c,c,b,c,b vs
    # c,b,b,c,c,c; p_o = 2/6, p_e = (4/6)^2 + (2/6)^2 = 5/9, kappa = (1/3 - 5/9)/(4/9) = -0.5.
    assert kappa.value == pytest.approx(-0.5)


def test_cohen_weighted_for_ordinal_scales_matches_sklearn_definition():
    a = ["1", "2", "3", "4", "5", "3"]
    b = ["1", "3", "3", "5", "4", "2"]
    # Linear weights by hand: disagreement |i-j|/4. Observed mean weight: (0+1+0+1+1+1)/6/4.
    obs = (0 + 1 + 0 + 1 + 1 + 1) / 6 / 4
    pa = np.array([1, 1, 2, 1, 1]) / 6  # marginals of a over 1..5
    pb = np.array([1, 1, 2, 1, 1]) / 6
    exp = sum(pa[i] * pb[j] * abs(i - j) / 4 for i in range(5) for j in range(5))
    assert cohen(a, b, weights="linear") == pytest.approx(1 - obs / exp)


def test_mtbench_and_ac1_bootstrap_intervals_reproduced_with_numpy():
    rng = np.random.default_rng(7)
    truth = rng.choice(["candidate", "baseline", "tie"], size=300, p=[0.6, 0.3, 0.1])
    ratings = []
    for i, t in enumerate(truth):
        for rater in ("a", "b", "c"):
            value = t if rng.random() < 0.8 else rng.choice(["candidate", "baseline", "tie"])
            ratings.append(Rating(f"i{i}", rater, value))
    agree, kappa = mtbench(ratings, resamples=500, seed=3)
    assert agree.low < agree.value < agree.high and kappa.low < kappa.value < kappa.high
    assert agree.n == 900  # 3 unordered pairs per item
    ac1 = gwet_ac1(ratings, resamples=500, seed=3)
    assert ac1.low < ac1.value < ac1.high

    # The bounds themselves, from the resampling that bootstrap.py documents, redone here with
    # numpy: resample r draws 300 item indices, rng.integers(0, 300, (500, 300)) from
    # default_rng([seed, 3]), over the items in sorted order of their ids; each statistic is
    # recomputed on the drawn items (with repeats) by its textbook formula, and the interval is
    # the 2.5th and 97.5th percentiles of the 500 values.
    values = defaultdict(dict)
    for r in ratings:
        values[r.item][r.rater] = r.value
    items = [values[k] for k in sorted(values)]
    draws = np.random.default_rng([3, 3]).integers(0, len(items), size=(500, len(items)))
    pairs = [[(v[a], v[b]) for a, b in itertools.combinations(sorted(v), 2)] for v in items]
    categories = ["baseline", "candidate", "tie"]
    counts = np.array([[list(v.values()).count(c) for c in categories] for v in items])
    agreements, kappas, ac1s = [], [], []
    for drawn in draws:
        label_pairs = [p for i in drawn for p in pairs[i]]
        agreements.append(np.mean([x == y for x, y in label_pairs]))
        # MT-Bench kappa: Cohen's kappa over both orders of each unordered pair. Both orders
        # have the same marginals, so p_e = sum_k share_k^2 over all labels in the pairs.
        share = Counter(x for p in label_pairs for x in p)
        total = 2 * len(label_pairs)
        p_e = sum((m / total) ** 2 for m in share.values())
        kappas.append((agreements[-1] - p_e) / (1 - p_e))
        if len(kappas) == 1:  # that formula is Cohen's kappa on both orders (scikit-learn):
            first = [x for x, _ in label_pairs] + [y for _, y in label_pairs]
            second = [y for _, y in label_pairs] + [x for x, _ in label_pairs]
            assert kappas[0] == pytest.approx(cohen_kappa_score(first, second), abs=1e-12)
        # Gwet (2008): pa = mean_i sum_k r_ik (r_ik - 1) / (r_i (r_i - 1)), pi_k = mean_i r_ik/r_i,
        # pe = sum_k pi_k (1 - pi_k) / (q - 1); every item here has r_i = 3 raters.
        c = counts[drawn]
        pa = np.mean((c * (c - 1)).sum(axis=1) / 6)
        pi = (c / 3).mean(axis=0)
        pe = (pi * (1 - pi)).sum() / 2
        ac1s.append((pa - pe) / (1 - pe))
    for estimate, replicates in ((agree, agreements), (kappa, kappas), (ac1, ac1s)):
        low, high = np.percentile(replicates, [2.5, 97.5])
        assert (estimate.low, estimate.high) == (
            pytest.approx(low, abs=1e-9),
            pytest.approx(high, abs=1e-9),
        )


def test_krippendorff_nominal_equals_library_on_coincidences():
    # Nominal alpha from the coincidence matrix (Krippendorff 2011, eq. for D_o and D_e):
    # o_ck = sum over items of ordered pairs (c, k) / (m_i - 1); alpha = 1 - D_o / D_e.
    from reviewer.analysis.stats import ItemTable

    ratings = krippendorff_2011()
    t = ItemTable(ratings)
    m = t.counts.sum(axis=1)
    keep = m >= 2
    o = (t.pairs[keep] / (m[keep] - 1)[:, None, None]).sum(axis=0)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d_o = (o.sum() - np.trace(o)) / n
    d_e = (n * n - (n_c**2).sum()) / (n * (n - 1))
    assert 1 - d_o / d_e == pytest.approx(alpha(ratings, "nominal"))


def test_undefined_kappa_is_nan():
    assert math.isnan(cohen(["tie"] * 5, ["tie"] * 5))


def test_item_outcome_majority():
    assert item_outcome(["baseline", "tie", "baseline"]) == "baseline"
    assert item_outcome(["candidate", "tie"]) == "tie"
    assert item_outcome([]) == "tie"


def test_win_rate_against_formulas():
    outcomes = ["candidate"] * 70 + ["baseline"] * 30 + ["tie"] * 20
    w = win_rate(outcomes, threshold=0.6)
    assert (w.items, w.candidate, w.baseline, w.tie, w.decisive) == (120, 70, 30, 20, 100)
    assert w.rate == pytest.approx(0.7)
    # Wilson (1927): centre (p + z^2/2n)/(1 + z^2/n), half-width z*sqrt(p(1-p)/n + z^2/4n^2)/(..)
    z, n, p = 1.959963984540054, 100, 0.7
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert (w.low, w.high) == (pytest.approx(centre - half), pytest.approx(centre + half))
    # Exact one-sided test: P(X >= 70 | n=100, p=0.6) = binom.sf(69, 100, 0.6).
    assert w.p_value == pytest.approx(binom.sf(69, 100, 0.6))
    assert w.p_value_half == pytest.approx(binom.sf(69, 100, 0.5))
    # The interval (0.604, 0.781) clears 0.6, so no more pairs are needed.
    assert w.low > 0.6 and w.more_pairs_needed is None


def test_more_pairs_needed_closes_the_interval():
    outcomes = ["candidate"] * 33 + ["baseline"] * 17 + ["tie"] * 10  # 66% of 50 decisive
    w = win_rate(outcomes, threshold=0.6)
    assert w.low < 0.6 < w.high
    from statsmodels.stats.proportion import proportion_confint

    # 33 wins in 50 decisive items: statsmodels' Wilson interval (0.5215, 0.7756).
    wilson = proportion_confint(33, 50, alpha=0.05, method="wilson")
    assert (w.low, w.high) == (pytest.approx(wilson[0]), pytest.approx(wilson[1]))
    assert (w.low, w.high) == (pytest.approx(0.5215, abs=1e-4), pytest.approx(0.7756, abs=1e-4))
    extra = w.more_pairs_needed
    assert extra is not None and extra > 0
    # With `extra` more items at the same decisive share (50/60) and rate, the interval clears.

    def low_at(items):
        d = items * 50 / 60
        return proportion_confint(0.66 * d, d, method="wilson")[0]

    assert low_at(60 + extra) > 0.6
    assert low_at(60 + extra - 2) <= 0.6
    assert more_pairs_needed(0.6, 0.8, 100, 0.6) is None


def test_no_decisive_items():
    w = win_rate(["tie", "tie"], 0.6)
    assert math.isnan(w.rate) and w.decisive == 0


def weighted_mean_ci(data, resamples: int, seed: int) -> tuple[float, float]:
    weights = item_weights(len(data), resamples, seed)
    return percentile_interval(weights @ np.asarray(data, dtype=float) / len(data))


def test_item_weights_are_resamples():
    w = item_weights(50, 200, seed=4)
    assert w.shape == (200, 50) and (w.sum(axis=1) == 50).all()
    assert (w == item_weights(50, 200, seed=4)).all()
    assert abs(w.mean() - 1) < 0.02


def test_bootstrap_is_seeded_and_brackets_the_mean():
    data = list(np.random.default_rng(0).normal(10, 2, 200))
    a = weighted_mean_ci(data, 500, seed=1)
    assert a == weighted_mean_ci(data, 500, seed=1)
    assert a[0] < np.mean(data) < a[1]
    # Standard error of the mean ~ 2/sqrt(200) = 0.141: the 95% interval is about +-0.28.
    assert 0.4 < a[1] - a[0] < 0.7


def test_wilson_win_rate_intervals_cover_about_95_percent_exactly():
    """Coverage of win_rate's 95% interval, computed exactly rather than simulated: with 150
    decisive items the wins K ~ Binomial(150, p), and the interval depends on K alone, so the
    coverage is sum over k of P(K = k) [low(k) <= p <= high(k)], with low(k), high(k) from the
    production win_rate for each of the 151 possible counts. No Monte Carlo error; Wilson's
    coverage oscillates around 95% with p and n (Brown, Cai & DasGupta 2001, "Interval
    estimation for a binomial proportion"), within 93-97% here. The expected values, 0.9591,
    0.9451 and 0.9413 for p = 0.5, 0.6, 0.75, were summed the same way in a separate script
    from Wilson's closed form (test_win_rate_against_formulas), without the production code."""
    bounds = []
    for k in range(151):
        w = win_rate(["candidate"] * k + ["baseline"] * (150 - k), 0.6)
        bounds.append((w.low, w.high))
    for true_rate, expected in ((0.5, 0.9591), (0.6, 0.9451), (0.75, 0.9413)):
        covered = [low <= true_rate <= high for low, high in bounds]
        coverage = sum(binom.pmf(k, 150, true_rate) for k in range(151) if covered[k])
        assert 0.93 <= coverage <= 0.97, (true_rate, coverage)
        assert coverage == pytest.approx(expected, abs=1e-4)


@pytest.mark.slow
def test_bootstrap_agreement_intervals_cover_the_truth_about_95_percent():
    """Coverage by simulation through the production code: 1,000 simulated studies, each with
    200 items labeled by 3 raters, and mtbench's bootstrap intervals (500 resamples over items)
    for the agreement and the kappa.

    Each item is "clear" with probability 0.6 (all three raters give its true label, uniform
    over candidate / baseline / tie) and otherwise ambiguous (each rater picks uniformly at
    random). Labels on one item are correlated, which is why the bootstrap resamples items.
    True values: agreement = P(two raters agree) = 0.6 * 1 + 0.4 * 1/3 = 0.7333; every label is
    uniform over 3 values, so chance agreement is 1/3 and kappa = (0.7333 - 1/3) / (2/3) = 0.6.

    Tolerance: with S = 1,000 studies the observed coverage of a 95% interval has binomial
    standard error sqrt(0.95 * 0.05 / 1000) = 0.0069; 3 standard errors = 0.021, so a correct
    interval lands in [0.929, 0.971]. A 90% interval would not (0.90), nor would resampling
    label pairs instead of items (0.83 in a separate run of this design). A run of 4,000 studies
    through mtbench gave 0.949 (agreement) and 0.947 (kappa).
    """
    rng = np.random.default_rng(2024)
    categories = np.array(["candidate", "baseline", "tie"])
    true_agreement, true_kappa = 0.6 + 0.4 / 3, 0.6
    studies, items = 1000, 200
    agree_hits = kappa_hits = 0
    for sim in range(studies):
        truth = rng.integers(0, 3, items)
        clear = rng.random(items) < 0.6
        votes = np.where(clear[:, None], truth[:, None], rng.integers(0, 3, (items, 3)))
        ratings = [
            Rating(f"i{i}", rater, categories[votes[i, j]])
            for i in range(items)
            for j, rater in enumerate("abc")
        ]
        agree, kappa = mtbench(ratings, resamples=500, seed=sim)
        agree_hits += agree.low <= true_agreement <= agree.high
        kappa_hits += kappa.low <= true_kappa <= kappa.high
    assert 0.929 <= agree_hits / studies <= 0.971, agree_hits / studies
    assert 0.929 <= kappa_hits / studies <= 0.971, kappa_hits / studies


def test_judge_vs_humans_matches_cohen_on_expanded_pairs():
    from reviewer.analysis.stats import judge_vs_humans

    judge = {"1": "candidate", "2": "baseline", "3": "tie", "4": "candidate"}
    humans = [
        Rating("1", "a", "candidate"),
        Rating("1", "b", "baseline"),
        Rating("2", "a", "baseline"),
        Rating("3", "a", "candidate"),
        Rating("4", "a", "candidate"),
        Rating("4", "b", "candidate"),
        Rating("5", "a", "tie"),
    ]  # item 5 has no verdict: not compared
    agree, kappa = judge_vs_humans(judge, humans, resamples=0)
    j = ["candidate", "candidate", "baseline", "tie", "candidate", "candidate"]
    h = ["candidate", "baseline", "baseline", "candidate", "candidate", "candidate"]
    assert agree.n == 6 and agree.value == pytest.approx(4 / 6)
    assert kappa.value == pytest.approx(cohen(j, h))
    agree, _ = judge_vs_humans(judge, humans, ties=False, resamples=0)
    assert agree.n == 5 and agree.value == pytest.approx(4 / 5)


def test_alpha_is_undefined_without_an_item_rated_twice():
    assert math.isnan(alpha([Rating("1", "a", "x"), Rating("2", "b", "y")]))


def test_weights_drawn_in_blocks_are_the_one_shot_draws():
    """Issue 16: the weights come a block of rows at a time (memory flat in items x resamples).
    Reference: the draws as one (resamples, items) matrix, as before the change; 30,000 items
    make blocks of 69 rows, so 200 resamples span three blocks (the last one short)."""
    items, resamples, seed = 30_000, 200, 11
    rng = np.random.default_rng([seed, BOOTSTRAP_STREAM])
    draws = rng.integers(0, items, size=(resamples, items))
    flat = (draws + np.arange(resamples)[:, None] * items).ravel()
    reference = np.bincount(flat, minlength=resamples * items).reshape(resamples, items)
    blocks = list(weight_chunks(items, resamples, seed))
    assert len(blocks) == 3 and [len(b) for b in blocks] == [69, 69, 62]
    assert (np.vstack(blocks) == reference).all()
    x = np.random.default_rng(1).random(items)
    later = Resampling(resamples, seed).add(lambda w, _: (w @ x, w.sum(axis=1)), items)
    replicates = later()
    # Same draws; a matrix product over fewer rows may sum in another order (last bits only).
    assert np.allclose(replicates[0], reference @ x, rtol=1e-12, atol=0)
    assert (replicates[1] == items).all()


def test_mtbench_interval_from_blocks_equals_the_whole_matrix():
    """Through production code: MT-Bench agreement on 5,000 items (blocks of 419 resamples)
    gives the interval the whole weight matrix gives."""
    rng = np.random.default_rng(3)
    ratings = [
        Rating(f"i{i}", f"r{r}", rng.choice(["candidate", "baseline", "tie"]))
        for i in range(5000)
        for r in range(2)
    ]
    agree, _ = mtbench(ratings, resamples=1000, seed=9)
    table = ItemTable(ratings)
    w = np.random.default_rng([9, BOOTSTRAP_STREAM]).integers(0, 5000, size=(1000, 5000))
    w = np.array([np.bincount(row, minlength=5000) for row in w], dtype=float)
    pairs = np.einsum("ri,ijk->rjk", w, table.pairs)
    replicates = np.trace(pairs, axis1=-2, axis2=-1) / pairs.sum(axis=(-2, -1))
    low, high = np.percentile(replicates, [2.5, 97.5])
    assert (agree.low, agree.high) == pytest.approx((low, high), rel=1e-12)

"""How many items (and labels) a study likely needs: `signoff plan`.

- **Anytime-valid rule** (the default verdict): by simulation through the production decision,
  `tie_rules.threshold_test`. Each simulated study draws items one at a time with the expected
  shares of wins, ties and losses, reads the verdict after every item and stops at its first
  SIGN-OFF or BLOCKED; the power at n is the share of studies signed off by item n.
- **Fixed-n rule** (`planned_pairs`): the normal-approximation sample size of a one-sided
  one-sample test, n = ((z_(1-alpha) s0 + z_power s1) / (R - threshold))^2, with s0 and s1 the
  per-comparison standard deviations under the threshold and under the expected rate (Chow,
  Shao & Wang 2008, "Sample Size Calculations in Clinical Research", Sec. 4.1). Under ties =
  'half' the null's spread is unknown and s0 = s1.
- **With a calibrated judge** (prediction-powered inference, the PPI++ estimator of
  `stats/ppi.py`, Angelopoulos, Duchi & Zrnic 2023): with the judge on many more pairs than
  humans label (N >> n), the variance is Var(Y - lambda f) / n, smallest at lambda =
  Cov(Y, f) / Var(f), where it is Var(Y) (1 - rho^2) / n, rho the correlation of the judge's and
  the humans' item scores. So the human-labeled items needed shrink by (1 - rho^2); for the
  anytime-valid row this is an approximation (the boundary's width scales with the spread).
  Assumption: the judge agrees with the human outcome on an item with probability A (its
  agreement with the human majority) and otherwise picks one of the other outcomes at random,
  independently of everything else. That turns A into rho (`judge_correlation`). The report's
  verdict stays human-only: this row is what the bias-corrected estimate would need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reviewer.analysis.tie_rules import BLOCKED, SIGN_OFF, TieRule, threshold_test
from reviewer.config import SignoffConfig, StudyConfig

SCORES = {"not_a_win": (1.0, 0.0, 0.0), "half": (1.0, 0.5, 0.0), "exclude": (1.0, None, 0.0)}
_BLOCK = 128  # simulated items per vectorised step


def outcome_shares(rule: TieRule, expected_rate: float, tie_share: float) -> np.ndarray:
    """(win, tie, loss) shares per item for an expected rate under the rule.

    >>> outcome_shares("exclude", 0.75, 0.2).round(3).tolist()
    [0.6, 0.2, 0.2]
    """
    if rule == "exclude":
        shares = [expected_rate * (1 - tie_share), tie_share, (1 - expected_rate) * (1 - tie_share)]
    elif rule == "half":
        shares = [expected_rate - tie_share / 2, tie_share, 1 - expected_rate - tie_share / 2]
    else:
        shares = [expected_rate, tie_share, 1 - expected_rate - tie_share]
    if min(shares) < -1e-12 or not 0 <= tie_share < 1:
        raise ValueError(
            f"an expected rate of {expected_rate} is impossible with {tie_share:.0%} ties "
            f"under ties = {rule!r}"
        )
    return np.clip(np.array(shares), 0, 1)


def signoff_curve(
    shares: np.ndarray, rules: SignoffConfig, n_max: int, runs: int, seed: int
) -> np.ndarray:
    """P(signed off by item n), n = 1..n_max: simulated studies read after every item, each
    stopping at its first SIGN-OFF or BLOCKED (`threshold_test`, the report's decision)."""
    rng = np.random.default_rng(seed)
    first_signoff = np.full(runs, np.inf)
    first_blocked = np.full(runs, np.inf)
    carry = np.zeros((runs, 3))
    for start in range(0, n_max, _BLOCK):
        size = min(_BLOCK, n_max - start)
        draws = rng.choice(3, p=shares, size=(runs, size))
        counts = carry[:, None, :] + np.cumsum(np.eye(3)[draws], axis=1)
        carry = counts[:, -1, :]
        test = threshold_test(counts[..., 0], counts[..., 1], counts[..., 2], rules)
        n = np.arange(start + 1, start + size + 1)
        for outcome, first in ((SIGN_OFF, first_signoff), (BLOCKED, first_blocked)):
            hit = np.where(test == outcome, n, np.inf).min(axis=1)
            np.minimum(first, hit, out=first)
    won = np.where(first_signoff < first_blocked, first_signoff, np.inf)
    return np.array([(won <= n).mean() for n in range(1, n_max + 1)])


def anytime_items(
    shares: np.ndarray,
    rules: SignoffConfig,
    power: float,
    runs: int,
    seed: int,
    cap: int,
    start: int = 256,
) -> tuple[int | None, float]:
    """Smallest n whose simulated power reaches `power` (doubling the horizon from `start` up
    to `cap`), and the power reached at that n (or at the cap). None at once when the expected
    rate does not clear the threshold: it then signs off only by error."""
    if _sd(rules.ties, shares)[0] <= rules.win_rate_threshold:
        return None, 0.0
    rules = rules.model_copy(update={"planned_pairs": None})
    n_max = min(max(start, 64), cap)
    while True:
        curve = signoff_curve(shares, rules, n_max, runs, seed)
        reached = np.nonzero(curve >= power)[0]
        if reached.size:
            return int(reached[0]) + 1, float(curve[reached[0]])
        if n_max >= cap:
            return None, float(curve[-1])
        n_max = min(cap, n_max * 2)


def _sd(rule: TieRule, shares: np.ndarray) -> tuple[float, float]:
    """(rate, standard deviation) of one comparison's score under the rule."""
    w, t, l_ = shares
    if rule == "exclude":
        r = w / (w + l_)
        return r, math.sqrt(r * (1 - r))
    y = np.array(SCORES[rule], dtype=float)
    mean = float(shares @ y)
    return mean, math.sqrt(max(float(shares @ y**2) - mean**2, 0.0))


def fixed_items(shares: np.ndarray, rules: SignoffConfig, power: float) -> int | None:
    """Items for a single fixed-n read to clear the threshold with `power` (module docstring)."""
    from scipy.stats import norm

    rule, thr = rules.ties, rules.win_rate_threshold
    rate, s1 = _sd(rule, shares)
    if rate <= thr:
        return None
    s0 = s1 if rule == "half" else math.sqrt(thr * (1 - thr))
    z_a, z_b = norm.ppf(1 - (1 - rules.confidence) / 2), norm.ppf(power)
    comparisons = max(math.ceil(((z_a * s0 + z_b * s1) / (rate - thr)) ** 2), 1)
    comparisons = max(comparisons, rules.min_decisive_pairs)
    per_item = shares[0] + shares[2] if rule == "exclude" else 1.0
    return math.ceil(comparisons / per_item)


def judge_correlation(rule: TieRule, shares: np.ndarray, agreement: float) -> float:
    """rho^2 between the humans' and the judge's item scores, when the judge agrees with the
    human outcome with probability `agreement` and otherwise picks another outcome at random
    (on the rule's outcomes: win / not a win, win / tie / loss, or win / loss)."""
    if rule == "exclude":
        probs, scores = shares[[0, 2]] / (shares[0] + shares[2]), np.array([1.0, 0.0])
    elif rule == "half":
        probs, scores = shares, np.array([1.0, 0.5, 0.0])
    else:
        probs, scores = np.array([shares[0], 1 - shares[0]]), np.array([1.0, 0.0])
    k = len(probs)
    channel = np.full((k, k), (1 - agreement) / (k - 1))
    np.fill_diagonal(channel, agreement)
    joint = probs[:, None] * channel  # P(human outcome i, judge outcome j)
    ey, ef = probs @ scores, joint.sum(axis=0) @ scores
    cov = scores @ joint @ scores - ey * ef
    var_y = probs @ scores**2 - ey**2
    var_f = joint.sum(axis=0) @ scores**2 - ef**2
    return float(cov**2 / (var_y * var_f)) if var_y > 0 and var_f > 0 else 0.0


def labels_for(items: int, cfg: StudyConfig, annotators: int) -> int:
    """Labels for `items` items: the calibration pairs first, each labeled by
    `annotators_per_pair` (or every annotator), then `labels_per_pair` on each other pair."""
    per_calibration = cfg.calibration.annotators_per_pair or annotators
    calibration = min(items, cfg.calibration.size)
    return calibration * per_calibration + (items - calibration) * cfg.assignment.labels_per_pair


@dataclass(frozen=True)
class PlanRow:
    scenario: str
    items: int | None  # None: not reached (expected rate at or below the threshold, or cap)
    labels: int | None
    power: float | None  # simulated power at `items` (anytime rows)


@dataclass(frozen=True)
class Plan:
    rule: TieRule
    threshold: float
    expected_rate: float
    tie_share: float
    power: float
    runs: int
    judge_agreement: float | None
    judge_rho2: float | None  # 1 - this = the share of human labels PPI still needs
    rows: list[PlanRow]


def make_plan(
    cfg: StudyConfig,
    expected_rate: float,
    *,
    power: float = 0.8,
    tie_share: float = 0.0,
    judge_agreement: float | None = None,
    annotators: int = 2,
    runs: int = 2000,
    seed: int = 0,
    cap: int = 20_000,
) -> Plan:
    """Items and labels to clear the threshold with `power` under the study's rule, read
    anytime or once at a planned size, with and without a calibrated judge."""
    rules = cfg.signoff
    shares = outcome_shares(rules.ties, expected_rate, tie_share)
    fixed_n = fixed_items(shares, rules, power)
    # The anytime rule needs more items than one fixed-n read: start the horizon beyond it.
    start = 2 * fixed_n if fixed_n else 256
    any_n, any_power = anytime_items(shares, rules, power, runs, seed, cap, start)

    def row(name: str, items: int | None, reached: float | None) -> PlanRow:
        labels = None if items is None else labels_for(items, cfg, annotators)
        return PlanRow(name, items, labels, reached)

    rows = [
        row("humans, anytime-valid (read after any label)", any_n, any_power),
        row("humans, fixed-n (planned_pairs, read once)", fixed_n, None),
    ]
    rho2 = None
    if judge_agreement is not None:
        rho2 = judge_correlation(rules.ties, shares, judge_agreement)

        def fewer(n: int | None) -> int | None:
            return None if n is None else max(math.ceil(n * (1 - rho2)), 2)

        rows += [
            row(f"humans + judge (A = {judge_agreement:.2f}), anytime-valid", fewer(any_n), None),
            row(f"humans + judge (A = {judge_agreement:.2f}), fixed-n", fewer(fixed_n), None),
        ]
    return Plan(
        rule=rules.ties,
        threshold=rules.win_rate_threshold,
        expected_rate=expected_rate,
        tie_share=tie_share,
        power=power,
        runs=runs,
        judge_agreement=judge_agreement,
        judge_rho2=rho2,
        rows=rows,
    )

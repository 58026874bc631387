"""Pure statistics for signoff: agreement between raters, win rates, bootstrap intervals."""

from reviewer.analysis.stats.agreement import (
    Estimate,
    ItemTable,
    Rating,
    alpha,
    fleiss,
    judge_vs_humans,
    judge_vs_humans_both,
    mtbench,
    mtbench_both,
)
from reviewer.analysis.stats.bootstrap import item_weights, percentile_interval
from reviewer.analysis.stats.gwet import gwet_ac1
from reviewer.analysis.stats.rater_pairs import PairAgreement, cohen, pairwise
from reviewer.analysis.stats.winrate import WinRate, item_outcome, more_pairs_needed, win_rate

__all__ = [
    "Estimate",
    "ItemTable",
    "PairAgreement",
    "Rating",
    "WinRate",
    "alpha",
    "cohen",
    "fleiss",
    "gwet_ac1",
    "item_outcome",
    "item_weights",
    "judge_vs_humans",
    "judge_vs_humans_both",
    "more_pairs_needed",
    "mtbench",
    "mtbench_both",
    "pairwise",
    "percentile_interval",
    "win_rate",
]

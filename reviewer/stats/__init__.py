"""Pure statistics for signoff: agreement between raters, win rates, bootstrap intervals."""

from reviewer.stats.agreement import (
    Estimate,
    PairAgreement,
    Rating,
    alpha,
    cohen,
    fleiss,
    gwet_ac1,
    mtbench,
    pairwise,
)
from reviewer.stats.bootstrap import bootstrap_ci
from reviewer.stats.winrate import WinRate, item_outcome, more_pairs_needed, win_rate

__all__ = [
    "Estimate",
    "PairAgreement",
    "Rating",
    "WinRate",
    "alpha",
    "bootstrap_ci",
    "cohen",
    "fleiss",
    "gwet_ac1",
    "item_outcome",
    "more_pairs_needed",
    "mtbench",
    "pairwise",
    "win_rate",
]

"""Win rates as the report shows them: overall, per stratum and per criterion, for one side
(the humans, or one judge)."""

from __future__ import annotations

from collections import defaultdict

from reviewer.analysis.intervals import finite
from reviewer.analysis.stats import (
    WinRate,
    win_rate,
)
from reviewer.config import StudyConfig
from reviewer.report.model import (
    SideResult,
    WinRateOut,
)


def win_out(w: WinRate) -> WinRateOut:
    return WinRateOut(
        items=w.items,
        candidate=w.candidate,
        baseline=w.baseline,
        tie=w.tie,
        decisive=w.decisive,
        rate=finite(w.rate),
        low=finite(w.low),
        high=finite(w.high),
        threshold=w.threshold,
        p_value=finite(w.p_value),
        p_value_half=finite(w.p_value_half),
        more_pairs_needed=w.more_pairs_needed,
    )


def side_result(
    outcomes: dict[str, str],
    criteria: dict[str, dict[str, str]],
    strata: dict[str, str],
    cfg: StudyConfig,
) -> SideResult:
    rules = cfg.signoff
    overall = win_rate(list(outcomes.values()), rules.win_rate_threshold, rules.confidence)
    grouped: dict[str, list[str]] = defaultdict(list)
    for item, outcome in outcomes.items():
        grouped[strata.get(item, "unspecified")].append(outcome)
    by_stratum = {
        s: win_rate(v, rules.win_rate_threshold, rules.confidence)
        for s, v in sorted(grouped.items())
    }
    rated = {s: w for s, w in by_stratum.items() if w.decisive}
    worst = min(rated, key=lambda s: rated[s].rate) if rated else None
    return SideResult(
        win_rate=win_out(overall),
        by_stratum={s: win_out(w) for s, w in by_stratum.items()},
        by_criterion={
            name: win_out(win_rate(list(v.values()), rules.win_rate_threshold, rules.confidence))
            for name, v in criteria.items()
        },
        worst_stratum=worst,
    )

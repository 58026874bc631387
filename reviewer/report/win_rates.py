"""Win rates as the report shows them: overall, per stratum and per criterion, for one side
(the humans, or one judge), under each of the three tie rules."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from itertools import repeat

import numpy as np

from reviewer.analysis.intervals import finite
from reviewer.analysis.stats import (
    WinRate,
    win_rate,
)
from reviewer.analysis.tie_rules import (
    TIE_RULES,
    anytime_bounds,
    counted,
    fixed_bounds,
    items_to_decide,
    rate,
    threshold_test,
)
from reviewer.config import SignoffConfig, StudyConfig
from reviewer.report.model import (
    RuleRate,
    SideResult,
    WinRateOut,
)

RESAMPLES = 1000
KEYS = ("candidate", "tie", "baseline")


def rule_rates(
    rates: list[WinRate], rules: SignoffConfig, seed: int, resamples: int = RESAMPLES
) -> list[dict[str, RuleRate]]:
    """The rate under each tie rule with its fixed-n and anytime-valid intervals, for several
    groups at once (the anytime bounds are one vectorised bisection per rule)."""
    out: list[dict[str, RuleRate]] = [{} for _ in rates]
    wins, ties, losses = (np.array([getattr(w, k) for w in rates]) for k in KEYS)
    for rule in TIE_RULES:
        any_low, any_high = anytime_bounds(
            rule, wins, ties, losses, rules.win_rate_threshold, rules.confidence
        )
        for i, w in enumerate(rates):
            score, n = counted(rule, w.candidate, w.tie, w.baseline)
            low, high = fixed_bounds(
                rule, w.candidate, w.tie, w.baseline, rules.confidence, seed, resamples
            )
            out[i][rule] = RuleRate(
                rule=rule,
                comparisons=n,
                score=score,
                rate=finite(rate(rule, w.candidate, w.tie, w.baseline)),
                low=finite(low),
                high=finite(high),
                anytime_low=float(any_low[i]) if n else None,
                anytime_high=float(any_high[i]) if n else None,
            )
    return out


def _more_needed(w: WinRate, rules: SignoffConfig) -> int | None:
    """Items that would likely decide this rate under the deciding rule; None once decided."""
    if w.items == 0 or threshold_test(w.candidate, w.tie, w.baseline, rules):
        return None
    return items_to_decide(w.candidate, w.tie, w.baseline, rules)


def win_out(
    w: WinRate,
    rules: SignoffConfig | None = None,
    by_rule: dict[str, RuleRate] | None = None,
    both_bad: int | None = None,
) -> WinRateOut:
    """One group's rates for the report; `by_rule` from `rule_rates` (computed here if not)."""
    rules = rules or SignoffConfig(win_rate_threshold=w.threshold)
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
        more_pairs_needed=_more_needed(w, rules),
        by_tie_rule=by_rule if by_rule is not None else rule_rates([w], rules, 0)[0],
        both_bad=both_bad,
        both_bad_share=both_bad / w.items if both_bad is not None and w.items else None,
    )


def deciding_rate(w: WinRateOut, rule: str) -> float:
    """The rate under the deciding rule; NaN when it counts nothing (sorts last)."""
    r = w.by_tie_rule[rule].rate
    return math.nan if r is None else r


def side_result(
    outcomes: dict[str, str],
    criteria: dict[str, dict[str, str]],
    strata: dict[str, str],
    cfg: StudyConfig,
    *,
    both_bad: dict[str, bool] | None = None,
    resamples: int = RESAMPLES,
) -> SideResult:
    """Win rates of one side. `both_bad` (item -> majority says both bad) is counted per
    stratum when given (humans); judges have no such flag."""
    rules = cfg.signoff
    grouped: dict[str, list[str]] = defaultdict(list)
    of = map(strata.get, outcomes, repeat("unspecified"))
    for item, stratum in zip(outcomes, of, strict=True):
        grouped[stratum].append(item)

    def bad(items: Iterable[str]) -> int | None:
        return None if both_bad is None else sum(map(both_bad.__getitem__, items))

    # (part, name, outcomes, both-bad items): overall, strata, criteria; computed in one batch.
    groups = [("overall", "", list(outcomes.values()), bad(outcomes))]
    groups += [
        ("stratum", s, list(map(outcomes.__getitem__, items)), bad(items))
        for s, items in sorted(grouped.items())
    ]
    groups += [("criterion", c, list(v.values()), None) for c, v in criteria.items()]
    rates = [win_rate(g[2], rules.win_rate_threshold, rules.confidence) for g in groups]
    by_rule = rule_rates(rates, rules, cfg.seed, resamples)
    out: dict[str, dict[str, WinRateOut]] = defaultdict(dict)
    for (part, name, _, n_bad), w, rr in zip(groups, rates, by_rule, strict=True):
        out[part][name] = win_out(w, rules, rr, n_bad)
    by_stratum = out["stratum"]
    rated = {s: w for s, w in by_stratum.items() if w.by_tie_rule[rules.ties].comparisons}
    worst = min(rated, key=lambda s: deciding_rate(rated[s], rules.ties)) if rated else None
    return SideResult(
        win_rate=out["overall"][""],
        by_stratum=by_stratum,
        by_criterion=out["criterion"],
        worst_stratum=worst,
    )

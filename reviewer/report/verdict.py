"""The go/no-go rule: fixed in the config before labeling, applied here."""

from __future__ import annotations

from reviewer.config import SignoffConfig
from reviewer.report.model import Verdict, WinRateOut

# A stratum with fewer decisive items says too little to block a release on its own.
MIN_STRATUM_DECISIVE = 5


def decide(
    overall: WinRateOut, strata: dict[str, WinRateOut], rules: SignoffConfig, source: str
) -> Verdict:
    """SIGN-OFF only when the lower confidence bound clears the threshold and no stratum with
    enough evidence falls below the floor; BLOCKED when the evidence says no; otherwise NOT
    ENOUGH EVIDENCE, with how many more pairs would decide it."""
    thr = rules.win_rate_threshold
    if overall.decisive < rules.min_decisive_pairs:
        return Verdict(
            decision="NOT ENOUGH EVIDENCE",
            source=source,
            reason=(
                f"only {overall.decisive} decisive pairs; the rule needs at least "
                f"{rules.min_decisive_pairs}"
            ),
        )
    low = sorted(
        (r.rate, name, r)
        for name, r in strata.items()
        if r.decisive >= MIN_STRATUM_DECISIVE and r.rate < rules.stratum_floor
    )
    summary = (
        f"candidate preferred on {overall.rate:.0%} of {overall.decisive} decisive pairs "
        f"(95% CI {overall.low:.0%}-{overall.high:.0%})"
    )
    if low:
        rate, name, r = low[0]
        return Verdict(
            decision="BLOCKED",
            source=source,
            reason=(
                f"stratum '{name}' collapses: candidate preferred on {rate:.0%} of {r.decisive} "
                f"decisive pairs, below the floor of {rules.stratum_floor:.0%}; overall {summary}"
            ),
        )
    if overall.low >= thr:
        return Verdict(
            decision="SIGN-OFF",
            source=source,
            reason=(
                f"{summary}, above the threshold of {thr:.0%} (one-sided p = {overall.p_value:.3g})"
            ),
        )
    if overall.high < thr:
        return Verdict(
            decision="BLOCKED",
            source=source,
            reason=(f"{summary}: even the upper bound is below the threshold of {thr:.0%}"),
        )
    more = overall.more_pairs_needed
    extra = f"; about {more} more pairs would decide it" if more else ""
    return Verdict(
        decision="NOT ENOUGH EVIDENCE",
        source=source,
        reason=(f"{summary}: the interval contains the threshold of {thr:.0%}{extra}"),
    )

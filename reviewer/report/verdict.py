"""The go/no-go rule: fixed in the config before labeling, applied here.

The overall rate is tested by `reviewer.analysis.tie_rules.threshold_test` (the same function
the peeking simulations run), under the tie rule the config chose. Stratum floors and the
both-bad cap are checked on observed shares, with a minimum count, not with an interval.
"""

from __future__ import annotations

from reviewer.analysis.tie_rules import (
    BLOCKED,
    RULE_TEXT,
    SIGN_OFF,
    UNIT,
    threshold_test,
)
from reviewer.config import SignoffConfig
from reviewer.report.model import Verdict, WinRateOut

# A stratum with fewer comparisons (as the tie rule counts them) says too little to block a
# release on its own.
MIN_STRATUM_DECISIVE = 5


def guarantee_text(rules: SignoffConfig) -> str:
    """Which error guarantee the verdict carries, in a sentence."""
    conf, alpha = rules.confidence, (1 - rules.confidence) / 2
    if rules.planned_pairs is not None:
        n = rules.planned_pairs
        return (
            f"Fixed-n: the {conf:.0%} interval is valid for one read at the {n} items planned in "
            f"advance (signoff.planned_pairs): the verdict stays NOT ENOUGH EVIDENCE until {n} "
            f"items are labeled, and items labeled after the first {n} are not counted, so "
            f"SIGN-OFF and BLOCKED each keep about a {alpha:.1%} chance of error (a fixed-n "
            "interval is approximate); reading it before then, or again later, would not."
        )
    return (
        f"Anytime-valid: the {conf:.0%} intervals are confidence sequences, so SIGN-OFF and "
        f"BLOCKED each keep at most a {alpha:.1%} chance of error however often the verdict is "
        "read, after every label included. Stratum floors and the both-bad cap are checked on "
        "observed shares, without that guarantee."
    )


def _summary(w: WinRateOut, rules: SignoffConfig) -> str:
    r = w.by_tie_rule[rules.ties]
    if rules.planned_pairs is None:
        kind, low, high = "anytime-valid", r.anytime_low, r.anytime_high
    else:
        method = "bootstrap" if rules.ties == "half" else "Wilson"
        kind, low, high = f"fixed-n {method}", r.low, r.high
    return (
        f"candidate preferred on {r.rate:.0%} of {r.comparisons} {UNIT[rules.ties]} "
        f"({RULE_TEXT[rules.ties]}; {kind} {rules.confidence:.0%} CI {low:.0%}-{high:.0%})"
    )


def evidence(overall: WinRateOut, rules: SignoffConfig, test: int) -> tuple[bool, int | None, str]:
    """(enough evidence, more items likely needed, the sentence): may labeling stop?"""
    if rules.planned_pairs is not None:
        left = rules.planned_pairs - overall.items
        if left > 0:
            return False, left, (
                f"The planned sample is {rules.planned_pairs} pairs: {left} more to label "
                "before the verdict is read."
            )  # fmt: skip
        return True, None, (
            "The planned sample is complete: this is the verdict, and more labels do not "
            "change it."
        )  # fmt: skip
    if test:
        return True, None, (
            "Enough evidence: the anytime-valid interval already excludes the threshold, so "
            "labeling can stop."
        )  # fmt: skip
    more = overall.more_pairs_needed
    if more is not None:
        decisive = ""
        if rules.ties == "exclude" and overall.items:
            decisive = f" (~{round(more * overall.decisive / overall.items)} decisive)"
        return False, more, (
            f"Not enough evidence yet: at the observed rate, about {more} more pairs{decisive} "
            "would likely decide it under the same anytime-valid rule (it may be read after "
            "every label)."
        )  # fmt: skip
    if overall.by_tie_rule[rules.ties].comparisons == 0:
        return False, None, "Not enough evidence yet: nothing to compare."
    return False, None, (
        "Not enough evidence yet, and at the observed rate (on the threshold) no number of "
        "pairs would decide it."
    )  # fmt: skip


def decide(
    overall: WinRateOut,
    strata: dict[str, WinRateOut],
    rules: SignoffConfig,
    source: str,
    *,
    seed: int = 0,
    resamples: int = 1000,
) -> Verdict:
    """SIGN-OFF only when the deciding rate's lower bound clears the threshold and no stratum
    (or both-bad share) breaks its cap; BLOCKED when the evidence says no; otherwise NOT ENOUGH
    EVIDENCE, with about how many more pairs would decide it."""
    test = int(
        threshold_test(
            overall.candidate, overall.tie, overall.baseline, rules, seed=seed, resamples=resamples
        )
    )
    enough, more, text = evidence(overall, rules, test)
    common = {
        "source": source,
        "tie_rule": rules.ties,
        "guarantee": "anytime-valid" if rules.planned_pairs is None else "fixed-n",
        "guarantee_text": guarantee_text(rules),
        "enough_evidence": enough,
        "more_items_needed": more,
        "evidence_text": text,
    }
    decision, reason = _rule(overall, strata, rules, test)
    return Verdict(decision=decision, reason=reason, **common)


def _rule(
    overall: WinRateOut, strata: dict[str, WinRateOut], rules: SignoffConfig, test: int
) -> tuple[str, str]:
    thr, unit, ties = rules.win_rate_threshold, UNIT[rules.ties], RULE_TEXT[rules.ties]
    n = overall.by_tie_rule[rules.ties].comparisons
    if rules.planned_pairs is not None and overall.items < rules.planned_pairs:
        return "NOT ENOUGH EVIDENCE", (
            f"{overall.items} of the {rules.planned_pairs} planned pairs are labeled; the "
            "fixed-n interval is read once, when all are"
        )  # fmt: skip
    if n < rules.min_decisive_pairs:
        return "NOT ENOUGH EVIDENCE", (
            f"only {n} {unit} ({ties}); the rule needs at least {rules.min_decisive_pairs}"
        )
    summary = _summary(overall, rules)
    share, cap = overall.both_bad_share, rules.max_both_bad_share
    if cap is not None and share is not None and share > cap:
        return "BLOCKED", (
            f"{share:.0%} of {overall.items} items are 'both bad' (a majority of their labels "
            f"say neither response is acceptable), above the cap of {cap:.0%}; overall {summary}"
        )
    low = sorted(
        (r.rate, name, r)
        for name, w in strata.items()
        if (r := w.by_tie_rule[rules.ties]).comparisons >= MIN_STRATUM_DECISIVE
        and r.rate is not None
        and r.rate < rules.stratum_floor
    )
    if low:
        rate, name, r = low[0]
        return "BLOCKED", (
            f"stratum '{name}' collapses: candidate preferred on {rate:.0%} of {r.comparisons} "
            f"{unit} ({ties}), below the floor of {rules.stratum_floor:.0%}; overall {summary}"
        )
    if test == SIGN_OFF:
        return "SIGN-OFF", f"{summary}, above the threshold of {thr:.0%}"
    if test == BLOCKED:
        return "BLOCKED", f"{summary}: even the upper bound is below the threshold of {thr:.0%}"
    more = overall.more_pairs_needed
    extra = f"; about {more} more pairs would decide it at the observed rate" if more else ""
    return "NOT ENOUGH EVIDENCE", (
        f"{summary}: the interval contains the threshold of {thr:.0%}{extra}"
    )

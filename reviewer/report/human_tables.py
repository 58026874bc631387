"""The humans' and the verdict's part of the report as text: the headline, the rate under each
tie rule, win rates by stratum and criterion under the deciding rule, label quality and flagged
pairs. `render` lays them out as Markdown and HTML; both read these rows."""

from __future__ import annotations

from reviewer.analysis.tie_rules import RULE_TEXT, TIE_RULES, UNIT
from reviewer.report.model import Report, WinRateOut


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def deciding(w: WinRateOut, r: Report) -> tuple[float | None, float | None, float | None]:
    """(rate, low, high) under the deciding tie rule, with the interval the verdict reads."""
    rr = w.by_tie_rule[r.verdict.tie_rule]
    if r.verdict.guarantee == "anytime-valid":
        return rr.rate, rr.anytime_low, rr.anytime_high
    return rr.rate, rr.low, rr.high


def interval_name(r: Report) -> str:
    if r.verdict.guarantee == "anytime-valid":
        return "anytime-valid"
    return "fixed-n bootstrap" if r.verdict.tie_rule == "half" else "fixed-n Wilson"


def headline(r: Report) -> str:
    """The deciding rate first, the other two beside it, then how items are counted."""
    w, rule = r.humans.win_rate, r.verdict.tie_rule
    rate, low, high = deciding(w, r)
    n = w.by_tie_rule[rule].comparisons
    half = w.by_tie_rule["half"].rate
    worst = r.humans.worst_stratum
    worst_text = (
        f" Weakest stratum: {worst} at {_pct(deciding(r.humans.by_stratum[worst], r)[0])}."
        if worst
        else ""
    )
    conf = r.rules.get("confidence", 0.95)
    return (
        f"Deciding rate ({RULE_TEXT[rule]}, signoff.ties = {rule}): the candidate was preferred "
        f"on {_pct(rate)} of {n} {UNIT[rule]} ({w.candidate} wins, {w.tie} ties, {w.baseline} "
        f"losses; {interval_name(r)} {conf:.0%} CI {_pct(low)}-{_pct(high)}; threshold "
        f"{_pct(w.threshold)}). Candidate preferred on {_pct(w.rate)} of {w.decisive} decisive "
        f"pairs (ties excluded; Wilson {_pct(w.low)}-{_pct(w.high)}); {_pct(half)} with ties "
        f"counting half.{worst_text} Each item counts once: its human labels are reduced to "
        "one outcome by majority, and an item without a majority is a tie."
    )


TIE_RULE_HEAD = [
    "tie rule",
    "decides",
    "rate",
    "wins counted",
    "comparisons",
    "anytime-valid 95% CI",
    "fixed-n 95% CI",
]


def tie_rule_rows(r: Report) -> list[list[str]]:
    """The overall rate under each tie rule, side by side; one of them decides."""
    rows = []
    for rule in TIE_RULES:
        rr = r.humans.win_rate.by_tie_rule[rule]
        rows.append(
            [
                RULE_TEXT[rule],
                "yes" if rule == r.verdict.tie_rule else "",
                _pct(rr.rate),
                f"{rr.score:g}",
                str(rr.comparisons),
                f"{_pct(rr.anytime_low)}-{_pct(rr.anytime_high)}",
                f"{_pct(rr.low)}-{_pct(rr.high)}",
            ]
        )
    return rows


def rate_head(r: Report) -> list[str]:
    return [
        "",
        f"win rate ({RULE_TEXT[r.verdict.tie_rule]})",
        f"95% CI ({interval_name(r)})",
        "decisive win rate",
        "candidate",
        "baseline",
        "tie",
        "both bad",
        "p (decisive vs threshold)",
    ]


def rate_rows(rows: dict[str, WinRateOut], r: Report) -> list[list[str]]:
    """Win rates by stratum or criterion: the deciding rule first, then the decisive rate."""
    out = []
    for name, w in rows.items():
        rate, low, high = deciding(w, r)
        bad = "-" if w.both_bad is None else f"{w.both_bad} ({_pct(w.both_bad_share)})"
        p = "n/a" if w.p_value is None else f"{w.p_value:.3f}"
        out.append(
            [
                name,
                _pct(rate),
                f"{_pct(low)}-{_pct(high)}",
                _pct(w.rate),
                str(w.candidate),
                str(w.baseline),
                str(w.tie),
                bad,
                p,
            ]
        )
    return out


def quality_rows(r: Report) -> list[list[str]]:
    """Both-bad share, flagged pairs and what the config left out."""
    q = r.quality
    cap = "none" if q.max_both_bad_share is None else f"{q.max_both_bad_share:.0%}"
    labels_share = f"{q.both_bad_labels} of {q.labels} labels" if q.labels else "no labels"
    rows = [
        [
            "both bad (share of items)",
            f"{q.both_bad_items} of {q.items} items ({_pct(q.both_bad_share)}; {labels_share}); "
            f"cap {cap}",
        ],
        [
            "flagged pairs",
            f"{q.flagged_items} items, {len(q.flagged)} labels; "
            + (
                f"left out of the win rates ({q.excluded_items} items)"
                if q.exclude_flagged
                else "counted in the win rates"
            ),
        ],
        ["how items are counted", q.method],
    ]
    if q.beyond_planned:
        rows.append(["labeled after the planned sample", f"{q.beyond_planned} items, not counted"])
    return rows


def flagged_rows(r: Report) -> list[list[str]]:
    return [[f.pair_id, f.stratum, f.annotator, f.outcome, f.reason] for f in r.quality.flagged]

"""The judge's parts of the report for people: its gate standing in words, the warnings
stamped in red, and the rows of its table that measure it against the humans. Both formats
(Markdown and HTML, reviewer/report/render.py) read them."""

from __future__ import annotations

from reviewer.analysis.judge_measures import interval_shown
from reviewer.report.model import Interval, JudgeGate, JudgeOut, Report


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def judge_ci(i: Interval | None, items: int | None = None) -> str:
    """A judge estimate with its interval, or "n too small" when the interval rests on fewer
    than MIN_INTERVAL_ITEMS items (`items`: how many, when its n counts something else)."""
    if i is None or i.value is None:
        return "n/a"
    if not interval_shown(i, items):
        return f"n too small (n={i.n if items is None else min(i.n, items)})"
    return f"{i.value:.2f} ({_num(i.low)}-{_num(i.high)}, n={i.n})"  # as render.ci


def judge_measure_rows(j: JudgeOut, labeled: int) -> list[list[str]]:
    """Verdicts one by one, consistency, correlation, the length baseline and the served
    models (absent from reports of older data)."""
    rows = []
    if (per := j.per_verdict_agreement) is not None:
        rows.append(
            [
                "agreement with human majority, each order's verdict counted (n = verdicts)",
                judge_ci(per, per.n // 2),
            ]
        )
    if j.positional_consistency is not None:
        rows.append(
            ["positional consistency (both orders agree; n = items)",
             judge_ci(j.positional_consistency)]
        )  # fmt: skip
    if j.correlation is not None:
        rows.append(["correlation with the humans' preference (r)", judge_ci(j.correlation)])
    if (b := j.length_baseline) is not None:
        rows.append(
            [
                "length baseline: 'the longer response wins', same items",
                f"agreement with human majority {judge_ci(b.decisive_agreement)}; with human "
                f"labels {judge_ci(b.vs_humans_with_ties, labeled)}; correlation "
                f"{judge_ci(b.correlation)}",
            ]
        )
    if j.served_models:
        rows.append(
            [
                "served by (model the provider named)",
                ", ".join(f"{m}: {n} verdicts" for m, n in j.served_models.items()),
            ]
        )
    return rows


def panel_rows(j: JudgeOut) -> list[list[str]]:
    """A panel's members (each has its own table), and how the panel votes."""
    if not j.members:
        return []
    return [
        [
            "panel of (majority of the members' verdicts over both orders; a split is a tie)",
            ", ".join(f"{m.name} ({m.judge_id})" for m in j.members),
        ]
    ]


def gate_text(g: JudgeGate) -> str:
    text = {
        "passed": f"passed on the {g.part} calibration pairs",
        "failed": f"FAILED on the {g.part} calibration pairs",
        "not calibrated": "not calibrated",
        "overridden": f"OVERRIDDEN by {g.override_by}: {g.override_reason}",
        "external": "verdicts imported from another tool; not calibrated here",
    }[g.status]
    if g.failures:
        text += " (" + "; ".join(g.failures) + ")"
    if g.human_only_criteria:
        text += "; human-only criteria: " + ", ".join(g.human_only_criteria)
    if g.served_models_not_calibrated:
        text += (
            "; some verdicts were served by "
            + ", ".join(g.served_models_not_calibrated)
            + ", which its calibration never saw (calibrated on "
            + ", ".join(g.calibration_served_models)
            + ")"
        )
    return text


def gate_warnings(r: Report) -> list[str]:
    """Judges whose results stand without a passing gate: the report says so in red."""
    return [
        f"Judge {j.name}: calibration gate {gate_text(j.gate)}. Its results below are not "
        "validated against the experts."
        for j in r.judges
        if j.gate.status in ("overridden", "failed", "not calibrated")
        or j.gate.served_models_not_calibrated
    ]

"""The checklist's lines for mechanical checks, latency and cost.

Each line is decided on its point estimate, as the rule is written ("mean >= base mean - 0.01",
"p99 <= 2x baseline"); its interval is shown beside it, so a pass that rests on a few items reads
as such. A rule with nothing to measure (no item scored, no latency recorded) is 'not measured',
which is not a pass.
"""

from __future__ import annotations

from reviewer.analysis.intervals import Interval
from reviewer.checks.declared import ChecklistConfig
from reviewer.checks.results import ChecklistLine, CheckResult, CheckSummary, Operations

TOLERANCE = 1e-9  # a measured value equal to its limit passes, whatever the float rounding
NOT_MEASURED = "not measured"


def not_measured(rule: str, why: str) -> ChecklistLine:
    return ChecklistLine(rule=rule, measured=f"{NOT_MEASURED}: {why}", status="not measured")


def interval_text(i: Interval, fmt: str = "{:+.3f}") -> str:
    """'+0.012 (95% CI -0.004 to +0.030, n=120)', the shape every checklist value takes."""
    if i.value is None:
        return NOT_MEASURED
    if i.low is None or i.high is None:
        return f"{fmt.format(i.value)} (n={i.n})"
    return f"{fmt.format(i.value)} (CI {fmt.format(i.low)} to {fmt.format(i.high)}, n={i.n})"


def line(rule: str, i: Interval, passed: bool, fmt: str = "{:+.3f}") -> ChecklistLine:
    return ChecklistLine(
        rule=rule,
        measured=interval_text(i, fmt),
        status="pass" if passed else "fail",
        value=i.value,
        low=i.low,
        high=i.high,
    )


def _statistic(s: CheckSummary) -> str:
    return "macro F1" if s.statistic == "macro_f1" else "mean"


def check_lines(
    result: CheckResult, rules: ChecklistConfig, worst_floor: float | None = None
) -> list[ChecklistLine]:
    """The mean, per-stratum, worst-stratum and schema-compliance lines of one check
    (`worst_floor`: the check's own floor, in place of the checklist's)."""
    name, overall = result.name, result.overall
    stat = _statistic(overall)
    lines = []
    if (margin := rules.check_mean_margin) is not None:
        rule = f"{name}: candidate {stat} >= baseline {stat} - {margin:g}"
        d = overall.difference
        lines.append(
            not_measured(rule, "no item scored")
            if d.value is None
            else line(rule, d, d.value >= -margin - TOLERANCE)
        )
    empty = sorted(k for k, s in result.by_stratum.items() if s.items == 0)
    measured = {k: s for k, s in result.by_stratum.items() if s.items}
    if (margin := rules.check_stratum_margin) is not None:
        rule = f"{name}: no stratum's {stat} below its baseline's by more than {margin:g}"
        lines.append(_stratum_line(rule, measured, empty, margin))
    if (floor := worst_floor if worst_floor is not None else rules.check_worst_floor) is not None:
        rule = f"{name}: candidate {stat} in its worst stratum >= {floor:g}"
        if empty or not measured:
            lines.append(not_measured(rule, f"nothing scored in {', '.join(empty) or 'any'}"))
        else:
            worst = min(measured, key=lambda k: (measured[k].candidate or 0.0, k))
            s = measured[worst]
            value = Interval(value=s.candidate, low=None, high=None, n=s.items)
            passed = (s.candidate or 0.0) >= floor - TOLERANCE
            lines.append(line(rule, value, passed, "{:.3f}").model_copy(
                update={"measured": f"{worst}: {s.candidate:.3f} (n={s.items})"}
            ))  # fmt: skip
    if result.kind == "json_schema" and (share := rules.schema_compliance) is not None:
        lines.append(_schema_line(name, overall, share))
    return lines


def _stratum_line(
    rule: str, measured: dict[str, CheckSummary], empty: list[str], margin: float
) -> ChecklistLine:
    if empty or not measured:
        return not_measured(rule, f"nothing scored in {', '.join(empty) or 'any stratum'}")
    worst = min(measured, key=lambda k: (measured[k].difference.value or 0.0, k))
    d = measured[worst].difference
    out = line(rule, d, (d.value or 0.0) >= -margin - TOLERANCE)
    return out.model_copy(update={"measured": f"{worst}: {out.measured}"})


def _schema_line(name: str, overall: CheckSummary, share: float) -> ChecklistLine:
    rule = f"{name}: schema compliance of the candidate >= {share:.0%}"
    if not overall.items or overall.candidate is None:
        return not_measured(rule, "no output checked")
    valid = round(overall.candidate * overall.items)
    return ChecklistLine(
        rule=rule,
        measured=f"{overall.candidate:.1%} ({valid} of {overall.items} valid)",
        status="pass" if overall.candidate >= share - TOLERANCE else "fail",
        value=overall.candidate,
    )


def operations_lines(ops: Operations, rules: ChecklistConfig) -> list[ChecklistLine]:
    """Latency ratio and cost lines, for the limits the config sets."""
    lines = []
    for q, limit, ratio, cand, base in (
        (50, rules.max_latency_p50_ratio, ops.p50_ratio, ops.candidate.latency_p50_ms,
         ops.baseline.latency_p50_ms),
        (99, rules.max_latency_p99_ratio, ops.p99_ratio, ops.candidate.latency_p99_ms,
         ops.baseline.latency_p99_ms),
    ):  # fmt: skip
        if limit is None:
            continue
        rule = f"latency p{q} <= {limit:g}x the baseline's"
        if ratio.value is None:
            lines.append(not_measured(rule, "the pairs carry no latency of both models"))
            continue
        out = line(rule, ratio, ratio.value <= limit + TOLERANCE, "{:.2f}x")
        extra = f"; candidate {cand:.0f} ms, baseline {base:.0f} ms"
        lines.append(out.model_copy(update={"measured": out.measured + extra}))
    if (budget := rules.max_cost_per_1k_usd) is not None:
        rule = f"cost per 1,000 requests <= ${budget:,.2f}"
        c = ops.cost_per_1k
        if c.value is None:
            lines.append(not_measured(rule, "the pairs carry no candidate_cost_usd"))
        else:
            out = line(rule, c, c.value <= budget + TOLERANCE, "${:,.2f}")
            base = ops.baseline.cost_per_1k_usd
            extra = "" if base is None else f"; baseline ${base:,.2f}"
            lines.append(out.model_copy(update={"measured": out.measured + extra}))
    return lines

"""The checklist, the mechanical checks and latency/cost as text tables, for both formats.

Tables are (title, head, rows) of plain text; `reviewer.report.render` escapes them for Markdown
and the HTML template autoescapes them.
"""

from __future__ import annotations

from reviewer.checks.checklist import interval_text
from reviewer.checks.results import Checklist, ChecklistLine, CheckResult, CheckSummary
from reviewer.report.model import Report

TextTable = tuple[str, list[str], list[list[str]]]
STATUS = {"pass": "PASS", "fail": "FAIL", "not measured": "NOT MEASURED"}


def _cell(x: ChecklistLine | None) -> str:
    return "(not in this study)" if x is None else f"{STATUS[x.status]}: {x.measured}"


def _verdict(checklist: Checklist) -> str:
    passing = sum(x.status == "pass" for x in checklist.lines)
    word = "PASS" if checklist.passed else "FAIL"
    return f"{word} ({passing} of {len(checklist.lines)} lines pass)"


def checklist_summary(r: Report) -> str:
    """'Go/no-go checklist: PASS (5 of 5 lines pass)', or one such verdict per study
    ('vs study-a: ..., vs study-b: ...') when other baselines are shown beside it."""
    if not r.comparisons:
        return f"Go/no-go checklist: {_verdict(r.checklist)}"
    parts = [f"vs {r.study}: {_verdict(r.checklist)}"] + [
        f"vs {c.study}: {_verdict(c.checklist)} (shared items: {c.shared_items})"
        for c in r.comparisons
    ]
    return "Go/no-go checklist, " + "; ".join(parts)


def checklist_table(r: Report) -> TextTable:
    """Each rule with its measured value and status; one column per study when compared."""
    if not r.comparisons:
        rows = [[x.rule, x.measured, STATUS[x.status]] for x in r.checklist.lines]
        return ("Go/no-go checklist", ["rule", "measured", "status"], rows)
    lists = [r.checklist, *(c.checklist for c in r.comparisons)]
    rules = list(dict.fromkeys(x.rule for cl in lists for x in cl.lines))
    by_rule = [{x.rule: x for x in cl.lines} for cl in lists]
    head = ["rule", f"vs {r.study}", *(f"vs {c.study}" for c in r.comparisons)]
    rows = [[rule, *(_cell(lines.get(rule)) for lines in by_rule)] for rule in rules]
    return ("Go/no-go checklist", head, rows)


CHECK_HEAD = [
    "stratum",
    "items (unscored)",
    "candidate",
    "baseline",
    "difference (CI)",
    "worst item (candidate / baseline)",
    "dropped most",
]


def _row(name: str, s: CheckSummary) -> list[str]:
    def score(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    worst = s.worst_item
    return [
        name,
        f"{s.items} ({s.unscored})",
        score(s.candidate),
        score(s.baseline),
        interval_text(s.difference),
        "none"
        if worst is None
        else f"{worst.pair_id} ({worst.candidate:.2f} / {worst.baseline:.2f})",
        ", ".join(f"{d.pair_id} ({d.candidate - d.baseline:+.2f})" for d in s.dropped) or "none",
    ]


def check_table(c: CheckResult) -> TextTable:
    stat = "macro F1" if c.overall.statistic == "macro_f1" else "mean score"
    rows = [_row(name, s) for name, s in c.by_stratum.items()] + [_row("all", c.overall)]
    for label, f1 in c.overall.per_class.items():
        rows.append([f"class {label}", "", f"{f1['candidate']:.3f}", f"{f1['baseline']:.3f}",
                     "F1 of this class", "", ""])  # fmt: skip
    title = f"Check {c.name} ({c.kind}, {stat}" + (f", against {c.target})" if c.target else ")")
    return (title, CHECK_HEAD, rows)


def operations_table(r: Report) -> TextTable | None:
    ops = r.operations
    if ops is None or not (ops.latency_items or ops.cost_items):
        return None

    def ms(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.0f} ms"

    def usd(x: float | None) -> str:
        return "n/a" if x is None else f"${x:,.2f}"

    c, b = ops.candidate, ops.baseline
    rows = [
        ["latency p50", ms(c.latency_p50_ms), ms(b.latency_p50_ms),
         interval_text(ops.p50_ratio, "{:.2f}x")],
        ["latency p99", ms(c.latency_p99_ms), ms(b.latency_p99_ms),
         interval_text(ops.p99_ratio, "{:.2f}x")],
        ["cost per 1,000 requests", usd(c.cost_per_1k_usd), usd(b.cost_per_1k_usd),
         interval_text(ops.cost_per_1k, "${:,.2f}")],
    ]  # fmt: skip
    head = ["measure", "candidate", "baseline", "candidate / baseline (or candidate), CI"]
    return (f"Latency and cost ({ops.latency_items} pairs timed)", head, rows)


def mechanical_tables(r: Report) -> list[TextTable]:
    """The checks' tables, then latency and cost when the pairs carry them."""
    tables = [check_table(c) for c in r.checks]
    if (ops := operations_table(r)) is not None:
        tables.append(ops)
    return tables

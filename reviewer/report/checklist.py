"""The go/no-go checklist of one study: human preference (the sign-off rule), the judge, each
mechanical check, latency and cost, each line pass, fail or not measured.

The lines for checks, latency and cost come from `reviewer.checks.checklist`; this module adds
the two that read the report's own results (the human verdict, the judges) and the data the
checks read from the store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from reviewer.analysis.intervals import Interval
from reviewer.checks.checklist import check_lines, line, not_measured, operations_lines
from reviewer.checks.operations import operations
from reviewer.checks.results import Checklist, ChecklistLine, CheckResult, Operations
from reviewer.checks.summary import CheckPair, PairTable, check_result
from reviewer.config import StudyConfig
from reviewer.report.model import JudgeOut, SideResult, Verdict
from reviewer.store.check_data import check_pairs
from reviewer.store.connection import Cursor


@dataclass
class Mechanical:
    """The checks and operations measured on a study's pairs."""

    pairs: int
    checks: list[CheckResult]
    operations: Operations


def measure(cur: Cursor, study_id: str, cfg: StudyConfig, resamples: int) -> Mechanical:
    """Every declared check, and latency and cost, over the study's pairs."""
    rows = check_pairs(cur, study_id)  # (pair_id, stratum, candidate, baseline, reference, text)
    *fields, texts = zip(*rows, strict=True) if rows else ((),) * 6
    # One table: the checks share what they derive from the texts (no generator step a pair).
    pairs = PairTable(map(CheckPair, *fields, map(_metadata, texts)))
    opts = {"confidence": cfg.signoff.confidence, "seed": cfg.seed, "resamples": resamples}
    return Mechanical(
        pairs=len(pairs),
        checks=[check_result(c, pairs, **opts) for c in cfg.checks],
        operations=operations(pairs, **opts),
    )


def _metadata(text: str | None) -> dict:
    """A pair's metadata; most pairs carry none (no parse for each of 100,000 "{}")."""
    return json.loads(text) if text and text != "{}" else {}


def human_line(verdict: Verdict, humans: SideResult, cfg: StudyConfig) -> ChecklistLine:
    """The sign-off rule's verdict as a line: it passes only on SIGN-OFF."""
    rules = cfg.signoff
    rule = (
        f"human preference: lower bound of the win rate ({rules.ties}) above "
        f"{rules.win_rate_threshold:.0%}, no stratum below {rules.stratum_floor:.0%} "
        "(the sign-off rule)"
    )
    r = humans.win_rate.by_tie_rule.get(verdict.tie_rule)
    if r is None or r.comparisons == 0 or r.rate is None:
        return not_measured(rule, "no human label")
    low, high = (
        (r.anytime_low, r.anytime_high) if verdict.guarantee == "anytime-valid" else (r.low, r.high)
    )
    out = line(
        rule,
        _interval(r.rate, low, high, r.comparisons),
        verdict.decision == "SIGN-OFF",
        "{:.0%}",
    )
    return out.model_copy(update={"measured": f"{out.measured}: {verdict.decision}"})


def judge_line(judges: list[JudgeOut], pairs: int, cfg: StudyConfig) -> ChecklistLine | None:
    """A calibrated judge's win rate on every pair, when the checklist sets a threshold."""
    threshold = cfg.checklist.judge_win_rate
    if threshold is None:
        return None
    ties = cfg.signoff.ties
    rule = f"judge win rate ({ties}): lower bound >= {threshold:.0%}, calibrated judge, all pairs"
    fit = [j for j in judges if j.gate.status == "passed" and j.result.win_rate.items >= pairs]
    if not fit or pairs == 0:
        return not_measured(
            rule, f"no judge passed its calibration gate and scored all {pairs} pairs"
        )
    j = max(fit, key=lambda j: (j.result.win_rate.items, j.name))
    r = j.result.win_rate.by_tie_rule[ties]
    if r.rate is None or r.low is None:
        return not_measured(rule, f"judge {j.name} decided no pair")
    out = line(rule, _interval(r.rate, r.low, r.high, r.comparisons), r.low >= threshold, "{:.0%}")
    return out.model_copy(update={"measured": f"judge {j.name}: {out.measured}"})


def _interval(value: float, low: float | None, high: float | None, n: int) -> Interval:
    return Interval(value=value, low=low, high=high, n=n)


def checklist(
    cfg: StudyConfig,
    verdict: Verdict,
    humans: SideResult,
    judges: list[JudgeOut],
    measured: Mechanical,
) -> Checklist:
    """Every line the config declares, in the order the report shows them."""
    lines: list[ChecklistLine] = []
    if cfg.checklist.human_preference:
        lines.append(human_line(verdict, humans, cfg))
    if (judge := judge_line(judges, measured.pairs, cfg)) is not None:
        lines.append(judge)
    for check, result in zip(cfg.checks, measured.checks, strict=True):
        lines += check_lines(result, cfg.checklist, check.worst_floor)
    lines += operations_lines(measured.operations, cfg.checklist)
    # An empty checklist decides nothing, so it does not pass.
    return Checklist(passed=bool(lines) and all(x.status == "pass" for x in lines), lines=lines)

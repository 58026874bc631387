"""A judge run, its cost estimate and a calibration as plain text: the terminal prints it, the
admin page shows it in a code block, so both read the same words."""

from __future__ import annotations

from judge.runner import CostEstimate, Summary
from reviewer.analysis.calibration import CalibrationOut
from reviewer.analysis.intervals import Interval
from reviewer.analysis.judge_measures import interval_shown
from reviewer.judging.service import CalibrationResult


def describe_calibration(result: CalibrationResult) -> str:
    """The calibration as text for the terminal."""
    lines = [f"calibration of judge {result.name} ({result.judge_id})"]
    for m in (result.development, result.deciding):
        if m is None:
            continue
        lines += _describe_part(m)
    if result.gate is None:
        lines.append(
            "gate: not decided yet: the held-out pairs are scored only by the final check; "
            "tune the rubric on the development part, then run with --final"
        )
    else:
        lines.append(
            f"gate ({result.gate.part} pairs): {'PASSED' if result.gate.passed else 'FAILED'}"
        )
        lines += [f"  {'ok  ' if r.passed else 'FAIL'} {r.text}" for r in result.gate.rules]
        if result.gate.human_only_criteria:
            lines.append(
                "  human-only criteria (below their floor): "
                + ", ".join(result.gate.human_only_criteria)
            )
    return "\n".join(lines)


def interval_text(i: Interval | None, items: int | None = None) -> str:
    """An estimate with its interval, or why there is none: an interval resting on fewer than
    MIN_INTERVAL_ITEMS items is not shown as one."""
    if i is None or i.value is None:
        return "n/a"
    if not interval_shown(i, items):
        return f"n too small (n={i.n if items is None else min(i.n, items)})"
    if i.low is None or i.high is None:
        return f"{i.value:.2f}"
    return f"{i.value:.2f} [{i.low:.2f}, {i.high:.2f}]"


_fmt = interval_text


def _describe_part(m: CalibrationOut) -> list[str]:
    rate = lambda x: "n/a" if x is None else f"{x:.0%}"  # noqa: E731
    u = m.usable
    lines = [
        f"{m.part} part: {m.pairs} pairs, {m.usable} usable ({m.without_labels} without human "
        f"labels, {m.without_verdict} without a verdict in both orders, {m.one_order_only} of "
        "them judged in one order only)",
        f"  agreement with the human majority on decisive pairs: {_fmt(m.decisive_agreement)}",
        f"  judge vs the human majority: agreement {_fmt(m.vs_majority['agreement'])}, kappa "
        f"{_fmt(m.vs_majority['kappa'])}; without ties: agreement "
        f"{_fmt(m.vs_majority_without_ties['agreement'])}, kappa "
        f"{_fmt(m.vs_majority_without_ties['kappa'])}",
        f"  judge vs each human label: agreement {_fmt(m.vs_humans_with_ties['agreement'], u)}, "
        f"kappa {_fmt(m.vs_humans_with_ties['kappa'], u)}; without ties: agreement "
        f"{_fmt(m.vs_humans_without_ties['agreement'], u)}",
        f"  humans among themselves (the ceiling): agreement "
        f"{_fmt(m.humans.get('agreement'), u)}, kappa {_fmt(m.humans.get('kappa'), u)}",
        f"  flip rate under order swap {rate(m.flip_rate)}; first response picked "
        f"{rate(m.first_position_rate)}; picks the longer response: judge "
        f"{rate(m.judge_picks_longer)}, humans {rate(m.humans_pick_longer)}",
        *_second_gate_lines(m),
    ]
    if m.by_criterion:
        lines.append(
            "  by criterion: " + ", ".join(f"{k} {_fmt(v)}" for k, v in m.by_criterion.items())
        )
    if m.by_stratum:
        lines.append(
            "  by stratum: " + ", ".join(f"{k} {_fmt(v)}" for k, v in m.by_stratum.items())
        )
    return lines


def _second_gate_lines(m: CalibrationOut) -> list[str]:
    """Verdicts one by one, the correlation the gate tests, the length baseline and the served
    models (absent from calibrations stored before them)."""
    lines = []
    if m.per_verdict_agreement is not None and m.positional_consistency is not None:
        per = m.per_verdict_agreement
        lines.append(
            f"  each verdict on its own (LLMBar, JudgeBench, AlpacaEval): agreement with the "
            f"human majority {_fmt(per, per.n // 2)} over {per.n} verdicts; both orders agree "
            f"on {_fmt(m.positional_consistency)} of {m.positional_consistency.n} pairs"
        )
    if m.correlation is not None:
        p = "n/a" if m.chance_p_value is None else f"{m.chance_p_value:.3f}"
        lines.append(
            f"  correlation with the humans' preference: r = {_fmt(m.correlation)}; chance of "
            f"as much from a judge unrelated to them (permutation test): p = {p}"
        )
    if (b := m.length_baseline) is not None:
        lines.append(
            f"  length baseline, 'the longer response wins' (candidate longer on "
            f"{b.candidate_longer} pairs, baseline on {b.baseline_longer}, equal "
            f"{b.equal_length}): agreement with the human majority on decisive pairs "
            f"{_fmt(b.decisive_agreement)}, with each human label "
            f"{_fmt(b.vs_humans_with_ties, m.usable)}, correlation {_fmt(b.correlation)}"
        )
    if m.served_models:
        lines.append(
            "  served by: "
            + ", ".join(f"{name} ({n} verdicts)" for name, n in m.served_models.items())
        )
    return lines


def describe_estimate(est: CostEstimate, model: str) -> str:
    if est.cost_expected is None or est.cost_max is None:
        cost = f"unknown: no price for {model!r} (free if local; else give --prices FILE)"
    else:
        cost = f"~${est.cost_expected:,.4f} expected, ${est.cost_max:,.4f} at most"
    return "\n".join(
        [
            f"dry run for {model}: {est.needed} verdicts wanted, {est.cached} already cached",
            f"  calls to make: {est.calls}",
            f"  input tokens: ~{est.input_tokens:,} (estimated at 4 characters per token)",
            f"  output tokens: ~{est.output_tokens_expected:,} expected, "
            f"{est.output_tokens_max:,} at most (max_tokens per call)",
            f"  cost: {cost}",
        ]
    )


def describe_summary(name: str, judge_id: str, s: Summary) -> str:
    rate = lambda x: "n/a" if x is None else f"{x:.1%}"  # noqa: E731
    lines = [
        f"judge {name} ({judge_id}): {s.verdicts}/{s.needed} verdicts in {s.seconds:.1f} s",
        f"  from cache: {s.cached}; calls made: {s.calls} ({s.retries} retries)",
        f"  tokens: {s.input_tokens:,} in, {s.output_tokens:,} out; cost ${s.cost_usd:,.4f}",
        f"  order swap: {s.flips} of {s.pairs_both_orders} pairs flipped "
        f"(flip rate {rate(s.flip_rate)}); first response picked {rate(s.first_position_rate)} "
        "of decisive verdicts",
    ]
    if s.parse_failures or s.errors:
        lines.append(
            f"  not judged: {s.parse_failures} unparseable answers, {s.errors} failed calls "
            "(run again to retry them)"
        )
        lines += [f"    {f}" for f in s.failures]
    if s.stopped:
        lines.append(
            f"  stopped early: {s.stopped}; {s.missing} verdicts missing, run again to resume"
        )
    return "\n".join(lines)

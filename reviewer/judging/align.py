"""Align a judge with the experts on the development part of the calibration set.

The judge is calibrated on the development pairs (cached: a judge already calibrated there pays
nothing), the pairs where the experts agreed and it did not become few-shot examples with the
experts' rationales and ratings (the rule is in `judge.align`), and the new rubric version, a new
judge with its own hash, is written beside the old rubric and calibrated on the same pairs. The
held-out part is never read here: its pairs can enter neither an example nor a call, so the final
check that decides the gate stays untouched by the tuning.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from pydantic import BaseModel, Field

from judge.align import (
    ExpertCase,
    aligned_path,
    aligned_rubric,
    eligible,
    select_examples,
    write_rubric,
)
from judge.runner import RunProgress, Summary
from reviewer.analysis.calibration import CalibrationOut
from reviewer.analysis.intervals import Interval
from reviewer.analysis.outcomes import human_criteria, judge_outcomes
from reviewer.columns import columns_of
from reviewer.errors import SignoffError
from reviewer.judging import service
from reviewer.judging.describe import interval_text as _fmt
from reviewer.judging.options import JudgeOptions, prepare
from reviewer.judging.scope import calibration_parts, study_pairs
from reviewer.store import Store, report_data
from reviewer.store import studies as study_sql
from reviewer.store.connection import Cursor
from reviewer.study.lifecycle import require_study

DEFAULT_MAX_EXAMPLES = 6
DEFAULT_MIN_EXPERTS = 2


class AlignResult(BaseModel):
    base_judge_id: str
    name: str
    before: CalibrationOut = Field(description="The judge as given, on the development pairs.")
    eligible: int = Field(description="Development pairs where the experts agreed, the judge not.")
    examples: list[str] = Field(description="Pair ids made into few-shot examples, in order.")
    max_examples: int
    min_experts: int
    seed: int = Field(description="The study's seed, which drew the examples.")
    aligned_judge_id: str | None = Field(None, description="Null when nothing was eligible.")
    rubric_path: str | None = None
    rubric_hash: str | None = None
    after: CalibrationOut | None = Field(None, description="The aligned judge, same pairs.")


def expert_cases(
    cur: Cursor, study_id: str, judge_id: str, development: set[str]
) -> list[ExpertCase]:
    """The development pairs with their experts' latest labels and the judge's outcome."""
    cfg = require_study(cur, study_id).config
    labels = [r for r in report_data.latest_labels(cur, study_id) if r["pair_id"] in development]
    by_pair: dict[str, list[dict]] = defaultdict(list)
    for row in labels:
        by_pair[row["pair_id"]].append(row)
    criteria = human_criteria(columns_of(labels, ("pair_id", "criteria_json")), cfg)
    verdicts = [
        v
        for v in report_data.verdicts(cur, study_id)
        if v["judge_id"] == judge_id and v["pair_id"] in development
    ]
    judged = judge_outcomes(verdicts).overall
    return [
        ExpertCase(
            pair_id=p.pair_id,
            prompt=p.prompt,
            candidate=p.candidate,
            baseline=p.baseline,
            preferences=tuple(r["preference"] for r in by_pair[p.pair_id]),
            judge=judged.get(p.pair_id),
            rationales=tuple(r["rationale"] or "" for r in by_pair[p.pair_id]),
            criteria={
                name: tuple(items[p.pair_id])
                for name, items in criteria.items()
                if p.pair_id in items
            },
        )
        for p in study_pairs(cur, study_id, development)
        if by_pair[p.pair_id]
    ]


def align(
    store: Store,
    study_id: str,
    options: JudgeOptions,
    actor: str,
    *,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    min_experts: int = DEFAULT_MIN_EXPERTS,
    out: Path | None = None,
    on_progress: Callable[[RunProgress], None] | None = None,
    resamples: int = 1000,
) -> AlignResult:
    """Calibrate the judge on the development pairs, write the aligned rubric and calibrate the
    new judge on the same pairs; `out` is the new rubric's file (default: beside the old one)."""
    if max_examples < 1 or min_experts < 2:
        raise SignoffError(
            "align needs --max-examples of at least 1 and --min-experts of 2 or more"
        )
    development, held_out, seed = store.read(lambda cur: _parts(cur, study_id))
    if not held_out:
        raise SignoffError(
            f"study {study_id!r} holds no calibration pairs out (calibration.holdout_fraction "
            "is 0): aligning would tune the judge on the pairs that decide its gate"
        )
    base = prepare(options)
    before, judged = service.calibrate(
        store, study_id, options, actor, on_progress=on_progress, resamples=resamples
    )
    _require_judged(judged, base.name)
    cases = store.read(lambda cur: expert_cases(cur, study_id, base.judge_id, development))
    chosen = select_examples(cases, max_examples, seed, min_experts)
    result = AlignResult(
        base_judge_id=base.judge_id, name=base.name, before=_development(before),
        eligible=len(eligible(cases, min_experts)),
        examples=[c.pair_id for c in chosen], max_examples=max_examples,
        min_experts=min_experts, seed=seed,
    )  # fmt: skip
    if chosen:
        rubric = aligned_rubric(base.spec.rubric, chosen)
        path = out or aligned_path(options.rubric_path, rubric)
        if path.resolve() == options.rubric_path.resolve():
            raise SignoffError(f"{path}: the aligned rubric must not replace the rubric it extends")
        header = (
            f"Aligned with the experts by `signoff judge align` on study {study_id}: the rubric\n"
            f"{options.rubric_path.name} with {len(chosen)} few-shot examples from development "
            f"pairs ({', '.join(result.examples)}),\ndrawn with seed {seed}."
        )
        try:
            write_rubric(rubric, path, header)
        except OSError as exc:
            raise SignoffError(f"{path}: cannot write the aligned rubric: {exc}") from None
        after, judged = service.calibrate(
            store, study_id, replace(options, rubric_path=path), actor,
            on_progress=on_progress, resamples=resamples,
        )  # fmt: skip
        _require_judged(judged, f"{base.name} (aligned, {path})")
        result.aligned_judge_id, result.after = after.judge_id, _development(after)
        result.rubric_path, result.rubric_hash = str(path), rubric.content_hash()
    store.write(lambda cur: _record(cur, study_id, actor, result))
    return result


def _require_judged(summary: Summary, name: str) -> None:
    """Alignment compares verdicts with the experts: a judge whose calls mostly failed has
    nothing to compare, and "nothing to learn" would be a false all-clear."""
    if summary.needed and summary.verdicts < service.MIN_JUDGED_SHARE * summary.needed:
        reasons = "; ".join(summary.failures[:3]) or summary.stopped or "no answer"
        raise service.TooFewJudged(
            f"judge {name} gave only {summary.verdicts} of {summary.needed} development "
            f"verdicts ({reasons}); nothing aligned, run again to retry the missing ones"
        )


def _parts(cur: Cursor, study_id: str) -> tuple[set[str], set[str], int]:
    cfg = require_study(cur, study_id).config
    development, held_out = calibration_parts(cur, study_id, cfg)
    return development, held_out, cfg.seed


def _development(result: service.CalibrationResult) -> CalibrationOut:
    if result.development is None:  # only when nothing is held out, refused above
        raise SignoffError("the calibration measured no development part")
    return result.development


def _record(cur: Cursor, study_id: str, actor: str, result: AlignResult) -> None:
    study_sql.record_event(
        cur, study_id, actor, "judge.align",
        judge_id=result.aligned_judge_id, base_judge_id=result.base_judge_id,
        examples=result.examples, eligible=result.eligible, max_examples=result.max_examples,
        min_experts=result.min_experts, seed=result.seed, rubric_path=result.rubric_path,
        rubric_hash=result.rubric_hash,
        before=result.before.decisive_agreement.value,
        after=None if result.after is None else result.after.decisive_agreement.value,
    )  # fmt: skip


def describe_alignment(result: AlignResult) -> str:
    """Before and after on the development pairs, as the terminal and the admin page show it."""
    lines = [
        f"aligning judge {result.name} ({result.base_judge_id}) with the experts on the "
        f"development part ({result.before.pairs} pairs; the held-out part is never shown)",
        f"  {result.eligible} pairs where at least {result.min_experts} experts agreed and the "
        f"judge did not; {len(result.examples)} made into few-shot examples (at most "
        f"{result.max_examples}, drawn with the study seed {result.seed})",
    ]
    if result.after is None:
        lines.append("  nothing to learn from: no new rubric written, the judge is unchanged")
        return "\n".join(lines)
    lines += [
        f"  new rubric {result.rubric_path} (hash {(result.rubric_hash or '')[:12]}): judge "
        f"{result.aligned_judge_id}",
        "  development agreement            before -> after",
    ]
    for label, pick in MEASURES:
        lines.append(f"  {label:<33}{_fmt(pick(result.before))} -> {_fmt(pick(result.after))}")
    lines.append(
        "  the gate is decided only by the final check on the held-out pairs: run "
        "`signoff judge calibrate --final` with the new rubric"
    )
    return "\n".join(lines)


MEASURES: tuple[tuple[str, Callable[[CalibrationOut], Interval | None]], ...] = (
    ("majority, decisive pairs", lambda m: m.decisive_agreement),
    ("kappa with human labels (ties)", lambda m: m.vs_humans_with_ties.get("kappa")),
    ("agreement with labels (ties)", lambda m: m.vs_humans_with_ties.get("agreement")),
)

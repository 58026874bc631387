"""Run an LLM judge on a study: the study's pairs in, verdicts and a call log out.

The `judge` package does the judging; this module picks the pairs, registers the judge, checks
the gate before the full set, and measures a calibration against the humans.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from judge.providers import ProviderSetupError, make_provider
from judge.runner import (
    BudgetError,
    CostEstimate,
    PairInput,
    RunProgress,
    Summary,
    estimate,
    run_judge,
)
from reviewer.analysis.calibration import CalibrationOut
from reviewer.analysis.calibration import calibrate as calibrate_metrics
from reviewer.analysis.gate import GateOut, decide_gate
from reviewer.analysis.outcomes import JudgeOutcomes, judge_outcomes
from reviewer.errors import SignoffError
from reviewer.judging.batch import BatchSettings, judge_in_batches
from reviewer.judging.call_log import StoreCallLog, held_open
from reviewer.judging.gate import check_gate, gate_part
from reviewer.judging.options import JudgeOptions, PreparedJudge, prepare
from reviewer.judging.scope import JudgeScope, calibration_parts, load_scope
from reviewer.judging.served import ServedModelGuard, check_after, check_before, served_counts
from reviewer.store import Store, report_data
from reviewer.store import calibrations as calibration_sql
from reviewer.store import judge_calls as judge_sql
from reviewer.store import studies as study_sql
from reviewer.store.connection import Cursor
from reviewer.study.lifecycle import require_study

# A run that judged less than this share of what it was asked has failed, even if it ended
# (above it, the summary lists what is missing and a rerun asks for that only).
MIN_JUDGED_SHARE = 0.5


class TooFewJudged(SignoffError):
    """The judge's calls mostly failed: less than MIN_JUDGED_SHARE of the verdicts asked for."""

    exit_code = 6


def dry_run(store: Store, study_id: str, options: JudgeOptions, scope: JudgeScope) -> CostEstimate:
    """What a run would do and cost, counting what the cache already holds."""
    judge = prepare(options)
    _, pairs = load_scope(store, study_id, scope)
    log = StoreCallLog(store, study_id, judge.judge_id)
    return estimate(pairs, judge.spec, options.settings, judge.price, log)


def run(
    store: Store,
    study_id: str,
    options: JudgeOptions,
    scope: JudgeScope,
    actor: str,
    *,
    on_progress: Callable[[RunProgress], None] | None = None,
    override: str | None = None,
    batch: BatchSettings | None = None,
) -> tuple[PreparedJudge, Summary]:
    """Judge the study's pairs in both orders; resumable, cached, logged. Judging all pairs
    needs this exact judge version to have passed the study's gate, on answers from the model
    the provider serves now, or an override reason. With `batch`, through the provider's batch
    API (reviewer.judging.batch)."""
    judge = prepare(options)
    with held_open(store):  # one opening of the file for the command's reads and its run
        cfg, pairs = load_scope(store, study_id, scope)
        if scope == "all":
            check_gate(store, study_id, cfg, judge, override, actor)
        summary = run_prepared(
            store, study_id, options, judge, pairs, scope, actor,
            on_progress=on_progress, override=override, batch=batch,
        )  # fmt: skip
    return judge, summary


def run_prepared(
    store: Store,
    study_id: str,
    options: JudgeOptions,
    judge: PreparedJudge,
    pairs: list[PairInput],
    scope: JudgeScope,
    actor: str,
    *,
    on_progress: Callable[[RunProgress], None] | None = None,
    override: str | None = None,
    batch: BatchSettings | None = None,
) -> Summary:
    """Judge `pairs` once the gate is settled (by the caller: this judge's, or its panel's);
    on all pairs, the answers must come from the model the calibration saw, or the override
    is logged."""
    with held_open(store):  # the panel's runs come here without `run`
        calibrated, logged = set(), False
        if scope == "all":
            calibrated, logged = check_before(store, study_id, judge, override, actor)
        try:
            provider = make_provider(
                options.provider, options.model, options.base_url, options.mode, options.key_env
            )
        except ProviderSetupError as exc:
            raise SignoffError(str(exc)) from None
        guard = ServedModelGuard(provider, calibrated, strict=not override) if calibrated else None

        store.write(lambda cur: _register(cur, judge))
        log = StoreCallLog(store, study_id, judge.judge_id)
        try:
            if batch is not None:
                summary = judge_in_batches(
                    store, study_id, scope, judge, options, batch, pairs, on_progress
                )
            else:
                summary = run_judge(
                    pairs, judge.spec, guard or provider, log, options.settings, judge.price,
                    on_progress,
                )  # fmt: skip
        except BudgetError as exc:
            raise SignoffError(str(exc)) from None
        store.write(lambda cur: _record_run(cur, study_id, actor, judge, scope, summary))
        if scope == "all":
            check_after(store, study_id, judge, guard, override, actor, logged=logged)
    return summary


def _record_run(
    cur: Cursor, study_id: str, actor: str, judge: PreparedJudge, scope: str, summary: Summary
) -> None:
    study_sql.record_event(
        cur,
        study_id,
        actor,
        "judge.run",
        judge_id=judge.judge_id,
        pairs=scope,
        needed=summary.needed,
        verdicts=summary.verdicts,
        cached=summary.cached,
        calls=summary.calls,
        cost_usd=round(summary.cost_usd, 6),
        stopped=summary.stopped,
    )


def _register(cur: Cursor, judge: PreparedJudge) -> None:
    """Record the judge version (what it is and what it sends) before its first call: the
    stored template is the text the calls render, the one its version hash covers."""
    judge_sql.ensure_judge(
        cur,
        judge.judge_id,
        {
            "name": judge.name,
            "provider": judge.spec.provider,
            "model": judge.spec.model,
            "params": judge.spec.identity.output_params(),
            "rubric": judge.spec.rubric.model_dump(mode="json"),
            "template": judge.spec.prompt_text,
            "version_hash": judge.spec.identity.version_hash(),
        },
    )


class CalibrationResult(BaseModel):
    judge_id: str
    name: str
    development: CalibrationOut | None
    deciding: CalibrationOut | None = None  # held-out (final check) or all
    gate: GateOut | None = None


def calibrate(
    store: Store,
    study_id: str,
    options: JudgeOptions,
    actor: str,
    *,
    final: bool = False,
    on_progress: Callable[[RunProgress], None] | None = None,
    resamples: int = 1000,
) -> tuple[CalibrationResult, Summary]:
    """Judge the calibration pairs (development part; with `final`, the held-out part too),
    measure the judge against the humans and, where the gate is decided, decide it."""
    held_out = store.read(
        lambda cur: calibration_parts(cur, study_id, require_study(cur, study_id).config)[1]
    )
    scope: JudgeScope = "calibration" if not held_out or final else "development"
    judge, summary = run(store, study_id, options, scope, actor, on_progress=on_progress)

    def outcomes(rows: list[dict]) -> tuple[JudgeOutcomes, list[dict]]:
        mine = [v for v in rows if v["judge_id"] == judge.judge_id]
        return judge_outcomes(mine), mine

    result = measure_calibration(
        store, study_id, judge.judge_id, judge.name, actor, outcomes,
        final=final, resamples=resamples,
    )  # fmt: skip
    return result, summary


def measure_calibration(
    store: Store,
    study_id: str,
    judge_id: str,
    name: str,
    actor: str,
    outcomes: Callable[[list[dict]], tuple[JudgeOutcomes, list[dict]]],
    *,
    final: bool,
    resamples: int,
    **event: object,
) -> CalibrationResult:
    """Measure a judge (or a panel: `outcomes` turns the study's verdict rows into its outcomes
    and the rows they rest on) on the calibration parts, decide the gate where it is decided,
    and record both."""

    def measure(cur: Cursor) -> CalibrationResult:
        study = require_study(cur, study_id)
        cfg = study.config
        development, held_out = calibration_parts(cur, study_id, cfg)
        deciding = not held_out or final
        labels = report_data.latest_labels(cur, study_id)
        judged, rows = outcomes(report_data.verdicts(cur, study_id))
        pairs = report_data.pairs(cur, study_id)
        lengths = {i: (len(p["candidate"]), len(p["baseline"])) for i, p in pairs.items()}
        strata = {i: p["stratum"] or "unspecified" for i, p in pairs.items()}

        def metrics(part: str, ids: set[str]) -> CalibrationOut:
            out = calibrate_metrics(part, ids, labels, judged, lengths, strata, cfg, resamples)
            on = (r for r in rows if r["pair_id"] in ids)
            out.served_models = served_counts(r.get("served_model") for r in on)
            return out

        result = CalibrationResult(judge_id=judge_id, name=name, development=None)
        if held_out:
            result.development = metrics("development", development)
            calibration_sql.insert(
                cur, study_id, judge_id, "development",
                result.development.model_dump(mode="json"), None, study.config_hash,
            )  # fmt: skip
        if deciding:
            part = gate_part(held_out)
            result.deciding = metrics(part, held_out or development)
            result.gate = decide_gate(result.deciding, cfg)
            calibration_sql.insert(
                cur, study_id, judge_id, part, result.deciding.model_dump(mode="json"),
                result.gate.model_dump(mode="json"), study.config_hash,
            )  # fmt: skip
        # The gate is read from the config: from the first calibration on, neither may change.
        study_sql.freeze(cur, study_id, actor, reason="first judge calibration")
        study_sql.record_event(
            cur, study_id, actor, "judge.calibrate", judge_id=judge_id, final=deciding,
            passed=None if result.gate is None else result.gate.passed, **event,
        )  # fmt: skip
        return result

    return store.write(measure)

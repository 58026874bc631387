"""Run an LLM judge on a study: the study's pairs in, verdicts and a call log out.

The `judge` package does the judging; this module chooses the pairs, makes the judge's identity,
and plugs the store in as the judge's cache and call log.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from judge import JudgeIdentity, load_rubric, template_hash
from judge.pricing import DEFAULT_PRICES, Price, PricesError, load_prices
from judge.prompts import DEFAULT_TEMPLATE, SYSTEM
from judge.providers import ProviderSetupError, make_provider, resolve_mode
from judge.rubric import RubricError
from judge.runner import (
    BudgetError,
    Call,
    Estimate,
    JudgeSpec,
    OrderVerdict,
    PairInput,
    Progress,
    Settings,
    Summary,
    estimate,
    run_judge,
)
from reviewer.calibration import CalibrationOut, GateOut, decide_gate
from reviewer.calibration import calibrate as calibrate_metrics
from reviewer.config import StudyConfig
from reviewer.errors import SignoffError
from reviewer.outcomes import judge_outcomes
from reviewer.report.model import Interval
from reviewer.sampling import holdout_sample
from reviewer.store import Store, report_data
from reviewer.store import calibrations as calibration_sql
from reviewer.store import judge_calls as judge_sql
from reviewer.store import studies as study_sql
from reviewer.store.connection import Cursor, fetch_dicts
from reviewer.study import require_study

# development: the calibration pairs open to rubric tuning; held-out: the rest of the calibration
# set, scored only by the final check; calibration: both; all: every pair (behind the gate).
Scope = Literal["development", "held-out", "calibration", "all"]


@dataclass(frozen=True)
class JudgeChoice:
    """The judge a user asked for, as given on the command line or in the app."""

    provider: str
    model: str
    rubric_path: Path
    base_url: str | None = None
    mode: str = "auto"
    key_env: str | None = None
    name: str | None = None
    prices_path: Path | None = None
    settings: Settings = field(default_factory=Settings)


@dataclass(frozen=True)
class PreparedJudge:
    judge_id: str
    name: str
    spec: JudgeSpec
    price: Price | None


class StoreCallLog:
    """The judge's cache and call log, on the study's DuckDB file."""

    def __init__(self, store: Store, study_id: str, judge_id: str):
        self.store, self.study_id, self.judge_id = store, study_id, judge_id

    def cached(self, keys: Sequence[str]) -> dict[str, str]:
        return self.store.read(lambda cur: judge_sql.cached_answers(cur, keys))

    def write(self, calls: list[Call], verdicts: list[OrderVerdict]) -> None:
        def work(cur: Cursor) -> None:
            judge_sql.append_calls(cur, self.study_id, self.judge_id, calls)
            judge_sql.add_verdicts(cur, self.study_id, self.judge_id, verdicts)

        self.store.write(work)


def prepare(choice: JudgeChoice) -> PreparedJudge:
    """Rubric, identity and price of the judge; no call is made and no key is needed."""
    try:
        rubric = load_rubric(choice.rubric_path)
        mode = resolve_mode(choice.provider, choice.mode)
        prices = load_prices(choice.prices_path) if choice.prices_path else DEFAULT_PRICES
    except (RubricError, ProviderSetupError, PricesError) as exc:
        raise SignoffError(str(exc)) from None
    params: dict = {
        "mode": mode,
        "max_tokens": choice.settings.max_tokens,
        "temperature": choice.settings.temperature,
    }
    if choice.provider == "openai-compatible":
        params["base_url"] = choice.base_url  # the server is part of who the judge is
    identity = JudgeIdentity(
        choice.provider, choice.model, rubric.content_hash(), template_hash(), params
    )
    version = identity.version_hash()
    return PreparedJudge(
        judge_id=f"judge:{version[:16]}",
        name=choice.name or choice.model,
        spec=JudgeSpec(rubric, identity),
        price=prices.for_model(choice.model),
    )


def prompt_text(prompt_json: str) -> str:
    """A stored prompt as the judge reads it: the text, or the conversation turn by turn."""
    prompt = json.loads(prompt_json)
    if isinstance(prompt, str):
        return prompt
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in prompt)


def calibration_parts(cur: Cursor, study_id: str, cfg: StudyConfig) -> tuple[set[str], set[str]]:
    """(development, held-out) pair ids of the calibration set; held-out is empty when the
    config holds nothing out. Derived from the seed, so it never changes for a study."""
    rows = fetch_dicts(
        cur,
        "SELECT pair_id, stratum FROM pairs WHERE study_id = ? AND in_calibration",
        [study_id],
    )
    pairs = [(r["pair_id"], r["stratum"] or "unspecified") for r in rows]
    held_out = holdout_sample(pairs, cfg.calibration.holdout_fraction, cfg.seed)
    return {p for p, _ in pairs} - held_out, held_out


def study_pairs(cur: Cursor, study_id: str, ids: set[str] | None) -> list[PairInput]:
    """The pairs to judge: `ids`, or every pair of the study when None."""
    rows = fetch_dicts(
        cur,
        "SELECT pair_id, prompt_json, candidate, baseline, reference FROM pairs "
        "WHERE study_id = ? ORDER BY pair_id",
        [study_id],
    )
    return [
        PairInput(
            r["pair_id"], prompt_text(r["prompt_json"]), r["candidate"], r["baseline"],
            r["reference"],
        )
        for r in rows
        if ids is None or r["pair_id"] in ids
    ]  # fmt: skip


def _scope_ids(cur: Cursor, study_id: str, cfg: StudyConfig, scope: Scope) -> set[str] | None:
    if scope == "all":
        return None
    development, held_out = calibration_parts(cur, study_id, cfg)
    return {"development": development, "held-out": held_out}.get(scope, development | held_out)


def _load(store: Store, study_id: str, scope: Scope) -> tuple[StudyConfig, list[PairInput]]:
    def work(cur: Cursor) -> tuple[StudyConfig, list[PairInput]]:
        study = require_study(cur, study_id)
        return study.config, study_pairs(
            cur, study_id, _scope_ids(cur, study_id, study.config, scope)
        )

    cfg, pairs = store.read(work)
    if not pairs:
        raise SignoffError(f"study {study_id!r} has no {scope} pairs to judge")
    return cfg, pairs


def dry_run(store: Store, study_id: str, choice: JudgeChoice, scope: Scope) -> Estimate:
    """What a run would do and cost, counting what the cache already holds."""
    judge = prepare(choice)
    _, pairs = _load(store, study_id, scope)
    log = StoreCallLog(store, study_id, judge.judge_id)
    return estimate(pairs, judge.spec, choice.settings, judge.price, log)


def run(
    store: Store,
    study_id: str,
    choice: JudgeChoice,
    scope: Scope,
    actor: str,
    on_progress: Callable[[Progress], None] | None = None,
    override: str | None = None,
) -> tuple[PreparedJudge, Summary]:
    """Judge the study's pairs in both orders; resumable, cached, logged. Judging all pairs
    needs this exact judge version to have passed the study's gate, or an override reason."""
    judge = prepare(choice)
    cfg, pairs = _load(store, study_id, scope)
    if scope == "all":
        _check_gate(store, study_id, cfg, judge, override, actor)
    try:
        provider = make_provider(
            choice.provider, choice.model, choice.base_url, choice.mode, choice.key_env
        )
    except ProviderSetupError as exc:
        raise SignoffError(str(exc)) from None

    def register(cur: Cursor) -> None:
        judge_sql.ensure_judge(
            cur,
            judge.judge_id,
            {
                "name": judge.name,
                "provider": choice.provider,
                "model": choice.model,
                "params": judge.spec.identity.output_params(),
                "rubric": judge.spec.rubric.model_dump(mode="json"),
                "template": SYSTEM + "\n\n" + DEFAULT_TEMPLATE,
                "version_hash": judge.spec.identity.version_hash(),
            },
        )

    store.write(register)
    log = StoreCallLog(store, study_id, judge.judge_id)
    try:
        summary = run_judge(
            pairs, judge.spec, provider, log, choice.settings, judge.price, on_progress
        )
    except BudgetError as exc:
        raise SignoffError(str(exc)) from None
    store.write(
        lambda cur: study_sql.record_event(
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
    )
    return judge, summary


class GateRefused(SignoffError):
    """The judge may not score the full set: its calibration has not passed the gate."""

    exit_code = 5


def gate_part(held_out: set[str]) -> str:
    return "held-out" if held_out else "all"


def deciding_gates(cur: Cursor, study_id: str) -> dict[str, GateOut]:
    """By judge version: the gate decided on its latest calibration of the deciding part
    (held-out when the config holds pairs out, else all calibration pairs)."""
    study = require_study(cur, study_id)
    part = gate_part(calibration_parts(cur, study_id, study.config)[1])
    return {
        row["judge_id"]: GateOut.model_validate(row["gate"])
        for row in calibration_sql.latest(cur, study_id)
        if row["part"] == part and row["gate"]
    }


def _check_gate(
    store: Store,
    study_id: str,
    cfg: StudyConfig,
    judge: PreparedJudge,
    override: str | None,
    actor: str,
) -> None:
    gate = store.read(lambda cur: deciding_gates(cur, study_id).get(judge.judge_id))
    if gate is not None and gate.passed:
        return
    if gate is None:
        why = (
            f"judge {judge.name} ({judge.judge_id}) has no calibration on study {study_id!r}: "
            "run `signoff judge calibrate` with the same options"
            + (" and --final" if cfg.calibration.holdout_fraction else "")
            + " first"
        )
        failed: list[str] = []
    else:
        failed = gate.failures()
        why = (
            f"judge {judge.name} ({judge.judge_id}) failed the gate on the {gate.part} "
            "calibration pairs:\n  " + "\n  ".join(failed)
        )
    if not override:
        raise GateRefused(
            why + '\nfix the rubric and calibrate again, or pass --override "reason" '
            "(logged, and stamped on the report)"
        )
    store.write(
        lambda cur: study_sql.record_event(
            cur, study_id, actor, "gate.override", judge_id=judge.judge_id, reason=override,
            failed=failed or ["no calibration"],
        )
    )  # fmt: skip


class CalibrationResult(BaseModel):
    judge_id: str
    name: str
    development: CalibrationOut | None
    deciding: CalibrationOut | None = None  # held-out (final check) or all
    gate: GateOut | None = None


def calibrate(
    store: Store,
    study_id: str,
    choice: JudgeChoice,
    actor: str,
    final: bool = False,
    on_progress: Callable[[Progress], None] | None = None,
    resamples: int = 1000,
) -> tuple[CalibrationResult, Summary]:
    """Judge the calibration pairs (development part; with `final`, the held-out part too),
    measure the judge against the humans and, where the gate is decided, decide it."""
    development, held_out = store.read(
        lambda cur: calibration_parts(cur, study_id, require_study(cur, study_id).config)
    )
    deciding = not held_out or final
    scope: Scope = "calibration" if deciding else "development"
    judge, summary = run(store, study_id, choice, scope, actor, on_progress)

    def measure(cur: Cursor) -> CalibrationResult:
        study = require_study(cur, study_id)
        cfg = study.config
        labels = report_data.latest_labels(cur, study_id)
        rows = [v for v in report_data.verdicts(cur, study_id) if v["judge_id"] == judge.judge_id]
        judged = judge_outcomes(rows)
        pairs = report_data.pairs(cur, study_id)
        lengths = {i: (len(p["candidate"]), len(p["baseline"])) for i, p in pairs.items()}
        strata = {i: p["stratum"] or "unspecified" for i, p in pairs.items()}

        def metrics(part: str, ids: set[str]) -> CalibrationOut:
            return calibrate_metrics(part, ids, labels, judged, lengths, strata, cfg, resamples)

        result = CalibrationResult(judge_id=judge.judge_id, name=judge.name, development=None)
        if held_out:
            result.development = metrics("development", development)
            calibration_sql.insert(
                cur, study_id, judge.judge_id, "development",
                result.development.model_dump(mode="json"), None, study.config_hash,
            )  # fmt: skip
        if deciding:
            part = gate_part(held_out)
            result.deciding = metrics(part, held_out or development)
            result.gate = decide_gate(result.deciding, cfg)
            calibration_sql.insert(
                cur, study_id, judge.judge_id, part, result.deciding.model_dump(mode="json"),
                result.gate.model_dump(mode="json"), study.config_hash,
            )  # fmt: skip
        # The gate is read from the config: from the first calibration on, neither may change.
        study_sql.freeze(cur, study_id, actor, reason="first judge calibration")
        study_sql.record_event(
            cur, study_id, actor, "judge.calibrate", judge_id=judge.judge_id, final=deciding,
            passed=None if result.gate is None else result.gate.passed,
        )  # fmt: skip
        return result

    return store.write(measure), summary


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


def _fmt(i: Interval | None) -> str:
    if i is None or i.value is None:
        return "n/a"
    if i.low is None or i.high is None:
        return f"{i.value:.2f}"
    return f"{i.value:.2f} [{i.low:.2f}, {i.high:.2f}]"


def _describe_part(m: CalibrationOut) -> list[str]:
    rate = lambda x: "n/a" if x is None else f"{x:.0%}"  # noqa: E731
    lines = [
        f"{m.part} part: {m.pairs} pairs, {m.usable} usable ({m.without_labels} without human "
        f"labels, {m.without_verdict} without a verdict in both orders)",
        f"  agreement with the human majority on decisive pairs: {_fmt(m.decisive_agreement)}",
        f"  judge vs the human majority: agreement {_fmt(m.vs_majority['agreement'])}, kappa "
        f"{_fmt(m.vs_majority['kappa'])}; without ties: agreement "
        f"{_fmt(m.vs_majority_without_ties['agreement'])}, kappa "
        f"{_fmt(m.vs_majority_without_ties['kappa'])}",
        f"  judge vs each human label: agreement {_fmt(m.vs_humans_with_ties['agreement'])}, "
        f"kappa {_fmt(m.vs_humans_with_ties['kappa'])}; without ties: agreement "
        f"{_fmt(m.vs_humans_without_ties['agreement'])}",
        f"  humans among themselves (the ceiling): agreement {_fmt(m.humans.get('agreement'))}, "
        f"kappa {_fmt(m.humans.get('kappa'))}",
        f"  flip rate under order swap {rate(m.flip_rate)}; first response picked "
        f"{rate(m.first_position_rate)}; picks the longer response: judge "
        f"{rate(m.judge_picks_longer)}, humans {rate(m.humans_pick_longer)}",
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


def describe_estimate(est: Estimate, model: str) -> str:
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

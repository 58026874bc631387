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
from reviewer.errors import NotFound, SignoffError
from reviewer.store import Store
from reviewer.store import judge_calls as judge_sql
from reviewer.store import studies as study_sql
from reviewer.store.connection import Cursor, fetch_dicts

PairScope = Literal["calibration", "all"]


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


def study_pairs(cur: Cursor, study_id: str, scope: PairScope) -> list[PairInput]:
    rows = fetch_dicts(
        cur,
        "SELECT pair_id, prompt_json, candidate, baseline, reference FROM pairs "
        "WHERE study_id = ? AND (? OR in_calibration) ORDER BY pair_id",
        [study_id, scope == "all"],
    )
    return [
        PairInput(
            r["pair_id"], prompt_text(r["prompt_json"]), r["candidate"], r["baseline"],
            r["reference"],
        )
        for r in rows
    ]  # fmt: skip


def _load(store: Store, study_id: str, scope: PairScope) -> list[PairInput]:
    def work(cur: Cursor) -> list[PairInput]:
        if study_sql.get_study(cur, study_id) is None:
            raise NotFound(f"no study named {study_id!r} in {store.path}")
        return study_pairs(cur, study_id, scope)

    pairs = store.read(work)
    if not pairs:
        raise SignoffError(f"study {study_id!r} has no {scope} pairs to judge")
    return pairs


def dry_run(store: Store, study_id: str, choice: JudgeChoice, scope: PairScope) -> Estimate:
    """What a run would do and cost, counting what the cache already holds."""
    judge = prepare(choice)
    pairs = _load(store, study_id, scope)
    log = StoreCallLog(store, study_id, judge.judge_id)
    return estimate(pairs, judge.spec, choice.settings, judge.price, log)


def run(
    store: Store,
    study_id: str,
    choice: JudgeChoice,
    scope: PairScope,
    actor: str,
    on_progress: Callable[[Progress], None] | None = None,
) -> tuple[PreparedJudge, Summary]:
    """Judge the study's pairs in both orders; resumable, cached, logged."""
    judge = prepare(choice)
    pairs = _load(store, study_id, scope)
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

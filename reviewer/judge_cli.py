"""`signoff judge ...`: run an LLM judge on a study, or import another tool's verdicts."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from judge.runner import Progress, Settings, Summary
from reviewer import judging
from reviewer import study as study_ops
from reviewer.cli_options import (
    DbOption,
    JsonOption,
    StudyOption,
    open_store,
    print_json,
    resolve_study,
)
from reviewer.judging import JudgeChoice

judge_app = typer.Typer(help="LLM judges and their verdicts.", no_args_is_help=True)


@judge_app.command("import")
def judge_import(
    file: Annotated[Path, typer.Argument(help="pair_id, judge, preference[, presented, criteria]")],
    study: StudyOption = None,
    db: DbOption = None,
) -> None:
    """Import verdicts produced by another tool's judge."""
    store = open_store(db)
    study_id = resolve_study(store, study)
    n = study_ops.import_verdicts(store, study_id, file, study_ops.current_actor())
    if n == 0:
        typer.echo(f"{file} was already imported into {study_id!r}; nothing to do")
    else:
        typer.echo(f"imported {n} judge verdicts into {study_id!r}")


class Scope(StrEnum):
    calibration = "calibration"
    all = "all"


RubricOpt = Annotated[Path, typer.Option(help="Rubric file (TOML or YAML).")]
ProviderOpt = Annotated[str, typer.Option(help="openai | openai-compatible | anthropic")]
ModelOpt = Annotated[str, typer.Option(help="Model name as the provider knows it.")]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        help="Server URL, e.g. http://localhost:11434/v1 (Ollama), http://localhost:8000/v1 "
        "(vLLM); required for openai-compatible."
    ),
]
ConcurrencyOpt = Annotated[int, typer.Option(min=1, help="Calls in flight at once.")]
RpmOpt = Annotated[float | None, typer.Option(help="Requests per minute, at most.")]
TpmOpt = Annotated[float | None, typer.Option(help="Tokens per minute, at most.")]
TimeoutOpt = Annotated[float, typer.Option(help="Seconds per call before it is retried.")]
RetriesOpt = Annotated[int, typer.Option(help="Retries per call on 429/5xx/timeout.")]
MaxTokensOpt = Annotated[int, typer.Option(help="Answer length cap per call.")]
TemperatureOpt = Annotated[float, typer.Option()]
ModeOpt = Annotated[
    str, typer.Option(help="Structured output: auto | json_schema | json_object | tools | plain.")
]
KeyEnvOpt = Annotated[
    str | None,
    typer.Option(
        help="Environment variable holding the key (default: OPENAI_API_KEY or ANTHROPIC_API_KEY)."
    ),
]
NameOpt = Annotated[str | None, typer.Option(help="Name in reports (default: the model).")]
PricesOpt = Annotated[
    Path | None, typer.Option(help="TOML/YAML of model = {input = USD/Mtok, output = USD/Mtok}.")
]
MaxCostOpt = Annotated[
    float | None, typer.Option(help="Stop cleanly before spending more than this (USD).")
]


def _choice(**kw) -> JudgeChoice:
    settings = Settings(
        concurrency=kw.pop("concurrency"),
        requests_per_minute=kw.pop("rpm"),
        tokens_per_minute=kw.pop("tpm"),
        timeout=kw.pop("timeout"),
        max_retries=kw.pop("max_retries"),
        max_tokens=kw.pop("max_tokens"),
        temperature=kw.pop("temperature"),
        max_cost=kw.pop("max_cost"),
    )
    return JudgeChoice(
        provider=kw["provider"],
        model=kw["model"],
        rubric_path=kw["rubric"],
        base_url=kw["base_url"],
        mode=kw["output_mode"],
        key_env=kw["api_key_env"],
        name=kw["name"],
        prices_path=kw["prices"],
        settings=settings,
    )


@judge_app.command("run")
def judge_run(
    rubric: RubricOpt,
    provider: ProviderOpt,
    model: ModelOpt,
    study: StudyOption = None,
    db: DbOption = None,
    base_url: BaseUrlOpt = None,
    pairs: Annotated[
        Scope,
        typer.Option(
            help="calibration: the calibration pairs open to rubric tuning (the held-out part "
            "is scored only by `judge calibrate --final`); all: every pair, once this judge "
            "has passed the gate."
        ),
    ] = Scope.calibration,
    override: Annotated[
        str | None,
        typer.Option(
            help="Judge all pairs without a passing gate; the reason is logged and "
            "stamped on the report in red."
        ),
    ] = None,
    concurrency: ConcurrencyOpt = 16,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
    timeout: TimeoutOpt = 60,
    max_retries: RetriesOpt = 6,
    max_tokens: MaxTokensOpt = 1024,
    temperature: TemperatureOpt = 0.0,
    output_mode: ModeOpt = "auto",
    api_key_env: KeyEnvOpt = None,
    name: NameOpt = None,
    prices: PricesOpt = None,
    max_cost: MaxCostOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Estimate calls, tokens and cost; call nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Judge pairs in both orders with an LLM; cached, resumable, within limits and budget."""
    store = open_store(db)
    study_id = resolve_study(store, study)
    choice = _choice(**{k: v for k, v in locals().items() if k in _CHOICE_KEYS})
    scope = "development" if pairs == Scope.calibration else "all"
    if dry_run:
        est = judging.dry_run(store, study_id, choice, scope)
        if as_json:
            print_json(asdict(est))
        else:
            typer.echo(judging.describe_estimate(est, model))
        return
    with progress_bar(as_json) as on_progress:
        judge, summary = judging.run(
            store, study_id, choice, scope, study_ops.current_actor(), on_progress, override
        )
    if as_json:
        print_json(_summary_json(judge.judge_id, summary))
    else:
        typer.echo(judging.describe_summary(judge.name, judge.judge_id, summary))
    if summary.stopped is not None:
        raise typer.Exit(4)


@judge_app.command("calibrate")
def judge_calibrate(
    rubric: RubricOpt,
    provider: ProviderOpt,
    model: ModelOpt,
    study: StudyOption = None,
    db: DbOption = None,
    base_url: BaseUrlOpt = None,
    final: Annotated[
        bool,
        typer.Option(
            "--final",
            help="Also score the held-out calibration pairs and decide the "
            "gate on them. Do it once the rubric is settled.",
        ),
    ] = False,
    concurrency: ConcurrencyOpt = 16,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
    timeout: TimeoutOpt = 60,
    max_retries: RetriesOpt = 6,
    max_tokens: MaxTokensOpt = 1024,
    temperature: TemperatureOpt = 0.0,
    output_mode: ModeOpt = "auto",
    api_key_env: KeyEnvOpt = None,
    name: NameOpt = None,
    prices: PricesOpt = None,
    max_cost: MaxCostOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Judge the calibration pairs and measure the judge against the humans; decide the gate.

    Exit code 0 when the gate passed or is not decided yet, 5 when it failed."""
    store = open_store(db)
    study_id = resolve_study(store, study)
    choice = _choice(**{k: v for k, v in locals().items() if k in _CHOICE_KEYS})
    with progress_bar(as_json) as on_progress:
        result, summary = judging.calibrate(
            store, study_id, choice, study_ops.current_actor(), final, on_progress
        )
    if as_json:
        run = _summary_json(result.judge_id, summary)
        print_json({**result.model_dump(mode="json"), "run": run})
    else:
        typer.echo(judging.describe_summary(result.name, result.judge_id, summary))
        typer.echo(judging.describe_calibration(result))
    if summary.stopped is not None:
        raise typer.Exit(4)
    if result.gate is not None and not result.gate.passed:
        raise typer.Exit(5)


_CHOICE_KEYS = {
    "rubric", "provider", "model", "base_url", "concurrency", "rpm", "tpm", "timeout",
    "max_retries", "max_tokens", "temperature", "output_mode", "api_key_env", "name", "prices",
    "max_cost",
}  # fmt: skip


def _summary_json(judge_id: str, summary: Summary) -> dict:
    return {
        "judge_id": judge_id,
        **asdict(summary),
        "missing": summary.missing,
        "flip_rate": summary.flip_rate,
    }


@contextmanager
def progress_bar(quiet: bool) -> Iterator[Callable[[Progress], None] | None]:
    """A progress bar with ETA and spend on stderr, unless output is JSON or not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    columns = (
        TextColumn("judging"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        TextColumn("{task.fields[cost]}"),
    )  # fmt: skip
    with RichProgress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("judge", total=None, cost="")

        def update(p: Progress) -> None:
            bar.update(task, total=p.total, completed=p.done, cost=f"${p.cost_usd:,.4f}")

        yield update

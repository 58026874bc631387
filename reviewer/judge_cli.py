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

from judge.runner import Progress, Settings
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


@judge_app.command("run")
def judge_run(
    rubric: Annotated[Path, typer.Option(help="Rubric file (TOML or YAML).")],
    provider: Annotated[str, typer.Option(help="openai | openai-compatible | anthropic")],
    model: Annotated[str, typer.Option(help="Model name as the provider knows it.")],
    study: StudyOption = None,
    db: DbOption = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="Server URL, e.g. http://localhost:11434/v1 (Ollama), "
            "http://localhost:8000/v1 (vLLM); required for openai-compatible."
        ),
    ] = None,
    pairs: Annotated[Scope, typer.Option(help="Which pairs to judge.")] = Scope.calibration,
    concurrency: Annotated[int, typer.Option(min=1, help="Calls in flight at once.")] = 16,
    rpm: Annotated[float | None, typer.Option(help="Requests per minute, at most.")] = None,
    tpm: Annotated[float | None, typer.Option(help="Tokens per minute, at most.")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds per call before it is retried.")] = 60,
    max_retries: Annotated[int, typer.Option(help="Retries per call on 429/5xx/timeout.")] = 6,
    max_tokens: Annotated[int, typer.Option(help="Answer length cap per call.")] = 1024,
    temperature: Annotated[float, typer.Option()] = 0.0,
    output_mode: Annotated[
        str,
        typer.Option(help="Structured output: auto | json_schema | json_object | tools | plain."),
    ] = "auto",
    api_key_env: Annotated[
        str | None,
        typer.Option(
            help="Environment variable holding the key (default: OPENAI_API_KEY or "
            "ANTHROPIC_API_KEY)."
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Name in reports (default: the model).")] = None,
    prices: Annotated[
        Path | None,
        typer.Option(help="TOML/YAML of model = {input = USD/Mtok, output = USD/Mtok}."),
    ] = None,
    max_cost: Annotated[
        float | None, typer.Option(help="Stop cleanly before spending more than this (USD).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Estimate calls, tokens and cost; call nothing.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Judge pairs in both orders with an LLM; cached, resumable, within limits and budget."""
    store = open_store(db)
    study_id = resolve_study(store, study)
    choice = JudgeChoice(
        provider=provider,
        model=model,
        rubric_path=rubric,
        base_url=base_url,
        mode=output_mode,
        key_env=api_key_env,
        name=name,
        prices_path=prices,
        settings=Settings(
            concurrency=concurrency,
            requests_per_minute=rpm,
            tokens_per_minute=tpm,
            timeout=timeout,
            max_retries=max_retries,
            max_tokens=max_tokens,
            temperature=temperature,
            max_cost=max_cost,
        ),
    )
    if dry_run:
        est = judging.dry_run(store, study_id, choice, pairs.value)
        if as_json:
            print_json(asdict(est))
        else:
            typer.echo(judging.describe_estimate(est, model))
        return
    with progress_bar(as_json) as on_progress:
        judge, summary = judging.run(
            store, study_id, choice, pairs.value, study_ops.current_actor(), on_progress
        )
    if as_json:
        print_json(
            {
                "judge_id": judge.judge_id,
                **asdict(summary),
                "missing": summary.missing,
                "flip_rate": summary.flip_rate,
            }
        )
    else:
        typer.echo(judging.describe_summary(judge.name, judge.judge_id, summary))
    if summary.stopped is not None:
        raise typer.Exit(4)


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

"""`signoff judge ...`: run an LLM judge on a study, or import another tool's verdicts."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, get_type_hints

import typer

from judge.runner import CostEstimate, Settings, Summary
from reviewer.cli.common import (
    DbOption,
    JsonOption,
    MapOption,
    StudyOption,
    open_study,
    print_json,
)
from reviewer.cli.run_options import (
    BatchOpt,
    BatchSizeOpt,
    ConcurrencyOpt,
    MaxCostOpt,
    MaxTokensOpt,
    PollOpt,
    PricesOpt,
    RetriesOpt,
    RpmOpt,
    TimeoutOpt,
    TpmOpt,
    progress_bar,
)
from reviewer.judging import align, service
from reviewer.judging.batch import (
    BatchSettings,
    BatchSummary,
    batch_costs,
    describe_batch_costs,
    describe_batches,
)
from reviewer.judging.describe import describe_calibration, describe_estimate, describe_summary
from reviewer.judging.options import JudgeOptions
from reviewer.judging.scope import JudgeScope
from reviewer.study.lifecycle import current_actor

# `judge calibrate` and `judge panel calibrate` decide the gate the same way.
FinalOption = Annotated[
    bool,
    typer.Option(
        "--final",
        help="Also score the held-out calibration pairs and decide the gate on them. Do it once "
        "the rubric is settled.",
    ),
]

judge_app = typer.Typer(help="LLM judges and their verdicts.", no_args_is_help=True)


@judge_app.command("import")
def judge_import(
    file: Annotated[Path, typer.Argument(help="pair_id, judge, preference[, presented, criteria]")],
    study: StudyOption = None,
    value_map: MapOption = None,
    db: DbOption = None,
) -> None:
    """Import verdicts produced by another tool's judge."""
    # Imported here: a judge run has no use for the readers of label files (start-up).
    from reviewer.cli.present import imported_text
    from reviewer.ingest.labels import parse_value_map
    from reviewer.study.imported import import_verdicts

    mapping = parse_value_map(value_map)
    store, study_id = open_study(db, study)
    n = import_verdicts(store, study_id, file, current_actor(), value_map=mapping)
    typer.echo(imported_text(file, study_id, n, "judge verdicts"))


class PairsChoice(StrEnum):
    """What `judge run --pairs` accepts. The CLI's "calibration" is the development part of the
    calibration set (the held-out part is scored only by `judge calibrate --final`)."""

    calibration = "calibration"
    all = "all"


SCOPE_OF_CHOICE: dict[PairsChoice, JudgeScope] = {
    PairsChoice.calibration: "development",
    PairsChoice.all: "all",
}

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


def judge_options(
    rubric: RubricOpt,
    provider: ProviderOpt,
    model: ModelOpt,
    base_url: BaseUrlOpt = None,
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
) -> JudgeOptions:
    """The options every judge command takes, as the one `JudgeOptions` they make."""
    settings = Settings(
        concurrency=concurrency,
        requests_per_minute=rpm,
        tokens_per_minute=tpm,
        timeout=timeout,
        max_retries=max_retries,
        max_tokens=max_tokens,
        temperature=temperature,
        max_cost=max_cost,
    )
    return JudgeOptions(
        provider=provider,
        model=model,
        rubric_path=rubric,
        base_url=base_url,
        mode=output_mode,
        key_env=api_key_env,
        name=name,
        prices_path=prices,
        settings=settings,
    )


def with_judge_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` the options of `judge_options` on the command line, and one built
    `JudgeOptions` as its `options` argument: the options are declared once for every command.
    """
    hints = {
        **get_type_hints(judge_options, include_extras=True),
        **get_type_hints(command, include_extras=True),
    }
    shared = [
        p.replace(annotation=hints[p.name])
        for p in inspect.signature(judge_options).parameters.values()
    ]
    own = [
        p.replace(annotation=hints[p.name], kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for p in inspect.signature(command).parameters.values()
        if p.name != "options"
    ]
    names = {p.name for p in shared}

    @functools.wraps(command)
    def wrapper(**kw: Any) -> None:
        options = judge_options(**{k: kw.pop(k) for k in names})
        command(options=options, **kw)

    # The three required options first, then the study and database, then the rest.
    wrapper.__signature__ = inspect.Signature(shared[:3] + own[:2] + shared[3:] + own[2:])  # type: ignore[attr-defined]
    return wrapper


@judge_app.command("run")
@with_judge_options
def judge_run(
    study: StudyOption = None,
    db: DbOption = None,
    pairs: Annotated[
        PairsChoice,
        typer.Option(
            help="calibration: the calibration pairs open to rubric tuning (the held-out part "
            "is scored only by `judge calibrate --final`); all: every pair, once this judge "
            "has passed the gate on answers from the model the provider serves now."
        ),
    ] = PairsChoice.calibration,
    override: Annotated[
        str | None,
        typer.Option(
            help="Judge all pairs without a passing gate, or while the provider serves a "
            "model the calibration never saw; the reason is logged and stamped on the report "
            "in red."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Estimate calls, tokens and cost; call nothing.")
    ] = False,
    as_json: JsonOption = False,
    batch: BatchOpt = False,
    poll_interval: PollOpt = 30.0,
    batch_size: BatchSizeOpt = None,
    *,
    options: JudgeOptions,
) -> None:
    """Judge pairs in both orders with an LLM; cached, resumable, within limits and budget.

    With --batch, through the provider's batch API at half the price: the batch ids are kept
    in the database, so a run stopped while it waits resumes the same batches when run again.

    Exit code 0 when at least half the verdicts wanted are in, 4 when the run stopped early
    (budget, a refused key), 5 when the gate refused it (no passing calibration, or the
    provider serves a model the calibration never saw), 6 when fewer than half were judged
    (calls failed, answers did not parse): run again to retry them."""
    store, study_id = open_study(db, study)
    scope = SCOPE_OF_CHOICE[pairs]
    if dry_run:
        _print_estimate(service.dry_run(store, study_id, options, scope), options.model, as_json)
        return
    in_batches = None
    if batch:  # waits grow 1.5x per status check, up to 20 times the first
        in_batches = BatchSettings(poll_interval, 20 * poll_interval, max_requests=batch_size)
    with progress_bar(quiet=as_json) as on_progress:
        judge, summary = service.run(
            store, study_id, options, scope, current_actor(), on_progress=on_progress,
            override=override, batch=in_batches,
        )  # fmt: skip
    if as_json:
        print_json(_summary_json(judge.judge_id, summary))
    else:
        typer.echo(describe_summary(judge.name, judge.judge_id, summary))
        if isinstance(summary, BatchSummary):
            typer.echo(describe_batches(summary))
    if summary.stopped is not None:
        raise typer.Exit(4)
    _exit_if_too_few_judged(summary)


def _print_estimate(est: CostEstimate, model: str, as_json: bool) -> None:
    """The dry run: the online price and the batch price."""
    if as_json:
        print_json({**asdict(est), **batch_costs(est)})
    else:
        typer.echo(describe_estimate(est, model) + "\n" + describe_batch_costs(est))


@judge_app.command("calibrate")
@with_judge_options
def judge_calibrate(
    study: StudyOption = None,
    db: DbOption = None,
    final: FinalOption = False,
    as_json: JsonOption = False,
    *,
    options: JudgeOptions,
) -> None:
    """Judge the calibration pairs and measure the judge against the humans; decide the gate.

    Exit code 0 when the gate passed or is not decided yet, 5 when it failed, 4 when the run
    stopped early, 6 when fewer than half the verdicts wanted were judged."""
    store, study_id = open_study(db, study)
    with progress_bar(quiet=as_json) as on_progress:
        result, summary = service.calibrate(
            store, study_id, options, current_actor(), final=final, on_progress=on_progress
        )
    if as_json:
        run = _summary_json(result.judge_id, summary)
        print_json({**result.model_dump(mode="json"), "run": run})
    else:
        typer.echo(describe_summary(result.name, result.judge_id, summary))
        typer.echo(describe_calibration(result))
    if summary.stopped is not None:
        raise typer.Exit(4)
    _exit_if_too_few_judged(summary)
    if result.gate is not None and not result.gate.passed:
        raise typer.Exit(5)


def _exit_if_too_few_judged(summary: Summary) -> None:
    """Exit 6, saying why, when the run judged less than MIN_JUDGED_SHARE of its verdicts."""
    if summary.needed and summary.verdicts < service.MIN_JUDGED_SHARE * summary.needed:
        typer.echo(
            f"error: only {summary.verdicts} of {summary.needed} verdicts were judged (less "
            f"than {service.MIN_JUDGED_SHARE:.0%}); the judge run failed, see the reasons above",
            err=True,
        )
        raise typer.Exit(service.TooFewJudged.exit_code)


def _summary_json(judge_id: str, summary: Summary) -> dict:
    return {
        "judge_id": judge_id,
        **asdict(summary),
        "missing": summary.missing,
        "flip_rate": summary.flip_rate,
    }


@judge_app.command("align")
@with_judge_options
def judge_align(
    study: StudyOption = None,
    db: DbOption = None,
    max_examples: Annotated[
        int, typer.Option(min=1, help="Few-shot examples to add, at most.")
    ] = align.DEFAULT_MAX_EXAMPLES,
    min_experts: Annotated[
        int,
        typer.Option(min=2, help="Experts who must all have labeled a pair, and agreed on it."),
    ] = align.DEFAULT_MIN_EXPERTS,
    out: Annotated[
        Path | None,
        typer.Option(
            help="File of the new rubric (default: beside the rubric, named by its hash)."
        ),
    ] = None,
    as_json: JsonOption = False,
    *,
    options: JudgeOptions,
) -> None:
    """Align the judge with the experts on the development pairs: few-shot examples where the
    experts agreed and the judge did not, in a new rubric version (a new judge), with
    development agreement before and after. The held-out pairs are never shown to it.

    Exit code 0 when aligned or when nothing was left to learn from."""
    store, study_id = open_study(db, study)
    with progress_bar(quiet=as_json) as on_progress:
        result = align.align(
            store, study_id, options, current_actor(), max_examples=max_examples,
            min_experts=min_experts, out=out, on_progress=on_progress,
        )  # fmt: skip
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        typer.echo(align.describe_alignment(result))

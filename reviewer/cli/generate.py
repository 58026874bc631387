"""`signoff generate`: a golden set through the candidate and baseline models, into pairs files.

An online run imports nothing of the batch APIs, the study database or the judge's commands:
its start-up is part of its wall time (bench/RESULTS.md, issue 13), so those are imported
only by the dry run and --batch, which use them.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from judge.spec import Settings
from reviewer.cli.common import JsonOption, print_json
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
from reviewer.generating.models import Sampling
from reviewer.generating.output import summary_json
from reviewer.generating.service import GenerateOutcome, GenerateRequest, dry_run
from reviewer.generating.service import generate as run_generate

if TYPE_CHECKING:
    from judge.estimate import CostEstimate

# Square brackets would be read as markup by the help's renderer.
HELP_FORM = (
    "NAME=PROVIDER:MODEL, or NAME=PROVIDER:MODEL@BASE_URL for a server, e.g. "
    "base=openai-compatible:qwen2.5@http://127.0.0.1:11434/v1"
)
# More than this share of one model's outputs failed: the run failed (exit 6), files or not.
MAX_FAILED_SHARE = 0.5


GoldenArg = Annotated[
    Path, typer.Argument(help="Golden set: .jsonl, .csv or .parquet with id, prompt.")
]
CandidateOpt = Annotated[str, typer.Option(help=f"The model under evaluation: {HELP_FORM}.")]
BaselineOpt = Annotated[
    list[str], typer.Option(help="A model to compare with (repeat for several), same form.")
]
OutOpt = Annotated[
    Path, typer.Option(help="Folder for the pairs files, the manifest and the call log.")
]
KeyEnvOpt = Annotated[
    list[str] | None,
    typer.Option(help="NAME=VARIABLE: the environment variable holding that model's key."),
]
DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Count the calls and price them online and with --batch; call nothing."
    ),
]


def generate(
    golden: GoldenArg,
    candidate: CandidateOpt,
    baseline: BaselineOpt,
    out: OutOpt = Path("generated"),
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 0.0,
    max_tokens: MaxTokensOpt = 1024,
    seed: Annotated[int | None, typer.Option(help="Sampling seed, where supported.")] = None,
    top_p: Annotated[float | None, typer.Option(help="Nucleus sampling, where supported.")] = None,
    concurrency: ConcurrencyOpt = 16,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
    timeout: TimeoutOpt = 60,
    max_retries: RetriesOpt = 6,
    prices: PricesOpt = None,
    max_cost: MaxCostOpt = None,
    api_key_env: KeyEnvOpt = None,
    dry_run_: DryRunOpt = False,
    batch: BatchOpt = False,
    poll_interval: PollOpt = 30.0,
    batch_size: BatchSizeOpt = None,
    as_json: JsonOption = False,
) -> None:
    """Generate every prompt of a golden set with the candidate and each baseline; write one
    pairs file per baseline for `signoff import`. Cached and resumable (rerun the same command).

    With --batch, through the providers' batch APIs at half the price: the batch ids are kept in
    OUT/batches.jsonl, so a run stopped while it waits resumes the same batches when run again
    (an online run refuses to start while they are open).

    Exit code 0 when every output is settled (failed calls are kept, marked, as losses), 4 when
    the run stopped early (budget, a refused key; no pairs file written), 6 when more than half
    of one model's outputs failed."""
    settings = Settings(
        concurrency=concurrency, requests_per_minute=rpm, tokens_per_minute=tpm,
        timeout=timeout, max_retries=max_retries, max_tokens=max_tokens,
        temperature=temperature, max_cost=max_cost,
    )  # fmt: skip
    in_batches = None
    if batch:  # waits grow 1.5x per status check, up to 20 times the first
        from judge.batch import BatchSettings

        in_batches = BatchSettings(poll_interval, 20 * poll_interval, max_requests=batch_size)
    req = GenerateRequest(
        golden, candidate, baseline, out, Sampling(temperature, max_tokens, seed, top_p),
        settings, prices, api_key_env or [], in_batches,
    )  # fmt: skip
    if dry_run_:
        print_estimates(dry_run(req), as_json)
        return
    with progress_bar(quiet=as_json, label="generating") as on_progress:
        outcome = run_generate(req, on_progress)
    print_outcome(outcome, as_json, batch)
    exit_if_failed(outcome)


def print_outcome(outcome: GenerateOutcome, as_json: bool, batch: bool) -> None:
    if as_json:
        print_json(outcome_json(outcome))
        return
    typer.echo(describe(outcome))
    if batch:  # imported only here: an online run has no use for the batch modules
        from judge.batch.generation import GenerationBatchSummary
        from reviewer.judging.batch import describe_batches

        if isinstance(outcome.summary, GenerationBatchSummary):
            typer.echo(describe_batches(outcome.summary))


def print_estimates(estimates: dict[str, CostEstimate], as_json: bool) -> None:
    """The dry run: calls and tokens by model, priced online and through the batch APIs."""
    from reviewer.judging.batch import batch_costs, describe_batch_costs

    if as_json:
        models = {name: {**asdict(e), **batch_costs(e)} for name, e in estimates.items()}
        print_json({"calls": sum(e.calls for e in estimates.values()), "models": models})
        return
    for name, e in estimates.items():
        online = (
            "unknown (no price; free if local, else give --prices FILE)"
            if e.cost_expected is None or e.cost_max is None
            else f"~${e.cost_expected:,.4f} expected, ${e.cost_max:,.4f} at most"
        )
        typer.echo(
            f"dry run for {name}: {e.needed} outputs wanted, {e.cached} in the call log\n"
            f"  calls to make: {e.calls}\n"
            f"  input tokens: ~{e.input_tokens:,} (estimated at 4 characters per token)\n"
            f"  output tokens: ~{e.output_tokens_expected:,} expected, "
            f"{e.output_tokens_max:,} at most (max_tokens per call)\n"
            f"  cost online: {online}\n{describe_batch_costs(e)}"
        )


def outcome_json(outcome: GenerateOutcome) -> dict:
    return {
        **summary_json(outcome.summary),
        "pairs_files": [str(p) for p in outcome.files],
        "manifest": None if outcome.manifest is None else str(outcome.manifest),
        "calls_file": str(outcome.calls),
        "failed_by_model": outcome.failed_by_model,
    }


def exit_if_failed(outcome: GenerateOutcome) -> None:
    """Exit 4 when the run stopped early, 6 when most of one model's outputs failed."""
    if outcome.summary.stopped is not None:
        raise typer.Exit(4)
    per_model = outcome.summary.needed / max(1, len(outcome.models))
    worst = max(outcome.failed_by_model.values(), default=0)
    if worst > MAX_FAILED_SHARE * per_model:
        typer.echo(
            f"error: more than {MAX_FAILED_SHARE:.0%} of a model's outputs failed "
            f"({outcome.failed_by_model}); see the reasons above",
            err=True,
        )
        raise typer.Exit(6)


def describe(outcome: GenerateOutcome) -> str:
    s = outcome.summary
    lines = [
        f"{s.needed} outputs wanted: {s.generated} generated, {s.cached} from the call log, "
        f"{s.failed} failed (kept as failed outputs); {s.empty} empty, {s.truncated} cut at "
        f"max_tokens",
        f"{s.calls} calls ({s.retries} retries), {s.input_tokens:,} tokens in, "
        f"{s.output_tokens:,} out, ${s.cost_usd:.4f}, {s.seconds:.1f} s",
    ]
    lines += [f"  {f}" for f in s.failures]
    if s.stopped is not None:
        lines.append(
            f"stopped: {s.stopped}; no pairs file written. Run the same command again to "
            f"finish: the answers received are kept in {outcome.calls}"
        )
    for path in outcome.files:
        lines.append(f"wrote {path} (import it: signoff import {path} --study NAME)")
    return "\n".join(lines)

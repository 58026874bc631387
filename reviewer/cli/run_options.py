"""The options and the progress bar of the commands that call models (`judge ...`, `generate`).

A module of its own, light to import: `signoff generate` shares these with the judge commands,
and importing them from `reviewer.cli.judge` pulled in the judge's study, calibration and
statistics modules, ~0.35 s of CPU on each start (bench/RESULTS.md, issue 13).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from judge.summary import RunProgress

ConcurrencyOpt = Annotated[int, typer.Option(min=1, help="Calls in flight at once.")]
RpmOpt = Annotated[float | None, typer.Option(help="Requests per minute, at most.")]
TpmOpt = Annotated[float | None, typer.Option(help="Tokens per minute, at most.")]
TimeoutOpt = Annotated[float, typer.Option(help="Seconds per call before it is retried.")]
RetriesOpt = Annotated[int, typer.Option(help="Retries per call on 429/5xx/timeout.")]
MaxTokensOpt = Annotated[int, typer.Option(help="Answer length cap per call.")]
PricesOpt = Annotated[
    Path | None, typer.Option(help="TOML/YAML of model = {input = USD/Mtok, output = USD/Mtok}.")
]
MaxCostOpt = Annotated[
    float | None, typer.Option(help="Stop cleanly before spending more than this (USD).")
]
BatchOpt = Annotated[
    bool,
    typer.Option(
        "--batch",
        help="Send the calls through the provider's batch API (OpenAI Batch, Anthropic "
        "Message Batches): half the price, answers within 24 h; waits for them.",
    ),
]
PollOpt = Annotated[
    float,
    typer.Option(
        min=0,
        help="With --batch: seconds before the second status check; each "
        "wait after is 1.5 times longer, up to 20 times this.",
    ),
]
BatchSizeOpt = Annotated[
    int | None,
    typer.Option(
        min=1, help="With --batch: requests per batch at most (default: the provider's limit)."
    ),
]


@contextmanager
def progress_bar(
    *, quiet: bool, label: str = "judging"
) -> Iterator[Callable[[RunProgress], None] | None]:
    """A progress bar with ETA and spend on stderr, unless output is JSON or not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    # Imported here: rich costs ~0.1 s to import, and a run without a bar has no use for it.
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        TextColumn("{task.fields[cost]}"),
    )  # fmt: skip
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("judge", total=None, cost="")

        def update(p: RunProgress) -> None:
            bar.update(task, total=p.total, completed=p.done, cost=f"${p.cost_usd:,.4f}")

        yield update

"""Run a golden set through the candidate and every baseline: validate everything first (the
golden set, the models, keys, prices), generate with the judge's machinery (online, or through
the providers' batch APIs), and write the pairs files only once every output is settled; a run
that stopped early (budget, a refused key) writes none and resumes from its call log, and from
its open batches, when run again.

The batch machinery is imported only by a run with --batch: an online run's start-up is part of
its wall time, and `judge.batch` cost it ~0.35 s of CPU (bench/RESULTS.md, issue 13)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from judge.budget import BudgetError
from judge.estimate import CostEstimate
from judge.generate import (
    Generation,
    GenerationSummary,
    ModelRun,
    ModelSpec,
    Prompt,
    estimate,
    run_generation,
)
from judge.pricing import DEFAULT_PRICES, PricesError, load_prices
from judge.spec import Settings
from judge.summary import RunProgress
from reviewer.errors import SignoffError
from reviewer.generating.batch_file import BATCHES_FILE, BatchFile, FileBatchLedger
from reviewer.generating.call_file import CallFile
from reviewer.generating.models import (
    Sampling,
    batch_client,
    check_names,
    connect,
    key_envs,
    parse_model,
)
from reviewer.generating.output import CALLS_FILE, write_manifest, write_outputs
from reviewer.ingest.golden import GoldenItem, load_golden

if TYPE_CHECKING:
    from judge.batch import BatchSettings


@dataclass(frozen=True)
class GenerateRequest:
    """A `signoff generate` as the user asked for it."""

    golden: Path
    candidate: str
    baselines: list[str]
    out: Path
    sampling: Sampling = field(default_factory=Sampling)
    settings: Settings = field(default_factory=Settings)
    prices_path: Path | None = None
    key_envs: list[str] = field(default_factory=list)
    batch: BatchSettings | None = None  # through the providers' batch APIs


@dataclass
class GenerateOutcome:
    summary: GenerationSummary
    models: list[ModelRun]
    files: list[Path]  # the pairs files, one per baseline (none if the run stopped)
    manifest: Path | None
    calls: Path
    failed_by_model: dict[str, int]


@dataclass(frozen=True)
class Prepared:
    """A request checked: the golden set, the model specs and their providers and prices."""

    items: list[GoldenItem]
    specs: list[ModelSpec]
    models: list[ModelRun]

    @property
    def prompts(self) -> list[Prompt]:
        return [Prompt(i.id, i.messages()) for i in self.items]


def prepare(req: GenerateRequest) -> Prepared:
    """Everything checked before any call: golden set, models, keys, prices, the output folder."""
    if not req.baselines:
        raise SignoffError("give at least one --baseline NAME=PROVIDER:MODEL[@BASE_URL]")
    items = load_golden(req.golden)
    specs = [parse_model(t, req.sampling) for t in [req.candidate, *req.baselines]]
    check_names(specs)
    try:
        prices = load_prices(req.prices_path) if req.prices_path else DEFAULT_PRICES
    except PricesError as exc:
        raise SignoffError(str(exc)) from None
    models = connect(specs, prices, key_envs(req.key_envs))
    if req.settings.max_cost is not None:
        unpriced = [m.spec.name for m in models if m.price is None]
        if unpriced:
            raise SignoffError(
                f"no price is known for {', '.join(unpriced)}, so --max-cost cannot be "
                "enforced; give its price with --prices FILE (a local model may cost 0)"
            )
    if req.out.exists() and not req.out.is_dir():
        raise SignoffError(f"{req.out} is a file; --out takes a folder")
    return Prepared(items, specs, models)


def dry_run(req: GenerateRequest) -> dict[str, CostEstimate]:
    """What generating would cost, by model (online price; the batch price is half), with the
    answers the call log already holds left out; no call made, nothing written."""
    ready = prepare(req)
    path = req.out / CALLS_FILE
    log = CallFile(path) if path.exists() else None
    try:
        return estimate(ready.prompts, ready.models, req.settings, log or _NoLog())
    finally:
        if log is not None:
            log.close()


class _NoLog:
    """The log of a folder that has none yet."""

    def answers(self, keys: object) -> dict:
        return {}


def generate(
    req: GenerateRequest, on_progress: Callable[[RunProgress], None] | None = None
) -> GenerateOutcome:
    """Generate, resumably; see the module docstring."""
    ready = prepare(req)
    req.out.mkdir(parents=True, exist_ok=True)
    log = CallFile(req.out / CALLS_FILE)
    try:
        results, summary = _run(req, ready, log, on_progress)
    except BudgetError as exc:
        raise SignoffError(str(exc)) from None
    finally:
        log.close()
    models, items = ready.models, ready.items
    if summary.stopped is not None or len(results) < summary.needed:
        return GenerateOutcome(summary, models, [], None, log.path, {})
    failed = {
        m.spec.name: sum(results[(i.id, m.spec.name)].status == "failed" for i in items)
        for m in models
    }
    files = write_outputs(req.out, items, ready.specs[0], ready.specs[1:], results)
    manifest = write_manifest(req.out, req.golden, models, req.settings, summary, files)
    return GenerateOutcome(summary, models, files, manifest, log.path, failed)


def _run(
    req: GenerateRequest,
    ready: Prepared,
    log: CallFile,
    on_progress: Callable[[RunProgress], None] | None,
) -> tuple[dict[tuple[str, str], Generation], GenerationSummary]:
    """Online, or through the batch APIs with the folder's batches resumed first."""
    batches = BatchFile(req.out / BATCHES_FILE)
    batches.repair()  # under the call log's lock: no other run appends to it now
    left = sorted({b["model"] for b in batches.open_batches()})
    if req.batch is None:
        if left:
            raise SignoffError(
                f"batches of {', '.join(left)} for {req.out} are still open at the provider "
                f"(see {batches.path}); collect them first with `signoff generate ... --batch` "
                "(their answers are paid for), then run online if you like"
            )
        return run_generation(ready.prompts, ready.models, log, req.settings, on_progress)
    from judge.batch import BatchError
    from judge.batch.generation import BatchModel, run_generation_batch

    names = {m.spec.name for m in ready.models}
    if set(left) - names:
        raise SignoffError(
            f"batches of {', '.join(sorted(set(left) - names))} for {req.out} are still open: "
            "run with the same models to collect them"
        )
    keys = key_envs(req.key_envs)
    models = [
        BatchModel(
            m,
            batch_client(m.spec, keys.get(m.spec.name)),
            FileBatchLedger(batches, log, m.spec.name, m.spec.provider),
        )  # fmt: skip
        for m in ready.models
    ]
    try:
        return run_generation_batch(
            ready.prompts, models, log, req.settings, req.batch, on_progress
        )
    except BatchError as exc:
        raise SignoffError(
            f"a provider's batch API failed: {exc}; batches already accepted are recorded in "
            f"{batches.path}, and running the same command again resumes them"
        ) from None

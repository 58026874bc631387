"""Run a golden set through the candidate and every baseline: validate everything first (the
golden set, the models, keys, prices), generate with the judge's machinery, and write the pairs
files only once every output is settled; a run that stopped early (budget, a refused key) writes
none and resumes from its call log when run again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from judge.budget import BudgetError
from judge.generate import GenerationSummary, ModelRun, Prompt, run_generation
from judge.pricing import DEFAULT_PRICES, PricesError, load_prices
from judge.spec import Settings
from judge.summary import RunProgress
from reviewer.errors import SignoffError
from reviewer.generating.call_file import CallFile
from reviewer.generating.models import Sampling, check_names, connect, key_envs, parse_model
from reviewer.generating.output import CALLS_FILE, write_manifest, write_outputs
from reviewer.ingest.golden import load_golden


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


@dataclass
class GenerateOutcome:
    summary: GenerationSummary
    models: list[ModelRun]
    files: list[Path]  # the pairs files, one per baseline (none if the run stopped)
    manifest: Path | None
    calls: Path
    failed_by_model: dict[str, int]


def generate(
    req: GenerateRequest, on_progress: Callable[[RunProgress], None] | None = None
) -> GenerateOutcome:
    """Generate, resumably; see the module docstring."""
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
    req.out.mkdir(parents=True, exist_ok=True)
    prompts = [Prompt(i.id, i.messages()) for i in items]
    log = CallFile(req.out / CALLS_FILE)
    try:
        results, summary = run_generation(prompts, models, log, req.settings, on_progress)
    except BudgetError as exc:
        raise SignoffError(str(exc)) from None
    finally:
        log.close()
    failed = {
        m.spec.name: sum(results[(i.id, m.spec.name)].status == "failed" for i in items)
        for m in models
        if summary.stopped is None
    }
    if summary.stopped is not None:
        return GenerateOutcome(summary, models, [], None, log.path, failed)
    files = write_outputs(req.out, items, specs[0], specs[1:], results)
    manifest = write_manifest(req.out, req.golden, models, req.settings, summary, files)
    return GenerateOutcome(summary, models, files, manifest, log.path, failed)

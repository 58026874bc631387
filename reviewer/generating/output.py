"""What a generation run leaves in its folder: one pairs file per baseline, in the form
`signoff import` takes as it is, and a manifest of how the outputs were made.

Each pair carries the golden set's stratum and reference, and in its metadata the golden
set's metadata, `expected` (when given) and `generation`: for the candidate and the baseline,
the model, the sampling parameters sent, the status (ok, empty, truncated, failed), latency,
tokens, cost (None when the model's price is unknown) and the model the provider said served it.
Latency and cost are also written flat (`candidate_latency_ms`, `baseline_latency_ms`,
`candidate_cost_usd`, `baseline_cost_usd`): the keys the checklist's latency and cost lines read.
A failed generation is an empty output marked failed: a loss for that model, not a missing pair.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from judge.generate import Generation, GenerationSummary, ModelRun, ModelSpec
from judge.spec import Settings
from reviewer.ingest.golden import GoldenItem

CALLS_FILE = "calls.jsonl"
MANIFEST_FILE = "generate.json"


def pairs_name(candidate: str, baseline: str) -> str:
    return f"{candidate}-vs-{baseline}.jsonl"


def model_record(spec: ModelSpec, g: Generation) -> dict[str, Any]:
    """One output's provenance, as stored in the pair's metadata."""
    return {
        "name": spec.name,
        "model": f"{spec.provider}:{spec.model}",
        "base_url": spec.base_url,
        "params": spec.params,
        "status": g.status,
        "error": g.error,
        "latency_ms": None if g.latency_ms is None else round(g.latency_ms, 1),
        "input_tokens": g.input_tokens,
        "output_tokens": g.output_tokens,
        "cost_usd": g.cost_usd,
        "served_model": g.served_model,
    }


def pair_row(
    item: GoldenItem, cand: ModelSpec, base: ModelSpec, results: dict[tuple[str, str], Generation]
) -> dict[str, Any]:
    c, b = results[(item.id, cand.name)], results[(item.id, base.name)]
    metadata: dict[str, Any] = dict(item.metadata)
    if item.expected is not None:
        metadata["expected"] = item.expected
    records = {"candidate": model_record(cand, c), "baseline": model_record(base, b)}
    metadata["generation"] = records
    for side, record in records.items():
        metadata[f"{side}_latency_ms"] = record["latency_ms"]
        metadata[f"{side}_cost_usd"] = record["cost_usd"]
    row: dict[str, Any] = {
        "id": item.id,
        "prompt": item.prompt if isinstance(item.prompt, str) else item.messages(),
        "candidate": c.text,
        "baseline": b.text,
        "candidate_model": cand.name,
        "baseline_model": base.name,
        "stratum": item.stratum,
    }
    if item.reference is not None:
        row["reference"] = item.reference
    row["metadata"] = metadata
    return row


def write_atomically(path: Path, text: str) -> None:
    """The whole file or the old one: written beside it, then renamed over it."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_outputs(
    out: Path,
    items: Sequence[GoldenItem],
    candidate: ModelSpec,
    baselines: Sequence[ModelSpec],
    results: dict[tuple[str, str], Generation],
) -> list[Path]:
    """One pairs file per baseline, in golden-set order; their paths."""
    paths = []
    for base in baselines:
        path = out / pairs_name(candidate.name, base.name)
        lines = (
            json.dumps(pair_row(i, candidate, base, results), ensure_ascii=False) + "\n"
            for i in items
        )
        write_atomically(path, "".join(lines))
        paths.append(path)
    return paths


def write_manifest(
    out: Path,
    golden: Path,
    models: Sequence[ModelRun],
    settings: Settings,
    summary: GenerationSummary,
    files: Sequence[Path],
) -> Path:
    """How the outputs were made: the golden set (and its hash), each model with its sampling
    parameters and price, the run's settings and what it did."""
    manifest = {
        "golden": str(golden),
        "golden_sha256": hashlib.sha256(golden.read_bytes()).hexdigest(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "models": [
            {
                "name": m.spec.name,
                "provider": m.spec.provider,
                "model": m.spec.model,
                "base_url": m.spec.base_url,
                "params": m.spec.params,
                "price_usd_per_mtok": None if m.price is None else m.price.model_dump(),
            }
            for m in models
        ],
        "settings": {
            "concurrency": settings.concurrency,
            "requests_per_minute": settings.requests_per_minute,
            "tokens_per_minute": settings.tokens_per_minute,
            "timeout": settings.timeout,
            "max_retries": settings.max_retries,
            "max_cost": settings.max_cost,
        },
        "summary": summary_json(summary),
        "pairs_files": [p.name for p in files],
        "calls_file": CALLS_FILE,
    }
    path = out / MANIFEST_FILE
    write_atomically(path, json.dumps(manifest, indent=2) + "\n")
    return path


def summary_json(summary: GenerationSummary) -> dict[str, Any]:
    return {**asdict(summary), "missing": summary.missing}

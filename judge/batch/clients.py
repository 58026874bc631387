"""The providers' batch APIs through their official SDKs: submit a batch of request lines, ask
how it is doing, read its results.

OpenAI (and OpenAI-compatible servers that implement its Batch API): the lines are uploaded as
a JSONL file (`files.create(purpose="batch")`), then `batches.create` runs them; results come
back as an output file and an error file (`files.content`). Anthropic: `messages.batches.create`
takes the requests themselves; `retrieve` and `results` follow. The control-plane calls are
retried by the SDK on transient failures, except the one that creates a batch: retrying it
after a timeout could start the same batch twice.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from judge.batch.requests import (
    ANTHROPIC_LIMITS,
    OPENAI_ENDPOINT,
    OPENAI_LIMITS,
    BatchLimits,
    LineEncoder,
    anthropic_result,
    openai_result,
)
from judge.providers import KEY_ENV, ProviderSetupError, Request, Response, resolve_mode
from judge.providers.base import api_key, scrub_text

# Retries of the SDK for status, results and uploads (create is never retried).
CONTROL_RETRIES = 4
# How far before its recorded time a batch may have been created (clocks differ), and how far
# back the provider's list of batches is read when looking for one.
CLOCK_SKEW = timedelta(minutes=10)


class BatchError(Exception):
    """A batch call the provider refused or that never reached it; the key is scrubbed out."""


@dataclass(frozen=True)
class BatchState:
    """Where a batch is: `running`, or ended (`completed`, `expired`, `failed`, `cancelled`),
    with the provider's counts of requests (`done` answered, `failed` errored)."""

    status: str
    total: int
    done: int
    failed: int
    reason: str | None = None  # why a batch failed as a whole

    @property
    def ended(self) -> bool:
        return self.status != "running"


class BatchClient(Protocol):
    """A provider's batch API, as the batch runner uses it."""

    name: str
    limits: BatchLimits

    def line(self, custom_id: str, request: Request) -> str: ...

    def submit(self, lines: list[str], tag: str) -> str: ...

    def state(self, batch_id: str) -> BatchState: ...

    def results(self, batch_id: str) -> Iterator[tuple[str, Response | str]]: ...

    def find(
        self, tag: str, requests: int, since: datetime | None, known: set[str]
    ) -> str | None: ...

    def close(self) -> None: ...


class _SdkBatches:
    """What both SDK clients share: the key kept out of every error message."""

    name = ""
    limits = OPENAI_LIMITS

    def __init__(self, model: str, mode: str, key: str | None, base_url: str | None):
        self.model, self.mode, self._key, self._base_url = model, mode, key, base_url
        self._client: Any = None
        self._lines = LineEncoder(self.name, model, mode)

    def line(self, custom_id: str, request: Request) -> str:
        return self._lines.line(custom_id, request)

    def _error(self, exc: Exception) -> BatchError:
        return BatchError(scrub_text(f"{type(exc).__name__}: {exc}", self._key)[:300])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class OpenAIBatches(_SdkBatches):
    name, limits = "openai", OPENAI_LIMITS

    def _sdk(self) -> Any:
        if self._client is None:
            import openai

            self._openai = openai
            self._client = openai.OpenAI(
                api_key=self._key or "not-needed", base_url=self._base_url,
                max_retries=CONTROL_RETRIES,
            )  # fmt: skip
        return self._client

    def submit(self, lines: list[str], tag: str) -> str:
        client = self._sdk()
        data = ("\n".join(lines) + "\n").encode()
        try:
            upload = client.files.create(file=(f"{tag}.jsonl", data), purpose="batch")
            batch = client.with_options(max_retries=0).batches.create(
                input_file_id=upload.id, endpoint=OPENAI_ENDPOINT, completion_window="24h",
                metadata={"signoff": tag},
            )  # fmt: skip
        except self._openai.OpenAIError as exc:
            raise self._error(exc) from None
        return batch.id

    def state(self, batch_id: str) -> BatchState:
        try:
            b = self._sdk().batches.retrieve(batch_id)
        except self._openai.OpenAIError as exc:
            raise self._error(exc) from None
        counts = b.request_counts
        total, done, failed = (
            (counts.total, counts.completed, counts.failed) if counts else (0,) * 3
        )
        status = {"completed": "completed", "expired": "expired", "failed": "failed"}.get(
            b.status, "cancelled" if b.status == "cancelled" else "running"
        )
        reason = None
        if status == "failed" and b.errors and b.errors.data:
            reason = "; ".join(e.message or e.code or "" for e in b.errors.data[:3])
        return BatchState(status, total, done, failed, reason)

    def results(self, batch_id: str) -> Iterator[tuple[str, Response | str]]:
        try:
            b = self._sdk().batches.retrieve(batch_id)
            files = [f for f in (b.output_file_id, b.error_file_id) if f]
            for file_id in files:
                text = self._sdk().files.content(file_id).text
                for raw in text.splitlines():
                    if raw.strip():
                        line = json.loads(raw)
                        yield line["custom_id"], openai_result(line)
        except self._openai.OpenAIError as exc:
            raise self._error(exc) from None

    def find(self, tag: str, requests: int, since: datetime | None, known: set[str]) -> str | None:
        """The batch submitted under `tag` (kept in its metadata), if the provider has it."""
        oldest = _oldest(since).timestamp()
        try:
            for b in self._sdk().batches.list(limit=100):
                if b.created_at < oldest:
                    return None  # newest first: older ones cannot be it
                if (b.metadata or {}).get("signoff") == tag:
                    return b.id
        except self._openai.OpenAIError as exc:
            raise self._error(exc) from None
        return None


class AnthropicBatches(_SdkBatches):
    name, limits = "anthropic", ANTHROPIC_LIMITS

    def _sdk(self) -> Any:
        if self._client is None:
            import anthropic

            self._anthropic = anthropic
            self._client = anthropic.Anthropic(
                api_key=self._key, base_url=self._base_url, max_retries=CONTROL_RETRIES
            )
        return self._client

    def submit(self, lines: list[str], tag: str) -> str:
        requests = [json.loads(line) for line in lines]
        try:
            batch = (
                self._sdk().with_options(max_retries=0).messages.batches.create(requests=requests)
            )
        except self._anthropic.AnthropicError as exc:
            raise self._error(exc) from None
        return batch.id

    def state(self, batch_id: str) -> BatchState:
        try:
            b = self._sdk().messages.batches.retrieve(batch_id)
        except self._anthropic.AnthropicError as exc:
            raise self._error(exc) from None
        c = b.request_counts
        total = c.processing + c.succeeded + c.errored + c.canceled + c.expired
        if b.processing_status != "ended":
            return BatchState("running", total, c.succeeded, c.errored)
        status = "expired" if c.expired else "cancelled" if c.canceled else "completed"
        return BatchState(status, total, c.succeeded, c.errored + c.expired + c.canceled)

    def results(self, batch_id: str) -> Iterator[tuple[str, Response | str]]:
        # The results as JSON lines, read as they are: the SDK's typed entries cost ~0.13 ms
        # each to build (1.3 s of CPU per 10,000 requests), for fields read once.
        batches = self._sdk().messages.batches.with_streaming_response
        try:
            with batches.results(batch_id) as response:
                for raw in response.iter_lines():
                    if raw.strip():
                        entry = json.loads(raw)
                        yield entry["custom_id"], anthropic_result(entry["result"])
        except self._anthropic.AnthropicError as exc:
            raise self._error(exc) from None

    def find(self, tag: str, requests: int, since: datetime | None, known: set[str]) -> str | None:
        """A batch of `requests` requests created since the record was written that no record
        names. Anthropic keeps no metadata with a batch, so this is by size and time: the
        oldest such batch is the one the record was written for."""
        oldest, found = _oldest(since), None
        try:
            for b in self._sdk().messages.batches.list(limit=100):
                if b.created_at < oldest:
                    break  # newest first: older ones cannot be it
                counts = b.request_counts
                total = sum((counts.processing, counts.succeeded, counts.errored,
                             counts.canceled, counts.expired))  # fmt: skip
                if total == requests and b.id not in known:
                    found = b.id
        except self._anthropic.AnthropicError as exc:
            raise self._error(exc) from None
        return found


def _oldest(since: datetime | None) -> datetime:
    """The earliest creation time a batch recorded at `since` may carry."""
    since = since or datetime.now(UTC)
    return (since if since.tzinfo else since.replace(tzinfo=UTC)) - CLOCK_SKEW


def make_batch_client(
    provider: str,
    model: str,
    base_url: str | None = None,
    mode: str = "auto",
    key_env: str | None = None,
) -> BatchClient:
    """The batch API of `provider`, its setup (key, mode) checked before any call."""
    chosen = resolve_mode(provider, mode)
    required = provider != "openai-compatible" or key_env is not None
    key = api_key(key_env or KEY_ENV[provider], required=required)
    if provider == "anthropic":
        return AnthropicBatches(model, chosen, key, base_url)
    if provider == "openai-compatible" and not base_url:
        raise ProviderSetupError("openai-compatible needs --base-url")
    return OpenAIBatches(model, chosen, key, base_url)

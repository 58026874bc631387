"""A batch's request lines in each provider's format, the split of many lines into batches the
provider accepts, and a result line read back into the same `Response` an online call gives.

The request bodies are the ones the online providers send (judge/providers): the same model,
messages, max_tokens, temperature and structured-output mode, so a batch answer reads exactly
like an online one and goes through the same strict verdict parser. Each request's `custom_id`
is its cache key (64 hex characters: within both providers' limit), so a result finds its call
whatever order the provider returns results in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from judge.providers import Request, Response
from judge.providers.openai_chat import TOOL

OPENAI_ENDPOINT = "/v1/chat/completions"


@dataclass(frozen=True)
class BatchLimits:
    """The most requests and bytes one batch may hold."""

    max_requests: int
    max_bytes: int


# Published limits: OpenAI 50,000 requests and 200 MB per input file; Anthropic 100,000
# requests and 256 MB per batch.
OPENAI_LIMITS = BatchLimits(50_000, 200 * 1024 * 1024)
ANTHROPIC_LIMITS = BatchLimits(100_000, 256 * 1024 * 1024)


def openai_body(model: str, mode: str, request: Request) -> dict:
    """The chat-completions body the online OpenAI provider sends for `request`."""
    body: dict = {
        "model": model,
        "messages": request.messages,
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    }
    if mode == "json_schema":
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "verdict", "schema": request.schema},
        }
    elif mode == "json_object":
        body["response_format"] = {"type": "json_object", "schema": request.schema}
    elif mode == "tools":
        tool = {"name": TOOL, "description": "Record the verdict.", "parameters": request.schema}
        body["tools"] = [{"type": "function", "function": tool}]
        body["tool_choice"] = {"type": "function", "function": {"name": TOOL}}
    return {**body, **request.options}


def anthropic_params(model: str, mode: str, request: Request) -> dict:
    """The messages params the online Anthropic provider sends for `request` (no temperature:
    see judge/providers/anthropic_messages.py)."""
    params: dict = {
        "model": model,
        "system": "\n\n".join(m["content"] for m in request.messages if m["role"] == "system"),
        "messages": [m for m in request.messages if m["role"] != "system"],
        "max_tokens": request.max_tokens,
    }
    if mode == "tools":
        tool = {"name": TOOL, "description": "Record the verdict.", "input_schema": request.schema}
        params["tools"] = [tool]
        params["tool_choice"] = {"type": "tool", "name": TOOL}
    return {**params, **request.options}


class LineEncoder:
    """A run's request lines as JSON text. What every request of a run shares (model, schema,
    parameters: most of a line's bytes) is encoded once, and each line only adds its messages
    and id: 40,000 lines, each carrying the whole answer schema, would otherwise spend most of
    their CPU encoding the same schema again."""

    def __init__(self, api: str, model: str, mode: str):
        self.api, self.model, self.mode = api, model, mode
        self._frames: dict[tuple, tuple[str, dict]] = {}

    def line(self, custom_id: str, request: Request) -> str:
        """One line of an OpenAI batch file, or one request of an Anthropic batch."""
        messages = request.messages
        if self.api == "anthropic":
            messages = [m for m in messages if m["role"] != "system"]
        head = self._head(request)
        tail = json.dumps(custom_id)
        return f'{head}{json.dumps(messages, separators=(",", ":"))}}},"custom_id":{tail}}}'

    def _head(self, request: Request) -> str:
        """The line's JSON up to its messages, which come last in the body."""
        system = [m["content"] for m in request.messages if m["role"] == "system"]
        key = (id(request.schema), request.max_tokens, request.temperature,
               json.dumps(request.options, sort_keys=True), tuple(system))  # fmt: skip
        if key not in self._frames:
            if self.api == "anthropic":
                body = anthropic_params(self.model, self.mode, request)
                body.pop("messages")
                frame = {"params": {**body, "messages": None}}
            else:
                body = openai_body(self.model, self.mode, request)
                body.pop("messages")
                frame = {"method": "POST", "url": OPENAI_ENDPOINT,
                         "body": {**body, "messages": None}}  # fmt: skip
            text = json.dumps(frame, separators=(",", ":"))
            # The schema is kept with its frame, so that its id is not reused while cached.
            self._frames[key] = (text[: -len("null}}")], request.schema)
        return self._frames[key][0]


def split(lines: Sequence[str], limits: BatchLimits) -> Iterator[list[str]]:
    """`lines` in order, cut into batches of at most `limits` requests and bytes (a newline
    after each line counted). A line larger than the byte limit alone is a batch of its own,
    which the provider then refuses: no split can make it fit."""
    chunk: list[str] = []
    size = 0
    for line in lines:
        n = len(line.encode()) + 1
        if chunk and (len(chunk) >= limits.max_requests or size + n > limits.max_bytes):
            yield chunk
            chunk, size = [], 0
        chunk.append(line)
        size += n
    if chunk:
        yield chunk


def openai_result(line: dict) -> Response | str:
    """A line of an OpenAI batch's output or error file: the answer, or why there is none."""
    if line.get("error"):
        err = line["error"]
        return f"{err.get('code') or 'error'}: {err.get('message') or ''}".strip()
    response = line.get("response") or {}
    body = response.get("body") or {}
    status = response.get("status_code")
    if status != 200:
        err = body.get("error") if isinstance(body, dict) else None
        message = err.get("message") if isinstance(err, dict) else json.dumps(body)[:200]
        return f"HTTP {status}: {message}"
    if not body.get("choices"):
        return "the batch returned no choices"
    choice = body["choices"][0]
    message = choice.get("message") or {}
    calls = message.get("tool_calls") or []
    text = calls[0]["function"]["arguments"] if calls else (message.get("content") or "")
    usage = body.get("usage") or {}
    return Response(
        text=text,
        input_tokens=usage.get("prompt_tokens", 0),
        output_tokens=usage.get("completion_tokens", 0),
        truncated=choice.get("finish_reason") == "length",
        served_model=body.get("model") or None,
    )


def anthropic_result(result: dict) -> Response | str:
    """An Anthropic batch result (an entry's `result`, as JSON): the answer, or why not."""
    kind = result.get("type")
    if kind == "errored":
        error = (result.get("error") or {}).get("error") or {}
        return f"{error.get('type') or 'error'}: {error.get('message') or ''}"
    if kind != "succeeded":
        return f"request {kind} (the batch ended before it was processed)"
    reply = result.get("message") or {}
    content = reply.get("content") or []
    tool = next((b for b in content if b.get("type") == "tool_use"), None)
    if tool is not None:
        text = json.dumps(tool.get("input"))
    else:
        text = "".join(b.get("text") or "" for b in content if b.get("type") == "text")
    usage = reply.get("usage") or {}
    return Response(
        text=text,
        input_tokens=usage.get("input_tokens") or 0,
        output_tokens=usage.get("output_tokens") or 0,
        truncated=reply.get("stop_reason") == "max_tokens",
        served_model=reply.get("model") or None,
    )

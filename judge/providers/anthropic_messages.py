"""Anthropic messages API. Structured output through a forced tool call.

The current SDK's `messages.create` no longer takes `temperature` (Anthropic's newer models
fix their own sampling), so none is sent; it still counts in the judge's identity."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from judge.providers.base import Request, Response, SdkProvider, read_reply
from judge.providers.openai_chat import TOOL


class _Block(BaseModel):
    type: str
    text: str | None = None
    input: Any = None


class _Usage(BaseModel):
    input_tokens: int | None = None
    output_tokens: int | None = None


class _Reply(BaseModel):
    """The fields of a message the judge reads (the rest is ignored)."""

    model: str | None = None
    content: list[_Block]
    stop_reason: str | None = None
    usage: _Usage | None = None


class AnthropicMessages(SdkProvider):
    path = "/v1/messages"

    def _make_client(self) -> tuple[Any, Any, Any]:
        import anthropic
        from anthropic._models import FinalRequestOptions

        http = anthropic.DefaultAioHttpClient()
        client = anthropic.AsyncAnthropic(
            api_key=self._key, base_url=self._base_url, max_retries=0, http_client=http
        )
        return client, http, FinalRequestOptions

    def _body(self, request: Request) -> dict:
        """The body `messages.create` would send, built as a plain dict."""
        body: dict = {
            "model": self.model,
            "system": "\n\n".join(m["content"] for m in request.messages if m["role"] == "system"),
            "messages": [m for m in request.messages if m["role"] != "system"],
            "max_tokens": request.max_tokens,
        }
        if self.mode == "tools":
            body["tools"] = [
                {"name": TOOL, "description": "Record the verdict.", "input_schema": request.schema}
            ]
            body["tool_choice"] = {"type": "tool", "name": TOOL}
        return {**body, **request.options}

    def _read(self, raw: bytes) -> Response:
        reply = read_reply(_Reply, raw, self.name)
        tool = next((b for b in reply.content if b.type == "tool_use"), None)
        if tool is not None:
            text = json.dumps(tool.input)
        else:
            text = "".join(b.text or "" for b in reply.content if b.type == "text")
        usage = reply.usage or _Usage()
        return Response(
            text=text,
            input_tokens=usage.input_tokens or 0,
            output_tokens=usage.output_tokens or 0,
            truncated=reply.stop_reason == "max_tokens",
            served_model=reply.model or None,
        )

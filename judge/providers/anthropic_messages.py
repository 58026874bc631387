"""Anthropic messages API. Structured output through a forced tool call.

The current SDK's `messages.create` no longer takes `temperature` (Anthropic's newer models
fix their own sampling), so none is sent; it still counts in the judge's identity."""

from __future__ import annotations

import json
from typing import Any

from judge.providers.base import (
    ProviderError,
    Request,
    Response,
    SdkProvider,
    classify_status,
)
from judge.providers.openai_chat import TOOL, _message


class AnthropicMessages(SdkProvider):
    def _make_client(self) -> Any:
        import anthropic

        self._anthropic = anthropic
        return anthropic.AsyncAnthropic(api_key=self._key, base_url=self._base_url, max_retries=0)

    async def _complete(self, request: Request) -> Response:
        system = "\n\n".join(m["content"] for m in request.messages if m["role"] == "system")
        messages = [m for m in request.messages if m["role"] != "system"]
        kwargs: dict = {}
        if self.mode == "tools":
            kwargs["tools"] = [
                {"name": TOOL, "description": "Record the verdict.", "input_schema": request.schema}
            ]
            kwargs["tool_choice"] = {"type": "tool", "name": TOOL}
        try:
            reply = await self._sdk().messages.create(
                model=self.model,
                system=system,
                messages=messages,
                max_tokens=request.max_tokens,
                timeout=request.timeout,
                extra_body=request.options or None,
                **kwargs,
            )
        except self._anthropic.APIStatusError as exc:
            raise classify_status(exc.status_code, _message(exc), exc.response.headers) from None
        except (self._anthropic.APITimeoutError, self._anthropic.APIConnectionError) as exc:
            raise ProviderError(type(exc).__name__ + ": " + str(exc), retry=True) from None
        except self._anthropic.AnthropicError as exc:
            raise ProviderError(type(exc).__name__ + ": " + str(exc), retry=False) from None
        tool = next((b for b in reply.content if b.type == "tool_use"), None)
        if tool is not None:
            text = json.dumps(tool.input)
        else:
            text = "".join(b.text for b in reply.content if b.type == "text")
        return Response(
            text=text,
            input_tokens=reply.usage.input_tokens,
            output_tokens=reply.usage.output_tokens,
            truncated=reply.stop_reason == "max_tokens",
            served_model=reply.model or None,
        )

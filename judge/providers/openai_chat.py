"""OpenAI chat completions, for the OpenAI API and any OpenAI-compatible server (vLLM, Ollama,
llama.cpp server, LM Studio, Together...)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json

from judge.providers.base import (
    ProviderError,
    Request,
    Response,
    SdkProvider,
    classify_status,
    read_reply,
)

TOOL = "submit_verdict"


class _Function(BaseModel):
    arguments: str | None = None


class _ToolCall(BaseModel):
    function: _Function


class _Message(BaseModel):
    content: str | None = None
    tool_calls: list[_ToolCall] | None = None


class _Choice(BaseModel):
    message: _Message
    finish_reason: str | None = None


class _Usage(BaseModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class _Reply(BaseModel):
    """The fields of a chat completion the judge reads (the rest is ignored)."""

    model: str | None = None
    choices: list[_Choice]
    usage: _Usage | None = None


class OpenAIChat(SdkProvider):
    def _make_client(self) -> Any:
        import openai

        self._openai = openai
        # Local servers ignore the key, but the SDK insists on one.
        return openai.AsyncOpenAI(
            api_key=self._key or "not-needed",
            base_url=self._base_url,
            max_retries=0,
            http_client=openai.DefaultAioHttpClient(),
        )

    def _body(self, request: Request) -> dict:
        """The body `chat.completions.create` would send, built as a plain dict."""
        body: dict = {
            "model": self.model,
            "messages": request.messages,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if self.mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "verdict", "schema": request.schema},
            }
        elif self.mode == "json_object":
            # llama.cpp's server reads the schema from here and rejects "json_schema".
            body["response_format"] = {"type": "json_object", "schema": request.schema}
        elif self.mode == "tools":
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": TOOL,
                        "description": "Record the verdict.",
                        "parameters": request.schema,
                    },
                }
            ]
            body["tool_choice"] = {"type": "function", "function": {"name": TOOL}}
        return {**body, **request.options}

    async def _complete(self, request: Request) -> Response:
        try:
            raw = await self._sdk().post(
                "/chat/completions",
                content=to_json(self._body(request)),
                cast_to=bytes,
                options={"timeout": request.timeout},
            )
        except self._openai.APIStatusError as exc:
            raise classify_status(exc.status_code, _message(exc), exc.response.headers) from None
        except (self._openai.APITimeoutError, self._openai.APIConnectionError) as exc:
            raise ProviderError(type(exc).__name__ + ": " + str(exc), retry=True) from None
        except self._openai.OpenAIError as exc:
            raise ProviderError(type(exc).__name__ + ": " + str(exc), retry=False) from None
        reply = read_reply(_Reply, raw, self.name)
        if not reply.choices:
            raise ProviderError("the server returned no choices", retry=True)
        choice = reply.choices[0]
        calls = choice.message.tool_calls or []
        text = calls[0].function.arguments if calls else choice.message.content
        usage = reply.usage or _Usage()
        return Response(
            text=text or "",
            input_tokens=usage.prompt_tokens or 0,
            output_tokens=usage.completion_tokens or 0,
            truncated=choice.finish_reason == "length",
            served_model=reply.model or None,
        )


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return f"HTTP {getattr(exc, 'status_code', '?')}: {err['message']}"
        return f"HTTP {getattr(exc, 'status_code', '?')}: {json.dumps(body)}"
    return str(exc)  # cut to length by `scrub`, once the key is out of it

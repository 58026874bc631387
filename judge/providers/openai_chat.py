"""OpenAI chat completions, for the OpenAI API and any OpenAI-compatible server (vLLM, Ollama,
llama.cpp server, LM Studio, Together...)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from judge.providers.base import ProviderError, Request, Response, SdkProvider, read_reply

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
    path = "/chat/completions"

    def _make_client(self) -> tuple[Any, Any, Any]:
        import openai
        from openai._models import FinalRequestOptions

        http = openai.DefaultAioHttpClient()
        # Local servers ignore the key, but the SDK insists on one.
        client = openai.AsyncOpenAI(
            api_key=self._key or "not-needed", base_url=self._base_url, max_retries=0,
            http_client=http,
        )  # fmt: skip
        return client, http, FinalRequestOptions

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

    def _read(self, raw: bytes) -> Response:
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

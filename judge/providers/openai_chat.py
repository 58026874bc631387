"""OpenAI chat completions, for the OpenAI API and any OpenAI-compatible server (vLLM, Ollama,
llama.cpp server, LM Studio, Together...)."""

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

TOOL = "submit_verdict"


class OpenAIChat(SdkProvider):
    def _make_client(self) -> Any:
        import openai

        self._openai = openai
        # Local servers ignore the key, but the SDK insists on one.
        return openai.AsyncOpenAI(
            api_key=self._key or "not-needed", base_url=self._base_url, max_retries=0
        )

    async def _complete(self, request: Request) -> Response:
        kwargs: dict = {}
        if self.mode == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "verdict", "schema": request.schema},
            }
        elif self.mode == "json_object":
            # llama.cpp's server reads the schema from here and rejects "json_schema".
            kwargs["response_format"] = {"type": "json_object", "schema": request.schema}
        elif self.mode == "tools":
            kwargs["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": TOOL,
                        "description": "Record the verdict.",
                        "parameters": request.schema,
                    },
                }
            ]
            kwargs["tool_choice"] = {"type": "function", "function": {"name": TOOL}}
        try:
            reply = await self._sdk().chat.completions.create(
                model=self.model,
                messages=request.messages,
                max_tokens=request.max_tokens,
                temperature=request.temperature,
                timeout=request.timeout,
                # Sent as is: the SDK's typed-parameter transform walks every node of the
                # schema on every call, which cost ~0.6 ms of CPU per call (bench/RESULTS.md).
                extra_body={**kwargs, **request.options},
            )
        except self._openai.APIStatusError as exc:
            raise classify_status(exc.status_code, _message(exc), exc.response.headers) from None
        except (self._openai.APITimeoutError, self._openai.APIConnectionError) as exc:
            raise ProviderError(type(exc).__name__ + ": " + str(exc), retry=True) from None
        except self._openai.OpenAIError as exc:
            raise ProviderError(type(exc).__name__ + ": " + str(exc), retry=False) from None
        if not reply.choices:
            raise ProviderError("the server returned no choices", retry=True)
        choice = reply.choices[0]
        calls = choice.message.tool_calls or []
        text = calls[0].function.arguments if calls else (choice.message.content or "")
        usage = reply.usage
        return Response(
            text=text,
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
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

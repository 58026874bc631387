"""Providers over the official SDKs: `openai`, `openai-compatible` (any base URL) and
`anthropic`. Each structured-output mode is the best the provider is known to accept, and can
be overridden: OpenAI takes a JSON schema; OpenAI-compatible servers vary (llama.cpp's rejects
`json_schema` but takes `json_object` with a schema, which vLLM and Ollama accept too), so they
get `json_object`; Anthropic gets a forced tool call. `plain` asks for JSON in the prompt only."""

from __future__ import annotations

from typing import get_args

from judge.providers.base import (
    OutputMode,
    Provider,
    ProviderError,
    ProviderSetupError,
    Request,
    Response,
    api_key,
)

PROVIDERS = ("openai", "openai-compatible", "anthropic")
MODES: tuple[str, ...] = get_args(OutputMode)
DEFAULT_MODE: dict[str, OutputMode] = {
    "openai": "json_schema",
    "openai-compatible": "json_object",
    "anthropic": "tools",
}
KEY_ENV = {
    "openai": "OPENAI_API_KEY",
    "openai-compatible": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
}


def resolve_mode(provider: str, mode: str = "auto") -> OutputMode:
    """The structured-output mode a provider will use: its default for "auto"."""
    if provider not in PROVIDERS:
        raise ProviderSetupError(f"unknown provider {provider!r}; choose one of {list(PROVIDERS)}")
    chosen = DEFAULT_MODE[provider] if mode == "auto" else mode
    if chosen not in MODES:
        raise ProviderSetupError(f"unknown output mode {mode!r}; choose auto or one of {MODES}")
    if provider == "anthropic" and chosen not in ("tools", "plain"):
        raise ProviderSetupError("the anthropic provider supports the modes tools and plain")
    return chosen  # type: ignore[return-value]


def make_provider(
    provider: str,
    model: str,
    base_url: str | None = None,
    mode: str = "auto",
    key_env: str | None = None,
) -> Provider:
    """Build a provider, checking its setup (key, base URL, mode) before any call is made."""
    chosen = resolve_mode(provider, mode)
    if provider == "openai-compatible" and not base_url:
        raise ProviderSetupError(
            "openai-compatible needs --base-url, e.g. http://localhost:11434/v1 (Ollama) or "
            "http://localhost:8000/v1 (vLLM)"
        )
    # A local server needs no key; a hosted OpenAI-compatible one reads it from key_env.
    required = provider != "openai-compatible" or key_env is not None
    key = api_key(key_env or KEY_ENV[provider], required=required)
    if provider == "anthropic":
        from judge.providers.anthropic_messages import AnthropicMessages

        return AnthropicMessages("anthropic", model, chosen, key, base_url)
    from judge.providers.openai_chat import OpenAIChat

    return OpenAIChat(provider, model, chosen, key, base_url)


__all__ = [
    "DEFAULT_MODE",
    "KEY_ENV",
    "MODES",
    "PROVIDERS",
    "Provider",
    "ProviderError",
    "ProviderSetupError",
    "Request",
    "Response",
    "make_provider",
    "resolve_mode",
]

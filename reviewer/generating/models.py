"""Which models to generate with: `NAME=PROVIDER:MODEL[@BASE_URL]` as given on the command line,
the sampling parameters sent to each, and the providers that call them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from judge.generate import ModelRun, ModelSpec
from judge.pricing import PriceTable
from judge.providers import PROVIDERS, ProviderSetupError, make_provider
from reviewer.errors import SignoffError

if TYPE_CHECKING:
    from judge.batch import BatchClient

SPEC = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)=(?P<provider>[a-z-]+):(?P<model>[^@]+?)"
    r"(?:@(?P<url>https?://\S+))?$"
)
FORM = (
    "NAME=PROVIDER:MODEL[@BASE_URL], e.g. base=openai-compatible:qwen2.5@http://127.0.0.1:11434/v1"
)


@dataclass(frozen=True)
class Sampling:
    """The sampling parameters every model gets, as far as its provider takes them."""

    temperature: float = 0.0
    max_tokens: int = 1024
    seed: int | None = None
    top_p: float | None = None

    def params(self, provider: str) -> dict:
        """What is sent to `provider`, which is what its outputs are recorded with. Anthropic's
        SDK takes no temperature, seed or top_p, so its record holds max_tokens only."""
        if provider == "anthropic":
            return {"max_tokens": self.max_tokens}
        params: dict = {"temperature": self.temperature, "max_tokens": self.max_tokens}
        if self.seed is not None:
            params["seed"] = self.seed
        if self.top_p is not None:
            params["top_p"] = self.top_p
        return params


def parse_model(text: str, sampling: Sampling) -> ModelSpec:
    """One `--candidate`/`--baseline` value as a model spec; a clear error if malformed."""
    m = SPEC.match(text.strip())
    if m is None:
        raise SignoffError(f"cannot read the model {text!r}: expected {FORM}")
    provider = m["provider"]
    if provider not in PROVIDERS:
        raise SignoffError(f"unknown provider {provider!r} in {text!r}; choose one of {PROVIDERS}")
    return ModelSpec(m["name"], provider, m["model"], m["url"], sampling.params(provider))


def check_names(specs: list[ModelSpec]) -> None:
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise SignoffError(f"two models are named {spec.name!r}; give each its own NAME")
        seen.add(spec.name)


def key_envs(values: list[str]) -> dict[str, str]:
    """`--api-key-env NAME=VAR` values: which environment variable holds each model's key."""
    out: dict[str, str] = {}
    for value in values:
        name, sep, var = value.partition("=")
        if not sep or not name or not var:
            raise SignoffError(f"--api-key-env takes NAME=VARIABLE, not {value!r}")
        out[name] = var
    return out


def connect(specs: list[ModelSpec], prices: PriceTable, keys: dict[str, str]) -> list[ModelRun]:
    """A provider and a price for each model; setup errors (no key, no URL) before any call."""
    unknown = sorted(set(keys) - {s.name for s in specs})
    if unknown:
        raise SignoffError(f"--api-key-env names no model of this run: {', '.join(unknown)}")
    runs = []
    for spec in specs:
        if spec.provider == "openai-compatible" and not spec.base_url:
            raise SignoffError(
                f"model {spec.name}: openai-compatible needs the server's URL: "
                f"{spec.name}=openai-compatible:{spec.model}@http://127.0.0.1:8000/v1"
            )
        try:
            provider = make_provider(
                spec.provider, spec.model, spec.base_url, "plain", keys.get(spec.name)
            )
        except ProviderSetupError as exc:
            raise SignoffError(f"model {spec.name}: {exc}") from None
        runs.append(ModelRun(spec, provider, prices.for_model(spec.model)))
    return runs


def batch_client(spec: ModelSpec, key_env: str | None) -> BatchClient:
    """The batch API that serves `spec` (its key checked before any call)."""
    from judge.batch import make_batch_client  # only --batch needs the batch clients

    try:
        return make_batch_client(spec.provider, spec.model, spec.base_url, "plain", key_env)
    except ProviderSetupError as exc:
        raise SignoffError(f"model {spec.name}: {exc}") from None

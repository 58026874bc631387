"""Who a judge is, and which calls are the same call.

A judge is (provider, model, output-affecting parameters, rubric hash, template hash): change
any of them and it is a different judge that needs its own calibration. The cache key of a call
hashes what changes the output (provider, model, those parameters, the rendered messages) and
leaves out what does not (timeouts, retries, concurrency), as inspect_ai's _cache_key does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

# Parameters that never change what the model answers.
NOT_OUTPUT_AFFECTING = frozenset(
    {"timeout", "max_retries", "concurrency", "requests_per_minute", "tokens_per_minute"}
)


def canonical(data: object) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class JudgeIdentity:
    provider: str
    model: str
    rubric_hash: str
    template_hash: str
    params: dict = field(default_factory=dict)

    def output_params(self) -> dict:
        return {k: v for k, v in self.params.items() if k not in NOT_OUTPUT_AFFECTING}

    def version_hash(self) -> str:
        return hashlib.sha256(
            canonical(
                {
                    "provider": self.provider,
                    "model": self.model,
                    "params": self.output_params(),
                    "rubric": self.rubric_hash,
                    "template": self.template_hash,
                }
            ).encode()
        ).hexdigest()

    def cache_key(self, messages: list[dict]) -> str:
        return hashlib.sha256(self.call_text(messages).encode()).hexdigest()

    def call_text(self, messages: list[dict]) -> str:
        """What the cache key hashes: the call in canonical JSON."""
        return canonical(
            {
                "provider": self.provider,
                "model": self.model,
                "params": self.output_params(),
                "messages": messages,
            }
        )

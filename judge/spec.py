"""What a run judges and how: the pairs as the judge sees them, the judge (rubric, template and
identity) and the run's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from judge.consistency import CANDIDATE_FIRST
from judge.identity import JudgeIdentity
from judge.prompts import DEFAULT_TEMPLATE, SYSTEM, PairText, render, template_hash
from judge.rubric import Rubric


@dataclass(frozen=True)
class PairInput:
    """One pair as the judge sees it: the prompt as text and both outputs."""

    pair_id: str
    prompt: str
    candidate: str
    baseline: str
    reference: str | None = None

    def shown(self, presented: str) -> PairText:
        first, second = (
            (self.candidate, self.baseline)
            if presented == CANDIDATE_FIRST
            else (self.baseline, self.candidate)
        )
        return PairText(self.prompt, first, second, self.reference)


@dataclass(frozen=True)
class JudgeSpec:
    """A judge: what it sends (system prompt, template, rubric) to which provider and model with
    which output-affecting parameters. Its identity is derived from exactly these, so the version
    hash cannot drift from the calls."""

    rubric: Rubric
    provider: str
    model: str
    params: dict = field(default_factory=dict)
    template: str = DEFAULT_TEMPLATE
    system: str = SYSTEM
    identity: JudgeIdentity = field(init=False)

    def __post_init__(self) -> None:
        identity = JudgeIdentity(
            self.provider,
            self.model,
            self.rubric.content_hash(),
            template_hash(self.template, self.system),
            self.params,
        )
        object.__setattr__(self, "identity", identity)  # frozen: set once, here

    @property
    def prompt_text(self) -> str:
        """The system prompt and the template as one text, as stored with the judge."""
        return self.system + "\n\n" + self.template

    def messages(self, pair: PairInput, presented: str) -> list[dict]:
        return render(self.rubric, pair.shown(presented), self.template, self.system)


@dataclass(frozen=True)
class Settings:
    concurrency: int = 16
    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None
    timeout: float = 60.0  # seconds per call
    max_retries: int = 6  # per call, for rate limits, server errors and timeouts
    parse_retries: int = 2  # extra calls when an answer is malformed or cut short
    max_tokens: int = 1024
    temperature: float = 0.0
    max_cost: float | None = None  # USD; the run stops cleanly before it would pass this
    seed: int = 0  # for backoff jitter
    # Seconds between writes to the call log of what was not paid for (cached rows, errors):
    # a paid answer is durable before its worker goes on (in the log, or in the journal of a
    # log that keeps one; `judge.call_log.LogWriter`). Writing every row at once instead took
    # 24.5 s of CPU for 2,000 calls rather than 14.5 s, for the same wall time (bench/RESULTS.md).
    flush_interval: float = 0.25

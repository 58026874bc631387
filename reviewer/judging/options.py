"""Which judge: the options a user gives (CLI or app), and the judge they make.

The options are built once, at the edge, and everything downstream reads them: a judge's
identity (its version hash) comes from what will actually be sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from judge import DEFAULT_TEMPLATE, load_rubric
from judge.pricing import DEFAULT_PRICES, Price, PricesError, load_prices
from judge.providers import ProviderSetupError, resolve_mode
from judge.rubric import RubricError
from judge.runner import JudgeSpec, Settings
from reviewer.errors import SignoffError


@dataclass(frozen=True)
class JudgeOptions:
    """The judge a user asked for, as given on the command line or in the app."""

    provider: str
    model: str
    rubric_path: Path
    base_url: str | None = None
    mode: str = "auto"
    key_env: str | None = None
    name: str | None = None
    prices_path: Path | None = None
    settings: Settings = field(default_factory=Settings)
    template: str = DEFAULT_TEMPLATE  # placeholders as in judge.prompts.DEFAULT_TEMPLATE


@dataclass(frozen=True)
class PreparedJudge:
    judge_id: str
    name: str
    spec: JudgeSpec
    price: Price | None


def prepare(options: JudgeOptions) -> PreparedJudge:
    """Rubric, identity and price of the judge; no call is made and no key is needed."""
    try:
        rubric = load_rubric(options.rubric_path)
        mode = resolve_mode(options.provider, options.mode)
        prices = load_prices(options.prices_path) if options.prices_path else DEFAULT_PRICES
    except (RubricError, ProviderSetupError, PricesError) as exc:
        raise SignoffError(str(exc)) from None
    params: dict = {
        "mode": mode,
        "max_tokens": options.settings.max_tokens,
        "temperature": options.settings.temperature,
    }
    if options.provider == "openai-compatible":
        params["base_url"] = options.base_url  # the server is part of who the judge is
    spec = JudgeSpec(rubric, options.provider, options.model, params, options.template)
    return PreparedJudge(
        judge_id=f"judge:{spec.identity.version_hash()[:16]}",
        name=options.name or options.model,
        spec=spec,
        price=prices.for_model(options.model),
    )

"""What a call costs: USD per million input and output tokens, per model.

The built-in table holds approximate list prices of common judge models as published by the
providers when it was written; prices move, so check them before trusting a budget, and pass
`--prices FILE` to override or extend the table. A model is matched by its longest listed prefix, so
dated snapshots ("gpt-4o-2024-08-06") find their family. A model with no price (a local server)
costs nothing as far as signoff knows, and a budget cannot be enforced for it.

Batch calls (OpenAI's Batch API, Anthropic's Message Batches) cost half the online price, as
both providers publish: `Price.batch()` is the price a batch run records and budgets with.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, RootModel

from judge.declared import DeclaredFileError, load_declared

CHARS_PER_TOKEN = 4  # the usual English estimate; dry runs state it is an estimate
# Share of the online price a batch request costs (OpenAI Batch API and Anthropic Message
# Batches: "50% off", on input and output tokens alike).
BATCH_DISCOUNT = 0.5


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    input: float = Field(ge=0, strict=True, description="USD per million input tokens")
    output: float = Field(ge=0, strict=True, description="USD per million output tokens")

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return (input_tokens * self.input + output_tokens * self.output) / 1e6

    def batch(self) -> Price:
        """The price of the same tokens sent through the provider's batch API."""
        return Price(input=self.input * BATCH_DISCOUNT, output=self.output * BATCH_DISCOUNT)


class PriceTable(RootModel[dict[str, Price]]):
    def for_model(self, model: str) -> Price | None:
        matches = [name for name in self.root if model.startswith(name)]
        return self.root[max(matches, key=len)] if matches else None


DEFAULT_PRICES = PriceTable(
    {
        "gpt-4o": Price(input=2.50, output=10.00),
        "gpt-4o-mini": Price(input=0.15, output=0.60),
        "gpt-4.1": Price(input=2.00, output=8.00),
        "gpt-4.1-mini": Price(input=0.40, output=1.60),
        "gpt-4.1-nano": Price(input=0.10, output=0.40),
        "o4-mini": Price(input=1.10, output=4.40),
        "claude-opus-4": Price(input=15.00, output=75.00),
        "claude-sonnet-4": Price(input=3.00, output=15.00),
        "claude-haiku-4": Price(input=1.00, output=5.00),
        "claude-3-5-haiku": Price(input=0.80, output=4.00),
    }
)


class PricesError(ValueError):
    """A price file that cannot be used; the message names the file and the model."""


def load_prices(path: Path, base: PriceTable = DEFAULT_PRICES) -> PriceTable:
    """The built-in table updated with a TOML/YAML file of `model = {input = .., output = ..}`."""
    try:
        extra = load_declared(path, PriceTable, "price table")
    except DeclaredFileError as exc:
        raise PricesError(str(exc)) from None
    return PriceTable({**base.root, **extra.root})

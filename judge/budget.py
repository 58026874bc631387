"""The run's spending limit: each call reserves its worst-case cost before it is sent, so the
calls in flight together can never take the run past its budget."""

from __future__ import annotations

from judge.pricing import Price


class BudgetError(ValueError):
    """A budget was asked for a model whose price is unknown."""


class CostBudget:
    """What calls cost at the model's price, and the reservations of those in flight."""

    def __init__(self, price: Price | None, max_cost: float | None, max_tokens: int, model: str):
        if max_cost is not None and price is None:
            raise BudgetError(
                f"no price is known for model {model!r}, so --max-cost cannot be "
                "enforced; give its price with --prices FILE"
            )
        self.price, self.max_cost, self.max_tokens = price, max_cost, max_tokens
        self._in_flight = _InFlight()  # worst-case cost of calls in flight

    def share(self, price: Price | None, model: str) -> CostBudget:
        """A budget for another model of the same run: its own price, this budget's limit and
        calls in flight (the run's `spent` covers every model)."""
        shared = CostBudget(price, self.max_cost, self.max_tokens, model)
        shared._in_flight = self._in_flight
        return shared

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        return self.price.cost(input_tokens, output_tokens) if self.price else 0

    def reserve(self, tokens_in: int, spent: float) -> float | None:
        """Worst-case cost of the next call, reserved against the budget; None if it would not
        fit (the run then stops launching calls and lets those in flight finish)."""
        if self.price is None:
            return 0.0
        worst = self.price.cost(tokens_in, self.max_tokens)
        if self.max_cost is not None and spent + self._in_flight.reserved + worst > self.max_cost:
            return None
        self._in_flight.reserved += worst
        return worst

    def release(self, reserved: float) -> None:
        self._in_flight.reserved -= reserved


class _InFlight:
    """Reservations shared by the budgets of one run's models."""

    reserved = 0.0

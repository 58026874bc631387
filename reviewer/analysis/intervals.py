"""An estimate with its interval, as reports and calibrations carry it (JSON-safe: no NaN)."""

from __future__ import annotations

import math

from pydantic import BaseModel, Field

from reviewer.analysis.stats import Estimate


def finite(x: float | None) -> float | None:
    """A statistic for JSON: None where it is undefined (NaN)."""
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


class Interval(BaseModel):
    value: float | None = Field(description="Point estimate; null when undefined.")
    low: float | None = Field(description="Lower bound of the 95% bootstrap interval over items.")
    high: float | None
    n: int = Field(description="How many comparisons (or items) it rests on.")

    @classmethod
    def of(cls, e: Estimate) -> Interval:
        return cls(value=finite(e.value), low=finite(e.low), high=finite(e.high), n=e.n)


def agreement_kappa(estimates: tuple[Estimate, Estimate]) -> dict[str, Interval]:
    """(agreement, kappa) estimates as the report's {"agreement": .., "kappa": ..}."""
    return {"agreement": Interval.of(estimates[0]), "kappa": Interval.of(estimates[1])}


def wilson(hits: int, n: int) -> Interval:
    """A share with its 95% Wilson interval; undefined (None) with no comparison."""
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return Interval(value=None, low=None, high=None, n=0)
    low, high = proportion_confint(hits, n, alpha=0.05, method="wilson")
    return Interval(value=hits / n, low=float(low), high=float(high), n=n)

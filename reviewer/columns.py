"""Rows held as columns: column name -> its values in row order.

The report reads each latest label and each verdict of a study, 100,000s of rows at scale.
Held as columns they cost one list per column instead of one dict per row (DuckDB hands them
over as arrays: a quarter of the time of rows made into dicts), and a pass over a few fields
zips those fields' lists. The readers of a few rows (calibration, alignment) keep dicts and
turn them into columns where they share a function with the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

Columns = dict[str, list[Any]]


def columns_of(rows: Sequence[Mapping[str, Any]], names: Iterable[str]) -> Columns:
    """The `names` fields of `rows` as columns (every name present, empty without rows)."""
    return {name: list(map(itemgetter(name), rows)) for name in names}


def rows_of(columns: Columns) -> list[dict[str, Any]]:
    """Columns back into one dict per row, for the readers of rows (a panel's votes)."""
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]

"""Review of the report's column reads (issue 16): `fetch_columns` from DuckDB gives the values
`fetch_dicts` gives for every type, not only those the report reads today."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from reviewer.store import Store
from reviewer.store.connection import fetch_columns, fetch_dicts

_TYPED = """
    SELECT * FROM (VALUES (TIMESTAMPTZ '2026-12-03 15:00:00+00', 12345678901234567890::HUGEINT,
                           DATE '2026-12-03', 'x'),
                          (NULL, NULL, NULL, NULL)) t(shown, big, day, s)
"""


def test_columns_of_types_numpy_does_not_round_trip_are_the_rows_values(db_path):
    columns, rows = Store(db_path).read(
        lambda cur: (fetch_columns(cur, _TYPED), fetch_dicts(cur, _TYPED))
    )
    # A time keeps its zone (as on PostgreSQL: comparable with the other reads' times), a
    # HUGEINT every digit.
    assert columns["shown"] == [datetime(2026, 12, 3, 15, tzinfo=UTC), None]
    assert columns["shown"][0].utcoffset() is not None
    assert columns["big"] == [12345678901234567890, None]
    assert columns == {name: [row[name] for row in rows] for name in rows[0]}


def test_a_decimal_among_array_types_stays_a_float(db_path):
    """The arrays' read is kept for the types it gives as rows do (a DECIMAL as a float, as
    tests/test_columns.py states)."""
    sql = "SELECT 0.25::DECIMAL(4, 2) AS m, 'a' AS s, 3 AS i, true AS b, 1.5::DOUBLE AS d"
    columns = Store(db_path).read(lambda cur: fetch_columns(cur, sql))
    assert columns == {"m": [0.25], "s": ["a"], "i": [3], "b": [True], "d": [1.5]}
    assert not isinstance(columns["m"][0], Decimal)

"""Rows held as columns (`reviewer.columns`) and read as columns from DuckDB (`fetch_columns`)."""

from __future__ import annotations

from reviewer.columns import columns_of, rows_of
from reviewer.store import Store
from reviewer.store.connection import fetch_columns, fetch_dicts

_MIXED = """
    SELECT * FROM (VALUES ('a', true, 1.5::DOUBLE, 3, NULL::VARCHAR, 0.25::DECIMAL(4, 2)),
                          (NULL, NULL, NULL, NULL, 'x', NULL)) t(s, b, d, i, v, m)
"""


def test_duckdb_columns_hold_the_values_rows_hold(db_path):
    columns, rows = Store(db_path).read(
        lambda cur: (fetch_columns(cur, _MIXED), fetch_dicts(cur, _MIXED))
    )
    assert columns == {
        "s": ["a", None],
        "b": [True, None],
        "d": [1.5, None],
        "i": [3, None],
        "v": [None, "x"],
        "m": [0.25, None],  # a DECIMAL as a float
    }
    assert [type(v) for v in (columns["b"][0], columns["d"][0], columns["i"][0])] == [
        bool,
        float,
        int,
    ]
    assert rows_of(columns)[1] == rows[1]
    assert {k: v for k, v in rows_of(columns)[0].items() if k != "m"} == {
        k: v for k, v in rows[0].items() if k != "m"
    }


def test_no_rows_is_every_column_empty(db_path):
    empty = Store(db_path).read(lambda cur: fetch_columns(cur, _MIXED + " WHERE false"))
    assert empty == {name: [] for name in ("s", "b", "d", "i", "v", "m")}
    assert rows_of(empty) == []


def test_rows_and_columns_round_trip():
    rows = [{"judge": "j1", "n": 1}, {"judge": "j1", "n": 2}, {"judge": "j2", "n": 3}]
    columns = columns_of(rows, ("judge", "n"))
    assert columns == {"judge": ["j1", "j1", "j2"], "n": [1, 2, 3]}
    assert rows_of(columns) == rows
    assert columns_of([], ("judge",)) == {"judge": []}

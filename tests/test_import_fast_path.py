"""The quick JSONL path stores exactly what `Pair` would: for every row it takes, its columns
equal those of the row validated as a `Pair`; every row `Pair` refuses, it leaves to `Pair`."""

from __future__ import annotations

import hashlib
import json

import pytest

from reviewer.ingest.jsonl_fast import load_jsonl_fast, plain_fields
from reviewer.ingest.pairs import Pair, load_pairs
from reviewer.ingest.pairset import content_hash, stored_fields

LIMIT = 50
BASE = {"id": "p1", "prompt": "q", "candidate": "a", "baseline": "b"}
ROWS = [
    {},
    {"id": "  p1 ", "stratum": " hard "},
    {"stratum": ""},
    {"stratum": None},
    {"stratum": "   "},
    {"id": "   "},
    {"id": "x" * 200},
    {"id": "x" * 201},
    {"id": 7},
    {"stratum": 3},
    {"prompt": "  leading space"},
    {"prompt": "   "},
    {"prompt": ""},
    {"prompt": '[{"role": "user", "content": "hi"}]'},
    {"prompt": "[not json"},
    {"prompt": '{"a": 1}'},
    {"prompt": [{"role": "user", "content": "hi"}]},
    {"prompt": 'café \u00e9\u4e2d\U0001f600 "quoted" \\ back\nline\ttab\x7f'},
    {"candidate": "x" * LIMIT},
    {"candidate": "x" * (LIMIT + 1)},
    {"baseline": "é" * (LIMIT + 1)},
    {"candidate": "", "baseline": "  "},
    {"candidate": " same ", "baseline": "same"},
    {"candidate_model": "m1", "baseline_model": None, "reference": "ref"},
    {"reference": ""},
    {"candidate": None},
    {"metadata": {"b": [1, 2.5, None, True], "a": {"é": "x"}}},
    {"metadata": {}},
    {"metadata": None},
    {"metadata": "{}"},
    {"metadata": {"x": float("nan")}},
    {"metadata": [1]},
    {"extra": 1},
    {"candidate": 5},
]


def as_pair(line: bytes) -> tuple | None:
    try:
        return stored_fields(Pair.model_validate_json(line, context={"max_output_chars": LIMIT}))
    except ValueError:
        return None


@pytest.mark.parametrize("change", ROWS, ids=[json.dumps(r)[:40] for r in ROWS])
def test_a_row_taken_the_quick_way_is_the_row_pair_makes(change):
    line = json.dumps({**BASE, **change}).encode() + b"\n"
    quick, slow = plain_fields(line, LIMIT), as_pair(line)
    if slow is None:
        assert quick is None
    elif quick is not None:
        assert quick == slow
        assert content_hash(*quick) == content_hash(*slow)


def test_plain_rows_take_the_quick_way():
    """Guard against a quick path that quietly never applies (all rows through `Pair`)."""
    line = json.dumps({**BASE, "stratum": " hard ", "metadata": {"k": 1}}).encode()
    assert plain_fields(line, LIMIT) == as_pair(line)
    assert plain_fields(line, LIMIT) is not None


def test_a_file_stores_the_same_whichever_way_its_rows_go(tmp_path):
    rows = [{**BASE, **change, "id": f"p{i}"} for i, change in enumerate(ROWS)]
    good = [r for r in rows if as_pair(json.dumps(r).encode()) is not None]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in good), encoding="utf-8")
    with load_jsonl_fast(path, LIMIT) as quick:
        table = [b.to_pylist() for b in quick.batches()]
        digest = quick.content_hash()
    expected = [stored_fields(Pair.model_validate(r)) for r in good]
    stored = [tuple(row[c] for c in list(row)[:9]) for batch in table for row in batch]
    assert stored == expected
    hashes = sorted(content_hash(*f) for f in expected)
    assert digest == hashlib.sha256("".join(hashes).encode()).hexdigest()
    # The detailed reader (files with a problem; here forced by --extra-columns) agrees.
    with load_pairs(path, LIMIT, extra_columns="metadata") as again:
        assert again.content_hash() == digest

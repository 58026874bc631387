"""Importing a golden set through `signoff import`: good files, and every bad one named by row."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import pair, write_jsonl


def no_study(store) -> bool:
    return store.read(lambda cur: cur.execute("SELECT count(*) FROM studies").fetchone()[0]) == 0


def test_jsonl_import_creates_study_with_calibration(cli, pairs_file, store):
    r = cli("import", pairs_file, "--study", "s1")
    assert r.code == 0, r.err
    assert "40 pairs (edge 10, hard 10, refusal 10, routine 10)" in r.out
    rows = store.read(
        lambda cur: cur.execute(
            "SELECT count(*), count(*) FILTER (in_calibration) FROM pairs WHERE study_id='s1'"
        ).fetchone()
    )
    # Default calibration size 50 is capped at the 40 pairs there are.
    assert rows == (40, 40)


def test_csv_with_chat_prompt_and_metadata(cli, tmp_path, store):
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello"},
        {"role": "user", "content": "Refund?"},
    ]
    f = tmp_path / "pairs.csv"
    f.write_text(
        "id,prompt,candidate,baseline,stratum,metadata\n"
        f'a,"{json.dumps(messages).replace(chr(34), chr(34) * 2)}",Yes,No,edge,"{{""k"": 1}}"\n'
        "b,Plain prompt,One,Two,,\n",
        encoding="utf-8",
    )
    r = cli("import", f, "--study", "csv")
    assert r.code == 0, r.err
    got = store.read(
        lambda cur: cur.execute(
            "SELECT pair_id, prompt_json, stratum, metadata_json FROM pairs ORDER BY pair_id"
        ).fetchall()
    )
    assert json.loads(got[0][1]) == messages
    assert got[0][2:] == ("edge", '{"k": 1}')
    assert got[1][1:3] == ('"Plain prompt"', "unspecified")


def test_parquet_import(cli, tmp_path, store):
    f = tmp_path / "pairs.parquet"
    pq.write_table(pa.Table.from_pylist([pair(i) for i in range(5)]), f)
    assert cli("import", f, "--study", "pq").code == 0
    assert store.read(lambda cur: cur.execute("SELECT count(*) FROM pairs").fetchone()[0]) == 5


def test_duplicate_ids_name_both_lines(cli, tmp_path, store):
    f = write_jsonl(tmp_path / "d.jsonl", [pair(1), pair(2), pair(1, candidate="other")])
    r = cli("import", f, "--study", "s")
    assert r.code == 2
    assert f"{f}:3: id: duplicate id 'p001' (first on line 1)" in r.err
    assert "nothing was imported" in r.err
    assert no_study(store)


def test_empty_output_is_kept_and_missing_field_is_reported(cli, tmp_path, store):
    rows = [pair(1, candidate="   "), pair(2), {"id": "x", "prompt": "p", "candidate": "c"}]
    f = write_jsonl(tmp_path / "e.jsonl", rows)
    r = cli("import", f, "--study", "s")
    assert r.code == 2
    assert "output is empty" not in r.err
    assert f"{f}:3: baseline: required, but missing or empty" in r.err
    assert "(1 problem)" in r.err
    assert no_study(store)


def test_empty_outputs_are_kept_and_flagged(cli, tmp_path, store):
    f = tmp_path / "e.csv"
    f.write_text("id,prompt,candidate,baseline\np1,q,,b\np2,q,a,b\np3,q,a,\n", encoding="utf-8")
    r = cli("import", f, "--study", "s")
    assert r.code == 0, r.err
    assert "1 pair(s) have an empty candidate output" in r.err
    assert "1 pair(s) have an empty baseline output" in r.err
    stored = store.read(
        lambda cur: cur.execute(
            "SELECT pair_id, candidate, baseline FROM pairs ORDER BY 1"
        ).fetchall()
    )
    assert stored == [("p1", "", "b"), ("p2", "a", "b"), ("p3", "a", "")]


def test_identical_outputs_are_flagged_not_rejected(cli, tmp_path, store):
    f = write_jsonl(tmp_path / "i.jsonl", [pair(1, baseline="Candidate answer 1."), pair(2)])
    r = cli("import", f, "--study", "s")
    assert r.code == 0
    assert "1 pair(s) have identical candidate and baseline outputs" in r.err
    assert "p001" in r.err
    flags = store.read(
        lambda cur: cur.execute(
            "SELECT pair_id, identical_outputs FROM pairs ORDER BY 1"
        ).fetchall()
    )
    assert flags == [("p001", True), ("p002", False)]


def test_non_utf8_jsonl_names_the_line(cli, tmp_path, store):
    f = tmp_path / "latin.jsonl"
    good = json.dumps(pair(1)).encode()
    bad = json.dumps(pair(2, candidate="caf_")).encode().replace(b"caf_", b"caf\xe9")
    f.write_bytes(good + b"\n" + bad + b"\n")
    r = cli("import", f, "--study", "s")
    assert r.code == 2
    assert f"{f}:2: encoding: not UTF-8 (byte 0xe9" in r.err
    assert no_study(store)


def test_non_utf8_csv_names_the_line(cli, tmp_path, store):
    f = tmp_path / "latin.csv"
    f.write_bytes(b"id,prompt,candidate,baseline\na,q,x,y\nb,q,caf\xe9,y\n")
    r = cli("import", f, "--study", "s")
    assert r.code == 2
    assert f"{f}:3: encoding: not UTF-8 (byte 0xe9 at column 8" in r.err
    assert no_study(store)


def test_one_megabyte_output_is_rejected_by_default_and_accepted_when_allowed(cli, tmp_path, store):
    big = "x" * 1_048_576
    f = write_jsonl(tmp_path / "big.jsonl", [pair(1), pair(2, baseline=big)])
    r = cli("import", f, "--study", "s")
    assert r.code == 2
    assert f"{f}:2: baseline: output is 1,048,576 characters, above the limit of 100,000" in r.err
    assert no_study(store)
    cfg = tmp_path / "big.toml"
    cfg.write_text("[limits]\nmax_output_chars = 2000000\n")
    assert cli("import", f, "--study", "s", "--config", cfg).code == 0
    length = store.read(
        lambda cur: cur.execute(
            "SELECT length(baseline) FROM pairs WHERE pair_id='p002'"
        ).fetchone()
    )
    assert length == (1_048_576,)


def test_unknown_column_is_rejected_with_a_guess_or_kept_as_metadata(cli, tmp_path, store):
    f = tmp_path / "u.csv"
    f.write_text("id,prompt,candidate,baseline,stratm,ticket\na,q,x,y,hard,T-1\n")
    r = cli("import", f, "--study", "s")
    assert r.code == 2
    assert f"{f}:1: stratm: unknown column (did you mean 'stratum'?)" in r.err
    assert f"{f}:1: ticket: unknown column" in r.err
    assert no_study(store)
    assert cli("import", f, "--study", "s", "--extra-columns", "metadata").code == 0
    meta = store.read(lambda cur: cur.execute("SELECT metadata_json FROM pairs").fetchone()[0])
    assert json.loads(meta) == {"stratm": "hard", "ticket": "T-1"}


def test_unknown_jsonl_key_names_the_line_where_it_appears(cli, tmp_path):
    f = write_jsonl(tmp_path / "k.jsonl", [pair(1), pair(2), {**pair(3), "score": 3}])
    r = cli("import", f, "--study", "s")
    assert f"{f}:3: score: unknown column" in r.err


def test_csv_without_header(cli, tmp_path, store):
    f = tmp_path / "nohead.csv"
    f.write_text("a,What is 2+2?,4,5\nb,Capital of France?,Paris,Lyon\n")
    r = cli("import", f, "--study", "s")
    assert r.code == 2
    assert f"{f}:1: header: the first line does not look like a header" in r.err
    assert "id,prompt,candidate,baseline" in r.err
    assert no_study(store)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            '{"id": "a", "prompt": "q", "candidate": "x", "baseline": "y"}\n{"id": ',
            ":2: json: not valid JSON",
        ),
        ('["not", "an", "object"]\n', ":1: json: each line must be an object"),
        (
            '{"id": "a", "prompt": [], "candidate": "x", "baseline": "y"}\n',
            ":1: prompt: prompt has no messages",
        ),
        (
            '{"id": "a", "prompt": [{"role": "robot", "content": "hi"}], '
            '"candidate": "x", "baseline": "y"}\n',
            ":1: prompt.0.role: Input should be 'system', 'user', 'assistant' or 'tool'",
        ),
        (
            '{"id": "a", "prompt": "q", "candidate": "x", "baseline": "y", "metadata": "oops"}\n',
            ":1: metadata: metadata must be a JSON object",
        ),
    ],
)
def test_malformed_rows(cli, tmp_path, content, expected):
    f = tmp_path / "m.jsonl"
    f.write_text(content)
    r = cli("import", f, "--study", "s")
    assert r.code == 2
    assert f"{f}{expected}" in r.err


def test_problem_list_is_capped(cli, tmp_path):
    f = write_jsonl(tmp_path / "many.jsonl", [pair(i, prompt="") for i in range(120)])
    r = cli("import", f, "--study", "s")
    assert "(120 problems)" in r.err
    assert "... and 70 more problems not shown" in r.err


def test_missing_and_unsupported_files(cli, tmp_path):
    assert (
        "nope.jsonl: file: not found" in cli("import", tmp_path / "nope.jsonl", "--study", "s").err
    )
    (tmp_path / "p.txt").write_text("x")
    assert (
        "expected a .jsonl, .csv or .parquet file"
        in cli("import", tmp_path / "p.txt", "-s", "s").err
    )


def test_bad_study_name(cli, pairs_file):
    r = cli("import", pairs_file, "--study", "no spaces please")
    assert r.code == 2 and "invalid study name" in r.err


def test_fast_and_detailed_paths_store_the_same_pairs(cli, tmp_path, store):
    """A clean JSONL file takes the pydantic-core fast path; --extra-columns metadata and CSV
    take the detailed one. All three must store identical pairs and hashes."""
    rows = [
        pair(1, metadata={"b": 1, "a": "é"}),
        pair(2, prompt=[{"role": "user", "content": "multi\nline"}]),
        pair(3, reference="ref", candidate_model="v3"),
    ]
    f = write_jsonl(tmp_path / "same.jsonl", rows)
    csv_file = tmp_path / "same.csv"
    import pandas as pd

    frame = pd.DataFrame(rows)
    frame["prompt"] = [
        r["prompt"] if isinstance(r["prompt"], str) else json.dumps(r["prompt"]) for r in rows
    ]
    frame["metadata"] = [json.dumps(r.get("metadata", {})) for r in rows]
    frame.to_csv(csv_file, index=False)
    assert cli("import", f, "-s", "fast").code == 0
    assert cli("import", f, "-s", "detailed", "--extra-columns", "metadata").code == 0
    assert cli("import", csv_file, "-s", "csv").code == 0

    def stored(study):
        return store.read(
            lambda cur: cur.execute(
                "SELECT * EXCLUDE (study_id) FROM pairs WHERE study_id = ? ORDER BY pair_id",
                [study],
            ).fetchall()
        )

    assert stored("fast") == stored("detailed") == stored("csv")
    hashes = store.read(
        lambda cur: cur.execute("SELECT DISTINCT pairs_hash FROM studies").fetchall()
    )
    assert len(hashes) == 1

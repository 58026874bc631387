"""Imports are streamed (10,000 pairs at a time to a spill file, then stored in batches) and still
whole-file-or-nothing: a bad row in the last batch leaves nothing behind, and names its row."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import pair

from reviewer.config import StudyConfig
from reviewer.ingest.pairs import load_pairs
from reviewer.ingest.pairset import BATCH_PAIRS

ROWS = 2 * BATCH_PAIRS + 5  # three batches: the bad row sits in the last one


def rows(bad_last: bool) -> list[dict]:
    out = [pair(i, id=f"p{i:06d}") for i in range(ROWS)]
    if bad_last:  # JSONL: no key; CSV: an empty cell; Parquet: a null
        del out[-1]["prompt"]
    return out


def write(path, data: list[dict]) -> None:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r) + "\n" for r in data), encoding="utf-8")
    elif path.suffix == ".csv":
        import csv

        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, ["id", "prompt", "candidate", "baseline", "stratum"])
            writer.writeheader()
            writer.writerows(data)
    else:  # several row groups, the bad row in the last
        columns = ["id", "prompt", "candidate", "baseline", "stratum"]
        table = pa.table({c: [r.get(c) for r in data] for c in columns})
        pq.write_table(table, path, row_group_size=BATCH_PAIRS)


def pair_count(store) -> int:
    return store.read(lambda cur: cur.execute("SELECT count(*) FROM pairs").fetchone()[0])


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_bad_row_in_the_last_batch_imports_nothing(cli, tmp_path, store, suffix):
    f = tmp_path / f"pairs{suffix}"
    write(f, rows(bad_last=True))
    r = cli("import", f, "--study", "s")
    assert r.code == 2
    # JSONL and CSV lines count from 1 (CSV: after its header line); Parquet rows from 1.
    line = {".jsonl": ROWS, ".csv": ROWS + 1, ".parquet": ROWS}[suffix]
    assert f"{f}:{line}: prompt: required, but missing or empty" in r.err
    assert "(1 problem); nothing was imported" in r.err
    assert pair_count(store) == 0
    assert store.read(lambda cur: cur.execute("SELECT count(*) FROM studies").fetchone()[0]) == 0


def test_bad_row_in_the_last_batch_keeps_the_stored_set(cli, tmp_path, store):
    good = tmp_path / "good.jsonl"
    write(good, rows(bad_last=False))
    assert cli("import", good, "--study", "s").code == 0
    before = store.read(
        lambda cur: cur.execute("SELECT pairs_hash FROM studies WHERE study_id = 's'").fetchone()
    )
    changed = rows(bad_last=False)
    changed[0]["candidate"] = "a changed answer"
    changed[-1]["prompt"] = ""
    bad = tmp_path / "bad.jsonl"
    write(bad, changed)
    r = cli("import", bad, "--study", "s")
    assert r.code == 2
    assert f"{bad}:{ROWS}: prompt: prompt is empty" in r.err
    after = store.read(
        lambda cur: cur.execute("SELECT pairs_hash FROM studies WHERE study_id = 's'").fetchone()
    )
    assert after == before and pair_count(store) == ROWS
    first = store.read(
        lambda cur: cur.execute("SELECT candidate FROM pairs WHERE pair_id = 'p000000'").fetchone()
    )
    assert first == ("Candidate answer 0.",)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_clean_file_is_stored_whole_in_file_order(cli, tmp_path, store, suffix):
    f = tmp_path / f"pairs{suffix}"
    data = rows(bad_last=False)
    write(f, data)
    r = cli("import", f, "--study", "s")
    assert r.code == 0, r.err
    stored = store.read(
        lambda cur: cur.execute(
            "SELECT pair_id, position, candidate FROM pairs ORDER BY position"
        ).fetchall()
    )
    assert [s[0] for s in stored] == [d["id"] for d in data]
    assert [s[1] for s in stored] == list(range(1, ROWS + 1))
    assert stored[-1][2] == data[-1]["candidate"]
    calibration = store.read(
        lambda cur: cur.execute("SELECT count(*) FROM pairs WHERE in_calibration").fetchone()[0]
    )
    assert calibration == StudyConfig().calibration.size  # drawn over all three batches


def test_spill_file_is_removed_after_use(tmp_path):
    f = tmp_path / "pairs.jsonl"
    write(f, rows(bad_last=False))
    with load_pairs(f, 1000) as pairset:
        spill = pairset.spill
        assert spill.exists()
        assert sum(b.num_rows for b in pairset.batches()) == ROWS == len(pairset)
    assert not spill.exists() and not spill.parent.exists()

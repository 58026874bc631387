"""Annotators with personal links (only hashes stored) and `signoff status`."""

from __future__ import annotations

import csv
import hashlib
import shutil
from collections import defaultdict

from conftest import DATA

from reviewer.store import Store
from reviewer.study.demo import create_demo


def test_links_are_printed_once_and_only_hashes_stored(cli, pairs_file, store, db_path):
    cli("import", pairs_file, "-s", "s")
    r = cli("annotators", "add", "Ana Ruiz", "Bo Li", "-s", "s", "--json")
    assert r.code == 0, r.err
    links = r.json()
    assert [a["annotator_id"] for a in links] == ["ana-ruiz", "bo-li"]
    assert links[0]["link"] == f"http://localhost:8501/?token={links[0]['token']}"
    stored = store.read(
        lambda cur: cur.execute(
            "SELECT token_hash FROM annotators ORDER BY annotator_id"
        ).fetchall()
    )
    assert stored == [(hashlib.sha256(a["token"].encode()).hexdigest(),) for a in links]
    store.read(lambda cur: cur.execute("CHECKPOINT"))
    raw = db_path.read_bytes()
    assert all(a["token"].encode() not in raw for a in links)


def test_new_link_replaces_the_old_token(cli, pairs_file, store):
    cli("import", pairs_file, "-s", "s")
    old = cli("annotators", "add", "Ana", "-s", "s", "--json").json()[0]["token"]
    new_link = cli("annotators", "link", "ana", "-s", "s").out.strip()
    new = new_link.split("token=")[1]
    assert new != old
    stored = store.read(lambda cur: cur.execute("SELECT token_hash FROM annotators").fetchone()[0])
    assert stored == hashlib.sha256(new.encode()).hexdigest()
    assert "no annotator 'zed'" in cli("annotators", "link", "zed", "-s", "s").err


def test_duplicate_and_empty_names(cli, pairs_file):
    cli("import", pairs_file, "-s", "s")
    assert "given twice" in cli("annotators", "add", "Ana", "ana", "-s", "s").err
    assert "has no letters or digits" in cli("annotators", "add", "!!", "-s", "s").err
    cli("annotators", "add", "Ana", "-s", "s")
    assert "already annotators of 's': Ana" in cli("annotators", "add", "Ana", "-s", "s").err


def test_status_json_on_the_sample_study(cli, store):
    cli("import", DATA / "support_pairs.jsonl", "-s", "s", "--config", DATA / "support_study.toml")
    cli("annotators", "add", "Ana", "Bo", "Cy", "-s", "s")
    cli("labels", "import", DATA / "sample_labels.csv", "-s", "s")
    st = cli("status", "--json").json()  # the only study: --study may be left out
    assert st["pairs"] == 128
    assert st["strata"] == {"edge": 24, "hard": 32, "refusal": 16, "routine": 56}
    assert st["identical_outputs"] == 3
    assert st["calibration"]["pairs"] == 40
    assert st["calibration"]["labels"] == 80
    assert st["calibration"]["pairs_with_two_or_more"] == 40
    assert st["labels"] == 80 and st["labeled_pairs"] == 40
    people = {a["annotator_id"]: a for a in st["annotators"]}
    # 40 calibration pairs x 2 annotators each, plus 88 other pairs x 1, over 3 people.
    assert sum(people[a]["assigned"] for a in ("ana", "bo", "cy")) == 40 * 2 + 88
    assert sum(people[a]["calibration_assigned"] for a in ("ana", "bo", "cy")) == 80
    assert (
        max(p["assigned"] for p in people.values())
        - min(people[a]["assigned"] for a in ("ana", "bo", "cy"))
        <= 1
    )
    # Labels brought in with `signoff labels import` come from a file (source "import:<hash>"),
    # so their annotators get the role "imported"; only the demo's own import is "sample".
    # Their counts, read straight from the CSV: distinct pairs per annotator name.
    with open(DATA / "sample_labels.csv", newline="", encoding="utf-8") as fh:
        csv_rows = list(csv.DictReader(fh))
    pairs_of = defaultdict(set)
    for row in csv_rows:
        pairs_of[row["annotator"]].add(row["pair_id"])
    slugs = {"Maya Chen (sample)": "maya-chen-sample", "Jonas Berg (sample)": "jonas-berg-sample"}
    assert set(pairs_of) == set(slugs) and len(csv_rows) == 80
    calibration = set(
        store.read(
            lambda cur: [
                r[0]
                for r in cur.execute(
                    "SELECT pair_id FROM pairs WHERE study_id = 's' AND in_calibration"
                ).fetchall()
            ]
        )
    )
    assert set(people) == {"ana", "bo", "cy", *slugs.values()}
    for name, annotator_id in slugs.items():
        got = people[annotator_id]
        assert got["display_name"] == name
        assert got["role"] == "imported"
        assert got["labeled"] == len(pairs_of[name]) == 40
        assert got["calibration_labeled"] == len(pairs_of[name] & calibration) == 40
        assert got["assigned"] == 0 and got["calibration_assigned"] == 0  # no queue
    for annotator_id in ("ana", "bo", "cy"):
        assert people[annotator_id]["role"] == "annotator"
        assert people[annotator_id]["labeled"] == people[annotator_id]["calibration_labeled"] == 0
    assert people["maya-chen-sample"]["labeled"] == 40
    text = cli("status").out
    assert "128 pairs (edge 24, hard 32, refusal 16, routine 56)" in text


def test_status_needs_a_study_when_several(cli, pairs_file):
    cli("import", pairs_file, "-s", "a")
    cli("import", pairs_file, "-s", "b")
    assert "several studies" in cli("status").err


def test_demo_creates_the_sample_study(cli, tmp_path):
    r = cli("demo", "--no-serve", "--db", tmp_path / "demo.duckdb")
    assert r.code == 0, r.err
    assert "128 pairs, 40 in the calibration set, 80 sample labels by 2 sample annotators" in r.out
    assert "your annotator link: http://localhost:8501/?token=" in r.out
    again = cli("demo", "--no-serve", "--db", tmp_path / "demo.duckdb")
    assert again.code == 0 and again.out.split("token=")[1] != r.out.split("token=")[1]
    st = cli("status", "--db", tmp_path / "demo.duckdb", "--json").json()
    assert [a["role"] for a in st["annotators"]].count("sample") == 2
    assert st["labels"] == 80


def test_demo_on_a_database_from_an_older_sample_says_what_to_do(cli, tmp_path):
    """The sample study changed between versions; a demo database made (and labeled) by the old
    one is frozen: the demo explains both ways on instead of a bare "frozen" refusal."""
    old = tmp_path / "old-data"
    shutil.copytree(DATA, old)
    config = old / "support_study.toml"
    config.write_text(
        config.read_text().replace("win_rate_threshold = 0.60", "win_rate_threshold = 0.65")
    )
    db = tmp_path / "demo.duckdb"
    create_demo(Store(db), old)
    r = cli("demo", "--no-serve", "--db", db)
    assert r.code != 0 and "Traceback" not in r.err
    assert f"{db} holds the demo study 'ledgerly-v3' as an earlier version" in r.err
    assert f"signoff app --db {db}" in r.err and "signoff demo --db another.duckdb" in r.err
    assert cli("status", "--db", db, "--json").json()["labels"] == 80

"""`signoff labels import` of another tool's file: mapped and positional values, the bad value
in each message, annotator names under the rules of `annotators add`, and the frozen notice."""

from __future__ import annotations

from conftest import DATA


def setup_sample(cli):
    r = cli(
        "import", DATA / "support_pairs.jsonl", "-s", "s", "--config", DATA / "support_study.toml"
    )
    assert r.code == 0, r.err


def stored(store) -> list[tuple]:
    return store.read(
        lambda cur: cur.execute(
            "SELECT pair_id, annotator_id, preference, candidate_left FROM labels ORDER BY 1, 2"
        ).fetchall()
    )


def test_values_map_and_positions_resolve_through_presented(cli, tmp_path, store):
    setup_sample(cli)
    f = tmp_path / "other.csv"
    f.write_text(
        "pair_id,annotator,preference,presented\n"
        "ldg-rou-001,Ana,1,\n"
        "ldg-rou-002,Ana,2,\n"
        "ldg-rou-003,Ana,0,\n"
        "ldg-rou-004,Ana,A,baseline_first\n"
        "ldg-rou-005,Ana,second,candidate_first\n"
    )
    r = cli("labels", "import", f, "-s", "s", "--map", "1=candidate,2=baseline,0=tie")
    assert r.code == 0, r.err
    assert "the study is now frozen" in r.out
    assert stored(store) == [
        ("ldg-rou-001", "ana", "candidate", None),
        ("ldg-rou-002", "ana", "baseline", None),
        ("ldg-rou-003", "ana", "tie", None),
        ("ldg-rou-004", "ana", "baseline", False),
        ("ldg-rou-005", "ana", "baseline", True),
    ]
    g = tmp_path / "more.csv"
    g.write_text("pair_id,annotator,preference\nldg-rou-006,Ana,candidate\n")
    r = cli("labels", "import", g, "-s", "s")
    assert r.code == 0 and "frozen" not in r.out  # it already was


def test_bad_values_are_shown_in_each_message(cli, tmp_path, store):
    setup_sample(cli)
    f = tmp_path / "bad.csv"
    f.write_text(
        "pair_id,annotator,preference\nldg-rou-001,Ana,1\nldg-rou-002,Ana,first\n"
        "ldg-rou-003,Ana,7\n"
    )
    r = cli("labels", "import", f, "-s", "s")
    assert f"{f}:2: preference: '1' is not candidate, baseline or tie; map another" in r.err
    assert f"{f}:3: preference: 'first' names a position; add a presented column" in r.err
    r = cli("labels", "import", f, "-s", "s", "--map", "1=candidate")
    assert f"{f}:4: preference: '7' is not candidate, baseline or tie" in r.err
    assert "map another" not in r.err
    assert stored(store) == []
    r = cli("labels", "import", f, "-s", "s", "--map", "1:candidate")
    assert r.code == 2 and "--map: '1:candidate' is not VALUE=MEANING" in r.err


def test_annotator_names_follow_the_rules_of_annotators_add(cli, tmp_path, store):
    setup_sample(cli)
    f = tmp_path / "names.csv"
    f.write_text(
        "pair_id,annotator,preference\n"
        "ldg-rou-001,Ana Ruiz,candidate\n"
        "ldg-rou-001,ana-ruiz,baseline\n"
        "ldg-rou-002,!!!,tie\n"
    )
    r = cli("labels", "import", f, "-s", "s")
    assert r.code == 2
    assert f"{f}:3: annotator: 'ana-ruiz' and 'Ana Ruiz' (line 2) would be the same" in r.err
    assert f"{f}:4: annotator: '!!!' has no letters or digits" in r.err
    long_a, long_b = "x" * 48 + "a", "x" * 48 + "b"  # the same id once cut to 48 characters
    f.write_text(
        f"pair_id,annotator,preference\nldg-rou-001,{long_a},tie\nldg-rou-002,{long_b},tie\n"
    )
    assert "would be the same annotator" in cli("labels", "import", f, "-s", "s").err
    assert cli("annotators", "add", "Ana Ruiz", "-s", "s").code == 0
    f.write_text("pair_id,annotator,preference\nldg-rou-001,ANA RUIZ,tie\n")
    r = cli("labels", "import", f, "-s", "s")
    assert "'ANA RUIZ' would take the id 'ana-ruiz' of annotator 'Ana Ruiz'" in r.err
    assert stored(store) == []
    f.write_text("pair_id,annotator,preference\nldg-rou-001,Ana Ruiz,tie\n")
    assert cli("labels", "import", f, "-s", "s").code == 0
    assert stored(store) == [("ldg-rou-001", "ana-ruiz", "tie", None)]


def test_csv_export_neutralises_formulas_and_reads_back(cli, tmp_path, store):
    setup_sample(cli)
    f = tmp_path / "evil.jsonl"
    f.write_text(
        '{"pair_id": "ldg-rou-001", "annotator": "Ana", "preference": "tie", '
        '"rationale": "=HYPERLINK(\\"http://x\\")"}\n'
        '{"pair_id": "ldg-rou-002", "annotator": "Ana", "preference": "tie", "rationale": "-1"}\n'
        '{"pair_id": "ldg-rou-003", "annotator": "@Bo", "preference": "tie", "rationale": "ok"}\n'
    )
    assert cli("labels", "import", f, "-s", "s").code == 0
    out = tmp_path / "out.csv"
    assert cli("labels", "export", "-s", "s", "--out", out).code == 0
    text = out.read_text()
    assert "'=HYPERLINK" in text and "'@Bo" in text
    assert ",-1," in text and "'-1" not in text  # a number is no formula
    jsonl = cli("labels", "export", "-s", "s", "--format", "jsonl").out
    assert '"=HYPERLINK' in jsonl and '"@Bo"' in jsonl  # JSONL stays exact
    # The exported CSV imports into a new study with the same annotators, quote dropped.
    r = cli(
        "import", DATA / "support_pairs.jsonl", "-s", "t", "--config", DATA / "support_study.toml"
    )
    assert r.code == 0
    assert cli("labels", "import", out, "-s", "t").code == 0, "reimport failed"
    names = store.read(
        lambda cur: cur.execute(
            "SELECT display_name FROM annotators WHERE study_id = 't' ORDER BY 1"
        ).fetchall()
    )
    assert names == [("@Bo",), ("Ana",)]


def test_judge_import_maps_values_too(cli, tmp_path, store):
    setup_sample(cli)
    f = tmp_path / "verdicts.csv"
    f.write_text(
        "pair_id,judge,preference,presented\n"
        "ldg-rou-001,other,1,candidate_first\n"
        "ldg-rou-001,other,2,baseline_first\n"
        "ldg-rou-002,other,0,candidate_first\n"
    )
    assert "preference" in cli("judge", "import", f, "-s", "s").err  # "1" means nothing unmapped
    r = cli("judge", "import", f, "-s", "s", "--map", "1=candidate,2=baseline,0=tie")
    assert r.code == 0, r.err
    rows = store.read(
        lambda cur: cur.execute(
            "SELECT pair_id, presented, preference FROM verdicts ORDER BY 1, 2"
        ).fetchall()
    )
    assert rows == [
        ("ldg-rou-001", "baseline_first", "baseline"),
        ("ldg-rou-001", "candidate_first", "candidate"),
        ("ldg-rou-002", "candidate_first", "tie"),
    ]

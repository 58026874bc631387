"""`signoff labels import` and `signoff judge import`: outside work brought into a study."""

from __future__ import annotations

import json

from conftest import DATA


def setup_sample(cli):
    r = cli(
        "import", DATA / "support_pairs.jsonl", "-s", "s", "--config", DATA / "support_study.toml"
    )
    assert r.code == 0, r.err


def test_sample_labels_import_with_criteria(cli, store):
    setup_sample(cli)
    r = cli("labels", "import", DATA / "sample_labels.csv", "-s", "s")
    assert r.code == 0 and "imported 80 labels" in r.out
    row = store.read(
        lambda cur: cur.execute(
            "SELECT preference, criteria_json, revision, source FROM labels "
            "WHERE pair_id = 'ldg-edg-006' AND annotator_id = 'jonas-berg-sample'"
        ).fetchone()
    )
    assert row[0] == "candidate"
    assert json.loads(row[1]) == {
        "correctness": "same",
        "helpfulness": "baseline",
        "safety": "same",
        "format": "baseline",
    }
    assert row[2] == 1 and row[3].startswith("import:")
    # The same file again changes nothing.
    r = cli("labels", "import", DATA / "sample_labels.csv", "-s", "s")
    assert "already imported" in r.out
    assert store.read(lambda cur: cur.execute("SELECT count(*) FROM labels").fetchone()) == (80,)


def test_a_second_round_adds_revisions(cli, tmp_path, store):
    setup_sample(cli)
    f1, f2 = tmp_path / "r1.csv", tmp_path / "r2.csv"
    f1.write_text("pair_id,annotator,preference\nldg-rou-001,Ana,candidate\n")
    f2.write_text(
        "pair_id,annotator,preference,rationale\nldg-rou-001,Ana,Baseline,changed my mind\n"
    )
    cli("labels", "import", f1, "-s", "s")
    cli("labels", "import", f2, "-s", "s")
    rows = store.read(
        lambda cur: cur.execute(
            "SELECT revision, preference FROM labels WHERE annotator_id='ana' ORDER BY revision"
        ).fetchall()
    )
    assert rows == [(1, "candidate"), (2, "baseline")]


def test_bad_label_rows_are_named(cli, tmp_path, store):
    setup_sample(cli)
    f = tmp_path / "bad.csv"
    f.write_text(
        "pair_id,annotator,preference,correctness,tone\n"
        "ldg-rou-001,Ana,candidate,better,\n"
        "nope,Ana,maybe,same,\n"
        "ldg-rou-001,Ana,tie,same,\n"
    )
    r = cli("labels", "import", f, "-s", "s")
    assert r.code == 2
    assert f"{f}:1: tone: unknown column (criterion columns: correctness, helpfulness" in r.err
    f.write_text(
        "pair_id,annotator,preference,correctness\n"
        "ldg-rou-001,Ana,candidate,better\n"
        "nope,Ana,maybe,same\n"
        "ldg-rou-002,,tie,same\n"
        "ldg-rou-003,Ana,tie,same\n"
        "ldg-rou-003,Ana,candidate,same\n"
    )
    r = cli("labels", "import", f, "-s", "s")
    assert f"{f}:2: correctness: 'better' is not on the scale (candidate, baseline, same)" in r.err
    assert f"{f}:3: preference: 'maybe' is not candidate, baseline or tie" in r.err
    assert f"{f}:4: annotator: required, but missing or empty" in r.err
    assert f"{f}:6: pair_id, annotator: repeats line 5" in r.err
    assert store.read(lambda cur: cur.execute("SELECT count(*) FROM labels").fetchone()) == (0,)


def test_unknown_pair_is_named(cli, tmp_path):
    setup_sample(cli)
    f = tmp_path / "l.jsonl"
    f.write_text('{"pair_id": "ghost", "annotator": "Ana", "preference": "tie"}\n')
    assert (
        f"{f}:1: pair_id: 'ghost' is not in the study" in cli("labels", "import", f, "-s", "s").err
    )


def test_likert_criteria_take_one_column_per_response(cli, tmp_path, store):
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[[criteria]]\nname = "clarity"\ndescription = "Clear"\n'
        '[criteria.scale]\nkind = "likert"\nmin = 1\nmax = 5\n'
    )
    cli("import", DATA / "support_pairs.jsonl", "-s", "s", "--config", cfg)
    f = tmp_path / "l.csv"
    f.write_text(
        "pair_id,annotator,preference,clarity.candidate,clarity.baseline\n"
        "ldg-rou-001,Ana,candidate,5,2.0\nldg-rou-002,Ana,tie,6,3\n"
    )
    r = cli("labels", "import", f, "-s", "s")
    assert f"{f}:3: clarity.candidate: '6' is not on the scale (1, 2, 3, 4, 5)" in r.err
    f.write_text(
        "pair_id,annotator,preference,clarity.candidate,clarity.baseline\n"
        "ldg-rou-001,Ana,candidate,5,2.0\n"
    )
    assert cli("labels", "import", f, "-s", "s").code == 0
    got = store.read(lambda cur: cur.execute("SELECT criteria_json FROM labels").fetchone()[0])
    assert json.loads(got) == {"clarity": {"candidate": "5", "baseline": "2"}}


def test_judge_verdicts_import(cli, tmp_path, store):
    setup_sample(cli)
    f = tmp_path / "v.csv"
    f.write_text(
        "pair_id,judge,preference,presented,correctness\n"
        "ldg-rou-001,gpt-judge,candidate,candidate_first,candidate\n"
        "ldg-rou-001,gpt-judge,baseline,baseline_first,same\n"
        "ldg-rou-002,other,tie,,\n"
    )
    r = cli("judge", "import", f, "-s", "s")
    assert r.code == 0 and "imported 3 judge verdicts" in r.out
    assert cli("judge", "import", f, "-s", "s").out.startswith(f"{f} was already imported")
    st = cli("status", "-s", "s", "--json").json()
    assert st["judges"] == {"gpt-judge": 2, "other": 1}
    # A different file repeating a verdict is refused, naming the line.
    g = tmp_path / "v2.csv"
    g.write_text("pair_id,judge,preference,presented\nldg-rou-001,gpt-judge,tie,candidate_first\n")
    r = cli("judge", "import", g, "-s", "s")
    assert f"{g}:2: pair_id: judge 'gpt-judge' already has a verdict on 'ldg-rou-001'" in r.err
    assert store.read(lambda cur: cur.execute("SELECT count(*) FROM verdicts").fetchone()) == (3,)


def test_unknown_study_lists_the_ones_there(cli, pairs_file, tmp_path):
    cli("import", pairs_file, "-s", "alpha")
    r = cli("status", "-s", "beta")
    assert r.code == 2 and "no study named 'beta'; studies here: alpha" in r.err


def test_export_round_trips_through_import(cli, tmp_path, store):
    setup_sample(cli)
    cli("labels", "import", DATA / "sample_labels.csv", "-s", "s")
    for fmt in ("csv", "jsonl"):
        out = tmp_path / f"labels.{fmt}"
        assert cli("labels", "export", "-s", "s", "--format", fmt, "--out", out).code == 0
        study = f"copy-{fmt}"
        cli(
            "import",
            DATA / "support_pairs.jsonl",
            "-s",
            study,
            "--config",
            DATA / "support_study.toml",
        )
        assert cli("labels", "import", out, "-s", study).code == 0

    def labels(study):
        return store.read(
            lambda cur: cur.execute(
                "SELECT pair_id, annotator_id, preference, both_bad, criteria_json, rationale "
                "FROM labels WHERE study_id = ? ORDER BY 1, 2",
                [study],
            ).fetchall()
        )

    assert labels("s") == labels("copy-csv") == labels("copy-jsonl")
    assert len(labels("s")) == 80


def test_one_file_is_stored_in_its_order_with_revisions_and_times(cli, tmp_path, store):
    """A file goes in with one statement: label ids follow its lines, a label on a pair the
    annotator labeled before is the next revision, a given time is kept and a missing one is
    the import's."""
    setup_sample(cli)
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text("pair_id,annotator,preference\nldg-rou-001,Ana,candidate\n")
    second.write_text(
        "pair_id,annotator,preference,submitted_at\n"
        "ldg-rou-002,Ana,tie,2026-01-02T03:04:05+00:00\n"
        "ldg-rou-001,Ben,candidate,\n"
        "ldg-rou-001,Ana,baseline,\n"
    )
    assert cli("labels", "import", first, "-s", "s").code == 0
    assert cli("labels", "import", second, "-s", "s").code == 0
    rows = store.read(
        lambda cur: cur.execute(
            "SELECT pair_id, annotator_id, preference, revision, submitted_at = TIMESTAMPTZ "
            "'2026-01-02 03:04:05+00' FROM labels WHERE annotator_id IN ('ana', 'ben') "
            "ORDER BY label_id"
        ).fetchall()
    )
    assert rows == [
        ("ldg-rou-001", "ana", "candidate", 1, False),
        ("ldg-rou-002", "ana", "tie", 1, True),
        ("ldg-rou-001", "ben", "candidate", 1, False),
        ("ldg-rou-001", "ana", "baseline", 2, False),
    ]

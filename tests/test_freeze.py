"""A study is frozen by its first label: its pairs and rules can no longer change."""

from __future__ import annotations

from conftest import pair, write_jsonl


def labels_csv(path, rows):
    path.write_text(
        "pair_id,annotator,preference\n" + "".join(f"{p},{a},{v}\n" for p, a, v in rows)
    )
    return path


def test_reimport_same_content_is_a_no_op(cli, pairs_file):
    assert cli("import", pairs_file, "--study", "s").code == 0
    r = cli("import", pairs_file, "--study", "s")
    assert r.code == 0 and "already holds exactly these 40 pairs" in r.out


def test_reimport_before_labels_replaces_and_reports_changes(cli, tmp_path, pairs_file, store):
    cli("import", pairs_file, "--study", "s")
    rows = [pair(i) for i in range(1, 41) if i != 7] + [pair(41)]
    rows[0] = pair(1, candidate="improved")
    r = cli("import", write_jsonl(tmp_path / "v2.jsonl", rows), "--study", "s")
    assert r.code == 0, r.err
    assert "changes: 1 added, 1 removed, 1 changed" in r.out
    ids = store.read(
        lambda cur: {r[0] for r in cur.execute("SELECT pair_id FROM pairs").fetchall()}
    )
    assert "p007" not in ids and "p041" in ids


def test_reimport_after_labels_is_refused(cli, tmp_path, pairs_file, store):
    cli("import", pairs_file, "--study", "s")
    assert (
        cli(
            "labels",
            "import",
            labels_csv(tmp_path / "l.csv", [("p001", "ana", "candidate")]),
            "--study",
            "s",
        ).code
        == 0
    )
    changed = write_jsonl(tmp_path / "v2.jsonl", [pair(i, candidate="new") for i in range(1, 41)])
    r = cli("import", changed, "--study", "s")
    assert r.code == 2
    assert "study 's' is frozen: labeling started on" in r.err
    assert "pairs differ (0 added, 0 removed, 40 changed" in r.err
    assert "Import it under a new study name instead." in r.err
    # Same pairs under a different config is refused too.
    cfg = tmp_path / "c.toml"
    cfg.write_text("[signoff]\nwin_rate_threshold = 0.5\n")
    r = cli("import", pairs_file, "--study", "s", "--config", cfg)
    assert r.code == 2 and "the config differs from the one fixed for this study" in r.err
    hashes = store.read(
        lambda cur: cur.execute("SELECT count(DISTINCT content_hash) FROM pairs").fetchone()
    )
    assert hashes == (40,)


def test_freeze_is_an_event(cli, tmp_path, pairs_file, store):
    cli("import", pairs_file, "--study", "s")
    cli("labels", "import", labels_csv(tmp_path / "l.csv", [("p001", "ana", "tie")]), "-s", "s")
    kinds = store.read(
        lambda cur: [
            r[0] for r in cur.execute("SELECT kind FROM events ORDER BY event_id").fetchall()
        ]
    )
    assert kinds == ["study.create", "study.freeze", "labels.import"]

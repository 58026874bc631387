"""`signoff import --candidate A --baseline B`: one output file per model, joined on id."""

from __future__ import annotations

from conftest import write_jsonl


def outputs(path, ids, model, prompt=lambda i: f"Q{i}", text=lambda i, m: f"{m} says {i}"):
    return write_jsonl(
        path,
        [{"id": i, "prompt": prompt(i), "output": text(i, model), "model": model} for i in ids],
    )


def test_join_on_id(cli, tmp_path, store):
    c = outputs(tmp_path / "c.jsonl", ["a", "b", "c"], "v3")
    b = outputs(tmp_path / "b.jsonl", ["c", "a", "b"], "base")
    r = cli("import", "--candidate", c, "--baseline", b, "--study", "s")
    assert r.code == 0, r.err
    rows = store.read(
        lambda cur: cur.execute(
            "SELECT pair_id, candidate, baseline, candidate_model, baseline_model FROM pairs "
            "ORDER BY pair_id"
        ).fetchall()
    )
    assert rows[0] == ("a", "v3 says a", "base says a", "v3", "base")
    assert len(rows) == 3


def test_ids_in_one_file_only_are_reported_and_nothing_imported(cli, tmp_path, store):
    c = outputs(tmp_path / "c.jsonl", ["a", "b", "only-c"], "v3")
    b = outputs(tmp_path / "b.jsonl", ["a", "b", "only-b1", "only-b2"], "base")
    r = cli("import", "--candidate", c, "--baseline", b, "--study", "s")
    assert r.code == 2
    assert f"{c}:3: id: 'only-c' is not in {b}" in r.err
    assert f"{b}:3: id: 'only-b1' is not in {c}" in r.err
    assert f"{b}:4: id: 'only-b2' is not in {c}" in r.err
    assert store.read(lambda cur: cur.execute("SELECT count(*) FROM pairs").fetchone()) == (0,)


def test_differing_prompt_and_empty_output_point_at_the_right_file(cli, tmp_path):
    c = outputs(tmp_path / "c.jsonl", ["a", "b"], "v3")
    b = outputs(
        tmp_path / "b.jsonl",
        ["b", "a"],
        "base",
        prompt=lambda i: "changed" if i == "a" else f"Q{i}",
        text=lambda i, m: "" if i == "b" else "fine",
    )
    r = cli("import", "--candidate", c, "--baseline", b, "--study", "s")
    assert f"{b}:2: prompt: differs from {c}" in r.err
    assert "output is empty" not in r.err  # an empty output is kept (and flagged)


def test_flags_must_come_together(cli, tmp_path):
    c = outputs(tmp_path / "c.jsonl", ["a"], "v3")
    assert (
        "--candidate and --baseline go together" in cli("import", "--candidate", c, "-s", "x").err
    )

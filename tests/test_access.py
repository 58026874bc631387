"""Who may write, and which commands may create a database: a revoked or replaced link stores
nothing, and a read command never leaves an empty database behind a typo."""

from __future__ import annotations

import pytest
from apphelp import seed_sample
from conftest import RUBRIC_TOML

from reviewer.errors import SignoffError
from reviewer.labeling import session


def label_count(store, annotator: str) -> int:
    return store.read(
        lambda cur: cur.execute(
            "SELECT count(*) FROM labels WHERE annotator_id = ?", [annotator]
        ).fetchone()[0]
    )


def test_a_revoked_annotator_can_submit_nothing_from_a_page_already_open(cli, store):
    tokens = seed_sample(cli, "Ana", "Bo")
    who = session.login(store, tokens["Ana"])
    view = session.open_next(store, who)
    assert session.submit(store, who, view.view_id, "1")  # before: stored
    view = session.open_next(store, who)  # the page shows the next pair...
    assert cli("annotators", "revoke", "ana", "-s", "demo").code == 0  # ...and then
    with pytest.raises(SignoffError, match="no longer valid.*nothing was saved"):
        session.submit(store, who, view.view_id, "2")
    assert label_count(store, "ana") == 1
    assert session.login(store, tokens["Ana"]) is None


def test_a_replaced_link_can_submit_nothing_and_the_new_one_can(cli, store):
    tokens = seed_sample(cli, "Ana")
    old = session.login(store, tokens["Ana"])
    view = session.open_next(store, old)
    new_link = cli("annotators", "link", "ana", "-s", "demo", "--base-url", "http://x:1").out
    with pytest.raises(SignoffError, match="no longer valid"):
        session.submit(store, old, view.view_id, "1")
    assert label_count(store, "ana") == 0
    new = session.login(store, new_link.strip().split("token=")[1])
    assert session.submit(store, new, session.open_next(store, new).view_id, "1")
    assert label_count(store, "ana") == 1


READ_COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["report", "--format", "json"],
    ["check"],
    ["unblind"],
    ["labels", "export"],
    ["labels", "import", "labels.csv"],
    ["annotators", "add", "Ana"],
    ["annotators", "link", "ana"],
    ["annotators", "revoke", "ana"],
    ["judge", "import", "verdicts.csv"],
    ["judge", "run", "--rubric", "r.toml", "--provider", "openai-compatible",
     "--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--dry-run"],
]  # fmt: skip


@pytest.mark.parametrize("args", READ_COMMANDS, ids=lambda a: " ".join(a[:2]))
@pytest.mark.parametrize("study", [[], ["--study", "s"]], ids=["no-study", "study"])
def test_a_command_on_a_missing_database_says_so_and_creates_nothing(cli, tmp_path, args, study):
    (tmp_path / "labels.csv").write_text("pair_id,annotator,preference\np001,ana,candidate\n")
    (tmp_path / "verdicts.csv").write_text("pair_id,judge,preference\np001,j,candidate\n")
    (tmp_path / "r.toml").write_text(RUBRIC_TOML)
    r = cli(*args, *study, "--db", "typo.duckdb")
    assert r.code == 2, (r.out, r.err)
    assert "no database at typo.duckdb" in r.err
    assert not list(tmp_path.glob("typo.duckdb*"))


def test_the_default_database_is_not_created_either(cli, tmp_path):
    r = cli("status")
    assert r.code == 2 and "no database at" in r.err
    assert not list(tmp_path.glob("signoff.duckdb*"))


def test_import_and_demo_create_their_database(cli, tmp_path, pairs_file):
    assert cli("import", pairs_file, "--study", "s", "--db", "new.duckdb").code == 0
    assert cli("status", "--db", "new.duckdb").code == 0
    assert cli("demo", "--no-serve", "--db", "demo.duckdb").code == 0
    assert (tmp_path / "demo.duckdb").exists()

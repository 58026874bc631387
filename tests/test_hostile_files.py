"""Every hostile file of `tests/hostile/cases.py` through every path that reads it.

For each file and path: no traceback, no "internal error", nothing half-imported (the database
is exactly as before a refusal), and the message names the file, the row where there is one,
and the field. Paths: the CLI (`signoff import`, `labels import`, `judge import`,
`judge run --dry-run` for rubric and price files) and the admin page's upload, driven through
`streamlit.testing.v1.AppTest` with its real file uploaders.
"""

from __future__ import annotations

import pytest
from apphelp import MAIN
from hostile.cases import GOOD_PAIRS, GOOD_RUBRIC, Case, all_cases
from streamlit.testing.v1 import AppTest

from reviewer.store import Store

CASES = all_cases()
JUDGE = ("--provider", "openai", "--model", "gpt-4o-mini", "--dry-run")


def snapshot(db) -> dict[str, int]:
    """Row count of every table: a refusal must leave each one as it was."""

    def read(cur):
        cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema='main'")
        names = [r[0] for r in cur.fetchall()]
        return {n: cur.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}

    return Store(db).read(read)


def command(case: Case) -> list[str]:
    f = case.file
    return {
        "pairs": ["import", f, "-s", "h", *case.args],
        "join": ["import", "--candidate", "c.jsonl", "--baseline", f, "-s", "h"],
        "config": ["import", "good.jsonl", "-s", "h", "--config", f],
        "rubric": ["judge", "run", "-s", "h", "--rubric", f, *JUDGE],
        "prices": ["judge", "run", "-s", "h", "--rubric", "rubric.toml", "--prices", f, *JUDGE],
        "labels": ["labels", "import", f, "-s", "h", *case.args],
        "verdicts": ["judge", "import", f, "-s", "h"],
    }[case.path]


def prepare(case: Case, tmp_path, cli) -> None:
    (tmp_path / "good.jsonl").write_bytes(GOOD_PAIRS)
    (tmp_path / "rubric.toml").write_bytes(GOOD_RUBRIC)
    case.make(tmp_path)
    if case.path in ("rubric", "prices", "labels", "verdicts"):  # these need a study
        assert cli("import", "good.jsonl", "-s", "h").code == 0


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_cli(case: Case, tmp_path, cli, db_path):
    prepare(case, tmp_path, cli)
    before = snapshot(db_path)
    r = cli(*command(case))
    message = r.out + r.err
    assert "Traceback" not in message and "internal error" not in message, message
    if case.accepted:
        assert r.code == 0, message
        assert snapshot(db_path)["studies"] == 1
        return
    assert r.code == 2, message
    for fragment in case.expect:
        assert fragment in message, f"{fragment!r} not in:\n{message}"
    assert snapshot(db_path) == before


UPLOADS = [c for c in CASES if c.path in ("pairs", "config") and c.uploadable]


@pytest.mark.parametrize("case", UPLOADS, ids=[c.id for c in UPLOADS])
def test_admin_upload(case: Case, tmp_path, cli, db_path, monkeypatch):
    monkeypatch.setenv("SIGNOFF_ADMIN_SECRET", "s3cret")
    prepare(case, tmp_path, cli)
    before = snapshot(db_path)
    at = AppTest.from_file(MAIN, default_timeout=30)
    at.query_params["admin"] = "s3cret"
    at.run()
    at.text_input[0].input("h")
    pairs = "good.jsonl" if case.path == "config" else case.file
    at.file_uploader[0].set_value((pairs, (tmp_path / pairs).read_bytes(), "text/plain"))
    if case.path == "config":
        data = (tmp_path / case.file).read_bytes()
        at.file_uploader[1].set_value((case.file, data, "text/plain"))
    next(b for b in at.button if b.label == "Create study").click()
    at.run()
    assert not at.exception, at.exception
    shown = "\n".join([e.value for e in at.error] + [c.value for c in at.code])
    assert "internal error" not in shown and "Traceback" not in shown, shown
    if case.accepted:
        assert any("Study 'h': created" in s.value for s in at.success), shown
        return
    assert "The study was not created." in shown
    for fragment in case.expect:
        assert fragment in shown, f"{fragment!r} not in:\n{shown}"
    assert snapshot(db_path) == before


def test_the_corpus_covers_every_path():
    paths = {c.path for c in CASES}
    assert paths == {"pairs", "join", "config", "rubric", "prices", "labels", "verdicts"}
    assert len({c.id for c in CASES}) == len(CASES) >= 60


def test_admin_upload_hides_an_unexpected_error(tmp_path, monkeypatch, caplog):
    """A bug while importing: a short message on the page, the traceback in the server log."""
    import reviewer.app.screens.admin as admin

    def boom(*args, **kwargs):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(admin, "import_study_files", boom)

    class Upload:
        name, getvalue = "good.jsonl", staticmethod(lambda: GOOD_PAIRS)

    with caplog.at_level("ERROR"):
        outcome, message = admin.import_uploads(Store(tmp_path / "x.duckdb"), "h", Upload, None)
    assert outcome is None
    assert "internal error" in message and "secret detail" not in message
    assert "secret detail" in caplog.text and "Traceback" in caplog.text

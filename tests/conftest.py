"""Shared fixtures: a real DuckDB file per test and the real `signoff` entry point."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

from reviewer.cli import main
from reviewer.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"


# Tests that need something outside the Python dependencies (Debian's chromium for the browser
# tests, the signoff[local] extra for the local-LLM test) skip, with the reason, when it is
# missing; with SIGNOFF_REQUIRE_ALL=1 (.ci/run sets it) they fail instead, so CI cannot pass by
# skipping them.
REQUIRE_ALL = "SIGNOFF_REQUIRE_ALL"


def missing(what: str, install: str) -> NoReturn:
    """Skip the calling test because `what` is not installed, or fail it under
    SIGNOFF_REQUIRE_ALL=1. `install` says how to get it."""
    if os.environ.get(REQUIRE_ALL) == "1":
        pytest.fail(f"{what} is not installed ({install}); {REQUIRE_ALL}=1 requires it")
    pytest.skip(f"{what} not installed ({install}); {REQUIRE_ALL}=1 makes this a failure")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path, monkeypatch):
    """Every test gets its own database path and actor; nothing touches the working tree."""
    monkeypatch.setenv("SIGNOFF_DB", str(tmp_path / "signoff.duckdb"))
    monkeypatch.setenv("SIGNOFF_ACTOR", "tester")
    monkeypatch.delenv("SIGNOFF_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "signoff.duckdb"


@pytest.fixture
def store(db_path) -> Store:
    return Store(db_path)


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run `signoff ARGS...` in-process through the console entry point."""

    def run(*args: str | Path) -> Result:
        monkeypatch.setattr(sys, "argv", ["signoff", *map(str, args)])
        capsys.readouterr()
        code = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Result(code, captured.out, captured.err)

    return run


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def pair(i: int, **over) -> dict:
    row = {
        "id": f"p{i:03d}",
        "prompt": f"Question number {i}?",
        "candidate": f"Candidate answer {i}.",
        "baseline": f"Baseline answer {i}.",
        "stratum": ["routine", "hard", "edge", "refusal"][i % 4],
    }
    row.update(over)
    return row


@pytest.fixture
def pairs_file(tmp_path) -> Path:
    return write_jsonl(tmp_path / "pairs.jsonl", [pair(i) for i in range(1, 41)])


@pytest.fixture
def llm():
    """The scripted OpenAI/Anthropic-compatible server on 127.0.0.1 (see llm_server.py)."""
    from llm_server import LLMServer

    server = LLMServer().start()
    yield server
    server.stop()


RUBRIC_TOML = """
question = "Which response is better?"

[[criteria]]
name = "correctness"
description = "Right facts."

[[criteria]]
name = "tone"
description = "Polite."
"""


@pytest.fixture
def rubric_file(tmp_path) -> Path:
    path = tmp_path / "rubric.toml"
    path.write_text(RUBRIC_TOML, encoding="utf-8")
    return path


@pytest.fixture
def server(tmp_path, db_path):
    """`signoff app` on this test's database, for the Chromium tests (see browser.py)."""
    from browser import AppServer, require_chromium

    require_chromium()
    srv = AppServer(db_path, tmp_path / "server.log")
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server for this test session (initdb + pg_ctl in a temp dir, see
    pg.py), stopped and removed after; missing binaries skip (or fail under REQUIRE_ALL)."""
    from pg import server_bin, start_server

    bindir = server_bin()
    if bindir is None:
        missing("PostgreSQL", "apt-get install postgresql")
    server = start_server(bindir)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """A fresh, empty PostgreSQL database of this test's own."""
    return pg_server.new_database()


@pytest.fixture(params=["duckdb", "postgresql"])
def any_db(request, db_path) -> str:
    """The test's database on each backend: a DuckDB file, then a PostgreSQL URL; SIGNOFF_DB
    names it, so `signoff` commands without --db use it too."""
    if request.param == "duckdb":
        return str(db_path)
    url = request.getfixturevalue("pg_url")
    request.getfixturevalue("monkeypatch").setenv("SIGNOFF_DB", url)
    return url


@pytest.fixture
def any_store(any_db) -> Store:
    return Store(any_db)

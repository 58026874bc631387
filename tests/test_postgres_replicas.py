"""Team mode end to end: three `signoff app` replicas on one PostgreSQL, annotators in real
browsers spread over them, one replica killed with -9 and restarted, while `signoff report` and
`signoff judge run` (against the scripted LLM server) run from terminals. Every label a session
saw confirmed is stored exactly once; no command fails. (slow: ~2 min; bench/pg_replicas.py runs
the same for longer with more sessions)"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from apphelp import seed_sample
from browser import AppServer, browser, choose, require_chromium, wait_for_pair
from conftest import DATA, ROOT

from reviewer.store import Store

pytestmark = pytest.mark.slow
KEYS = ("1", "2", "t")


@dataclass
class Session:
    """One annotator's browser tab on one replica, and the labels it saw confirmed."""

    name: str
    token: str
    replica: int
    total: int
    page: object = None
    confirmed: int = 0


@dataclass
class Terminal:
    """CLI commands run in a loop from another process while the annotators label."""

    commands: list[list[str]]
    env: dict[str, str]
    results: list[tuple[list[str], int, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            for args in self.commands:
                proc = subprocess.run(
                    [sys.executable, "-m", "reviewer", *args],
                    env=self.env,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                self.results.append((args, proc.returncode, proc.stderr[-2000:]))


def open_session(s: Session, servers: list[AppServer], b) -> None:
    s.page = b.new_context().new_page()
    s.page.goto(f"{servers[s.replica].url}/?token={s.token}")
    wait_for_pair(s.page, s.confirmed, s.total, timeout=90000)


def label_once(s: Session) -> None:
    """Choose, submit, and count the label once the page shows it stored."""
    choose(s.page, KEYS[s.confirmed % 3])
    s.page.keyboard.press("Enter")
    wait_for_pair(s.page, s.confirmed + 1, s.total, timeout=90000)
    s.confirmed += 1


def run_team(
    cli,
    tmp_path: Path,
    url: str,
    llm,
    sessions: int,
    seconds: float,
    replicas: int = 3,
    rounds: int = 4,
) -> tuple[list[Session], Terminal]:
    """Label for `seconds` and at least `rounds` labels per tab, with `sessions` tabs
    round-robin over `replicas` app processes; halfway, kill replica 0 with -9, restart it and
    reopen its tabs; a terminal runs report and judge run meanwhile."""
    names = [f"Annotator {i}" for i in range(sessions)]
    tokens = seed_sample(cli, *names)
    store = Store(url)
    queue = dict(
        store.read(
            lambda cur: cur.execute(
                "SELECT annotator_id, count(*) FROM assignments GROUP BY annotator_id"
            ).fetchall()
        )
    )
    team = [
        Session(n, tokens[n], i % replicas, queue[n.lower().replace(" ", "-")])
        for i, n in enumerate(names)
    ]
    servers = [AppServer(url, tmp_path / f"app{i}.log").start() for i in range(replicas)]
    env = dict(os.environ, SIGNOFF_DB=url, PYTHONPATH=str(ROOT))
    judge = ["judge", "run", "-s", "demo", "--rubric", str(DATA / "support_rubric.toml")]
    judge += ["--provider", "openai-compatible", "--base-url", llm.openai_url, "--model", "m"]
    judge += ["--pairs", "all", "--override", "team-mode test"]
    terminal = Terminal(
        [["report", "-s", "demo", "--format", "json", "--resamples", "20"], judge, ["status"]], env
    )
    worker = threading.Thread(target=terminal.run)
    try:
        with browser() as b:
            for s in team:
                open_session(s, servers, b)
            worker.start()
            start, killed, done = time.monotonic(), False, 0
            while done < rounds or time.monotonic() - start < seconds:
                halfway = done >= rounds // 2 and time.monotonic() - start >= seconds / 2
                if not killed and halfway:
                    servers[0].kill9()
                    servers[0].start()
                    for s in team:
                        if s.replica == 0:
                            open_session(s, servers, b)
                    killed = True
                for s in team:
                    label_once(s)
                done += 1
            terminal.stop.set()
            worker.join()
    finally:
        terminal.stop.set()
        for srv in servers:
            srv.stop()
    return team, terminal


def test_three_replicas_a_kill_and_the_cli_at_once(cli, tmp_path, pg_url, llm, monkeypatch):
    require_chromium()
    monkeypatch.setenv("SIGNOFF_DB", pg_url)
    team, terminal = run_team(cli, tmp_path, pg_url, llm, sessions=6, seconds=20, rounds=4)
    failures = [(args, code, err) for args, code, err in terminal.results if code != 0]
    assert failures == []
    assert {tuple(a[:2]) for a, _, _ in terminal.results} >= {("report", "-s"), ("judge", "run")}
    stored = dict(
        (r[0], r[1:])
        for r in Store(pg_url).read(
            lambda cur: cur.execute(
                "SELECT annotator_id, count(*), count(DISTINCT pair_id), count(DISTINCT view_id) "
                "FROM labels WHERE source = 'app' GROUP BY annotator_id"
            ).fetchall()
        )
    )
    for s in team:
        slug = s.name.lower().replace(" ", "-")
        assert s.confirmed >= 4
        assert stored[slug] == (s.confirmed,) * 3, s.name
    hosts = Store(pg_url).read(
        lambda cur: cur.execute("SELECT count(DISTINCT pid) FROM events").fetchone()[0]
    )
    assert hosts >= 2  # the test process and the terminal's commands each signed their events

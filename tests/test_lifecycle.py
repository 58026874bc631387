"""The app's lifecycle: it never outlives `signoff app` (not even a `kill -9` of it), a second
`signoff app`/`signoff demo` on the same database reuses it, a taken port is never a crash, and
links point at the address the app really listens on (slow: starts real app servers)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser import free_port
from conftest import ROOT, pair, write_jsonl

from reviewer.app import running
from reviewer.labeling import session
from reviewer.store import Store

pytestmark = pytest.mark.slow


def gone(pid: int) -> bool:
    """Exited (a zombie no init has reaped yet counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


def wait_for(predicate, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


class Launcher:
    """`signoff app` in a subprocess, its output in a file."""

    def __init__(self, tmp: Path, *args: str, command: str = "app"):
        self.out = tmp / f"app-{time.monotonic_ns()}.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with open(self.out, "wb") as f:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "reviewer", command, *args],
                env=env, stdout=f, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def text(self) -> str:
        return self.out.read_text()

    def wait_ready(self) -> None:
        wait_for(lambda: "Ctrl-C to stop" in self.text() or self.proc.poll() is not None,
                 "the app", 120)  # fmt: skip
        assert "Ctrl-C to stop" in self.text(), self.text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def study_db(cli, tmp_path) -> Path:
    path = write_jsonl(tmp_path / "pairs.jsonl", [pair(i) for i in range(1, 11)])
    assert cli("import", path, "--study", "s").code == 0
    return tmp_path / "signoff.duckdb"


@pytest.fixture
def launchers():
    started: list[Launcher] = []
    yield started
    for launcher in started:
        launcher.stop()
        app = running._read(running.record_path(launcher_db(launcher)))
        if app is not None and not gone(app.pid):
            os.kill(app.pid, signal.SIGKILL)


def launcher_db(launcher: Launcher) -> Path:
    return launcher.out.parent / "signoff.duckdb"


def signoff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "reviewer", *args],
        env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_kill_9_of_signoff_demo_takes_the_app_down_and_a_second_demo_reuses_it(tmp_path, launchers):
    study_db = tmp_path / "signoff.duckdb"  # where the fixture's cleanup looks
    port = free_port()
    launchers.append(
        app := Launcher(tmp_path, "--db", str(study_db), "--port", str(port), command="demo")
    )
    app.wait_ready()
    url = f"http://localhost:{port}"
    assert f"your annotator link: {url}/?token=" in app.text()
    record = running.running_app(study_db)
    assert record is not None and record.launcher_pid == app.proc.pid and record.url == url
    # `make demo` run again: the same app, a fresh link that works on it, no second server.
    again = signoff("demo", "--db", str(study_db))
    assert again.returncode == 0, again.stderr
    assert f"already served on {url}" in again.stdout
    token = again.stdout.split(f"your annotator link: {url}/?token=")[1].split()[0]
    assert session.login(Store(study_db), token) is not None
    assert running.running_app(study_db) == record
    app.proc.send_signal(signal.SIGKILL)
    app.proc.wait()
    wait_for(lambda: gone(record.pid), "the app to die with its launcher")
    assert not running.healthy(record.url)
    assert running.running_app(study_db) is None  # the stale record does not count
    assert running.port_is_free("127.0.0.1", port)


def test_a_second_app_reuses_the_first_links_follow_it_and_sigterm_stops_it(
    cli, study_db, tmp_path, launchers, monkeypatch
):
    port = free_port()
    launchers.append(first := Launcher(tmp_path, "--db", str(study_db), "--port", str(port)))
    first.wait_ready()
    url = f"http://localhost:{port}"
    record = running.running_app(study_db)
    # A second `signoff app` on this database (any port) points at the first and exits 0.
    second = signoff("app", "--db", str(study_db))
    assert second.returncode == 0, second.stderr
    assert f"already served on {url}" in second.stdout
    assert f"admin page: {url}/?admin=" in second.stdout
    # Links follow the running app; --base-url, SIGNOFF_BASE_URL and SIGNOFF_APP_URL win.
    added = cli("annotators", "add", "Ana", "--json").json()
    assert added[0]["link"].startswith(f"{url}/?token=")
    assert cli("annotators", "link", "ana").out.startswith(f"{url}/?token=")
    out = cli("annotators", "link", "ana", "--base-url", "https://label.example.com/").out
    assert out.startswith("https://label.example.com/?token=")
    monkeypatch.setenv("SIGNOFF_APP_URL", "https://old-name.example.com")
    assert cli("annotators", "link", "ana").out.startswith("https://old-name.example.com/?token=")
    monkeypatch.setenv("SIGNOFF_BASE_URL", "https://new-name.example.com")
    assert cli("annotators", "link", "ana").out.startswith("https://new-name.example.com/?token=")
    monkeypatch.delenv("SIGNOFF_APP_URL")
    monkeypatch.delenv("SIGNOFF_BASE_URL")
    # SIGTERM (as systemd or `kill` send) stops the app too, and its record goes.
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(30) == 0
    wait_for(lambda: gone(record.pid), "the app to stop")
    assert not running.record_path(study_db).exists()
    r = cli("annotators", "link", "ana")
    assert r.out.startswith("http://localhost:8501/?token=")
    assert "no `signoff app` is serving" in r.err


def test_a_taken_port_is_refused_when_asked_for_and_skipped_by_default(cli, study_db):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = cli("app", "--port", str(port))
        assert r.code == 2 and f"port {port} is in use by another program" in r.err
        assert running.free_port("127.0.0.1", port) != port
    assert running.free_port("127.0.0.1", port) == port


def dry_make(*args: str) -> str:
    """What `make -n ARGS` would run; run from inside `make test` (as CI does), make would also
    announce its directory, so the outer make's variables are left out."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    return done.stdout


def test_make_demo_passes_port_through():
    out = dry_make("demo", "PORT=8642")
    assert out.strip().splitlines()[-1].endswith("signoff demo --port 8642"), out
    out = dry_make("demo")
    assert out.strip().splitlines()[-1].endswith("signoff demo"), out

"""Real-browser fixtures: Debian's chromium driven by Playwright against a real app server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from conftest import missing

from reviewer.app.launch import app_command, app_env

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
ADMIN = "admin-secret-for-tests"


def require_chromium() -> None:
    """Skip without Debian's chromium; fail instead under SIGNOFF_REQUIRE_ALL=1 (.ci/run sets
    it and installs chromium)."""
    if shutil.which(CHROMIUM) is None:
        missing(f"Debian chromium ({CHROMIUM})", "apt-get install chromium")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`signoff app`'s exact command line, started and stopped by the test."""

    def __init__(self, db: Path, log: Path):
        self.db, self.log, self.port = db, log, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> AppServer:
        env = app_env(self.db, None, self.url, ADMIN)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                app_command("127.0.0.1", self.port), env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"app did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no shutdown handler, no checkpoint
        self.proc.wait()


@contextmanager
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


def progress_text(done: int, total: int) -> str:
    return f"{done} of {total} labeled"


def wait_for_pair(page, done: int, total: int, timeout: float = 20000) -> None:
    """Wait until a pair is fully on screen with `done` labels: the progress text, the choice
    buttons (after a reload the text can be up before them), then no stale element left."""
    page.get_by_text(progress_text(done, total)).first.wait_for(timeout=timeout)
    page.locator("button").filter(has_text="Both bad").first.wait_for(timeout=timeout)
    settle(page, timeout)


def wait_for_text(page, text: str, timeout: float = 20000) -> None:
    page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)
    settle(page, timeout)


def settle(page, timeout: float = 20000) -> None:
    """Wait until Streamlit has finished its rerun and no stale element is left on screen:
    a key pressed before that goes to the previous pair's buttons, which ignore it."""
    page.wait_for_function(
        "() => { const app = document.querySelector('.stApp');"
        " return app && app.getAttribute('data-test-script-state') === 'notRunning'"
        " && document.querySelectorAll('[data-stale=\"true\"]').length === 0; }",
        timeout=timeout,
    )


CHOICE_LABELS = {"1": "Response 1", "2": "Response 2", "t": "Tie", "b": "Both bad"}


def choose(page, key: str) -> None:
    """Press a choice key and wait until that choice shows as selected (a primary button)."""
    blur(page)
    page.keyboard.press(key)
    page.locator("button[data-testid=stBaseButton-primary]").filter(
        has_text=CHOICE_LABELS[key]
    ).first.wait_for(timeout=20000)
    settle(page)


def blur(page) -> None:
    page.evaluate("document.activeElement && document.activeElement.blur()")


def capture_frames(page) -> list[bytes]:
    """Every websocket frame the page receives from now on (register before `goto`)."""
    frames: list[bytes] = []
    page.on(
        "websocket",
        lambda ws: ws.on(
            "framereceived", lambda f: frames.append(f if isinstance(f, bytes) else f.encode())
        ),
    )
    return frames

"""Start the Streamlit app for a database: `signoff app` and `signoff demo` come here.

The app runs as a child process that never outlives its launcher: on Linux the kernel sends it
SIGTERM when the launcher dies, even by `kill -9` (PR_SET_PDEATHSIG); SIGTERM, SIGHUP and Ctrl-C
to the launcher stop it first. An orphaned app kept serving old links and held the port, so the
next `signoff app` printed new links and died on "Port 8501 is not available".
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from reviewer.app.running import RunningApp, healthy, remove_record, write_record
from reviewer.store.backend import is_server_url, resolve_target

APP = Path(__file__).resolve().parent / "main.py"

# Safety and quiet: no traceback or exception detail reaches a browser; no "magic" rendering of
# bare expressions (which could send server-side values to the page); Streamlit's experimental
# JSON/MCP agent API stays off (off by default in 1.67; pinned so that no upgrade opens a second
# way into the labeling pages); no telemetry, no file watcher, no developer toolbar. No full
# garbage collection after every script run: with the analysis stack imported, that `gc.collect(2)`
# cost ~60% of the app's CPU under load (py-spy, issue 17), while Python's own generational
# collector still frees cycles as it goes.
STREAMLIT_FLAGS = [
    "--server.enableAgentApi",
    "false",
    "--server.headless",
    "true",
    "--browser.gatherUsageStats",
    "false",
    "--client.showErrorDetails",
    "none",
    "--client.toolbarMode",
    "minimal",
    "--runner.magicEnabled",
    "false",
    "--server.fileWatcherType",
    "none",
    "--runner.postScriptGC",
    "false",
    "--global.developmentMode",
    "false",
]


def app_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        *STREAMLIT_FLAGS,
    ]


def app_env(db: Path | str, study: str | None, base_url: str, admin_secret: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SIGNOFF_DB=resolve_target(db), SIGNOFF_APP_URL=base_url, SIGNOFF_ADMIN_SECRET=admin_secret
    )
    if study:
        env["SIGNOFF_STUDY"] = study
    return env


@dataclass(frozen=True)
class Launch:
    """One app server to start: where it listens, its admin link, its command and environment."""

    base_url: str
    admin_url: str
    command: list[str]
    env: dict[str, str]


def plan_launch(db: Path | str, study: str | None, host: str, port: int) -> Launch:
    """The app server for a database; the admin secret comes from SIGNOFF_ADMIN_SECRET or is new."""
    base_url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    admin_secret = os.environ.get("SIGNOFF_ADMIN_SECRET") or secrets.token_urlsafe(18)
    return Launch(
        base_url=base_url,
        admin_url=f"{base_url}/?admin={admin_secret}",
        command=app_command(host, port),
        env=app_env(db, study, base_url, admin_secret),
    )


class _Stop(Exception):
    """SIGTERM or SIGHUP reached the launcher: stop the app, then exit."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop(signum)


def _die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` that has the kernel send SIGTERM to the child when this process dies
    (Linux only; elsewhere None: the signal handlers cover all but `kill -9`)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before the fork
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)
        if os.getppid() != parent:  # the launcher died before prctl took effect
            os._exit(1)

    return preexec


def run_app(db: Path | str, launch: Launch, on_ready: Callable[[], None] = lambda: None) -> int:
    """Run the app in the foreground until Ctrl-C, SIGTERM or SIGHUP; its exit code. Calls
    `on_ready` once it answers (the links printed then work), and records it next to a DuckDB
    file `db` for `running_app` while it runs (a PostgreSQL database may have many replicas)."""
    proc = subprocess.Popen(launch.command, env=launch.env, preexec_fn=_die_with_parent())
    handlers = {s: signal.signal(s, _raise_stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    file = None if is_server_url(str(db)) else Path(db)
    try:
        if _wait_until_healthy(proc, launch.base_url):
            if file is not None:
                app = RunningApp(
                    launch.base_url, launch.admin_url, proc.pid, os.getpid(), str(file.resolve())
                )
                write_record(file, app)
            on_ready()
        return proc.wait()
    except (KeyboardInterrupt, _Stop):
        return 0
    finally:
        _stop(proc)
        if file is not None:
            remove_record(file, proc.pid)
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def _wait_until_healthy(proc: subprocess.Popen, url: str, timeout: float = 120.0) -> bool:
    """True once the app answers; False if it exited first (e.g. its port was taken)."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if healthy(url, timeout=0.5):
            return True
        time.sleep(0.2)
    return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except (KeyboardInterrupt, _Stop):  # a second Ctrl-C: do not wait any longer
        with contextlib.suppress(ProcessLookupError):
            proc.kill()

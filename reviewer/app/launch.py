"""Start the Streamlit app for a database: `signoff app` and `signoff demo` come here."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parent / "main.py"

# Safety and quiet: no traceback or exception detail reaches a browser; no "magic" rendering of
# bare expressions (which could send server-side values to the page); Streamlit's experimental
# JSON/MCP agent API stays off (off by default in 1.67; pinned so that no upgrade opens a second
# way into the labeling pages); no telemetry, no file watcher, no developer toolbar.
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


def app_env(db: Path, study: str | None, base_url: str, admin_secret: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SIGNOFF_DB=str(db.resolve()), SIGNOFF_APP_URL=base_url, SIGNOFF_ADMIN_SECRET=admin_secret
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


def plan_launch(db: Path, study: str | None, host: str, port: int) -> Launch:
    """The app server for a database; the admin secret comes from SIGNOFF_ADMIN_SECRET or is new."""
    base_url = f"http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}"
    admin_secret = os.environ.get("SIGNOFF_ADMIN_SECRET") or secrets.token_urlsafe(18)
    return Launch(
        base_url=base_url,
        admin_url=f"{base_url}/?admin={admin_secret}",
        command=app_command(host, port),
        env=app_env(db, study, base_url, admin_secret),
    )


def run_app(launch: Launch) -> int:
    """Run the app in the foreground until Ctrl-C; its exit code."""
    proc = subprocess.Popen(launch.command, env=launch.env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        return 0

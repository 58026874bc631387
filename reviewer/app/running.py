"""Which `signoff app` serves a database right now, so that a second `signoff app`/`make demo`
reuses it instead of failing on a taken port, and `signoff annotators add` prints links to the
address the app really listens on.

The launcher writes a small record next to the database (`<db>.app.json`, readable by its owner
only: it holds the admin link, which grants nothing the database file does not) once the app
answers, and removes it when the app stops. A record counts only while the app it names is
alive and answers Streamlit's health check at its address: a record left by a killed launcher
is ignored (and removed).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from reviewer.store.backend import is_server_url

DEFAULT_PORT = 8501
DEFAULT_BASE_URL = f"http://localhost:{DEFAULT_PORT}"


@dataclass(frozen=True)
class RunningApp:
    """An app server started by `signoff app` or `signoff demo`."""

    url: str  # the address in links, e.g. http://localhost:8501
    admin_url: str
    pid: int  # the Streamlit process
    launcher_pid: int  # the `signoff app` process that started it
    db: str


def record_path(db: Path) -> Path:
    db = db.resolve()
    return db.with_name(db.name + ".app.json")


def write_record(db: Path, app: RunningApp) -> None:
    path = record_path(db)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(asdict(app), f)


def remove_record(db: Path, pid: int) -> None:
    """Remove the record if it is still the one of the app `pid` (another may have replaced it)."""
    path = record_path(db)
    app = _read(path)
    if app is not None and app.pid == pid:
        with contextlib.suppress(OSError):
            path.unlink()


def running_app(db: Path | str) -> RunningApp | None:
    """The live app serving `db`, or None (a stale record is removed). A PostgreSQL database
    has no record: several replicas serve it behind a load balancer, each started on its own."""
    if is_server_url(str(db)):
        return None
    path = record_path(Path(db))
    app = _read(path)
    if app is None:
        return None
    if _alive(app.pid) and healthy(app.url):
        return app
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def base_url_for(db: Path | str) -> str | None:
    """The address of the app serving `db`, if one is running."""
    app = running_app(db)
    return app.url if app else None


def healthy(url: str, timeout: float = 1.0) -> bool:
    """Whether a Streamlit server answers its health check at `url`."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/_stcore/health", timeout=timeout) as r:
            return r.status == 200 and r.read().strip() == b"ok"
    except (OSError, ValueError):
        return False


def port_is_free(host: str, port: int) -> bool:
    """Whether an app could listen on host:port now (bound as Tornado binds: SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1" if host == "localhost" else host, port))
        except OSError:
            return False
    return True


def free_port(host: str, preferred: int = DEFAULT_PORT, tries: int = 20) -> int:
    """`preferred` if free, else the next free port after it, else one the system picks."""
    for port in range(preferred, preferred + tries):
        if port_is_free(host, port):
            return port
    with socket.socket() as s:
        s.bind(("127.0.0.1" if host == "localhost" else host, 0))
        return s.getsockname()[1]


def _read(path: Path) -> RunningApp | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return RunningApp(**data)
    except (OSError, ValueError, TypeError):
        return None


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True  # no /proc (macOS): the health check decides
    with contextlib.suppress(OSError, IndexError):
        if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
        # The marker: the process is our Streamlit app, not whatever reused its PID.
        cmdline = (proc / "cmdline").read_bytes()
        return b"streamlit" in cmdline and b"main.py" in cmdline
    return False

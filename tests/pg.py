"""A real, throwaway PostgreSQL server for tests and benchmarks: initdb + pg_ctl in a temp dir.

Debian's `postgresql` package puts the server binaries in /usr/lib/postgresql/<version>/bin.
initdb refuses to run as root, so as root the cluster is made and run by the `postgres` user in a
directory it owns (under /tmp: pytest's own temp dirs are closed to other users).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg


def server_bin() -> Path | None:
    """The newest installed PostgreSQL server binaries, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    return Path(found[-1]).parent if found else None


def _version(path: str) -> int:
    return int(Path(path).parent.parent.name.split(".")[0])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    """One running cluster; `url(name)` is a connection URL to database `name` on it."""

    bindir: Path
    root: Path
    port: int
    as_user: list[str]

    def url(self, dbname: str = "postgres", password: str | None = None) -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://postgres{secret}@127.0.0.1:{self.port}/{dbname}"

    def new_database(self, password: str | None = None) -> str:
        """A fresh empty database; its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name, password)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._ctl("stop", "-m", "fast")
        shutil.rmtree(self.root, ignore_errors=True)

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.root / "data"), *args],
            check=True,
            capture_output=True,
        )


def start_server(bindir: Path, *, durable: bool = False) -> PgServer:
    """initdb + pg_ctl start on a free port. Tests run without fsync (`durable=False`); the
    benchmarks keep PostgreSQL's defaults."""
    root = Path(tempfile.mkdtemp(prefix="signoff-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = root / "data"
    subprocess.run(
        [*as_user, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
    )
    server = PgServer(bindir, root, _free_port(), as_user)
    options = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=400"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    server._ctl("-o", options, "-l", str(root / "server.log"), "-w", "start")
    return server

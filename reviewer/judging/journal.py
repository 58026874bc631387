"""A judge run's paid answers, journaled in files beside the DuckDB database until they are in it.

Why: each paid answer must be durable before its worker makes its next call (a run killed with
kill -9 then pays again at most one answer per worker), but a DuckDB transaction costs ~5.5 ms
of CPU whatever its size, and at 32 calls in flight answers arrive ~9 ms apart, so writing each
to the database at once took a third of a run's CPU (bench/RESULTS.md, issue 16). An
`os.write` to a file opened with O_APPEND is in the kernel's page cache once it returns, which
killing the process cannot undo (a power cut can: the journal is not fsynced, and a resumed run
pays again for what it lost). The run's log writer moves the answers into the database in large
batches (`judge.call_log.LogWriter`), and the journal deletes the rows once they are there.

Layout: segments named `<database file>.journal-<run>-<n>.jsonl`, one JSON object per line (a
call's fields, its study and judge, and when it was journaled). The writer seals the current
segment when it takes a batch for the database, and deletes it once that batch is committed.
Each segment is locked (flock) by its run from before it has a name to the end, so a run that
starts (`replay`) moves in only the segments of runs that are gone: the kernel drops a killed
process's locks. A segment is first created under a hidden name, locked, then renamed, so no
replay can take a live run's segment before its lock is set.

On PostgreSQL a paid answer stays its own transaction: the server takes concurrent writers (no
single file to queue for), and a journal on one machine would hide a killed run's answers from
the team's runs on other machines until a run on that machine moved them in.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from judge.runner import Call
from reviewer import call_lines
from reviewer.store import Store
from reviewer.store import judge_calls as judge_sql
from reviewer.store.backend import Cursor

Segment = tuple[Path, int]  # its path and its open, locked descriptor


def _pattern(db: Path) -> str:
    return f"{glob.escape(db.name)}.journal-*.jsonl"


class Journal:
    """The segments of one run on the database file `db`, for one study and judge."""

    def __init__(self, db: Path, study_id: str, judge_id: str):
        self._dir, self._name = db.parent, f"{db.name}.journal-{secrets.token_hex(6)}"
        self._tag = {"study_id": study_id, "judge_id": judge_id}
        self._current: Segment | None = None
        self._sealed: list[Segment] = []
        self._count = 0

    def append(self, calls: Sequence[Call]) -> None:
        """Journal `calls`: durable against a kill of this process once this returns."""
        if self._current is None:
            self._current = self._new_segment()
        call_lines.append(self._current[1], calls, **self._tag)

    def seal(self) -> int:
        """Close the current segment for appending (the next call opens another); the mark to
        hand `moved` once the rows journaled so far are in the database."""
        if self._current is not None:
            self._sealed.append(self._current)
            self._current = None
        return len(self._sealed)

    def moved(self, mark: int) -> None:
        """The rows of the segments sealed up to `mark` are in the database: delete them."""
        for path, fd in self._sealed[:mark]:
            with contextlib.suppress(FileNotFoundError):  # deleted by hand
                os.unlink(path)
            os.close(fd)
        self._sealed = self._sealed[mark:]

    def close(self) -> None:
        """Let go of the segments still here (their rows are not in the database: the next
        run moves them in)."""
        for _, fd in self._sealed + ([self._current] if self._current else []):
            os.close(fd)
        self._sealed, self._current = [], None

    def _new_segment(self) -> Segment:
        self._count += 1
        name = f"{self._name}-{self._count:05d}"
        hidden = self._dir / f".{name}.tmp"  # not a segment to `replay` until it is locked
        # Readable as the database file usually is: whoever runs the judge next moves it in.
        fd = os.open(hidden, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        fcntl.flock(fd, fcntl.LOCK_EX)
        path = self._dir / f"{name}.jsonl"
        os.rename(hidden, path)
        return path, fd


def replay(store: Store, db: Path) -> int:
    """Move into `store` the paid answers that runs killed before moving them left beside
    `db` (any study's, any judge's: each row names its own), then delete those segments; live
    runs' segments are locked, and skipped. Idempotent: a row already in the database (a run
    killed between a batch's commit and the deletion of its segments) is not added again.
    Returns how many calls were found."""
    held: list[Segment] = []
    try:
        for path in sorted(db.parent.glob(_pattern(db))):
            fd = _lock_if_dead(path)
            if fd is not None:
                held.append((path, fd))
        if not held:
            return 0
        # One row per call (`replay_calls` checks the database; this, the segments read now).
        groups: dict[tuple[str, str], dict[tuple, tuple[Call, str]]] = {}
        for path, fd in held:
            for study_id, judge_id, call, at in _rows(path, fd):
                same = (call.cache_key, call.pair_id, call.presented, call.attempt, call.latency_ms)
                groups.setdefault((study_id, judge_id), {}).setdefault(same, (call, at))

        def work(cur: Cursor) -> None:
            for (study_id, judge_id), rows in groups.items():
                judge_sql.replay_calls(cur, study_id, judge_id, list(rows.values()))

        store.write(work)
        for path, _ in held:
            os.unlink(path)
        return sum(map(len, groups.values()))
    finally:
        for _, fd in held:
            os.close(fd)


def _lock_if_dead(path: Path) -> int | None:
    """A locked descriptor of the segment at `path`, unless its run still holds it or it is
    gone (deleted or replayed meanwhile)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, PermissionError):  # gone, or another user's to move in
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(path).st_ino == os.fstat(fd).st_ino:
            return fd
    except (BlockingIOError, FileNotFoundError):
        pass
    os.close(fd)
    return None


def _rows(path: Path, fd: int) -> list[tuple[str, str, Call, str]]:
    """The segment's rows, without a last row a kill cut short (never an answer that was
    fully written)."""
    with os.fdopen(os.dup(fd), "rb") as f:
        data = f.read()
    return call_lines.read_rows(
        data,
        path,
        lambda row: (
            row["study_id"],
            row["judge_id"],
            Call(**{k: row[k] for k in call_lines.FIELDS}),
            row["at"],
        ),  # fmt: skip
        "not a judge journal row; was it edited by hand? move it away to go on (the answers "
        "it holds will be paid for again)",
    )

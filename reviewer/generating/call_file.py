"""The call log of a generation run, a JSON Lines file beside its outputs; also its cache.

Why a file and not the study database: generation comes before any study exists (its output is
what `signoff import` turns into one), and a folder that holds the outputs with every call that
made them can be moved, archived or resumed on another machine as one thing.

Why it survives kill -9: each batch of rows is appended by one `write` to a file opened with
O_APPEND, and the runner waits for the write of a paid answer before its worker goes on, so a
killed process has lost at most the answers in flight (the page cache keeps what was written;
only a power cut needs fsync). A row cut short by the kill is dropped when the log is next
opened, and the file is locked while a run writes to it, so two runs cannot interleave.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Sequence
from pathlib import Path

from judge.call_log import Call, OrderVerdict
from reviewer import call_lines
from reviewer.errors import SignoffError


class CallFile:
    """The log at `path`: read once when opened, appended to while the run lasts."""

    def __init__(self, path: Path):
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise SignoffError(
                f"{path} is in use by another `signoff generate`; wait for it to finish"
            ) from None
        self._ok = self._read()
        self._appending = threading.Lock()  # the event loop's appends and the writer thread's

    def _read(self) -> dict[str, Call]:
        """Successful calls by key (the first of each), after dropping a row cut short."""
        with open(self.path, "rb") as f:
            data = f.read()
        if len(call_lines.whole(data)) < len(data):
            os.truncate(self.path, len(call_lines.whole(data)))  # cut by a kill; never an answer
        calls = call_lines.read_rows(
            data,
            self.path,
            lambda row: Call(**{k: row[k] for k in call_lines.FIELDS if k in row}),
            "not a call log row; the log was edited by hand? move it away to start afresh "
            "(every call will be paid again)",
        )
        ok: dict[str, Call] = {}
        for call in calls:
            if call.outcome == "ok":
                ok.setdefault(call.cache_key, call)
        return ok

    def answers(self, keys: Sequence[str]) -> dict[str, Call]:
        return {k: self._ok[k] for k in keys if k in self._ok}

    def write(self, calls: list[Call], verdicts: list[OrderVerdict]) -> None:
        with self._appending:  # a write cut short goes on before another one starts
            call_lines.append(self._fd, calls)

    def close(self) -> None:
        os.close(self._fd)  # releases the lock

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

import dataclasses
import fcntl
import json
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from judge.call_log import Call, OrderVerdict
from reviewer.errors import SignoffError

FIELDS = tuple(f.name for f in dataclasses.fields(Call))


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
        whole = data[: data.rfind(b"\n") + 1]
        if len(whole) < len(data):
            os.truncate(self.path, len(whole))  # the row a kill cut short; never an answer
        ok: dict[str, Call] = {}
        for number, line in enumerate(whole.splitlines(), 1):
            try:
                row = json.loads(line)
                call = Call(**{k: row.get(k) for k in FIELDS if k in row})
            except (ValueError, TypeError):
                raise SignoffError(
                    f"{self.path}:{number}: not a call log row; the log was edited by hand? "
                    "move it away to start afresh (every call will be paid again)"
                ) from None
            if call.outcome == "ok":
                ok.setdefault(call.cache_key, call)
        return ok

    def answers(self, keys: Sequence[str]) -> dict[str, Call]:
        return {k: self._ok[k] for k in keys if k in self._ok}

    def write(self, calls: list[Call], verdicts: list[OrderVerdict]) -> None:
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        # The fields as they are (`dataclasses.asdict` deep-copies each call's messages first).
        data = "".join(
            json.dumps({**{k: getattr(c, k) for k in FIELDS}, "at": at}, ensure_ascii=False) + "\n"
            for c in calls
        ).encode()
        view = memoryview(data)
        with self._appending:  # a write cut short goes on before another one starts
            while view:
                view = view[os.write(self._fd, view) :]

    def close(self) -> None:
        os.close(self._fd)  # releases the lock

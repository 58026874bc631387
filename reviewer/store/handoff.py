"""Turn-taking between the processes that share one DuckDB file.

DuckDB lets one process at a time open a file, and says nothing to the holder when another
process wants it. Left alone, `signoff app` (which keeps the file while clicks keep coming) would
hold it for as long as annotators click, and a terminal command would give up after its wait.
So the processes take turns through advisory locks on two bytes of a small file beside the
database (`<db>.handoff`, which names its last holder; safe to delete while no signoff process
runs):

- byte 0, the turn: held (exclusive) by the process that has the database open, taken before
  opening it and given back after closing it;
- byte 1, the queue: held (shared) by every process waiting for the turn.

A holder checks the queue before admitting more work; when someone waits and the holder has had
its turn (reviewer.store.connection: up to half a second of work), it closes the file as soon as
its work in flight is done, and then lets the waiter in before it takes the turn again.
Waiters poll the turn (a system call, not a DuckDB open, which costs ~10 ms of CPU when it fails).
The locks are POSIX record locks: the kernel drops them when a process dies, so a killed process
never leaves the file blocked. They belong to the process, so each process counts its own users
of each byte and takes or gives back the lock on the first and last of them. Without `fcntl`
(Windows) there is no turn-taking and DuckDB's lock alone decides, as before.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

TURN, QUEUE = 0, 1
_HOLDER_AT = 16  # where the holder writes its PID and program, for the waiter's message


class _ProcessLocks:
    """This process's locks on one handoff file, counted per byte."""

    def __init__(self, fd: int):
        self.fd = fd
        self.counts = {TURN: 0, QUEUE: 0}
        self.mutex = threading.Lock()

    def take(self, byte: int, exclusive: bool) -> bool:
        with self.mutex:
            if self.counts[byte] == 0 and not self._lock(byte, exclusive):
                return False
            self.counts[byte] += 1
            if byte == TURN and self.counts[byte] == 1:
                me = f"{os.getpid()} {Path(sys.argv[0]).name}"[:100].ljust(100)
                os.pwrite(self.fd, me.encode(), _HOLDER_AT)
            return True

    def give_back(self, byte: int) -> None:
        with self.mutex:
            self.counts[byte] -= 1
            if self.counts[byte] == 0:
                fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, byte)

    def others_queued(self) -> bool:
        """Whether another process waits: an exclusive lock on the queue byte is refused."""
        with self.mutex:
            if not self._lock(QUEUE, exclusive=True):
                return True
            # Back to what this process held: its own shared lock, or nothing.
            if self.counts[QUEUE]:
                fcntl.lockf(self.fd, fcntl.LOCK_SH, 1, QUEUE)
            else:
                fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, QUEUE)
            return False

    def holder(self) -> str:
        return os.pread(self.fd, 100, _HOLDER_AT).decode(errors="replace").strip()

    def _lock(self, byte: int, exclusive: bool) -> bool:
        mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.lockf(self.fd, mode | fcntl.LOCK_NB, 1, byte)
        except OSError:  # EAGAIN/EACCES: another process holds a conflicting lock
            return False
        return True


_FILES: dict[str, _ProcessLocks] = {}
_FILES_GUARD = threading.Lock()


def _locks_for(path: Path) -> _ProcessLocks | None:
    """One open descriptor per handoff file per process, kept open: closing any descriptor of
    a file drops all of the process's record locks on it."""
    key = os.path.realpath(path)
    with _FILES_GUARD:
        if key not in _FILES:
            try:
                fd = os.open(key, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:  # a read-only folder: DuckDB's lock alone decides
                return None
            _FILES[key] = _ProcessLocks(fd)
        return _FILES[key]


class Handoff:
    """The turn and the queue of one database file, as seen from one Store."""

    def __init__(self, db: Path):
        self.path = db.with_name(db.name + ".handoff")
        self._found: _ProcessLocks | None = None

    def _locks(self) -> _ProcessLocks | None:
        """Created on first use, once the database is being opened (never for a missing one)."""
        if self._found is None and fcntl is not None:
            self._found = _locks_for(self.path)
        return self._found

    def take_turn(self) -> bool:
        """Take the turn if no other process has it (always granted without turn-taking)."""
        locks = self._locks()
        return locks is None or locks.take(TURN, exclusive=True)

    def give_turn(self) -> None:
        locks = self._locks()
        if locks is not None:
            locks.give_back(TURN)

    def join_queue(self) -> bool:
        """Say this process waits for the turn; False if that could not be said just now."""
        locks = self._locks()
        return locks is not None and locks.take(QUEUE, exclusive=False)

    def leave_queue(self) -> None:
        locks = self._locks()
        if locks is not None:
            locks.give_back(QUEUE)

    def others_waiting(self) -> bool:
        locks = self._locks()
        return locks is not None and locks.others_queued()

    def holder(self) -> str:
        """`PID program` of the last process that took the turn."""
        locks = self._locks()
        return locks.holder() if locks is not None else ""

"""The batches of a `signoff generate --batch`, recorded in `batches.jsonl` beside the call log.

Generation has no database, so its batch ledger is a file: one event a line (`submitting`
before a batch is sent, `submitted` with the provider's id once it accepted it, `collected` once
its results are in the call log), appended with O_APPEND like the call log and read back by
folding the events of each batch. A run killed at any point finds its open batches here and
polls them instead of sending their requests again; the call log's lock (held by the running
`signoff generate`) also covers this file.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from judge.call_log import Call, OrderVerdict
from reviewer.generating.call_file import CallFile

if TYPE_CHECKING:
    from judge.batch import BatchRecord, BatchState

BATCHES_FILE = "batches.jsonl"


class BatchFile:
    """Every batch of one output folder, of every model."""

    def __init__(self, path: Path):
        self.path = path

    def repair(self) -> None:
        """Drop a line a kill cut short (only the last can be), before appending after it."""
        if self.path.exists():
            data = self.path.read_bytes()
            os.truncate(self.path, data.rfind(b"\n") + 1)

    def append(self, event: dict) -> None:
        line = json.dumps({**event, "at": datetime.now(UTC).isoformat()}) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def batches(self) -> dict[str, dict]:
        """Each batch's latest state, by tag, in the order they were recorded."""
        if not self.path.exists():
            return {}
        out: dict[str, dict] = {}
        text = self.path.read_text(encoding="utf-8")
        for raw in text[: text.rfind("\n") + 1].splitlines():  # not a line a kill cut short
            event = json.loads(raw)
            out.setdefault(event["tag"], {}).update(event)
        return out

    def open_batches(self) -> list[dict]:
        return [b for b in self.batches().values() if b["event"] != "collected"]


class FileBatchLedger:
    """One model's batches in the folder's `BatchFile`; collected results go to its call log."""

    def __init__(self, file: BatchFile, log: CallFile, model: str, provider: str):
        self.file, self.log, self.model, self.provider = file, log, model, provider

    def open_batches(self) -> list[BatchRecord]:
        # Imported here: an online run reads the folder's `BatchFile` only, never a ledger.
        from judge.batch import BatchRecord

        return [
            BatchRecord(
                b["tag"], b["requests"], b.get("batch_id"), since=datetime.fromisoformat(b["since"])
            )  # fmt: skip
            for b in self.file.open_batches()
            if b["model"] == self.model
        ]

    def known_ids(self) -> set[str]:
        return {b["batch_id"] for b in self.file.batches().values() if b.get("batch_id")}

    def submitting(self, record: BatchRecord) -> None:
        self.file.append(
            {
                "tag": record.tag,
                "event": "submitting",
                "model": self.model,
                "provider": self.provider,
                "requests": record.requests,
                "since": datetime.now(UTC).isoformat(),
            }  # fmt: skip
        )

    def submitted(self, record: BatchRecord) -> None:
        self.file.append({"tag": record.tag, "event": "submitted", "batch_id": record.batch_id})

    def collected(
        self,
        record: BatchRecord,
        state: BatchState,
        calls: list[Call],
        verdicts: list[OrderVerdict],
    ) -> None:
        """The calls into the log first, then the batch closed: a kill between the two leaves
        the batch open, and the run that collects it again finds its answers in the log."""
        self.log.write(calls, verdicts)
        answered = sum(c.outcome != "error" for c in calls)
        self.file.append(
            {
                "tag": record.tag,
                "event": "collected",
                "status": state.status,
                "answered": answered,
                "failed": len(calls) - answered,
            }  # fmt: skip
        )

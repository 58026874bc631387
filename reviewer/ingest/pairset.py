"""A validated golden set, held on disk rather than in memory, and how it is written.

Validation streams a file once; each valid pair is turned into the columns the store keeps
(stored prompt and metadata JSON, content hash) and spilled, 10,000 pairs at a time, to an
Arrow file in a temporary folder. Memory keeps only what the study needs before any pair is
written (ids, strata and hashes: the calibration sample, the diff against a stored set, the set's
hash) and a million pairs of 1 KB outputs fit in a few hundred MB instead of several GB. The store
then reads the spill back in the same batches, inside the import's one transaction.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

    from reviewer.ingest.pairs import Pair

BATCH_PAIRS = 10_000
# Columns a pair is stored with (all text but the last); the store adds study_id, position and
# in_calibration.
COLUMN_NAMES = (
    "pair_id",
    "prompt_json",
    "candidate",
    "baseline",
    "candidate_model",
    "baseline_model",
    "stratum",
    "reference",
    "metadata_json",
    "content_hash",
    "identical_outputs",
)


@cache
def columns() -> pa.Schema:
    """`COLUMN_NAMES` as an Arrow schema; pyarrow is imported at the first import of a file,
    not by every command that loads this module."""
    import pyarrow as pa

    return pa.schema([(name, pa.string()) for name in COLUMN_NAMES[:-1]]).append(
        pa.field(COLUMN_NAMES[-1], pa.bool_())
    )


_to_json = json.JSONEncoder(ensure_ascii=False).encode
_to_sorted_json = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
# What `_to_json` does with a str, without its per-call dispatch (C when available).
text_json = json.encoder.encode_basestring


def prompt_json(pair: Pair) -> str:
    """The prompt as stored: a JSON string, or a JSON list of messages."""
    if isinstance(pair.prompt, str):
        return text_json(pair.prompt)
    return _to_json([m.model_dump() for m in pair.prompt])


def metadata_json(metadata: dict[str, Any] | None) -> str:
    return _to_sorted_json(metadata) if metadata else "{}"


def stored_fields(pair: Pair) -> tuple[str | None, ...]:
    """A pair's stored text columns, in `COLUMN_NAMES` order up to `metadata_json`."""
    return (
        pair.id,
        prompt_json(pair),
        pair.candidate,
        pair.baseline,
        pair.candidate_model,
        pair.baseline_model,
        pair.stratum,
        pair.reference,
        metadata_json(pair.metadata),
    )


def content_hash(*parts: str | None) -> str:
    """sha256 over every field as stored (id, prompt, candidate, baseline, candidate model,
    baseline model, stratum, reference, metadata), each prefixed by its length in UTF-8 bytes,
    so that no two different pairs give the same byte stream; None ("-") differs from "" ("0:").
    Built as one text and hashed in one call (the same bytes as feeding the parts one by one);
    an ASCII part's length is its length in characters, known without encoding it."""
    text = "".join(
        [
            "-" if part is None else f"{len(part) if part.isascii() else len(part.encode())}:{part}"
            for part in parts
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class PairSet:
    """A validated golden set: ids, strata and hashes in memory (in file order), the stored
    columns of every pair in an Arrow file read back by `batches`."""

    source: str
    ids: list[str]
    strata: list[str]
    hashes: list[str]
    warnings: list[str]
    spill: Path
    folder: Any = field(repr=False)  # the TemporaryDirectory holding `spill`

    def __len__(self) -> int:
        return len(self.ids)

    def batches(self) -> Iterator[pa.RecordBatch]:
        """The stored columns, `BATCH_PAIRS` pairs at a time, in file order. Read, not
        memory-mapped: a mapped spill counts in the process's memory as it is read."""
        import pyarrow as pa

        with pa.OSFile(str(self.spill)) as source:
            reader = pa.ipc.open_file(source)
            for index in range(reader.num_record_batches):
                yield reader.get_batch(index)

    def content_hash(self) -> str:
        """Hash of every pair's content, independent of row order."""
        return hashlib.sha256("".join(sorted(self.hashes)).encode()).hexdigest()

    def close(self) -> None:
        """Remove the spilled pairs (also done when the set is garbage-collected)."""
        self.folder.cleanup()

    def __enter__(self) -> PairSet:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class PairWriter:
    """Collects validated pairs one at a time into a `PairSet`."""

    def __init__(self, source: str):
        import pyarrow as pa

        self.source = source
        self.ids: list[str] = []
        self.strata: list[str] = []
        self.hashes: list[str] = []
        self._strata: dict[str, str] = {}  # one str object per stratum, not one per pair
        self._identical: list[str] = []
        self._empty: dict[str, list[str]] = {"candidate": [], "baseline": []}
        self._rows: list[tuple] = []  # the batch being filled
        self._folder = tempfile.TemporaryDirectory(prefix="signoff-import-")
        self._spill = Path(self._folder.name) / "pairs.arrow"
        self._writer = pa.ipc.new_file(str(self._spill), columns())

    def add(self, pair: Pair) -> None:
        self.add_fields(*stored_fields(pair))

    def add_fields(self, *fields: str | None) -> None:
        """Add a valid pair given as its stored text columns, in `COLUMN_NAMES` order up to
        `metadata_json` (prompt and metadata already as JSON)."""
        pair_id, prompt, candidate, baseline, c_model, b_model, stratum, reference, meta = fields
        stratum = self._strata.setdefault(stratum, stratum)
        digest = content_hash(*fields)
        self.ids.append(pair_id)
        self.strata.append(stratum)
        self.hashes.append(digest)
        stripped_candidate, stripped_baseline = candidate.strip(), baseline.strip()
        identical = stripped_candidate == stripped_baseline
        if identical:
            self._identical.append(pair_id)
        if not stripped_candidate:
            self._empty["candidate"].append(pair_id)
        if not stripped_baseline:
            self._empty["baseline"].append(pair_id)
        row = (pair_id, prompt, candidate, baseline, c_model, b_model, stratum, reference, meta)
        self._rows.append((*row, digest, identical))
        if len(self._rows) >= BATCH_PAIRS:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            import pyarrow as pa

            schema = columns()
            values = zip(*self._rows, strict=True)  # column by column
            arrays = [pa.array(v, t) for v, t in zip(values, schema.types, strict=True)]
            self._writer.write_batch(pa.record_batch(arrays, schema=schema))
            self._rows = []

    def finish(self) -> PairSet:
        self._flush()
        self._writer.close()
        return PairSet(
            self.source,
            self.ids,
            self.strata,
            self.hashes,
            self.warnings(),
            self._spill,
            self._folder,
        )

    def discard(self) -> None:
        """Drop what was spilled: the file turned out invalid."""
        self._writer.close()
        self._folder.cleanup()

    def warnings(self) -> list[str]:
        """Warnings for pairs kept but flagged: identical outputs, and empty outputs."""
        out = []
        if self._identical:
            out.append(
                f"{len(self._identical)} pair(s) have identical candidate and baseline outputs "
                f"(kept, flagged; expect ties): {_ids(self._identical)}"
            )
        for side, empty in self._empty.items():
            if empty:
                out.append(
                    f"{len(empty)} pair(s) have an empty {side} output (kept, shown as an empty "
                    f"response; dropping them would bias the study): {_ids(empty)}"
                )
        return out


def _ids(ids: list[str]) -> str:
    return ", ".join(ids[:10]) + (" ..." if len(ids) > 10 else "")

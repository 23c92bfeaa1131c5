"""Batches too big to hold in memory, taken a part at a time in one transaction.

A whole batch in memory costs about 6 KB a record (its pydantic records, then its rows):
1.4 GB for 200,000 records. A batch above `PrepareSettings.stream_above_bytes` is instead
read three times from disk, in the main process: once for its content hash (already
taken?), once for its signature, and once line by line, where every `part_records` valid
records are flattened and stored, in the transaction the batch commits as a whole. The
first invalid line stops the storing but not the checking, so the report still lists every
problem, and the transaction rolls back. Memory then depends on the part size, plus 8 bytes
and a set slot a record for the duplicate check (see batch.Checker).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from site_builder.gcpause import no_cyclic_gc
from site_builder.pull.measurements.batch import (
    BatchRejected,
    Checker,
    ParsedBatch,
    time_window,
    verify_chunks,
)
from site_builder.pull.measurements.ingest import record_batch, store_part
from site_builder.pull.measurements.prepare import PrepareSettings
from site_builder.pull.measurements.rows import BatchRows, batch_rows

MAX_PROBLEMS = 10_000  # listed in the report; a batch of garbage would otherwise fill memory
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Streamed:
    """What a streamed batch added: `records` valid records, `new_records` of them new."""

    sha256: str
    records: int
    new_records: int


def file_blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as file:
        while block := file.read(_BLOCK):
            yield block


def numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number from 1, line without its newline), as `data.split(b"\\n")` would cut
    them, without the empty piece after a final newline."""
    with path.open("rb") as file:
        for number, line in enumerate(file, start=1):
            yield number, line[:-1] if line.endswith(b"\n") else line


def stream_batch(
    engine: Engine,
    path: Path,
    settings: PrepareSettings,
    *,
    taken: set[str],
    now: datetime,
) -> Streamed | None:
    """Verify, check and store the batch at `path`, all or nothing; None when its content
    was taken already. Raises BatchRejected (nothing stored) for an invalid batch."""
    name = path.name
    digest = hashlib.sha256()
    for block in file_blocks(path):
        digest.update(block)
    sha256 = digest.hexdigest()
    if sha256 in taken or sha256 in settings.taken:
        return None
    signature_file = path.with_name(name + ".sig")
    signature = signature_file.read_bytes() if signature_file.exists() else None
    probe = verify_chunks(name, file_blocks(path), signature, settings.keys)
    with no_cyclic_gc(), engine.begin() as connection:
        lines = numbered_lines(path)
        first = next(lines, None)
        if first is None:
            raise BatchRejected(name, [(0, "empty batch")])
        checker = Checker.start(
            name,
            first[1],
            probe,
            set(settings.known_probes),
            time_window(now, settings.max_age),
            settings.known_protocols,
            exact=False,
            known_agents=settings.known_agents,
        )
        total = _Total(sha256, checker.header.probe, checker.header.agent)
        part = ParsedBatch(header=checker.header, sha256=sha256)
        unlisted = 0
        for number, line in lines:
            record = checker.check(number, line)
            if checker.problems:
                if len(checker.problems) > MAX_PROBLEMS:
                    unlisted += len(checker.problems) - MAX_PROBLEMS
                    del checker.problems[MAX_PROBLEMS:]
                continue  # nothing more is stored: the batch will be rejected
            checker.add(record, part)
            if part.record_count >= settings.part_records:
                total.add(store_part(connection, total.rows(part, settings), now))
                part = ParsedBatch(header=checker.header, sha256=sha256)
        problems = checker.problems
        problems += checker.duplicates(n for n in numbered_lines(path) if n[0] > 1)
        if unlisted:
            problems.append((0, f"and {unlisted:,} more problems, not listed"))
        if problems:
            raise BatchRejected(name, sorted(problems, key=lambda p: p[0] or len(problems)))
        if part.record_count:
            total.add(store_part(connection, total.rows(part, settings), now))
        record_batch(connection, total.summary(name), source=str(path), now=now)
    return Streamed(sha256, total.records, total.new_records)


class _Total:
    """The counts and time span of a streamed batch's parts, for vpn_ingested_batches."""

    def __init__(self, sha256: str, probe: str | None, agent: str | None) -> None:
        self.sha256, self.probe, self.agent = sha256, probe, agent
        self.counts = {"measurements": 0, "streaming_checks": 0, "heartbeats": 0}
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.new_records = 0

    def rows(self, part: ParsedBatch, settings: PrepareSettings) -> BatchRows:
        rows = batch_rows(part, "", as_copy=settings.as_copy)
        for kind, count in rows.counts.items():
            self.counts[kind] += count
        if rows.first_record_at is not None:
            self.first = min(filter(None, (self.first, rows.first_record_at)))
        if rows.last_record_at is not None:
            self.last = max(filter(None, (self.last, rows.last_record_at)))
        return rows

    def add(self, new_records: int) -> None:
        self.new_records += new_records

    @property
    def records(self) -> int:
        return sum(self.counts.values())

    def summary(self, name: str) -> BatchRows:
        return BatchRows(
            name=name,
            sha256=self.sha256,
            probe=self.probe,
            agent=self.agent,
            servers=[],
            measurements=[],
            streaming_checks=[],
            heartbeats=[],
            counts=self.counts,
            first_record_at=self.first,
            last_record_at=self.last,
        )

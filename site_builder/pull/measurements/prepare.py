"""Read, verify and validate batch files in worker processes, in name order.

Validation is CPU-bound Python (about 10 us a record), so it runs on every core while the
main process stores the batches already prepared. At most a few batches wait in flight,
so memory stays bounded whatever the number of files.

A worker can die under a batch (the out-of-memory killer, an operator's SIGKILL). The pool
then breaks and every batch in flight is lost: the pool is restarted and the first of them
is tried again alone, so a second death is that batch's own. It is then reported as failed
(`WorkerDied`), not rejected: the file may be fine and stays where it is for the next pull.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from site_builder.errors import DataError
from site_builder.lifetime import die_with_parent
from site_builder.pull.measurements.batch import DEFAULT_MAX_AGE, BatchRejected, parse, verify
from site_builder.pull.measurements.rows import BatchRows, batch_rows


@dataclass(frozen=True)
class PrepareSettings:
    keys: dict[str, bytes]
    known_probes: frozenset[str]
    now: datetime
    as_copy: bool  # encode rows as PostgreSQL COPY text
    taken: frozenset[str]  # content hashes already ingested: skipped before verifying
    max_batch_bytes: int | None = None  # a bigger file is refused unread
    stream_above_bytes: int | None = None  # a bigger file is streamed by the main process
    part_records: int = 20_000  # records a streamed batch stores at a time
    max_age: timedelta | None = DEFAULT_MAX_AGE  # oldest timestamp a batch may hold
    known_protocols: frozenset[str] | None = None  # None: any the format allows
    # agent id -> (provider, hostname) of its server (data/vpn/reference.toml [[agent]])
    known_agents: dict[str, tuple[str, str]] = field(default_factory=dict)


DEFAULT_MAX_BATCH_MB = 2000.0  # about 3.5 million records
DEFAULT_STREAM_ABOVE_MB = 16.0  # about 45,000 records, 300 MB in memory if not streamed


@dataclass(frozen=True)
class Rejection:
    """A refused batch (exceptions with extra fields do not survive pickling)."""

    name: str
    problems: list[tuple[int, str]]


@dataclass(frozen=True)
class WorkerDied:
    """The worker preparing this batch died twice (killed, or out of memory)."""

    name: str
    message: str


@dataclass(frozen=True)
class ToStream:
    """A batch too big to prepare whole: the main process streams it (stream.py)."""

    name: str


Prepared = BatchRows | Rejection | WorkerDied | ToStream | None  # None: already ingested


def prepare_file(path: Path, settings: PrepareSettings) -> Prepared:
    limit = settings.max_batch_bytes
    size = path.stat().st_size
    if limit is not None and size > limit:
        return Rejection(
            path.name,
            [
                (
                    0,
                    f"batch is {size / 1_000_000:,.1f} MB, over the {limit / 1_000_000:g} MB"
                    " limit (--max-batch-mb): split it, or raise the limit",
                )
            ],
        )
    stream_above = settings.stream_above_bytes
    if stream_above is not None and size > stream_above:
        return ToStream(path.name)
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    if sha256 in settings.taken:
        return None
    signature_file = path.with_name(path.name + ".sig")
    signature = signature_file.read_bytes() if signature_file.exists() else None
    try:
        probe = verify(path.name, data, signature, settings.keys)
        batch = parse(
            path.name,
            data,
            signed_probe=probe,
            known_probes=set(settings.known_probes),
            now=settings.now,
            sha256=sha256,
            max_age=settings.max_age,
            known_protocols=settings.known_protocols,
            known_agents=settings.known_agents,
        )
    except BatchRejected as error:
        return Rejection(error.name, error.problems)
    return batch_rows(batch, path.name, as_copy=settings.as_copy)


# Each worker process's settings, set once by `_start_worker`: the pool hands state to its
# workers only through such a module variable.
_settings: PrepareSettings | None = None


def _start_worker(settings: PrepareSettings, parent_pid: int) -> None:
    global _settings
    die_with_parent(parent_pid)
    _settings = settings


def _prepare_in_worker(path: Path) -> Prepared:
    assert _settings is not None
    return prepare_file(path, _settings)


class Preparer:
    """Prepares files in `jobs` processes (here, when one job or one file is enough)."""

    def __init__(self, settings: PrepareSettings, jobs: int, files: int) -> None:
        self.settings = settings
        self.in_flight = max(2, jobs + 1)
        self.workers = min(jobs, files)
        self.restarts_left = 2 * files + 2  # each batch is tried at most twice
        self.pool: ProcessPoolExecutor | None = self._new_pool() if self.workers > 1 else None

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_start_worker,
            initargs=(self.settings, os.getpid()),
        )

    def _restart(self) -> None:
        if self.restarts_left <= 0:
            raise DataError("batch preparation workers keep dying: measurement pull stopped")
        self.restarts_left -= 1
        self._stop()
        self.pool = self._new_pool()

    def _stop(self) -> None:
        if self.pool is None:
            return
        # the executor only waits for running tasks; a batch may take minutes, so end them
        for process in list((getattr(self.pool, "_processes", None) or {}).values()):
            process.kill()
        self.pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, path: Path) -> Future[Prepared]:
        while True:
            assert self.pool is not None
            try:
                return self.pool.submit(_prepare_in_worker, path)
            except BrokenProcessPool:  # a worker died while idle
                self._restart()

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop()

    def run(self, paths: Sequence[Path]) -> Iterator[tuple[Path, Prepared]]:
        """(path, what it became) in the order of `paths`."""
        if self.pool is None:
            for path in paths:
                yield path, prepare_file(path, self.settings)
            return
        pending: deque[Path] = deque(paths)
        waiting: deque[tuple[Path, Future[Prepared]]] = deque()
        alone: Path | None = None  # a batch retried by itself after its worker died
        while pending or waiting:
            while pending and len(waiting) < (1 if alone else self.in_flight):
                path = pending.popleft()
                waiting.append((path, self._submit(path)))
            path, future = waiting.popleft()
            try:
                prepared = future.result()
            except BrokenProcessPool:
                lost = [p for p, _ in waiting]
                waiting.clear()
                pending.extendleft(reversed(lost))
                self._restart()
                if alone == path:
                    alone = None
                    yield path, WorkerDied(path.name, _DIED)
                else:
                    alone = path
                    pending.appendleft(path)
                continue
            if alone == path:
                alone = None
            yield path, prepared


_DIED = (
    "the worker preparing this batch died twice (killed, or out of memory?):"
    " not stored; the batch stays for the next pull"
)

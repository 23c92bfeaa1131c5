"""Read, verify and validate batch files in worker processes, in name order.

Validation is CPU-bound Python (about 10 us a record), so it runs on every core while the
main process stores the batches already prepared. At most a few batches wait in flight,
so memory stays bounded whatever the number of files.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path

from site_builder.pull.measurements.batch import BatchRejected, parse, verify
from site_builder.pull.measurements.rows import BatchRows, batch_rows


@dataclass(frozen=True)
class PrepareSettings:
    keys: dict[str, bytes]
    known_probes: frozenset[str]
    now: datetime
    as_copy: bool  # encode rows as PostgreSQL COPY text
    taken: frozenset[str]  # content hashes already ingested: skipped before verifying


@dataclass(frozen=True)
class Rejection:
    """A refused batch (exceptions with extra fields do not survive pickling)."""

    name: str
    problems: list[tuple[int, str]]


Prepared = BatchRows | Rejection | None  # None: already ingested


def prepare_file(path: Path, settings: PrepareSettings) -> Prepared:
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
        )
    except BatchRejected as error:
        return Rejection(error.name, error.problems)
    return batch_rows(batch, path.name, as_copy=settings.as_copy)


# Each worker process's settings, set once by `_start_worker`: multiprocessing hands state
# to pool workers only through such a module variable.
_settings: PrepareSettings | None = None


def _start_worker(settings: PrepareSettings) -> None:
    global _settings
    _settings = settings


def _prepare_in_worker(path: Path) -> Prepared:
    assert _settings is not None
    return prepare_file(path, _settings)


class Preparer:
    """Prepares files in `jobs` processes (here, when one job or one file is enough)."""

    def __init__(self, settings: PrepareSettings, jobs: int, files: int) -> None:
        self.settings = settings
        self.in_flight = max(2, jobs + 1)
        self.pool: Pool | None = (
            multiprocessing.get_context("fork").Pool(
                min(jobs, files), initializer=_start_worker, initargs=(settings,)
            )
            if jobs > 1 and files > 1
            else None
        )

    def __enter__(self) -> Preparer:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()

    def run(self, paths: Sequence[Path]) -> Iterator[tuple[Path, Prepared]]:
        """(path, what it became) in the order of `paths`."""
        if self.pool is None:
            for path in paths:
                yield path, prepare_file(path, self.settings)
            return
        waiting: deque[tuple[Path, AsyncResult[Prepared]]] = deque()
        pending = iter(paths)
        for path in pending:
            waiting.append((path, self.pool.apply_async(_prepare_in_worker, (path,))))
            if len(waiting) >= self.in_flight:
                break
        while waiting:
            path, result = waiting.popleft()
            next_path = next(pending, None)
            if next_path is not None:
                waiting.append((next_path, self.pool.apply_async(_prepare_in_worker, (next_path,))))
            yield path, result.get()

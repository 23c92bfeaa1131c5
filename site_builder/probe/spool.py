"""The local spool of signed batches waiting to be published (probe and agent alike).

Layout under the spool folder:

- ``pending/<name>.ndjson`` and ``pending/<name>.ndjson.sig``: signed, not yet published;
- ``sent/``: the same after a publish (kept until retention prunes them);
- ``tmp/``: files being written (never read; leftovers of a crash are removed);
- ``dropped.json``: how many batches and records were dropped to keep the spool bounded;
- ``.lock``: held (flock) while a process changes the spool.

A batch becomes pending in one step: both files are written to ``tmp/`` and fsynced, the
signature is renamed into ``pending/`` first and the batch last, and the folder is fsynced.
``pending()`` lists only ``*.ndjson`` files, so a crash at any point leaves either no
pending batch or a complete one with its signature (rename within one file system is
atomic: POSIX rename(2)). A signature without its batch is a crash leftover and is removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from site_builder.errors import DataError

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$")  # without .ndjson
DEFAULT_MAX_PENDING_BYTES = 200_000_000
DEFAULT_MAX_PENDING_BATCHES = 10_000


class SpoolError(DataError):
    """A batch cannot be spooled (bad name, a different batch already has that name)."""


@dataclass(frozen=True)
class SpoolLimits:
    """Bounds on what waits in pending/: past either, the oldest batches are dropped."""

    max_bytes: int = DEFAULT_MAX_PENDING_BYTES
    max_batches: int = DEFAULT_MAX_PENDING_BATCHES


@dataclass(frozen=True)
class Dropped:
    """What had to be dropped, unpublished, to keep the spool within its limits (ever)."""

    batches: int = 0
    records: int = 0


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> None:
    with path.open("wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def _folders(spool_dir: Path) -> tuple[Path, Path, Path]:
    folders = (spool_dir / "pending", spool_dir / "sent", spool_dir / "tmp")
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    return folders


@contextlib.contextmanager
def spool_lock(spool_dir: Path) -> Iterator[None]:
    """Exclusive hold on the spool (a writer and a publisher, or two publishers, wait for
    each other). Released when the process dies, since it is an flock."""
    spool_dir.mkdir(parents=True, exist_ok=True)
    with (spool_dir / ".lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def spool_batch(
    spool_dir: Path,
    name: str,
    data: bytes,
    signature: bytes,
    *,
    limits: SpoolLimits | None = None,
) -> Path:
    """Write ``pending/<name>.ndjson`` and its ``.sig`` atomically; returns the batch path.

    Spooling the same bytes under the same name again is a no-op; different bytes under a
    name already pending or sent is a SpoolError (batch names must be unique). Past the
    limits, the oldest pending batches are dropped and counted (see `dropped`)."""
    if not NAME.match(name) or name.endswith(".ndjson"):
        raise SpoolError(
            f"{name!r}: not a batch name (letters, digits, '.', '_', '-'; without .ndjson)"
        )
    limits = limits or SpoolLimits()
    with spool_lock(spool_dir):
        pending_dir, sent_dir, tmp_dir = _folders(spool_dir)
        file_name = f"{name}.ndjson"
        target = pending_dir / file_name
        for existing in (target, sent_dir / file_name):
            if existing.exists():
                if existing.read_bytes() == data:
                    return target if existing == target else existing
                raise SpoolError(f"{existing}: a different batch is already spooled as {name!r}")
        tmp_batch, tmp_sig = tmp_dir / file_name, tmp_dir / f"{file_name}.sig"
        _write_synced(tmp_batch, data)
        _write_synced(tmp_sig, signature)
        os.replace(tmp_sig, pending_dir / f"{file_name}.sig")
        os.replace(tmp_batch, target)
        _fsync_dir(pending_dir)
        _enforce(spool_dir, limits, keep=target)
    return target


def pending(spool_dir: Path) -> list[Path]:
    """The batches waiting to be published, oldest name first (each has its .sig)."""
    folder = spool_dir / "pending"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.ndjson") if p.with_name(p.name + ".sig").exists())


def sent(spool_dir: Path) -> list[Path]:
    """The batches already published and kept locally, oldest name first."""
    folder = spool_dir / "sent"
    return sorted(folder.glob("*.ndjson")) if folder.is_dir() else []


def mark_sent(spool_dir: Path, batch: Path) -> Path:
    """Move a published batch and its signature to sent/ (the batch first: it stops being
    pending at once; a signature left behind by a crash is tidied by `recover`)."""
    sent_dir = spool_dir / "sent"
    sent_dir.mkdir(parents=True, exist_ok=True)
    target = sent_dir / batch.name
    os.replace(batch, target)
    signature = batch.with_name(batch.name + ".sig")
    if signature.exists():
        os.replace(signature, sent_dir / signature.name)
    _fsync_dir(sent_dir)
    return target


def recover(spool_dir: Path) -> list[str]:
    """Tidy what a crash left behind; returns a line for each thing done. Half-written
    files in tmp/ are removed; a pending signature whose batch was moved to sent/ follows
    it there; any other pending signature without its batch is removed."""
    notes: list[str] = []
    with spool_lock(spool_dir):
        pending_dir, sent_dir, tmp_dir = _folders(spool_dir)
        for leftover in sorted(tmp_dir.iterdir()):
            leftover.unlink()
            notes.append(f"removed a half-written {leftover.name}")
        for signature in sorted(pending_dir.glob("*.ndjson.sig")):
            batch_name = signature.name[: -len(".sig")]
            if (pending_dir / batch_name).exists():
                continue
            if (sent_dir / batch_name).exists():
                os.replace(signature, sent_dir / signature.name)
                notes.append(f"moved the signature of sent {batch_name} to sent/")
            else:
                signature.unlink()
                notes.append(f"removed a signature without its batch ({signature.name})")
    return notes


def dropped(spool_dir: Path) -> Dropped:
    """How many batches (and records in them) were dropped unpublished, ever."""
    path = spool_dir / "dropped.json"
    if not path.exists():
        return Dropped()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return Dropped(int(document["batches"]), int(document["records"]))
    except (ValueError, KeyError, TypeError):
        return Dropped()


def _count_drop(spool_dir: Path, records: int) -> None:
    before = dropped(spool_dir)
    after = {"batches": before.batches + 1, "records": before.records + records}
    tmp = spool_dir / "tmp" / "dropped.json"
    _write_synced(tmp, (json.dumps(after) + "\n").encode())
    os.replace(tmp, spool_dir / "dropped.json")


def _enforce(spool_dir: Path, limits: SpoolLimits, keep: Path) -> None:
    """Drop the oldest pending batches (never `keep`, the one just written) until the
    pending ones fit the limits, counting each in dropped.json."""
    batches = pending(spool_dir)
    sizes = {p: p.stat().st_size for p in batches}
    total = sum(sizes.values())
    for batch in batches:
        if len(batches) <= limits.max_batches and total <= limits.max_bytes:
            break
        if batch == keep:
            continue
        records = max(batch.read_bytes().count(b"\n") - 1, 0)  # minus the header line
        batch.unlink()
        batch.with_name(batch.name + ".sig").unlink(missing_ok=True)
        _count_drop(spool_dir, records)
        batches = [b for b in batches if b != batch]
        total -= sizes[batch]

"""The local spool of signed batches: atomic, bounded, crash-safe (site_builder/probe/spool.py)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from site_builder.probe.spool import (
    SpoolError,
    SpoolLimits,
    dropped,
    mark_sent,
    pending,
    recover,
    sent,
    spool_batch,
)


def _batch(records: int) -> bytes:
    header = (
        b'{"kind": "batch", "version": 1, "probe": "fra", "created_at": "2026-12-04T00:00:00Z"}\n'
    )
    return header + b"".join(b'{"n": %d}\n' % i for i in range(records))


def test_a_spooled_batch_is_pending_with_its_signature(tmp_path: Path) -> None:
    path = spool_batch(tmp_path, "2026-12-04-fra-1", _batch(2), b"sig\n")
    assert path == tmp_path / "pending" / "2026-12-04-fra-1.ndjson"
    assert path.read_bytes() == _batch(2)
    assert path.with_name(path.name + ".sig").read_bytes() == b"sig\n"
    assert pending(tmp_path) == [path]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_same_batch_twice_is_a_no_op_and_a_different_one_is_refused(tmp_path: Path) -> None:
    first = spool_batch(tmp_path, "b1", _batch(1), b"s")
    assert spool_batch(tmp_path, "b1", _batch(1), b"s") == first
    with pytest.raises(SpoolError, match="different batch"):
        spool_batch(tmp_path, "b1", _batch(2), b"s")
    with pytest.raises(SpoolError, match="not a batch name"):
        spool_batch(tmp_path, "../evil", _batch(1), b"s")
    mark_sent(tmp_path, first)
    with pytest.raises(SpoolError, match="different batch"):
        spool_batch(tmp_path, "b1", _batch(3), b"s")


def test_sent_batches_leave_pending(tmp_path: Path) -> None:
    a = spool_batch(tmp_path, "a", _batch(1), b"s")
    b = spool_batch(tmp_path, "b", _batch(1), b"s")
    moved = mark_sent(tmp_path, a)
    assert pending(tmp_path) == [b]
    assert sent(tmp_path) == [moved]
    assert (tmp_path / "sent" / "a.ndjson.sig").exists()


def test_the_spool_is_bounded_and_counts_what_it_dropped(tmp_path: Path) -> None:
    limits = SpoolLimits(max_batches=3)
    for n in range(5):
        spool_batch(tmp_path, f"b{n}", _batch(n + 1), b"s", limits=limits)
    assert [p.stem for p in pending(tmp_path)] == ["b2", "b3", "b4"]  # the oldest went
    assert dropped(tmp_path).batches == 2
    assert dropped(tmp_path).records == 1 + 2
    size = len(_batch(10))
    spool_batch(tmp_path, "big", _batch(10), b"s", limits=SpoolLimits(max_bytes=size))
    assert [p.stem for p in pending(tmp_path)] == ["big"]  # the new one is always kept
    assert dropped(tmp_path).batches == 5


def test_crash_leftovers_are_never_pending_and_are_tidied(tmp_path: Path) -> None:
    spool_batch(tmp_path, "ok", _batch(1), b"s")
    # what a crash leaves at each step: a half-written temp file, a signature renamed but
    # not its batch, a batch moved to sent/ but not its signature
    (tmp_path / "tmp" / "half.ndjson").write_bytes(b'{"kind": "ba')
    (tmp_path / "pending" / "orphan.ndjson.sig").write_bytes(b"s")
    published = spool_batch(tmp_path, "published", _batch(1), b"s")
    os.replace(published, tmp_path / "sent" / "published.ndjson")
    assert [p.name for p in pending(tmp_path)] == ["ok.ndjson"]
    notes = recover(tmp_path)
    assert len(notes) == 3
    assert sorted(p.name for p in (tmp_path / "pending").iterdir()) == [
        "ok.ndjson",
        "ok.ndjson.sig",
    ]
    assert (tmp_path / "sent" / "published.ndjson.sig").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def _spool_forever(folder: str) -> None:
    n = 0
    while True:
        spool_batch(Path(folder), f"b{n:06d}", _batch(200), b"sig-%d\n" % n)
        n += 1


def test_a_process_killed_while_spooling_leaves_only_whole_batches(tmp_path: Path) -> None:
    """SIGKILL a writer mid-stream, a few times: every pending batch is whole and signed."""
    context = multiprocessing.get_context("fork")
    for _ in range(3):
        process = context.Process(target=_spool_forever, args=(str(tmp_path),))
        process.start()
        time.sleep(0.3)
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        process.join(5)
        recover(tmp_path)
        for batch in pending(tmp_path):
            assert batch.read_bytes() == _batch(200)
            assert batch.with_name(batch.name + ".sig").read_bytes().startswith(b"sig-")
        assert set(os.listdir(tmp_path)) <= {"pending", "sent", "tmp", ".lock"}
        for path in (tmp_path / "pending").iterdir():
            path.unlink()
    assert not list((tmp_path / "tmp").iterdir())

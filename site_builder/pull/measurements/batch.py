"""Signed probe batches: signature check, then line-by-line validation. Pure functions.

A batch is ``<name>.ndjson`` with a detached signature ``<name>.ndjson.sig``: a JSON object
``{"version": 1, "probe": ID, "algorithm": "hmac-sha256", "signature": HEX}`` where HEX is
HMAC-SHA256 over the exact bytes of the .ndjson file with the probe's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from site_builder.errors import DataError
from site_builder.gcpause import no_cyclic_gc
from site_builder.pull.measurements.records import (
    BatchHeader,
    Heartbeat,
    Measurement,
    Record,
    StreamingCheck,
)

ALGORITHM = "hmac-sha256"
MAX_FUTURE_SKEW = timedelta(minutes=5)  # probes' clocks may run a little ahead
DEFAULT_MAX_AGE = timedelta(days=365)  # older records are a probe's clock bug or a replay
# Whatever the window, nothing before this: each month a record falls in gets a PostgreSQL
# partition, and a probe whose clock reset to 1970 must not create those.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_record_adapter: TypeAdapter[Measurement | StreamingCheck | Heartbeat] = TypeAdapter(Record)


class BatchRejected(DataError):
    """The batch is refused whole; `problems` lists (line number, reason)."""

    def __init__(self, name: str, problems: list[tuple[int, str]]) -> None:
        shown = "; ".join(
            f"line {line}: {reason}" if line else reason for line, reason in problems[:5]
        )
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"{name}: batch rejected: {shown}{more}")
        self.name = name
        self.problems = problems


@dataclass
class ParsedBatch:
    header: BatchHeader
    sha256: str
    measurements: list[Measurement] = field(default_factory=list)
    streaming_checks: list[StreamingCheck] = field(default_factory=list)
    heartbeats: list[Heartbeat] = field(default_factory=list)

    @property
    def record_count(self) -> int:
        return len(self.measurements) + len(self.streaming_checks) + len(self.heartbeats)


def sign(data: bytes, probe: str, secret: bytes) -> bytes:
    """The signature file for a batch (what a probe writes next to its .ndjson)."""
    digest = hmac.new(secret, data, hashlib.sha256).hexdigest()
    document = {"version": 1, "probe": probe, "algorithm": ALGORITHM, "signature": digest}
    return (json.dumps(document) + "\n").encode()


def verify(name: str, data: bytes, signature: bytes | None, keys: Mapping[str, bytes]) -> str:
    """Check the detached signature before anything parses the batch; returns the probe id."""
    if signature is None:
        raise BatchRejected(name, [(0, "missing signature file (.sig)")])
    try:
        document = json.loads(signature)
        probe, algorithm, digest = document["probe"], document["algorithm"], document["signature"]
    except (ValueError, KeyError, TypeError):
        raise BatchRejected(
            name, [(0, "signature file is not a valid signature document")]
        ) from None
    if algorithm != ALGORITHM:
        raise BatchRejected(name, [(0, f"unsupported signature algorithm {algorithm!r}")])
    secret = keys.get(probe) if isinstance(probe, str) else None
    if secret is None:
        raise BatchRejected(name, [(0, f"no key configured for probe {probe!r}")])
    expected = hmac.new(secret, data, hashlib.sha256).hexdigest()
    if not isinstance(digest, str) or not hmac.compare_digest(expected, digest):
        raise BatchRejected(
            name, [(0, f"bad signature for probe {probe!r}: content or key differs")]
        )
    return probe


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]


def parse(
    name: str,
    data: bytes,
    *,
    signed_probe: str,
    known_probes: set[str],
    now: datetime,
    sha256: str | None = None,
    max_age: timedelta | None = DEFAULT_MAX_AGE,
    known_protocols: frozenset[str] | None = None,
) -> ParsedBatch:
    """Validate every line; any invalid line rejects the whole batch, listing every problem.
    `sha256` is the content hash, when the caller has computed it already. Every timestamp,
    the header's included, must lie between `now - max_age` (and EARLIEST; `max_age=None`
    keeps only that floor) and `now + MAX_FUTURE_SKEW`."""
    with no_cyclic_gc():
        return _parse(
            name,
            data,
            signed_probe=signed_probe,
            known_probes=known_probes,
            window=time_window(now, max_age),
            known_protocols=known_protocols,
            sha256=sha256 or hashlib.sha256(data).hexdigest(),
        )


def time_window(now: datetime, max_age: timedelta | None) -> tuple[datetime, datetime]:
    """The (earliest, latest) timestamps a batch may hold."""
    earliest = EARLIEST if max_age is None else max(EARLIEST, now - max_age)
    return earliest, now + MAX_FUTURE_SKEW


def _outside(moment: datetime, window: tuple[datetime, datetime]) -> str | None:
    earliest, latest = window
    if moment > latest:
        return f"timestamp {moment.isoformat()} is in the future (after {latest.isoformat()})"
    if moment < earliest:
        return f"timestamp {moment.isoformat()} is too old (before {earliest.isoformat()})"
    return None


def _parse(
    name: str,
    data: bytes,
    *,
    signed_probe: str,
    known_probes: set[str],
    window: tuple[datetime, datetime],
    sha256: str,
    known_protocols: frozenset[str] | None,
) -> ParsedBatch:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        raise BatchRejected(name, [(0, "empty batch")])
    try:
        header = BatchHeader.model_validate_json(lines[0])
    except ValidationError as exc:
        raise BatchRejected(name, [(1, f"not a batch header: {_first_error(exc)}")]) from None
    problems: list[tuple[int, str]] = []
    if header.probe != signed_probe:
        problems.append((1, f"header probe {header.probe!r} differs from signer {signed_probe!r}"))
    elif header.probe not in known_probes:
        problems.append((1, f"unknown probe {header.probe!r} (not in the reference data)"))
    if reason := _outside(header.created_at, window):
        problems.append((1, f"created_at: {reason}"))
    batch = ParsedBatch(header=header, sha256=sha256)
    # first line of each record key: the store keeps one row per key, so a repeat within a
    # batch would be counted twice here and stored once
    seen: dict[tuple[str, ...], int] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            problems.append((number, "blank line"))
            continue
        try:
            record = _record_adapter.validate_json(line)
        except ValidationError as exc:
            problems.append((number, _first_error(exc)))
            continue
        if isinstance(record, Measurement):
            if record.probe not in known_probes:
                problems.append((number, f"unknown probe {record.probe!r}"))
            elif record.probe != header.probe:
                problems.append(
                    (number, f"record from probe {record.probe!r} in {header.probe!r}'s batch")
                )
            if known_protocols is not None and record.protocol not in known_protocols:
                problems.append((number, f"protocol {record.protocol!r} is not in the reference"))
            moment = record.started_at
            key: tuple[str, ...] = ("measurement id", record.id)
            batch.measurements.append(record)
        elif isinstance(record, StreamingCheck):
            moment = record.checked_at
            key = ("streaming_check id", record.id)
            batch.streaming_checks.append(record)
        else:
            moment = record.at
            server = record.server
            key = ("heartbeat of", f"{server.provider}/{server.hostname.lower()}", str(moment))
            batch.heartbeats.append(record)
        if reason := _outside(moment, window):
            problems.append((number, reason))
        first = seen.setdefault(key, number)
        if first != number:
            problems.append(
                (number, f"duplicate {key[0]} {' at '.join(key[1:])!r} (first on line {first})")
            )
    if problems:
        raise BatchRejected(name, problems)
    return batch

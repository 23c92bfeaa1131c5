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
from datetime import datetime, timedelta

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
MAX_FUTURE_SKEW = timedelta(minutes=5)
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
) -> ParsedBatch:
    """Validate every line; any invalid line rejects the whole batch, listing every problem.
    `sha256` is the content hash, when the caller has computed it already."""
    with no_cyclic_gc():
        return _parse(
            name,
            data,
            signed_probe=signed_probe,
            known_probes=known_probes,
            now=now,
            sha256=sha256 or hashlib.sha256(data).hexdigest(),
        )


def _parse(
    name: str,
    data: bytes,
    *,
    signed_probe: str,
    known_probes: set[str],
    now: datetime,
    sha256: str,
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
    batch = ParsedBatch(header=header, sha256=sha256)
    latest_allowed = now + MAX_FUTURE_SKEW
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
            moment = record.started_at
            batch.measurements.append(record)
        elif isinstance(record, StreamingCheck):
            moment = record.checked_at
            batch.streaming_checks.append(record)
        else:
            moment = record.at
            batch.heartbeats.append(record)
        if moment > latest_allowed:
            problems.append((number, f"timestamp {moment.isoformat()} is in the future"))
    if problems:
        raise BatchRejected(name, problems)
    return batch

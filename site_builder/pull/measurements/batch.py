"""Signed probe batches: signature check, then line-by-line validation. Pure functions.

A batch is ``<name>.ndjson`` with a detached signature ``<name>.ndjson.sig``: a JSON object
``{"version": 1, "probe": ID, "algorithm": "hmac-sha256", "signature": HEX}`` where HEX is
HMAC-SHA256 over the exact bytes of the .ndjson file with the probe's secret. A server
agent's batch (format version 2) is signed ``{"version": 2, "agent": ID, ...}`` with the
agent's own secret; in the key mapping agents' keys are under ``agent:<id>``, so an agent
can never sign as a probe nor the other way round.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from site_builder.errors import DataError
from site_builder.gcpause import no_cyclic_gc
from site_builder.pull.measurements.records import (
    AnyHeader,
    BatchHeader,
    BatchHeaderV2,
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
_header_adapter: TypeAdapter[BatchHeader | BatchHeaderV2] = TypeAdapter(AnyHeader)
AGENT_PREFIX = "agent:"  # agents' keys in the key mapping
# agent id -> (provider slug, hostname in lower case) of the server it runs on
KnownAgents = Mapping[str, tuple[str, str]]


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
    header: BatchHeader | BatchHeaderV2
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


def sign_agent(data: bytes, agent: str, secret: bytes) -> bytes:
    """The signature file for a server agent's batch (format version 2)."""
    digest = hmac.new(secret, data, hashlib.sha256).hexdigest()
    document = {"version": 2, "agent": agent, "algorithm": ALGORITHM, "signature": digest}
    return (json.dumps(document) + "\n").encode()


def verify(name: str, data: bytes, signature: bytes | None, keys: Mapping[str, bytes]) -> str:
    """Check the detached signature before anything parses the batch; returns the probe id."""
    return verify_chunks(name, [data], signature, keys)


def verify_chunks(
    name: str, chunks: Iterable[bytes], signature: bytes | None, keys: Mapping[str, bytes]
) -> str:
    """`verify` over the batch's bytes in pieces (a file read a block at a time)."""
    if signature is None:
        raise BatchRejected(name, [(0, "missing signature file (.sig)")])
    try:
        document = json.loads(signature)
        agent = document.get("agent") if isinstance(document, dict) else None
        probe = document["probe"] if agent is None else AGENT_PREFIX + str(agent)
        algorithm, digest = document["algorithm"], document["signature"]
    except (ValueError, KeyError, TypeError):
        raise BatchRejected(
            name, [(0, "signature file is not a valid signature document")]
        ) from None
    if algorithm != ALGORITHM:
        raise BatchRejected(name, [(0, f"unsupported signature algorithm {algorithm!r}")])
    secret = keys.get(probe) if isinstance(probe, str) else None
    if secret is None:
        raise BatchRejected(name, [(0, f"no key configured for {_who(probe)}")])
    mac = hmac.new(secret, digestmod=hashlib.sha256)
    for chunk in chunks:
        mac.update(chunk)
    expected = mac.hexdigest()
    if not isinstance(digest, str) or not hmac.compare_digest(expected, digest):
        raise BatchRejected(name, [(0, f"bad signature for {_who(probe)}: content or key differs")])
    return probe


def _who(signer: str) -> str:
    if signer.startswith(AGENT_PREFIX):
        return f"agent {signer.removeprefix(AGENT_PREFIX)!r}"
    return f"probe {signer!r}"


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
    known_agents: KnownAgents | None = None,
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
            known_agents=known_agents or {},
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
    known_agents: KnownAgents,
) -> ParsedBatch:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        raise BatchRejected(name, [(0, "empty batch")])
    checker = Checker.start(
        name,
        lines[0],
        signed_probe,
        known_probes,
        window,
        known_protocols,
        known_agents=known_agents,
    )
    batch = ParsedBatch(header=checker.header, sha256=sha256)
    for number, line in enumerate(lines[1:], start=2):
        checker.add(checker.check(number, line), batch)
    if checker.problems:
        raise BatchRejected(name, checker.problems)
    return batch


AnyRecord = Measurement | StreamingCheck | Heartbeat


@dataclass
class Checker:
    """Checks a batch's lines one at a time against its header; gathers every problem.

    A record key (measurement or streaming check id, heartbeat server and time) may appear
    once: the store keeps one row per key, so a repeat would be counted twice and stored
    once. With `exact` the first line of every key is kept; otherwise (a batch streamed
    from disk, where millions of keys would not fit) only a 64-bit hash of each, and a
    repeated hash is a suspect that `duplicates` confirms in a second pass."""

    header: BatchHeader | BatchHeaderV2
    known_probes: set[str]
    window: tuple[datetime, datetime]
    known_protocols: frozenset[str] | None
    exact: bool = True
    agent_server: tuple[str, str] | None = None  # an agent's batch: its server
    problems: list[tuple[int, str]] = field(default_factory=list)
    seen: dict[tuple[str, ...], int] = field(default_factory=dict)
    hashes: set[int] = field(default_factory=set)
    suspects: dict[tuple[str, ...], int] = field(default_factory=dict)  # key -> repeat line

    @classmethod
    def start(
        cls,
        name: str,
        first_line: bytes,
        signed_probe: str,
        known_probes: set[str],
        window: tuple[datetime, datetime],
        known_protocols: frozenset[str] | None,
        *,
        exact: bool = True,
        known_agents: KnownAgents | None = None,
    ) -> Checker:
        """A checker for the batch whose first line is `first_line` (the header)."""
        try:
            header = _header_adapter.validate_json(first_line)
        except ValidationError as exc:
            raise BatchRejected(name, [(1, f"not a batch header: {_first_error(exc)}")]) from None
        checker = cls(header, known_probes, window, known_protocols, exact)
        if header.signer != signed_probe:
            checker.problems.append(
                (1, f"header {_who(header.signer)} differs from signer {_who(signed_probe)}")
            )
        elif header.agent is not None:
            server = (known_agents or {}).get(header.agent)
            if server is None:
                checker.problems.append(
                    (1, f"unknown agent {header.agent!r} (not in the reference data)")
                )
            checker.agent_server = server or ("", "")
        elif header.probe not in known_probes:
            checker.problems.append(
                (1, f"unknown probe {header.probe!r} (not in the reference data)")
            )
        if reason := _outside(header.created_at, window):
            checker.problems.append((1, f"created_at: {reason}"))
        return checker

    def check(self, number: int, line: bytes) -> AnyRecord | None:
        """The record on line `number`, or None (its problem noted) when it is invalid."""
        problems = self.problems
        if not line.strip():
            problems.append((number, "blank line"))
            return None
        try:
            record = _record_adapter.validate_json(line)
        except ValidationError as exc:
            problems.append((number, _first_error(exc)))
            return None
        before = len(problems)
        if self.header.agent is not None:
            self._check_agent_record(number, record)
        if isinstance(record, Measurement):
            header = self.header
            if record.probe not in self.known_probes:
                problems.append((number, f"unknown probe {record.probe!r}"))
            elif record.probe != header.probe:
                problems.append(
                    (number, f"record from probe {record.probe!r} in {header.probe!r}'s batch")
                )
            if self.known_protocols is not None and record.protocol not in self.known_protocols:
                problems.append((number, f"protocol {record.protocol!r} is not in the reference"))
            moment = record.started_at
        elif isinstance(record, StreamingCheck):
            moment = record.checked_at
        else:
            moment = record.at
        if reason := _outside(moment, self.window):
            problems.append((number, reason))
        key = record_key(record)
        if self.exact:
            first = self.seen.setdefault(key, number)
            if first != number:
                problems.append((number, _duplicate(key, first)))
        else:
            hashed = hash(key)
            if hashed in self.hashes:
                self.suspects.setdefault(key, number)
            else:
                self.hashes.add(hashed)
        return record if len(problems) == before else None

    def _check_agent_record(self, number: int, record: AnyRecord) -> None:
        """An agent vouches only for heartbeats of its own server."""
        if not isinstance(record, Heartbeat):
            self.problems.append(
                (number, f"an agent's batch holds only heartbeats, not a {record.kind}")
            )
            return
        server = (record.server.provider, record.server.hostname.lower())
        if self.agent_server and self.agent_server != ("", "") and server != self.agent_server:
            self.problems.append(
                (
                    number,
                    f"heartbeat of {server[0]}/{server[1]} in the batch of agent"
                    f" {self.header.agent!r}, which runs on {'/'.join(self.agent_server)}",
                )
            )

    @staticmethod
    def add(record: AnyRecord | None, batch: ParsedBatch) -> None:
        if isinstance(record, Measurement):
            batch.measurements.append(record)
        elif isinstance(record, StreamingCheck):
            batch.streaming_checks.append(record)
        elif record is not None:
            batch.heartbeats.append(record)

    def duplicates(self, lines: Iterable[tuple[int, bytes]]) -> list[tuple[int, str]]:
        """Confirm the suspects (streamed batches): (line, problem) for each real repeat.
        `lines` are the batch's record lines again, with their numbers."""
        if not self.suspects:
            return []
        last = max(self.suspects.values())
        first: dict[tuple[str, ...], int] = {}
        for number, line in lines:
            if number >= last:
                break
            try:
                key = record_key(_record_adapter.validate_json(line))
            except ValidationError:
                continue
            if key in self.suspects and number < self.suspects[key]:
                first.setdefault(key, number)
        return sorted((self.suspects[key], _duplicate(key, line)) for key, line in first.items())


def record_key(record: AnyRecord) -> tuple[str, ...]:
    """What identifies a record in the store (and may appear once in a batch)."""
    if isinstance(record, Measurement):
        return ("measurement id", record.id)
    if isinstance(record, StreamingCheck):
        return ("streaming_check id", record.id)
    server = record.server
    return ("heartbeat of", f"{server.provider}/{server.hostname.lower()}", str(record.at))


def _duplicate(key: tuple[str, ...], first: int) -> str:
    return f"duplicate {key[0]} {' at '.join(key[1:])!r} (first on line {first})"

"""Faults a nightly measurement pull meets: poison batches, dead workers, slow listings,
timestamps out of range, duplicates, re-sent batches, oversized batches.

Process faults run the real CLI in a subprocess; the rest call the pull in-process. Batches
are generated here with timestamps relative to now, so the bounds hold whatever the date.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine, func, select, text

from site_builder.db import make_engine
from site_builder.db.countries import known_countries
from site_builder.db.models import VpnIngestedBatch, VpnMeasurement, VpnServer
from site_builder.pull.measurements import pull_measurements
from site_builder.pull.measurements.batch import (
    EARLIEST,
    BatchRejected,
    parse,
    sign,
    time_window,
)
from site_builder.pull.measurements.records import Transfer
from site_builder.pull.measurements.remote import MeasurementSourceError
from tests.local_http import serve

ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).with_name("site-builder")  # this venv's console script
KEYS = {"fra": b"fra-test-secret"}
NOW = datetime.now(UTC).replace(microsecond=0)
REFERENCE = ROOT / "data/vpn/reference.toml"


# ------------------------------------------------------------------------------ batches


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def header(created: datetime | None = None, probe: str = "fra") -> dict[str, object]:
    return {"kind": "batch", "version": 1, "probe": probe, "created_at": _iso(created or NOW)}


def measurement(
    number: int,
    *,
    prefix: str = "m",
    at: datetime | None = None,
    hostname: str = "de-fra-001.example",
    country: str = "DE",
    down_bytes: int = 390_000_000,
) -> dict[str, object]:
    return {
        "kind": "measurement",
        "id": f"{prefix}-{number:07d}",
        "probe": "fra",
        "server": {
            "provider": "mullvad",
            "hostname": hostname,
            "ip": "198.51.100.10",
            "country": country,
            "city": "Frankfurt",
        },
        "protocol": "wireguard",
        "started_at": _iso(at or NOW - timedelta(hours=2, seconds=number % 3600)),
        "connect": {"success": True},
        "latency": {"samples_ms": [5.0, 4.5, 3.9]},
        "download": {"bytes": down_bytes, "duration_ms": 10_000, "bytes_per_s": 39_000_000},
    }


def batch_bytes(*lines: dict[str, object]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


def many(count: int, prefix: str) -> bytes:
    return batch_bytes(header(), *(measurement(n, prefix=prefix) for n in range(count)))


def write_batch(folder: Path, name: str, data: bytes, probe: str = "fra") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    (folder / f"{name}.sig").write_bytes(sign(data, probe, KEYS[probe]))


def ingest(engine: Engine, source: Path | str, rejects: Path | None = None, **options):
    return pull_measurements(
        engine, source, keys=KEYS, reference_file=REFERENCE, rejects_dir=rejects, **options
    )


def measurement_ids(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(select(VpnMeasurement.__table__.c.id)).scalars())


def batch_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(
            select(func.count()).select_from(VpnIngestedBatch.__table__)
        ).scalar_one()


# ---------------------------------------------------------------------------------- the CLI


def run_cli(
    project: Path, database_url: str, *args: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), "--config", str(project / "sites.toml"), *args],
        env=_env(database_url),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SITE_BUILDER_PROBE_KEYS": json.dumps({k: v.decode() for k, v in KEYS.items()}),
        "COLUMNS": "250",  # one report line per line
    }


@pytest.fixture
def store(project_dir: Path, database_url: str) -> Iterator[tuple[Path, str, Engine]]:
    """A project copy and its migrated store (SQLite or PostgreSQL), via the real CLI."""
    result = run_cli(project_dir, database_url, "db", "upgrade")
    assert result.returncode == 0, result.stderr + result.stdout
    engine = make_engine(database_url)
    yield project_dir, database_url, engine
    engine.dispose()


def _poison_trigger(engine: Engine) -> None:
    """A store that refuses one server whatever validation thinks: a stand-in for every
    refusal validation might miss."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON vpn_servers"
                    " WHEN NEW.hostname LIKE 'poison%'"
                    " BEGIN SELECT RAISE(ABORT, 'poisoned server refused'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                    " IF NEW.hostname LIKE 'poison%' THEN"
                    " RAISE EXCEPTION 'poisoned server refused'; END IF; RETURN NEW; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON vpn_servers"
                    " FOR EACH ROW EXECUTE FUNCTION poison()"
                )
            )


def test_a_batch_the_store_refuses_is_set_aside_and_the_next_ones_are_stored(
    store: tuple[Path, str, Engine],
) -> None:
    project, url, engine = store
    _poison_trigger(engine)
    batches = project / "incoming"
    write_batch(batches, "a.ndjson", batch_bytes(header(), measurement(1, prefix="a")))
    poison = batch_bytes(header(), measurement(1, prefix="b", hostname="poison.example"))
    write_batch(batches, "b.ndjson", poison)
    write_batch(batches, "c.ndjson", batch_bytes(header(), measurement(1, prefix="c")))
    pull = ("pull", "measurements", "--source", str(batches), "--jobs", "2")

    first = run_cli(project, url, *pull)

    assert first.returncode == 0, first.stderr + first.stdout
    said = " ".join(first.stdout.split())
    assert "2 batches ingested" in said and "1 rejected" in said
    assert "b.ndjson: batch rejected: the store refused the batch" in said
    assert measurement_ids(engine) == {"a-0000001", "c-0000001"}
    rejects = project / "data/rejects"
    assert sorted(p.name for p in rejects.iterdir()) == [
        "b.ndjson",
        "b.ndjson.report.txt",
        "b.ndjson.sig",
    ]
    assert "poisoned server refused" in (rejects / "b.ndjson.report.txt").read_text()
    assert not (batches / "b.ndjson").exists()

    again = run_cli(project, url, *pull)
    assert again.returncode == 0, again.stderr
    assert "0 batches ingested (0 records), 2 already taken, 0 rejected" in " ".join(
        again.stdout.split()
    )
    assert measurement_ids(engine) == {"a-0000001", "c-0000001"} and batch_count(engine) == 2


def test_the_issues_poison_batches_are_handled_before_the_store(
    engine: Engine, tmp_path: Path
) -> None:
    kosovo = batch_bytes(header(), measurement(1, hostname="xk-prn-001.example", country="XK"))
    huge = batch_bytes(header(), measurement(2), measurement(3, down_bytes=2**63))
    nowhere = batch_bytes(header(), measurement(4, hostname="zz.example", country="ZZ"))
    for name, data in (("1-xk", kosovo), ("2-huge", huge), ("3-zz", nowhere)):
        write_batch(tmp_path / "in", f"{name}.ndjson", data)

    report = ingest(engine, tmp_path / "in", tmp_path / "rejects")

    assert [r.status for r in report.results] == ["ingested", "rejected", "rejected"]
    with engine.connect() as connection:
        assert connection.execute(select(VpnServer.__table__.c.country_code)).scalars().all() == [
            "XK"
        ]
    assert "line 3: measurement.download.bytes: Input should be less than or equal to" in (
        report.results[1].message
    )
    assert "'ZZ' is not an ISO 3166-1 alpha-2 country code" in report.results[2].message
    assert (tmp_path / "rejects/3-zz.ndjson").exists()


# ------------------------------------------------------------------------- dead workers


def _workers(parent: subprocess.Popen[str]) -> list[int]:
    """The forked batch workers of `parent`: its children running the same command line."""
    task = Path(f"/proc/{parent.pid}/task/{parent.pid}/children")
    try:
        children = [int(pid) for pid in task.read_text().split()]
        own = Path(f"/proc/{parent.pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return []
    found = []
    for pid in children:
        try:
            if Path(f"/proc/{pid}/cmdline").read_bytes() == own:
                found.append(pid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return found


def _kill(pid: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


@contextmanager
def _pull_in_background(project: Path, url: str, batches: Path) -> Iterator[subprocess.Popen]:
    command = [str(CLI), "--config", str(project / "sites.toml"), "pull", "measurements"]
    process = subprocess.Popen(
        [*command, "--source", str(batches), "--jobs", "2"],
        env=_env(url),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def test_a_worker_killed_once_is_replaced_and_its_batch_retried(
    store: tuple[Path, str, Engine],
) -> None:
    project, url, engine = store
    for letter in "abc":
        write_batch(project / "incoming", f"{letter}.ndjson", many(20_000, letter))
    with _pull_in_background(project, url, project / "incoming") as process:
        killed = None
        give_up = time.monotonic() + 60
        while killed is None and process.poll() is None and time.monotonic() < give_up:
            workers = _workers(process)
            if workers:
                killed = workers[0]
                _kill(killed)
            time.sleep(0.01)
        output, _ = process.communicate(timeout=120)
    assert killed is not None, "the pull ended before a worker could be killed"
    assert process.returncode == 0, output
    assert "3 batches ingested (60,000 records)" in " ".join(output.split())
    assert len(measurement_ids(engine)) == 60_000


def test_workers_that_keep_dying_end_the_pull_instead_of_hanging(
    store: tuple[Path, str, Engine],
) -> None:
    project, url, engine = store
    for letter in "ab":
        write_batch(project / "incoming", f"{letter}.ndjson", many(20_000, letter))
    with _pull_in_background(project, url, project / "incoming") as process:
        give_up = time.monotonic() + 90
        while process.poll() is None and time.monotonic() < give_up:
            for pid in _workers(process):  # the out-of-memory killer, relentless
                _kill(pid)
            time.sleep(0.005)
        assert process.poll() is not None, "the pull hung after its workers died"
        output, _ = process.communicate(timeout=30)
    said = " ".join(output.split())
    if process.returncode == 0:  # each batch failed twice: reported, left in place
        assert "2 failed" in said and "a.ndjson: the worker preparing this batch died" in said
    else:
        assert "batch preparation workers keep dying" in said
    assert (project / "incoming/a.ndjson").exists()  # not moved to rejects
    assert not (project / "data/rejects").exists()
    assert measurement_ids(engine) == set()


# ------------------------------------------------------------------------------- deadlines


@contextmanager
def dripping_server(path: str, interval_s: float = 1.0) -> Iterator[str]:
    """An HTTP server that answers `path` with headers, then one byte every `interval_s`."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def drip(connection: socket.socket) -> None:
        with connection:
            connection.recv(65536)
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")
            while not stop.wait(interval_s):
                try:
                    connection.sendall(b" ")
                except OSError:
                    return

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=drip, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}{path}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_a_slow_listing_stops_the_pull_at_its_deadline_naming_the_url(
    project_dir: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli(project_dir, url, "db", "upgrade").returncode == 0
    with dripping_server("/batches/index.json") as listing:
        started = time.monotonic()
        result = run_cli(
            project_dir, url, "pull", "measurements", "--source", listing, "--deadline", "3"
        )
        took = time.monotonic() - started
    assert took < 40  # it used to wait for as long as the server kept dripping
    assert result.returncode != 0
    said = " ".join((result.stdout + result.stderr).split())
    assert f"{listing}: the batch listing did not arrive before its deadline" in said


def test_a_slow_batch_download_is_dropped_and_the_others_ingested(
    engine: Engine, tmp_path: Path
) -> None:
    good = batch_bytes(header(), measurement(1))
    with dripping_server("/slow.ndjson") as slow_url:
        listing = {
            "version": 1,
            "batches": [
                {"name": "a.ndjson", "sha256": __import__("hashlib").sha256(good).hexdigest()},
                {"name": "b.ndjson", "sha256": "0" * 64, "url": slow_url},
            ],
        }
        routes = {
            "/index.json": lambda r: (200, {}, json.dumps(listing).encode()),
            "/a.ndjson": lambda r: (200, {}, good),
            "/a.ndjson.sig": lambda r: (200, {}, sign(good, "fra", KEYS["fra"])),
        }
        with serve(routes) as server:
            started = time.monotonic()
            report = ingest(
                engine, server.base_url + "/index.json", deadline_s=30, file_deadline_s=2
            )
            took = time.monotonic() - started
    assert took < 30
    statuses = {r.name: (r.status, r.message) for r in report.results}
    assert statuses["a.ndjson"][0] == "ingested"
    assert statuses["b.ndjson"][0] == "failed"
    assert f"download from {slow_url} ran past its deadline" in statuses["b.ndjson"][1]


def test_an_unreachable_listing_is_one_clear_error(engine: Engine) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
    url = f"http://127.0.0.1:{port}/index.json"  # nothing listens there any more
    with pytest.raises(MeasurementSourceError, match=f"^{url}: cannot fetch the batch listing"):
        ingest(engine, url, deadline_s=5)


# --------------------------------------------------------------------- batch contents


def test_far_future_header_old_records_and_duplicates_are_rejected_with_line_numbers(
    engine: Engine, tmp_path: Path
) -> None:
    future = batch_bytes(header(NOW + timedelta(days=30)), measurement(1))
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    old = batch_bytes(header(), measurement(2), measurement(3, at=epoch))
    twice = batch_bytes(header(), measurement(4), measurement(5), measurement(4))
    for name, data in (("1-future", future), ("2-old", old), ("3-twice", twice)):
        write_batch(tmp_path / "in", f"{name}.ndjson", data)

    report = ingest(engine, tmp_path / "in", tmp_path / "rejects")

    messages = [r.message for r in report.results]
    assert [r.status for r in report.results] == ["rejected"] * 3
    assert "line 1: created_at: timestamp" in messages[0] and "is in the future" in messages[0]
    assert "line 3: timestamp 1970-01-01T00:00:00+00:00 is too old" in messages[1]
    assert "line 4: duplicate measurement id 'm-0000004' (first on line 2)" in messages[2]
    assert measurement_ids(engine) == set()
    report_file = (tmp_path / "rejects/2-old.ndjson.report.txt").read_text()
    assert report_file.startswith("line 3: timestamp 1970-01-01")


def test_a_resent_batch_with_changed_bytes_reports_no_new_records(
    engine: Engine, tmp_path: Path
) -> None:
    lines = [header(), measurement(1), measurement(2), measurement(3)]
    write_batch(tmp_path / "in", "a.ndjson", batch_bytes(*lines))
    assert ingest(engine, tmp_path / "in").results[0].describe() == (
        "ingested (3 new records, 0 already stored)"
    )
    resent = batch_bytes(header(NOW - timedelta(minutes=1)), *lines[1:])  # a new header only
    write_batch(tmp_path / "in", "b.ndjson", resent)

    report = ingest(engine, tmp_path / "in")

    result = next(r for r in report.results if r.name == "b.ndjson")
    assert result.describe() == "ingested (0 new records, 3 already stored)"
    assert report.new_records == 0 and len(measurement_ids(engine)) == 3


def test_an_oversized_batch_is_refused_naming_the_limit(engine: Engine, tmp_path: Path) -> None:
    write_batch(tmp_path / "in", "big.ndjson", many(3_000, "big"))  # about 1.1 MB
    write_batch(tmp_path / "in", "small.ndjson", batch_bytes(header(), measurement(1)))

    report = ingest(engine, tmp_path / "in", tmp_path / "rejects", max_batch_mb=0.5)

    big, small = report.results
    assert big.status == "rejected" and small.status == "ingested"
    assert "over the 0.5 MB limit (--max-batch-mb)" in big.message
    assert (tmp_path / "rejects/big.ndjson").exists()


def test_without_a_rejects_folder_a_refused_batch_is_only_reported(
    engine: Engine, tmp_path: Path
) -> None:
    write_batch(tmp_path / "in", "bad.ndjson", batch_bytes(header(NOW + timedelta(days=1))))
    report = ingest(engine, tmp_path / "in", None)
    assert report.results[0].status == "rejected"
    assert (tmp_path / "in/bad.ndjson").exists()


# ---------------------------------------------------------------------- pure validation


def test_the_time_window_has_a_floor_and_allows_a_little_clock_skew() -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    assert time_window(now, timedelta(days=365)) == (
        now - timedelta(days=365),
        now + timedelta(minutes=5),
    )
    assert time_window(now, None)[0] == EARLIEST
    assert time_window(now, timedelta(days=100_000))[0] == EARLIEST


def test_kosovo_is_known_and_made_up_codes_are_not() -> None:
    assert "XK" in known_countries() and "DE" in known_countries()
    assert "ZZ" not in known_countries() and "UK" not in known_countries()


def test_transfer_bytes_must_fit_a_bigint() -> None:
    Transfer(bytes=2**63 - 1, duration_ms=1, bytes_per_s=0)
    with pytest.raises(ValidationError):
        Transfer(bytes=2**63, duration_ms=1, bytes_per_s=0)


def test_duplicate_heartbeats_and_unknown_header_probes_are_caught() -> None:
    beat = {
        "kind": "heartbeat",
        "server": {"provider": "p", "hostname": "H.example", "ip": "192.0.2.1", "country": "DE"},
        "at": _iso(NOW - timedelta(minutes=3)),
        "cpu_pct": 1,
        "ram_pct": 1,
        "net_pct": 1,
        "services": {},
    }
    lower = {**beat, "server": {**beat["server"], "hostname": "h.example"}}  # type: ignore[dict-item]
    with pytest.raises(BatchRejected) as caught:
        parse(
            "b",
            batch_bytes(header(), beat, lower),
            signed_probe="fra",
            known_probes={"fra"},
            now=NOW,
        )
    assert caught.value.problems[0][0] == 3 and "duplicate heartbeat" in caught.value.problems[0][1]
    with pytest.raises(BatchRejected, match="line 1: unknown probe 'zzz'"):
        parse(
            "b", batch_bytes(header(probe="zzz")), signed_probe="zzz", known_probes=set(), now=NOW
        )


# ------------------------------------------------------------------- streamed big batches


def _settings(engine: Engine, part_records: int = 2):
    from site_builder.pull.measurements.prepare import PrepareSettings

    return PrepareSettings(
        keys=KEYS,
        known_probes=frozenset({"fra"}),
        now=NOW,
        as_copy=engine.dialect.name == "postgresql",
        taken=frozenset(),
        part_records=part_records,
    )


def _sync(engine: Engine) -> None:
    from site_builder.pull.measurements.reference import load_reference, sync_reference

    with engine.begin() as connection:
        sync_reference(connection, load_reference(REFERENCE))


def _mixed(prefix: str = "s") -> bytes:
    beat = {
        "kind": "heartbeat",
        "server": {"provider": "p", "hostname": "h.example", "ip": "192.0.2.1", "country": "DE"},
        "at": _iso(NOW - timedelta(minutes=9)),
        "cpu_pct": 1,
        "ram_pct": 2,
        "net_pct": 3,
        "services": {"wg": True},
    }
    other = measurement(3, prefix=prefix, hostname="nl-ams-001.example", country="NL")
    return batch_bytes(
        header(), measurement(1, prefix=prefix), beat, measurement(2, prefix=prefix), other
    )


def test_a_streamed_batch_is_stored_like_a_whole_one(engine: Engine, tmp_path: Path) -> None:
    from site_builder.pull.measurements.stream import stream_batch

    _sync(engine)
    write_batch(tmp_path / "in", "a.ndjson", _mixed())
    result = stream_batch(engine, tmp_path / "in/a.ndjson", _settings(engine), taken=set(), now=NOW)
    assert result is not None and (result.records, result.new_records) == (4, 4)
    assert measurement_ids(engine) == {"s-0000001", "s-0000002", "s-0000003"}
    with engine.connect() as connection:
        stored = connection.execute(select(VpnIngestedBatch.__table__)).one()
        servers = connection.execute(select(func.count()).select_from(VpnServer.__table__))
        assert servers.scalar_one() == 3
    assert (stored.measurements, stored.heartbeats, stored.streaming_checks) == (3, 1, 0)
    assert stored.last_record_at == NOW - timedelta(minutes=9)
    again = stream_batch(
        engine, tmp_path / "in/a.ndjson", _settings(engine), taken={result.sha256}, now=NOW
    )
    assert again is None


def test_a_streamed_batch_with_a_bad_line_late_stores_nothing(
    engine: Engine, tmp_path: Path
) -> None:
    lines = [header(), *(measurement(n) for n in range(1, 8))]
    lines.append(measurement(9, at=NOW + timedelta(days=2)))
    lines.append(measurement(3))  # a repeat, parts after its first
    write_batch(tmp_path / "in", "a.ndjson", batch_bytes(*lines))

    report = ingest(engine, tmp_path / "in", tmp_path / "rejects", stream_above_mb=0)

    assert [r.status for r in report.results] == ["rejected"]
    report_text = (tmp_path / "rejects/a.ndjson.report.txt").read_text().splitlines()
    assert report_text[0].startswith("line 9: timestamp") and "in the future" in report_text[0]
    assert report_text[1] == "line 10: duplicate measurement id 'm-0000003' (first on line 4)"
    assert measurement_ids(engine) == set() and batch_count(engine) == 0


def test_pull_streams_big_batches_and_reports_what_they_added(
    engine: Engine, tmp_path: Path
) -> None:
    write_batch(tmp_path / "in", "a.ndjson", _mixed("x"))
    write_batch(tmp_path / "in", "b.ndjson", batch_bytes(header(NOW), measurement(1, prefix="x")))
    report = ingest(engine, tmp_path / "in", stream_above_mb=0)
    assert [r.describe() for r in report.results] == [
        "ingested (4 new records, 0 already stored)",
        "ingested (0 new records, 1 already stored)",
    ]


def test_parts_stored_before_a_bad_line_are_rolled_back(engine: Engine, tmp_path: Path) -> None:
    from site_builder.pull.measurements.stream import stream_batch

    _sync(engine)
    lines = [header(), *(measurement(n) for n in range(1, 8)), {"kind": "measurement"}]
    write_batch(tmp_path / "in", "a.ndjson", batch_bytes(*lines))
    with pytest.raises(BatchRejected) as caught:
        stream_batch(engine, tmp_path / "in/a.ndjson", _settings(engine), taken=set(), now=NOW)
    assert caught.value.problems[0][0] == 9
    assert measurement_ids(engine) == set() and batch_count(engine) == 0


def test_a_listed_batch_over_the_size_limit_is_not_downloaded_whole(
    engine: Engine, tmp_path: Path
) -> None:
    import hashlib

    big = many(3_000, "big")  # about 1.1 MB
    listing = {"version": 1, "batches": [{"name": "big.ndjson", "sha256": "0" * 64}]}
    routes = {
        "/index.json": lambda r: (200, {}, json.dumps(listing).encode()),
        "/big.ndjson": lambda r: (200, {}, big),
    }
    assert hashlib.sha256(big).hexdigest() != "0" * 64
    with serve(routes) as server:
        report = ingest(engine, server.base_url + "/index.json", max_batch_mb=0.5)
    assert [r.status for r in report.results] == ["failed"]
    assert "response larger than 500,000 bytes" in report.results[0].message


def test_workers_die_with_a_killed_pull(store: tuple[Path, str, Engine]) -> None:
    project, url, _ = store
    for letter in "abc":
        write_batch(project / "incoming", f"{letter}.ndjson", many(20_000, letter))
    with _pull_in_background(project, url, project / "incoming") as process:
        workers: list[int] = []
        give_up = time.monotonic() + 60
        while not workers and process.poll() is None and time.monotonic() < give_up:
            workers = _workers(process)
            time.sleep(0.01)
        assert workers, "the pull ended before it had workers"
        _kill(process.pid)
        give_up = time.monotonic() + 20
        while any(_alive(pid) for pid in workers):
            assert time.monotonic() < give_up, "a worker outlived its killed parent"
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for whoever inherited it to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")
